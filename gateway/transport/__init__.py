"""The broker port and its two implementations (in-process and RabbitMQ)."""

from gateway.transport.memory import MemoryTransport
from gateway.transport.port import (
    Handler,
    IncomingMessage,
    PublishCommand,
    Subscription,
    Transport,
    TransportError,
    UnconnectedTransport,
    UnroutableError,
)
from gateway.transport.topology import Topology, topic_matches


def transport_for(url: str) -> Transport:
    """``memory://`` -> in-process; ``amqp://...`` -> RabbitMQ (aio-pika)."""
    if url.startswith("memory://"):
        return MemoryTransport()
    from gateway.transport.rabbitmq import RabbitTransport

    return RabbitTransport(url)


__all__ = [
    "Handler",
    "IncomingMessage",
    "MemoryTransport",
    "PublishCommand",
    "Subscription",
    "Topology",
    "Transport",
    "TransportError",
    "UnconnectedTransport",
    "UnroutableError",
    "topic_matches",
    "transport_for",
]
