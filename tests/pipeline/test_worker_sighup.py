"""SIGHUP to a real ``medbro worker``: a bad partner file is one log line and the worker goes on
with what it has; a good one adds the new endpoint's queue, which the worker then delivers."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gateway.pipeline import Hub
from gateway.settings import Settings
from tests.operations.conftest import letter
from tests.partner_files import write_partners
from tests.worker_processes import worker_env

HOSPITAL, GP, NEW_GP = "5790000120420", "5790000128686", "5790000181872"


def partners(root: Path, *glns: str, bad: str = "") -> dict:
    """The hospital and ``glns``; the endpoint ``bad`` has no outbox (a refused file)."""
    endpoints = [{"gln": HOSPITAL, "name": "Hospital", "kind": "hospital",
                  "channel": {"kind": "edi_mailbox", "outbox": str(root / HOSPITAL)}}]
    for gln in glns:
        endpoints.append({"gln": gln, "name": f"GP {gln}", "kind": "gp",
                          "accepts": [{"type": "DIS01"}],
                          "channel": {"kind": "edi_mailbox"} if gln == bad else
                          {"kind": "edi_mailbox", "outbox": str(root / gln)}})
    return {"endpoints": endpoints}


def log_events(path: Path) -> list[dict]:
    events = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events


async def wait_event(path: Path, event: str, proc: subprocess.Popen, after: int = 0,
                     timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [e for e in log_events(path)[after:] if e.get("event") == event]
        if found:
            return found[0]
        assert proc.poll() is None, path.read_text()[-2000:]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {event} in the worker's log:\n{path.read_text()[-2000:]}")


@pytest.mark.rabbitmq
async def test_sighup_reloads_the_worker_and_a_bad_file_keeps_it_running(
        tmp_path: Path, amqp_url: str, broker_prefix: str) -> None:
    mailboxes = tmp_path / "mailboxes"
    config = write_partners(tmp_path / "partners.toml", partners(mailboxes, GP))
    database_url = f"sqlite:///{tmp_path / 'medbro.db'}"
    env = worker_env(database_url=database_url, broker_url=amqp_url, config=config,
                     prefix=broker_prefix)
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gateway.cli", "worker", "--log-json"],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    hub = None
    try:
        started = await wait_event(log, "worker_started", proc)
        assert started["queues"] == 2

        write_partners(config, partners(mailboxes, GP, NEW_GP, bad=NEW_GP))
        seen = len(log_events(log))
        proc.send_signal(signal.SIGHUP)
        refused = await wait_event(log, "config_reload_refused", proc, after=seen)
        assert refused["error"] == (f"{config}: endpoints[2] ({NEW_GP}).channel: kind "
                                    "'edi_mailbox' needs outbox or directory")
        await asyncio.sleep(0.3)
        assert proc.poll() is None, "a bad file stopped the worker"
        assert log.read_text().count("config_reload_refused") == 1  # one line says it all

        write_partners(config, partners(mailboxes, GP, NEW_GP))
        seen = len(log_events(log))
        proc.send_signal(signal.SIGHUP)
        reloaded = await wait_event(log, "config_reloaded", proc, after=seen)
        assert reloaded["added"] == [NEW_GP] and reloaded["actor"] == "signal:SIGHUP:worker"

        # what an ingesting process (the API, with the new file) routes to the new endpoint
        hub = Hub.from_settings(Settings.load(database_url=database_url, broker_url=amqp_url,
                                              config=config, broker_prefix=broker_prefix))
        await hub.start()
        result = await hub.ingest(letter(7, receiver=NEW_GP, sender=HOSPITAL),
                                  received_via="test")
        [message_id] = result.message_ids
        deadline = time.monotonic() + 10
        while hub.message_view(message_id)["state"] != "delivered":
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            await asyncio.sleep(0.1)
        files = [p for p in (mailboxes / NEW_GP).iterdir() if not p.name.startswith(".")]
        assert [p.read_bytes() for p in files] == [letter(7, receiver=NEW_GP, sender=HOSPITAL)]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        if hub is not None:
            await hub.transport.delete(hub.topology)
            await hub.stop()
