"""``medbro worker`` and ``medbro mailbox-watch`` with ``--metrics-port``: the real command
serves ``/metrics`` with the gauges read from the store at scrape time (one parked letter in the
store shows as 1 in a process that did not park it), and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa
from worker_processes import GPS, letters, partners

from gateway.pipeline.hub import Hub
from gateway.settings import Settings
from gateway.store.tables import MessageRow, OperatorTaskRow

GP = GPS[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(settings: Settings) -> None:
    """One DIS01 for the first GP, stored and then parked with its operator task."""

    async def ingest() -> list[str]:
        hub = Hub.from_settings(settings)
        await hub.start()
        try:
            data = next(iter(letters(2, "MP").values()))
            result = await hub.ingest(data, received_via="test")
            assert result.error is None, result.error
            return result.message_ids
        finally:
            await hub.stop()

    ids = asyncio.run(ingest())
    hub = Hub.from_settings(settings)
    with hub.store.transaction() as session:
        session.execute(sa.update(MessageRow).where(MessageRow.id.in_(ids))
                        .values(state="parked"))
        session.add(OperatorTaskRow(message_id=ids[0], kind="undeliverable", reason="test",
                                    status="open", created_at=sa.func.now()))
    hub.store.dispose()


def scrape(port: int, path: str = "/metrics") -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def sample(text: str, name: str, labels: str) -> float | None:
    found = re.search(rf"^{re.escape(name)}\{{{re.escape(labels)}\}} (\S+)$", text, re.M)
    return float(found.group(1)) if found else None


@pytest.mark.parametrize("command", ["worker", "mailbox-watch"])
def test_a_process_with_a_metrics_port_serves_the_store_gauges(command, tmp_path: Path):
    config = tmp_path / "partners.toml"
    config.write_text(partners(tmp_path / "mailboxes"), encoding="utf-8")
    database_url = f"sqlite:///{tmp_path / 'medbro.db'}"
    seed(Settings.load(database_url=database_url, config=config))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDBRO_")}
    env |= {"MEDBRO_DATABASE_URL": database_url, "MEDBRO_CONFIG": str(config),
            "MEDBRO_BROKER_URL": "memory://", "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "process.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", command, "--log-console",
             "--metrics-port", str(port)],
            env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        status, text = 0, ""
        while time.monotonic() < deadline and proc.poll() is None:
            with contextlib.suppress(OSError):
                status, text = scrape(port)
                if sample(text, "medbro_messages_parked", f'receiver="{GP}",type="DIS01"'):
                    break
            time.sleep(0.2)
        assert status == 200, log.read_text(errors="replace")
        assert sample(text, "medbro_messages_parked", f'receiver="{GP}",type="DIS01"') == 1.0
        assert sample(text, "medbro_tasks_open", 'kind="undeliverable"') == 1.0
        assert sample(text, "medbro_queue_depth", f'endpoint="{GP}"') == 0.0
        assert sample(text, "medbro_oldest_message_age_seconds", f'endpoint="{GP}"') == 0.0
        assert "# TYPE medbro_messages_total counter" in text
        assert scrape(port, "/other")[0] == 404
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0, log.read_text(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_a_metrics_port_in_use_is_a_configuration_error(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("MEDBRO_")}
        env |= {"MEDBRO_DATABASE_URL": f"sqlite:///{tmp_path / 'medbro.db'}",
                "MEDBRO_METRICS_PORT": str(port)}
        result = subprocess.run([sys.executable, "-m", "gateway.cli", "worker", "--log-console"],
                                env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr  # the port is bound before anything else starts
    assert lines[0].startswith("medbro worker: configuration error: --metrics-port/"
                               f"MEDBRO_METRICS_PORT: cannot listen on 127.0.0.1:{port}")
