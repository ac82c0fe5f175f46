"""The transport port through a broker outage, on the in-memory twin and on real RabbitMQ.

On RabbitMQ the outage is a TCP proxy (tests/tcp_proxy.py) between medbro and the machine's
broker being cut and restored: the client sees the broker go away and come back, while the
broker itself (shared with other test runs) keeps running.

The contract: a publish during the outage fails at once with ``TransportError`` (nothing is
silently dropped); a command handed to ``publish_later`` is published as soon as the broker
is back, once; ``on_reconnect`` callbacks run then (not at the first connect); consumers keep
consuming after it; ``close`` returns within seconds while the broker is away.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from tcp_proxy import TcpProxy

from gateway.transport import MemoryTransport, PublishCommand, Topology, TransportError
from gateway.transport.port import IncomingMessage, Transport

GP = "5790000000017"
KEY = f"medcom.edifact.meddis.dis01.d0133l.{GP}"


async def wait_for(predicate, timeout: float = 20.0) -> float:
    """Seconds until ``predicate()`` held."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not predicate():
        if loop.time() - start > timeout:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
    return loop.time() - start


class OutageContract:
    """Subclasses make a connected transport and say how to cut and restore its broker."""

    async def make_transport(self) -> Transport:
        raise NotImplementedError

    def cut(self, transport: Transport) -> None:
        raise NotImplementedError

    def restore(self, transport: Transport) -> None:
        raise NotImplementedError

    async def until_publishes_fail(self, transport: Transport) -> None:
        """Wait until the transport has noticed the outage (a publish fails)."""
        for _ in range(200):
            try:
                await transport.publish(PublishCommand(KEY, b"probe", "probe"))
            except TransportError:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("publishes still succeed during the outage")

    @pytest.fixture
    async def topology(self, broker_prefix: str) -> Topology:
        return Topology(prefix=broker_prefix, endpoint_glns=(GP,), delay_tiers=(0.5,))

    @pytest.fixture
    async def transport(self, topology: Topology) -> AsyncIterator[Transport]:
        transport = await self.make_transport()
        await transport.connect()
        await transport.declare(topology)
        try:
            yield transport
        finally:
            self.restore(transport)
            await transport.delete(topology)
            await transport.close()

    async def test_a_publish_during_the_outage_fails_at_once(self, transport):
        self.cut(transport)
        await self.until_publishes_fail(transport)
        start = time.monotonic()
        with pytest.raises(TransportError):
            await transport.publish(PublishCommand(KEY, b"x", "m-fail"))
        assert time.monotonic() - start < 2.0

    async def test_publish_later_publishes_once_as_soon_as_the_broker_is_back(
            self, transport, topology):
        got: list[IncomingMessage] = []

        async def handler(message: IncomingMessage) -> None:
            if message.message_id != "probe":
                got.append(message)

        await transport.consume(topology.endpoint_queue(GP), handler)
        self.cut(transport)
        await self.until_publishes_fail(transport)
        for i in range(20):
            command = PublishCommand(KEY, b"letter %d" % i, f"m{i}")
            assert transport.publish_later(command)
            assert transport.publish_later(command)  # a repeat is kept once
        await asyncio.sleep(1.0)
        assert got == []
        self.restore(transport)
        waited = await wait_for(lambda: len(got) >= 20)
        await asyncio.sleep(0.5)
        assert sorted(m.message_id for m in got) == sorted(f"m{i}" for i in range(20))
        # published on the reconnection, not after a scanner's minutes
        assert waited < 10.0

    async def test_on_reconnect_runs_after_the_outage_not_at_the_first_connect(self, transport):
        calls: list[float] = []

        async def callback() -> None:
            calls.append(time.monotonic())

        transport.on_reconnect(callback)
        await asyncio.sleep(0.3)
        assert calls == []
        self.cut(transport)
        await self.until_publishes_fail(transport)
        self.restore(transport)
        await wait_for(lambda: len(calls) == 1)

    async def test_consumers_keep_consuming_after_the_outage(self, transport, topology):
        got: list[bytes] = []

        async def handler(message: IncomingMessage) -> None:
            if message.message_id != "probe":
                got.append(message.body)

        await transport.consume(topology.endpoint_queue(GP), handler)
        await transport.publish(PublishCommand(KEY, b"before", "m-before"))
        await wait_for(lambda: got == [b"before"])
        self.cut(transport)
        await self.until_publishes_fail(transport)
        self.restore(transport)
        for _ in range(200):  # the connection comes back within a reconnect interval or two
            try:
                await transport.publish(PublishCommand(KEY, b"after", "m-after"))
                break
            except TransportError:
                await asyncio.sleep(0.1)
        await wait_for(lambda: b"after" in got)

    async def test_close_returns_within_seconds_while_the_broker_is_away(self, topology):
        transport = await self.make_transport()
        await transport.connect()
        await transport.declare(topology)

        async def handler(message: IncomingMessage) -> None:
            return None

        await transport.consume(topology.endpoint_queue(GP), handler)
        transport.publish_later(PublishCommand(KEY, b"never", "m-never"))
        self.cut(transport)
        await asyncio.sleep(0.5)
        start = time.monotonic()
        await transport.close()
        assert time.monotonic() - start < 6.0


class TestMemoryOutage(OutageContract):
    async def make_transport(self) -> Transport:
        return MemoryTransport()

    def cut(self, transport: Transport) -> None:
        transport.interrupt()  # type: ignore[attr-defined]

    def restore(self, transport: Transport) -> None:
        if transport._interrupted:  # type: ignore[attr-defined]
            transport.restore()  # type: ignore[attr-defined]


@pytest.mark.rabbitmq
class TestRabbitOutage(OutageContract):
    @pytest.fixture(autouse=True)
    def _proxy(self, amqp_url: str):
        port = int(amqp_url.rsplit(":", 1)[1].split("/")[0])
        self.proxy = TcpProxy(port)
        self.amqp_url = f"amqp://guest:guest@127.0.0.1:{self.proxy.port}/"
        yield
        self.proxy.close()

    async def make_transport(self) -> Transport:
        from gateway.transport.rabbitmq import RabbitTransport

        return RabbitTransport(self.amqp_url, reconnect_interval=0.5)

    def cut(self, transport: Transport) -> None:
        self.proxy.cut()

    def restore(self, transport: Transport) -> None:
        self.proxy.restore()
