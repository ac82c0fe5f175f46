"""The transport port: the few things the pipeline asks of a message broker.

Semantics every implementation keeps (the contract suite in tests/pipeline checks both):

* ``publish`` returns only once the broker has taken responsibility for the message (publisher
  confirms) and raises ``UnroutableError`` when no queue is bound for the routing key, instead
  of dropping it. A ``delay_seconds`` > 0 parks it in the matching delay tier first.
* ``consume`` calls the handler once per message and acknowledges only after the handler
  returned, i.e. after the store committed. A handler that raises gets the message requeued
  (redelivered, ``delivery_count`` + 1); after the topology's delivery limit it is dead-lettered
  to the parking queue.
* ``declare`` is idempotent; ``close`` stops consuming and disconnects.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from gateway.errors import LocalUsageError, MedbroError
from gateway.transport.topology import Topology


class TransportError(MedbroError):
    """The broker failed to take a message (connection lost, not confirmed)."""


class UnroutableError(TransportError):
    """No queue is bound for the routing key: the message would have been dropped."""


@dataclass(frozen=True)
class PublishCommand:
    routing_key: str
    body: bytes
    message_id: str
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0


@dataclass(frozen=True)
class IncomingMessage:
    body: bytes
    routing_key: str
    message_id: str
    headers: Mapping[str, str]
    redelivered: bool = False
    delivery_count: int = 0  # earlier failed deliveries of this message (0 = first time)


Handler = Callable[[IncomingMessage], Awaitable[None]]


class Subscription(Protocol):
    async def cancel(self) -> None: ...


class Transport(Protocol):
    async def connect(self) -> None: ...

    async def declare(self, topology: Topology) -> None: ...

    async def publish(self, command: PublishCommand) -> None: ...

    async def consume(self, queue: str, handler: Handler, *, prefetch: int = 32) -> Subscription:
        ...

    async def queue_depth(self, queue: str) -> int: ...

    async def delete(self, topology: Topology) -> None: ...

    async def close(self) -> None: ...


class UnconnectedTransport:
    """Null object used before ``Hub.start()``: every call says what to do instead."""

    _MESSAGE = "the transport is not connected; call `await hub.start()` first"

    async def connect(self) -> None:
        raise LocalUsageError(self._MESSAGE)

    async def declare(self, topology: Topology) -> None:
        raise LocalUsageError(self._MESSAGE)

    async def publish(self, command: PublishCommand) -> None:
        raise LocalUsageError(self._MESSAGE)

    async def consume(self, queue: str, handler: Handler, *, prefetch: int = 32) -> Subscription:
        raise LocalUsageError(self._MESSAGE)

    async def queue_depth(self, queue: str) -> int:
        raise LocalUsageError(self._MESSAGE)

    async def delete(self, topology: Topology) -> None:
        raise LocalUsageError(self._MESSAGE)

    async def close(self) -> None:
        return None
