"""Letters stored while the broker was away are published as soon as it is back, not after the
republish scanner's ``republish_after_seconds`` (issue 13: 3 of 300 letters waited 316 s).

Through the whole pipeline: a ``Hub`` ingests while its broker is away (the in-memory twin
interrupted, or RabbitMQ behind a cut TCP proxy), its worker runs, the broker comes back, and
the letters reach the GP's outbox within seconds while ``republish_after_seconds`` is 300.

The transport keeps the failed commands (``Transport.publish_later``, gateway/transport); the
pipeline hands them over where its publish gives up (``publish_or_defer``). Until the pipeline
calls it, this test is an expected failure; strict, so the call makes it pass and the marker
must go.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from tcp_proxy import TcpProxy
from worker_processes import GPS, letters, partners

from gateway.pipeline.hub import Hub
from gateway.settings import Settings


@pytest.fixture(params=["memory", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)])
def broker(request: pytest.FixtureRequest) -> Iterator[TcpProxy | None]:
    if request.param == "memory":
        yield None
        return
    amqp_url = request.getfixturevalue("amqp_url")
    proxy = TcpProxy(int(amqp_url.rsplit(":", 1)[1].split("/")[0]))
    yield proxy
    proxy.close()


@pytest.fixture
async def hub(tmp_path: Path, broker: TcpProxy | None, broker_prefix: str) -> AsyncIterator[Hub]:
    config = tmp_path / "partners.toml"
    config.write_text(partners(tmp_path / "mailboxes"), encoding="utf-8")
    url = "memory://" if broker is None else f"amqp://guest:guest@127.0.0.1:{broker.port}/"
    settings = Settings.load(database_url=f"sqlite:///{tmp_path / 'medbro.db'}", broker_url=url,
                             config=config, broker_prefix=broker_prefix, scan_interval_seconds=0.5,
                             republish_after_seconds=300, publish_patience_seconds=0.5)
    hub = Hub.from_settings(settings)
    await hub.start()
    try:
        yield hub
    finally:
        if broker is not None:
            broker.restore()
        with contextlib.suppress(Exception):
            await hub.transport.delete(hub.topology)
        await hub.stop()


def cut(hub: Hub, broker: TcpProxy | None) -> None:
    if broker is None:
        hub.transport.interrupt()  # type: ignore[attr-defined]
    else:
        broker.cut()


def restore(hub: Hub, broker: TcpProxy | None) -> None:
    if broker is None:
        hub.transport.restore()  # type: ignore[attr-defined]
    else:
        broker.restore()


def outbox_files(root: Path) -> int:
    return sum(len(list((root / "mailboxes" / gln).glob("*.edi")))
               for gln in GPS if (root / "mailboxes" / gln).is_dir())


async def test_letters_stored_during_an_outage_go_out_when_the_broker_is_back(
        hub: Hub, broker: TcpProxy | None, tmp_path: Path) -> None:
    batch = letters(20, "OUT")
    stop = asyncio.Event()
    worker = asyncio.create_task(hub.run_worker(stop))
    await asyncio.sleep(1.0)  # consuming
    try:
        cut(hub, broker)
        await asyncio.sleep(0.5)
        for data in batch.values():  # stored (the answer is given), not published
            result = await hub.ingest(data, received_via="test")
            assert result.state == "routed", result
        await asyncio.sleep(1.0)
        assert outbox_files(tmp_path) == 0
        restore(hub, broker)
        loop = asyncio.get_running_loop()
        back = loop.time()
        while outbox_files(tmp_path) < len(batch):
            assert loop.time() - back < 10, f"{outbox_files(tmp_path)} of {len(batch)} out"
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        assert outbox_files(tmp_path) == len(batch)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 30)
