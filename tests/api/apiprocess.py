"""A real ``medbro api`` process on a free loopback port, its stderr kept for the test."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

PARTNERS = """
[[endpoints]]
gln = "5790000120420"
name = "Hillerød"
kind = "hospital"
channel = { kind = "local" }

[[organisations]]
name = "Region"
glns = ["5790000120420"]
api_key_sha256 = ["%s"]
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def medbro_api(tmp_path: Path, key_sha256: str, *, args: tuple[str, ...] = (),
               env: dict[str, str] | None = None, scheme: str = "http",
               verify: object = True) -> Iterator[tuple[str, Path, subprocess.Popen]]:
    """(base URL, stderr file, process) of a started ``medbro api`` whose partner file is
    ``tmp_path/partners.toml``; stopped (SIGTERM) at the end."""
    partners = tmp_path / "partners.toml"
    partners.write_text(PARTNERS % key_sha256, encoding="utf-8")
    port = free_port()
    stderr = tmp_path / "api.stderr"
    environment = {**os.environ, "MEDBRO_DATABASE_URL": f"sqlite:///{tmp_path / 'api.db'}",
                   "MEDBRO_BROKER_URL": "memory://", "MEDBRO_CONFIG": str(partners),
                   **(env or {})}
    with stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "api", "--port", str(port), *args],
            env=environment, stdout=subprocess.DEVNULL, stderr=err)
    base = f"{scheme}://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(f"medbro api exited {process.returncode}: "
                                     f"{stderr.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{base}/healthz", verify=verify, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("medbro api did not answer /healthz within 60 s")
            time.sleep(0.2)
        yield base, stderr, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
