"""What every pipeline step works with: settings, registry, store, transport, clock."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from gateway.registry import Registry
from gateway.routing import RouteRequest, routing_key
from gateway.settings import Settings
from gateway.store import MessageRow, Store
from gateway.transport.port import PublishCommand, Transport, UnconnectedTransport
from gateway.transport.topology import Topology

T = TypeVar("T")
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Pipeline:
    settings: Settings
    registry: Registry
    store: Store
    topology: Topology
    transport: Transport = field(default_factory=UnconnectedTransport)
    clock: Clock = utc_now
    executor: ThreadPoolExecutor | None = None  # one thread per database connection

    async def db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking store unit of work off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args, **kwargs))


def delivery_command(message: MessageRow, *, delay_seconds: float = 0.0) -> PublishCommand:
    """The queue message that asks a worker to deliver ``message``'s interchange."""
    return delivery_command_for(
        message.interchange_id, receiver_gln=message.receiver_gln or "", family=message.family,
        type=message.type, version=message.version, format=message.format,
        delay_seconds=delay_seconds)


def delivery_command_for(interchange_id: str, *, receiver_gln: str, family: str, type: str,
                         version: str, format: str = "edifact",
                         delay_seconds: float = 0.0) -> PublishCommand:
    """``delivery_command`` from the column values (batch ingest writes no ORM rows)."""
    request = RouteRequest(
        receiver_gln=receiver_gln, family=family, type=type, version=version, format=format,
    )
    return PublishCommand(
        routing_key=routing_key(request),
        body=interchange_id.encode("ascii"),
        message_id=interchange_id,
        headers={"interchange_id": interchange_id},
        delay_seconds=delay_seconds,
    )
