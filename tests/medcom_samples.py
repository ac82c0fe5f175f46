"""MedCom's own sample corpus, read from ../shared/research/samples (never copied here).

A module with a name of its own (not ``conftest``) so every test package can import it.
"""

from __future__ import annotations

from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "research" / "samples"


def sample_bytes(name: str) -> bytes:
    """A sample file's bytes without the inserted ``# SOURCE`` line (samples/README.md)."""
    data = (SAMPLES / name).read_bytes()
    if data.startswith(b"# SOURCE"):
        data = data.split(b"\n", 1)[1]
    return data
