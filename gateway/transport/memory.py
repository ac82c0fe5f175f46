"""In-process transport (``memory://``): the broker semantics of the port without a broker.

Used by the embedded demo and unit tests. It keeps the contract of ``port.py``: topic routing
with the same matcher as the RabbitMQ bindings, ``UnroutableError`` instead of a silent drop,
acknowledgement only after the handler returned, requeue on failure, a delivery limit that moves
poison messages to the parking queue, and delay tiers that bring a message back later.
Nothing survives the process: durability is the RabbitMQ path's job.

``interrupt()`` and ``restore()`` play a broker outage for tests: in between, ``publish``
raises ``TransportError``; ``restore`` runs the ``on_reconnect`` callbacks, as RabbitMQ's
robust connection does.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, replace

from gateway.transport.pending import PendingPublishes
from gateway.transport.port import (
    Handler,
    IncomingMessage,
    PublishCommand,
    ReconnectCallback,
    TransportError,
    UnroutableError,
)
from gateway.transport.topology import Topology, topic_matches


@dataclass
class _Binding:
    pattern: str
    queue: str


async def _drain(inflight: set[asyncio.Task[None]], grace: float) -> None:
    """Let running handlers finish (ack or requeue); cancel those still running after grace."""
    if not inflight:
        return
    _done, pending = await asyncio.wait(set(inflight), timeout=grace)
    for task in pending:
        task.cancel()  # its message goes back to the queue (see _handle)
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)


class _Subscription:
    grace_seconds = 5.0

    def __init__(self, task: asyncio.Task[None], inflight: set[asyncio.Task[None]]) -> None:
        self._task = task
        self._inflight = inflight

    async def cancel(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await _drain(self._inflight, self.grace_seconds)


class MemoryTransport:
    def __init__(self) -> None:
        self._queues: dict[str, asyncio.Queue[IncomingMessage]] = {}
        self._bindings: list[_Binding] = []
        self._topologies: list[Topology] = []
        self._timers: set[asyncio.TimerHandle] = set()
        self._subscriptions: list[_Subscription] = []
        self._connected = False
        self._interrupted = False
        self._reconnect_callbacks: list[ReconnectCallback] = []
        self._callback_tasks: set[asyncio.Task[None]] = set()
        self._pending: PendingPublishes | None = None

    async def connect(self) -> None:
        self._connected = True

    def interrupt(self) -> None:
        """A broker outage begins: publishes fail until ``restore``."""
        self._interrupted = True

    def restore(self) -> None:
        """The broker is back: the ``on_reconnect`` callbacks run."""
        self._interrupted = False
        for callback in self._reconnect_callbacks:
            task = asyncio.get_running_loop().create_task(callback())
            self._callback_tasks.add(task)
            task.add_done_callback(self._callback_tasks.discard)

    def on_reconnect(self, callback: ReconnectCallback) -> None:
        self._reconnect_callbacks.append(callback)

    def publish_later(self, command: PublishCommand) -> bool:
        if self._pending is None:
            self._pending = PendingPublishes(self.publish)
            self.on_reconnect(self._pending.reconnected)
        return self._pending.add(command)

    async def declare(self, topology: Topology) -> None:
        for name in (*topology.endpoint_queues, topology.parking_queue):
            self._queues.setdefault(name, asyncio.Queue())
        for gln in topology.endpoint_glns:
            binding = _Binding(topology.endpoint_binding(gln), topology.endpoint_queue(gln))
            if binding not in self._bindings:
                self._bindings.append(binding)
        if topology not in self._topologies:
            self._topologies.append(topology)

    def _topology_for_queue(self, queue: str) -> Topology | None:
        return next((t for t in self._topologies if queue in t.queues), None)

    async def publish(self, command: PublishCommand) -> None:
        if self._interrupted:
            raise TransportError(f"publish of {command.message_id} failed: the broker is away")
        targets = [b.queue for b in self._bindings if topic_matches(b.pattern, command.routing_key)]
        if not targets:
            raise UnroutableError(f"no queue is bound for routing key {command.routing_key!r}")
        message = IncomingMessage(
            body=command.body,
            routing_key=command.routing_key,
            message_id=command.message_id,
            headers=dict(command.headers),
        )
        if command.delay_seconds > 0:
            topology = self._topology_for_queue(targets[0])
            delay = topology.tier_for(command.delay_seconds) if topology else command.delay_seconds
            loop = asyncio.get_running_loop()
            handle: asyncio.TimerHandle | None = None

            def _due() -> None:
                self._timers.discard(handle)  # type: ignore[arg-type]
                for queue in targets:
                    self._queues[queue].put_nowait(message)

            handle = loop.call_later(delay, _due)
            self._timers.add(handle)
            return
        for queue in targets:
            self._queues[queue].put_nowait(message)

    async def consume(self, queue: str, handler: Handler, *, prefetch: int = 32) -> _Subscription:
        source = self._queues.get(queue)
        if source is None:
            raise UnroutableError(f"queue {queue!r} is not declared")
        limit = asyncio.Semaphore(max(1, prefetch))
        inflight: set[asyncio.Task[None]] = set()
        topology = self._topology_for_queue(queue)
        delivery_limit = topology.delivery_limit if topology else 20
        parking = self._queues.get(topology.parking_queue) if topology else None

        async def _handle(message: IncomingMessage) -> None:
            try:
                await handler(message)
            except asyncio.CancelledError:
                source.put_nowait(replace(message, redelivered=True))
                raise
            except Exception:  # noqa: BLE001 - a failing handler means: not acked, requeue
                failed = replace(message, redelivered=True,
                                 delivery_count=message.delivery_count + 1)
                if failed.delivery_count > delivery_limit and parking is not None:
                    parking.put_nowait(failed)
                else:
                    source.put_nowait(failed)
            finally:
                limit.release()

        async def _loop() -> None:
            while True:
                await limit.acquire()
                try:
                    message = await source.get()
                except asyncio.CancelledError:
                    limit.release()
                    raise
                task = asyncio.create_task(_handle(message))
                inflight.add(task)
                task.add_done_callback(inflight.discard)

        subscription = _Subscription(asyncio.create_task(_loop()), inflight)
        self._subscriptions.append(subscription)
        return subscription

    async def queue_depth(self, queue: str) -> int:
        source = self._queues.get(queue)
        return source.qsize() if source is not None else 0

    async def delete(self, topology: Topology) -> None:
        for name in topology.queues:
            self._queues.pop(name, None)
        self._bindings = [b for b in self._bindings if b.queue not in topology.queues]
        if topology in self._topologies:
            self._topologies.remove(topology)

    async def close(self) -> None:
        if self._pending is not None:
            await self._pending.close()
            self._pending = None
        for sub in self._subscriptions:
            await sub.cancel()
        self._subscriptions.clear()
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        self._connected = False
