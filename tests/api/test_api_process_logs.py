"""A real ``medbro api`` process: its access lines and failed logins are JSON, CPR masked."""

from __future__ import annotations

import json

import httpx
from apiprocess import medbro_api

from gateway.registry import hash_api_key

KEY = "k-process-test"


def test_access_lines_and_failed_logins_are_masked_json(tmp_path):
    with medbro_api(tmp_path, hash_api_key(KEY)) as (base, stderr, _process):
        cases = httpx.get(f"{base}/v1/cases/0108584947", headers={"X-API-Key": KEY})
        assert httpx.get(f"{base}/v1/messages/0108584947",
                         headers={"X-API-Key": "wrong-0108584947"}).status_code == 401
        assert httpx.get(f"{base}/healthz").status_code == 200
    text = stderr.read_text(encoding="utf-8")
    assert "0108584947" not in text
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # all JSON
    access = [e for e in lines if e["event"] == "http_access"]
    case = next(e for e in access if e["path"].startswith("/v1/cases/"))
    assert case["path"] == "/v1/cases/010858-****"
    assert case["method"] == "GET" and case["status"] == cases.status_code
    assert case["logger"] == "uvicorn.access" and case["level"] == "info"
    [failed] = [e for e in lines if e["event"] == "auth_failed"]
    assert failed["path"] == "/v1/messages/010858-****"
    assert failed["key"] == "sha256:" + hash_api_key("wrong-0108584947")[:12]
    assert any(e.get("logger") == "uvicorn.error" for e in lines)  # server lines: JSON too
