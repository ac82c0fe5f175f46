"""MedCom's own sample corpus, read from ../shared/research/samples (never copied here).

A module with a name of its own (not ``conftest``) so every test package can import it.
"""

from __future__ import annotations

from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "research" / "samples"

# The 28 valid EDIFACT interchanges of the corpus (the 18 DIS20_ERROR_* files are the invalid ones)
VALID_EDIFACT = [
    "edifact_BIN01_5.edi",
    "edifact_CTL01_1.edi",
    "edifact_CTL02_1.edi",
    "edifact_CTL03_1.edi",
    *(f"edifact_DIS{n}_1.edi" for n in ("01", "02", "03", "05", "06", "07", "08", "13", "14")),
    "edifact_DIS17_1.edi",
    "edifact_DIS20_1.edi",
    "edifact_DIS91_1.edi",
    "edifact_DIS91_2.edi",
    "edifact_DIS91_3.edi",
    "edifact_PRE01_1.edi",
    *(f"edifact_REF{n}_1.edi" for n in ("01", "02", "06", "07")),
    "edifact_REQ01_1.edi",
    "edifact_RPT01_1.edi",
    "edifact_RPT04_1.edi",
    "edifact_unittest_DIS20_ok.edi",
    "edifact_unittest_DIS20_ok_UNA.edi",
]
assert len(VALID_EDIFACT) == 28


def sample_bytes(name: str) -> bytes:
    """A sample file's bytes without the inserted ``# SOURCE`` line (samples/README.md)."""
    data = (SAMPLES / name).read_bytes()
    if data.startswith(b"# SOURCE"):
        data = data.split(b"\n", 1)[1]
    return data
