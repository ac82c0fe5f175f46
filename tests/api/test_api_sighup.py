"""SIGHUP to a real ``medbro api``: the partner file is read again (a new organisation's key
is known from then on); a bad file is one log line and the API keeps serving."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx

from gateway.registry import hash_api_key
from tests.api.apiprocess import PARTNERS, medbro_api

NEW_ORG = f"""
[[organisations]]
name = "Drift"
kind = "operator"
api_key_sha256 = ["{hash_api_key("new-ops-key")}"]
"""


def status(base: str, key: str) -> int:
    return httpx.get(f"{base}/v1/messages", headers={"X-API-Key": key}, timeout=5).status_code


def wait(check, what: str, stderr: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what}:\n{stderr.read_text()[-2000:]}"
        time.sleep(0.1)


def test_sighup_reloads_the_api_and_a_bad_file_keeps_it_serving(tmp_path: Path) -> None:
    with medbro_api(tmp_path, hash_api_key("region-key")) as (base, stderr, proc):
        partners = tmp_path / "partners.toml"
        assert status(base, "new-ops-key") == 401

        partners.write_text(partners.read_text() + "\n[[organisations]]\nname = 1\n")
        proc.send_signal(signal.SIGHUP)
        wait(lambda: "config_reload_refused" in stderr.read_text(), "no refusal logged", stderr)
        assert f"{partners}: organisations[1] (1).name: Input should be a valid string" in (
            stderr.read_text())
        assert proc.poll() is None and status(base, "region-key") == 200

        partners.write_text(PARTNERS % hash_api_key("region-key") + NEW_ORG, encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        wait(lambda: status(base, "new-ops-key") == 200, "the new key is not known", stderr)
        assert '"actor": "signal:SIGHUP:api"' in stderr.read_text()
