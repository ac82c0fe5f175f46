"""The transport port: the few things the pipeline asks of a message broker.

Semantics every implementation keeps (the contract suite in tests/pipeline checks both):

* ``publish`` returns only once the broker has taken responsibility for the message (publisher
  confirms) and raises ``UnroutableError`` when no queue is bound for the routing key, instead
  of dropping it. A ``delay_seconds`` > 0 parks it in the matching delay tier first.
* ``consume`` calls the handler once per message and acknowledges only after the handler
  returned, i.e. after the store committed. A handler that raises gets the message requeued
  (redelivered, ``delivery_count`` + 1); after the topology's delivery limit it is dead-lettered
  to the parking queue.
* ``declare`` is idempotent; ``close`` stops consuming and disconnects, within a bounded time
  whatever the broker's state (a worker must honour SIGTERM while the broker is away).
* ``on_reconnect(callback)``: ``callback`` runs, as a task of its own, each time the transport
  has its connection back after losing it (channels, topology and consumers restored); not on
  the first connect.
* ``publish_later(command)``: for a command whose ``publish`` failed (``TransportError``): the
  transport keeps it (bounded, in memory) and publishes it as soon as the broker takes it again,
  waking on ``on_reconnect``. The store still holds the message ROUTED, so if this process dies
  first the republish scanner is the fallback; a duplicate publish is harmless (the worker
  skips what the store says is done).
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
ReconnectCallback = Callable[[], Awaitable[None]]


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

    def on_reconnect(self, callback: ReconnectCallback) -> None: ...

    def publish_later(self, command: PublishCommand) -> bool: ...


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

    def on_reconnect(self, callback: ReconnectCallback) -> None:
        raise LocalUsageError(self._MESSAGE)

    def publish_later(self, command: PublishCommand) -> bool:
        raise LocalUsageError(self._MESSAGE)
