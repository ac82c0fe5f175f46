"""Hostile bodies against a real ``medbro api`` process: time to the answer and RSS growth.

    .venv/bin/python bench/hostile_bench.py [--segments 1000000] [--chunked-mb 200]

Starts ``medbro api`` (SQLite in a temporary directory, in-process broker, a partner file with
one organisation) and, for each case, a fresh process: one ordinary letter first (the baseline,
same process, same route), then the hostile body. RSS is sampled from /proc every 5 ms while
the request runs (and the kernel's VmHWM read), growth = peak - RSS before the request.

Cases (issue 13, targets: 4xx within 3 s and at most 100 MB growth; 413 with at most 100 MB):

* ``million-segments``: a 4 MB interchange of a million tiny segments (``FTX'`` repeated before
  ``BGM``) to ``POST /v1/messages``;
* ``chunked-<n>MB``: an n MB body with no Content-Length (chunked) to ``POST /v1/messages`` and
  to ``POST /v1/hospital/letters``, sent over a raw socket until the answer arrives.

Figures are noisy on a shared machine: ``uptime`` is printed beside them.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

HOSPITAL, GP = "5790000120420", "5790000128686"
KEY = "bench-hostile-key"
PARTNERS = f"""
[[endpoints]]
gln = "{HOSPITAL}"
name = "Hillerød"
kind = "hospital"
channel = {{ kind = "local" }}

[[endpoints]]
gln = "{GP}"
name = "Lægehuset"
kind = "gp"
accepts = [{{ type = "DIS01" }}]
channel = {{ kind = "local" }}

[[organisations]]
name = "Region"
glns = ["{HOSPITAL}"]
api_key_sha256 = ["{hashlib.sha256(KEY.encode()).hexdigest()}"]
"""
HEADERS = {"X-API-Key": KEY, "Content-Type": "application/edifact"}
TARGET_SECONDS, TARGET_MB = 3.0, 100.0


def letter(ref: str) -> bytes:
    """An ordinary DIS01 (the codec renders gateway.demo's letter)."""
    from datetime import datetime

    from gateway.demo import discharge_letter

    return discharge_letter(int(ref), sender=HOSPITAL, receiver=GP,
                            patient=("0108584947", "Mosebryggersen", "Schwenlund"),
                            prepared_at=datetime(2026, 11, 23, 9, 30))


def million_segments(count: int) -> bytes:
    head = (f"UNA:+.? 'UNB+UNOC:3+{HOSPITAL}:14+{GP}:14+261123:0930+HOSTILE1++++0'"
            "UNH+1+MEDDIS:D:93A:UN:D0133L+DIS01'").encode()
    return head + b"FTX'" * count + b"BGM+DIS01'UNT+3+1'UNZ+1+HOSTILE1'"


def _kb(field: str, pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


@dataclass
class Measured:
    status: int
    seconds: float
    growth_mb: float
    note: str = ""


def measure(pid: int, request: Callable[[], tuple[int, str]]) -> Measured:
    """Run ``request`` while sampling the process's RSS; growth over the RSS before it."""
    before, hwm_before = _kb("VmRSS", pid), _kb("VmHWM", pid)
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _kb("VmRSS", pid))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    try:
        status, note = request()
    finally:
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
    hwm_after = _kb("VmHWM", pid)
    if hwm_after > hwm_before:
        peak = max(peak, hwm_after)
    return Measured(status, seconds, (peak - before) / 1024, note)


def post(base: str, path: str, body: bytes) -> Callable[[], tuple[int, str]]:
    def run() -> tuple[int, str]:
        answer = httpx.post(base + path, content=body, headers=HEADERS, timeout=120)
        detail = answer.json().get("error") or answer.json().get("detail") or ""
        return answer.status_code, str(detail)[:90]

    return run


def chunked(port: int, path: str, megabytes: int) -> Callable[[], tuple[int, str]]:
    """Send ``megabytes`` MB chunked (no Content-Length) until the server answers."""

    def run() -> tuple[int, str]:
        chunk = b"A" * (64 * 1024)
        frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        sent = 0
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {KEY}\r\n"
                          "Content-Type: application/edifact\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n").encode())
            answer = b""
            try:
                while sent < megabytes * 1024 * 1024:
                    readable, _, _ = select.select([sock], [], [], 0)
                    if readable:
                        break
                    sock.sendall(frame)
                    sent += len(chunk)
                else:
                    sock.sendall(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            sock.settimeout(60)
            try:
                while b"\r\n\r\n" not in answer:
                    data = sock.recv(65536)
                    if not data:
                        break
                    answer += data
            except (ConnectionResetError, TimeoutError):
                pass
        status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
        return status, f"{sent / 1024 / 1024:.0f} MB sent before the answer"

    return run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def medbro_api(workdir: Path) -> Iterator[tuple[str, int, int]]:
    """(base URL, port, pid) of a started ``medbro api``; SIGTERM at the end."""
    partners = workdir / "partners.toml"
    partners.write_text(PARTNERS, encoding="utf-8")
    port = free_port()
    env = {**os.environ, "MEDBRO_DATABASE_URL": f"sqlite:///{workdir / 'api.db'}",
           "MEDBRO_BROKER_URL": "memory://", "MEDBRO_CONFIG": str(partners)}
    log = (workdir / "api.stderr").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "gateway.cli", "api", "--port", str(port),
                                "--log-level", "warning"], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise SystemExit("medbro api did not start: see " + str(workdir / "api.stderr"))
        yield base, port, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def row(name: str, m: Measured, target: str) -> str:
    return (f"{name:<34} {m.status:>6} {m.seconds:>8.2f} {m.growth_mb:>11.1f}   {target:<22}"
            f" {m.note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--segments", type=int, default=1_000_000)
    parser.add_argument("--chunked-mb", type=int, default=200)
    args = parser.parse_args()
    hostile = million_segments(args.segments)
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    print(f"{'case':<34} {'status':>6} {'seconds':>8} {'RSS +MB':>11}   {'target':<22} note")
    cases: list[tuple[str, Callable[[str, int], Callable[[], tuple[int, str]]], str]] = [
        (f"million-segments ({len(hostile) / 1e6:.1f} MB)",
         lambda base, port: post(base, "/v1/messages", hostile), "4xx, <= 3 s, <= 100 MB"),
        (f"chunked-{args.chunked_mb}MB /v1/messages",
         lambda base, port: chunked(port, "/v1/messages", args.chunked_mb), "413, <= 100 MB"),
        (f"chunked-{args.chunked_mb}MB /v1/hospital/letters",
         lambda base, port: chunked(port, "/v1/hospital/letters", args.chunked_mb),
         "413, <= 100 MB"),
    ]
    verdicts = []
    for n, (name, make, target) in enumerate(cases, start=1):
        with tempfile.TemporaryDirectory(prefix="medbro-hostile-") as tmp, \
                medbro_api(Path(tmp)) as (base, port, pid):
            baseline = measure(pid, post(base, "/v1/messages", letter(str(n))))
            print(row("  baseline: one DIS01 letter", baseline, "202"))
            result = measure(pid, make(base, port))
            print(row(name, result, target))
            ok = 400 <= result.status < 500 and result.growth_mb <= TARGET_MB
            if name.startswith("million"):
                ok = ok and result.seconds <= TARGET_SECONDS
            else:
                ok = ok and result.status == 413
            verdicts.append((name, ok))
    print()
    for name, ok in verdicts:
        print(f"{'MET' if ok else 'NOT MET':<8} {name}")


if __name__ == "__main__":
    main()
