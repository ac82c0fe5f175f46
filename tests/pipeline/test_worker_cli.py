"""``medbro worker`` as a real process: delivers what was ingested, stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from gateway.pipeline import Hub
from gateway.settings import Settings
from tests.pipeline.conftest import GP, HOSPITAL, letter


@pytest.mark.rabbitmq
async def test_worker_process_delivers_and_stops_on_sigterm(
        tmp_path: Path, amqp_url: str, samples_dir: Path, broker_prefix: str) -> None:
    config = tmp_path / "partners.toml"
    config.write_text(
        f'[[endpoints]]\ngln = "{HOSPITAL}"\nname = "Hospital"\nkind = "hospital"\n'
        f'channel = {{ kind = "local" }}\n\n'
        f'[[endpoints]]\ngln = "{GP}"\nname = "GP"\nkind = "gp"\n'
        f'accepts = [{{ type = "DIS01" }}]\nchannel = {{ kind = "local" }}\n', encoding="utf-8")
    database_url = f"sqlite:///{tmp_path / 'medbro.db'}"
    env = {**os.environ, "MEDBRO_DATABASE_URL": database_url, "MEDBRO_BROKER_URL": amqp_url,
           "MEDBRO_CONFIG": str(config), "MEDBRO_BROKER_PREFIX": broker_prefix}
    settings = Settings.load(database_url=database_url, broker_url=amqp_url, config=config,
                             broker_prefix=broker_prefix)
    hub = Hub.from_settings(settings)
    await hub.start()
    proc = subprocess.Popen([sys.executable, "-m", "gateway.cli", "worker", "--log-json"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        data = letter("K" + uuid.uuid4().hex[:10].upper(), ack=True)
        result = await hub.ingest(data, received_via="test")
        deadline = time.monotonic() + 30
        while hub.message_view(result.message_ids[0])["state"] != "acknowledged":
            assert time.monotonic() < deadline, "the worker process did not deliver"
            await asyncio.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, output.decode()[-2000:]
        assert b'"worker_exited"' in output
        view = hub.message_view(result.message_ids[0])
        assert [a["outcome"] for a in view["attempts"]] == ["delivered"]
    finally:
        if proc.poll() is None:
            proc.kill()
        await hub.transport.delete(hub.topology)
        await hub.stop()
