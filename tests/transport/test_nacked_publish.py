"""A publish the broker nacks renews the publishing channel (gateway/transport/rabbitmq.py).

After a quorum queue's leader node dies, RabbitMQ 3.10 can nack every later publish on a
long-lived channel while a fresh channel is acked (found by tests/transport/test_cluster.py:
the ingesting hub stored letters it could never publish). Here the broker nacks for a reason
a test can arrange on one node: a queue bound to the route is full with ``reject-publish``.
The nack must be a ``TransportError`` (worth retrying, unlike an unroutable message) and the
next publish must go out on a new channel.
"""

from __future__ import annotations

import aio_pika
import pytest

from gateway.transport import TransportError, UnroutableError
from gateway.transport.port import PublishCommand
from gateway.transport.rabbitmq import RabbitTransport
from gateway.transport.topology import Topology

GP = "5790000128686"
pytestmark = pytest.mark.rabbitmq


async def test_a_nacked_publish_is_a_transport_error_and_renews_the_channel(
        amqp_url: str, broker_prefix: str) -> None:
    topology = Topology(prefix=broker_prefix, endpoint_glns=(GP,), delay_tiers=(1.0,))
    transport = RabbitTransport(amqp_url, publish_timeout=5)
    await transport.connect()
    await transport.declare(topology)
    full_queue = f"{broker_prefix}.full"
    side = await aio_pika.connect(amqp_url)
    try:
        ch = await side.channel()
        queue = await ch.declare_queue(full_queue, arguments={
            "x-max-length": 0, "x-overflow": "reject-publish"})
        await queue.bind(topology.exchange, routing_key="medcom.full.#")
        first = transport._channel

        with pytest.raises(TransportError, match="nacked") as refused:
            await transport.publish(PublishCommand(
                routing_key="medcom.full.x", body=b"x", message_id="nacked-1"))
        assert not isinstance(refused.value, UnroutableError)
        assert transport._channel is not first  # renewed

        await transport.publish(PublishCommand(  # the next publish is acked
            routing_key=f"medcom.a.b.c.d.{GP}", body=b"y", message_id="after-1"))
        assert await transport.queue_depth(topology.endpoint_queue(GP)) == 1
    finally:
        await ch.queue_delete(full_queue)
        await side.close()
        await transport.delete(topology)
        await transport.close()
