"""A bounded Schemathesis run (``--checks all``, every phase) against a real ``medbro api``:
SQLite, the in-process broker, a partner file with a hospital, a GP and a municipality, and a
case-flow configuration, so that the example EDIFACT and XML bodies are stored and routed, the
case steps reach the case flow, and every answer is checked against /openapi.json.

Bounded: ``MAX_EXAMPLES`` cases per operation and phase, one worker, deterministic generation
(the same cases every run); about a minute on a quiet machine. tests/api/schemathesis.toml says
which answers count as correct where the schema cannot describe a body's content.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
KEY = "schemathesis-key"
MAX_EXAMPLES = 10
PARTNERS = f"""
[[endpoints]]
gln = "5790000120420"
name = "Hillerød Hospital"
kind = "hospital"
channel = {{ kind = "local" }}

[[endpoints]]
gln = "5790000128686"
name = "Lægehuset Vandværksvej"
kind = "gp"
accepts = [{{ type = "DIS01" }}, {{ type = "DIS91" }}]
channel = {{ kind = "local" }}

[[endpoints]]
gln = "5790000000101"
name = "Københavns Kommune"
kind = "municipality"
accepts = [{{ type = "DIS91" }}]
channel = {{ kind = "local" }}

[[organisations]]
name = "Region Hovedstaden"
kind = "region"
glns = ["5790000120420", "5790000000101"]
hospitals = ["1301"]
api_key_sha256 = ["{hashlib.sha256(KEY.encode()).hexdigest()}"]
"""
CASEFLOW = """
[address_book]
"KOM:101" = "5790000000101"
"YNR:291714" = "5790000128686"
"SOR:123456789012" = "5790000128686"
"SOR:987654321098" = "5790000128686"

[coordinators]
hovedstaden = { sor = "987654321098", name = "Sundhedskoordinator Region H" }
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"medbro api exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"medbro api not ready at {url} after {seconds} s")


@pytest.fixture
def api_url(tmp_path):
    (tmp_path / "partners.toml").write_text(PARTNERS, encoding="utf-8")
    (tmp_path / "caseflow.toml").write_text(CASEFLOW, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDBRO_")}
    env |= {"MEDBRO_DATABASE_URL": f"sqlite:///{tmp_path}/medbro.db",
            "MEDBRO_BROKER_URL": "memory://",
            "MEDBRO_CONFIG": str(tmp_path / "partners.toml"),
            "MEDBRO_CASEFLOW_CONFIG": str(tmp_path / "caseflow.toml")}
    port = free_port()
    log = (tmp_path / "api.log").open("wb")
    process = subprocess.Popen([str(BIN / "medbro"), "api", "--port", str(port),
                                "--log-level", "warning"], cwd=tmp_path, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_schemathesis_finds_no_contract_failure(api_url, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(HERE)}  # the hooks module the config names
    result = subprocess.run(
        [str(BIN / "schemathesis"), "--config-file", str(HERE / "schemathesis.toml"), "run",
         f"{api_url}/openapi.json", "--checks", "all", "--header", f"X-API-Key: {KEY}",
         "--max-examples", str(MAX_EXAMPLES), "--workers", "1", "--generation-deterministic",
         "--request-timeout", "30"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    summary = result.stdout[-8000:] + result.stderr[-2000:]
    assert result.returncode == 0, summary
    selected = re.search(r"Selected: (\d+)/(\d+)", result.stdout)
    tested = re.search(r"Tested: (\d+)", result.stdout)
    assert selected and tested, summary
    assert int(tested.group(1)) == int(selected.group(2)) >= 18, summary  # every operation
    assert re.search(r"✅ +Examples", result.stdout), summary  # the real bodies went through
