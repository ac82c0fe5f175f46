"""One contract for the transport port, run against the in-memory twin and real RabbitMQ."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from gateway.transport import MemoryTransport, PublishCommand, Topology, UnroutableError
from gateway.transport.port import IncomingMessage, Transport

GP_A = "5790000000017"
GP_B = "5790000000024"


def key(gln: str, type_: str = "dis01") -> str:
    return f"medcom.edifact.meddis.{type_}.d0133l.{gln}"


async def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


class TransportContract:
    """Subclasses supply ``make_transport``; everything else is the shared contract."""

    async def make_transport(self) -> Transport:
        raise NotImplementedError

    @pytest.fixture
    async def topology(self, broker_prefix: str) -> Topology:
        return Topology(prefix=broker_prefix, endpoint_glns=(GP_A, GP_B), delay_tiers=(0.3, 1.0),
                        delivery_limit=2)

    @pytest.fixture
    async def transport(self, topology: Topology) -> AsyncIterator[Transport]:
        transport = await self.make_transport()
        await transport.connect()
        await transport.declare(topology)
        await transport.declare(topology)  # idempotent
        try:
            yield transport
        finally:
            await transport.delete(topology)
            await transport.close()

    async def test_published_message_reaches_the_receivers_queue_only(self, transport, topology):
        await transport.publish(PublishCommand(key(GP_A), b"one", "m1", {"interchange_id": "m1"}))
        await wait_for_depth(transport, topology.endpoint_queue(GP_A), 1)
        assert await transport.queue_depth(topology.endpoint_queue(GP_B)) == 0
        got: list[IncomingMessage] = []

        async def handler(msg: IncomingMessage) -> None:
            got.append(msg)

        subscription = await transport.consume(topology.endpoint_queue(GP_A), handler)
        await wait_for(lambda: len(got) == 1)
        assert (got[0].body, got[0].message_id, got[0].routing_key) == (b"one", "m1", key(GP_A))
        assert got[0].headers["interchange_id"] == "m1"
        await subscription.cancel()  # waits for running handlers, then lets go of the rest
        await assert_not_requeued(transport, topology.endpoint_queue(GP_A))

    async def test_unroutable_message_raises_instead_of_vanishing(self, transport):
        with pytest.raises(UnroutableError):
            await transport.publish(PublishCommand(key("5790000000031"), b"x", "m2"))

    async def test_failed_handler_gets_the_message_again(self, transport, topology):
        seen: list[IncomingMessage] = []

        async def handler(msg: IncomingMessage) -> None:
            seen.append(msg)
            if len(seen) == 1:
                raise RuntimeError("store down")

        subscription = await transport.consume(topology.endpoint_queue(GP_A), handler)
        await transport.publish(PublishCommand(key(GP_A), b"retry-me", "m3"))
        await wait_for(lambda: len(seen) == 2)
        assert seen[1].body == b"retry-me" and seen[1].redelivered
        await subscription.cancel()  # waits for running handlers, then lets go of the rest
        assert len(seen) == 2
        await assert_not_requeued(transport, topology.endpoint_queue(GP_A))

    async def test_poison_message_is_parked_after_the_delivery_limit(self, transport, topology):
        calls = 0

        async def handler(msg: IncomingMessage) -> None:
            nonlocal calls
            calls += 1
            raise RuntimeError("poison")

        await transport.consume(topology.endpoint_queue(GP_A), handler)
        await transport.publish(PublishCommand(key(GP_A), b"poison", "m4"))
        await wait_for_depth(transport, topology.parking_queue, 1)
        assert calls == topology.delivery_limit + 1

    async def test_delayed_message_arrives_later_with_its_routing_key(self, transport, topology):
        got: list[IncomingMessage] = []

        async def handler(msg: IncomingMessage) -> None:
            got.append(msg)

        await transport.consume(topology.endpoint_queue(GP_B), handler)
        loop = asyncio.get_running_loop()
        start = loop.time()
        await transport.publish(PublishCommand(key(GP_B), b"later", "m5", delay_seconds=0.25))
        await asyncio.sleep(0.1)
        assert got == []
        await wait_for(lambda: len(got) == 1)
        assert loop.time() - start >= 0.25
        assert got[0].routing_key == key(GP_B) and got[0].body == b"later"

    async def test_a_stuck_endpoint_does_not_delay_another(self, transport, topology):
        release = asyncio.Event()
        got_b: list[bytes] = []

        async def stuck(msg: IncomingMessage) -> None:
            await release.wait()

        async def fine(msg: IncomingMessage) -> None:
            got_b.append(msg.body)

        await transport.consume(topology.endpoint_queue(GP_A), stuck, prefetch=1)
        await transport.consume(topology.endpoint_queue(GP_B), fine)
        for i in range(5):
            await transport.publish(PublishCommand(key(GP_A), b"a%d" % i, f"a{i}"))
        for i in range(5):
            await transport.publish(PublishCommand(key(GP_B), b"b%d" % i, f"b{i}"))
        await wait_for(lambda: len(got_b) == 5)
        release.set()

    async def test_unfinished_message_is_not_acked_and_comes_back(self, topology):
        first = await self.make_transport()
        await first.connect()
        await first.declare(topology)
        started = asyncio.Event()

        async def never_finishes(msg: IncomingMessage) -> None:
            started.set()
            await asyncio.sleep(3600)

        sub = await first.consume(topology.endpoint_queue(GP_A), never_finishes)
        sub.grace_seconds = 0.1
        await first.publish(PublishCommand(key(GP_A), b"keep-me", "m6"))
        await asyncio.wait_for(started.wait(), 10)
        await sub.cancel()
        if isinstance(first, MemoryTransport):
            second = first  # in-process: the same broker object lives on
        else:
            await first.close()
            second = await self.make_transport()
            await second.connect()
            await second.declare(topology)
        got: list[IncomingMessage] = []

        async def handler(msg: IncomingMessage) -> None:
            got.append(msg)

        try:
            await second.consume(topology.endpoint_queue(GP_A), handler)
            await wait_for(lambda: len(got) == 1)
            assert got[0].body == b"keep-me" and got[0].redelivered
        finally:
            await second.delete(topology)
            await second.close()


async def assert_not_requeued(transport: Transport, queue: str, window: float = 0.5) -> None:
    """After a cancelled subscription, an unacked message goes back to the queue: at once in
    memory, on RabbitMQ asynchronously after the channel closes (visible within ~0.1 s here).
    The queue staying empty for the window means the message was acked."""
    deadline = asyncio.get_running_loop().time() + window
    while True:
        assert await transport.queue_depth(queue) == 0, f"an unacked message is back in {queue}"
        if asyncio.get_running_loop().time() > deadline:
            return
        await asyncio.sleep(0.05)


async def wait_for_depth(transport: Transport, queue: str, depth: int) -> None:
    for _ in range(250):
        if await transport.queue_depth(queue) == depth:
            return
        await asyncio.sleep(0.04)
    raise AssertionError(f"{queue} never reached depth {depth}")


class TestMemoryTransport(TransportContract):
    async def make_transport(self) -> Transport:
        return MemoryTransport()


@pytest.mark.rabbitmq
class TestRabbitTransport(TransportContract):
    @pytest.fixture(autouse=True)
    def _broker(self, amqp_url: str) -> None:
        self.amqp_url = amqp_url

    async def make_transport(self) -> Transport:
        from gateway.transport.rabbitmq import RabbitTransport

        return RabbitTransport(self.amqp_url)


@pytest.mark.rabbitmq
async def test_changed_queue_arguments_give_a_clear_error(amqp_url: str, broker_prefix: str):
    from gateway.transport import TransportError
    from gateway.transport.rabbitmq import RabbitTransport

    first = Topology(prefix=broker_prefix, endpoint_glns=(GP_A,), delay_tiers=(1.0,),
                     delivery_limit=2)
    changed = Topology(prefix=broker_prefix, endpoint_glns=(GP_A,), delay_tiers=(1.0,),
                       delivery_limit=5)
    transport = RabbitTransport(amqp_url)
    await transport.connect()
    try:
        await transport.declare(first)
        other = RabbitTransport(amqp_url)
        await other.connect()
        try:
            with pytest.raises(TransportError, match="MEDBRO_POISON_DELIVERY_LIMIT"):
                await other.declare(changed)
        finally:
            await other.close()
    finally:
        await transport.delete(first)
        await transport.close()
