"""The hub: one object that wires settings, registry, store, transport and the pipeline steps.

The API, the EDI mailbox watcher, the demo and ``medbro worker`` all use this facade and nothing
below it. ``ingest`` stores before it returns and never raises for bad input (a rejection is a
result); ``run_worker`` consumes every endpoint queue and runs the receipt scanner until stopped.
``swap_registry`` puts a reloaded partner file in place (gateway/reload.py decides): the
registry is one reference (``ctx.registry``), and the queues, the worker's consumers and
channels and the ``on_reload`` callbacks follow it.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from gateway import metrics
from gateway.channels import Channel
from gateway.logging import get_logger
from gateway.pipeline import ticks
from gateway.pipeline.context import Clock, Pipeline, utc_now
from gateway.pipeline.ingest import Ingest, IngestResult
from gateway.pipeline.inputs import PayloadHint
from gateway.pipeline.worker import Worker, run_scanner
from gateway.registry import Endpoint, Registry
from gateway.settings import Settings
from gateway.store import Store
from gateway.store import repository as repo
from gateway.transport import Transport, transport_for
from gateway.transport.addresses import display
from gateway.transport.port import Subscription, UnconnectedTransport
from gateway.transport.topology import Topology

if TYPE_CHECKING:
    from gateway.reload import Changes

log = get_logger(__name__)

ReloadCallback = Callable[[Registry, Registry], Awaitable[None]]


class Hub:
    def __init__(
        self,
        settings: Settings,
        registry: Registry,
        *,
        transport: Transport | None = None,
        clock: Clock = utc_now,
        channel_factory: Callable[[Endpoint], Channel] | None = None,
    ) -> None:
        self.settings = settings
        self._transport = transport or transport_for(settings.broker_url)
        topology = Topology(
            prefix=settings.broker_prefix,
            endpoint_glns=tuple(ep.gln for ep in registry.endpoints),
            delay_tiers=settings.retry_delays_seconds,
            delivery_limit=settings.poison_delivery_limit,
        )
        pool = settings.db_pool_size
        store = Store(settings.database_url, **_pool_options(settings.database_url, pool))
        self.ctx = Pipeline(settings=settings, registry=registry, store=store, topology=topology,
                            clock=clock,
                            executor=ThreadPoolExecutor(pool, thread_name_prefix="medbro-db"))
        self.worker = Worker(self.ctx, channel_factory)  # the queue messages it holds: a batch
        self._ingest = Ingest(self.ctx)  # inputs arriving together: a batch
        self._started = False
        self._consumers: dict[str, Subscription] = {}  # queue -> its consumer (run_worker)
        self._consuming = False
        self._reload_callbacks: list[ReloadCallback] = []
        self.reload_lock = asyncio.Lock()  # gateway/reload.py: one reload at a time

    @property
    def registry(self) -> Registry:
        """The running partner configuration: one reference, swapped whole by a reload."""
        return self.ctx.registry

    @registry.setter
    def registry(self, registry: Registry) -> None:
        self.ctx.registry = registry

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> Hub:
        registry = Registry.load(settings.config, allow_demo_keys=settings.allow_demo_keys)
        return cls(settings, registry, **kwargs)

    @property
    def store(self) -> Store:
        return self.ctx.store

    @property
    def topology(self) -> Topology:
        return self.ctx.topology

    @property
    def transport(self) -> Transport:
        return self.ctx.transport

    async def start(self) -> None:
        """Bring the database schema up to date, connect the broker, declare the topology."""
        if self._started:
            return
        await asyncio.to_thread(self.ctx.store.migrate)
        await self._transport.connect()
        await self._transport.declare(self.ctx.topology)
        self.ctx.transport = self._transport
        self._unhook_metrics = metrics.on_scrape(ticks.scrape_hook(self.ctx))
        self._started = True
        log.info("hub_started", endpoints=len(self.registry.endpoints),
                 broker=display(self.settings.broker_url), prefix=self.settings.broker_prefix)

    async def stop(self) -> None:
        if self._started:
            self._unhook_metrics()
            await self._transport.close()
            self.ctx.transport = UnconnectedTransport()
            self._started = False
        await asyncio.to_thread(self.ctx.store.dispose)
        if self.ctx.executor is not None:
            self.ctx.executor.shutdown(wait=False)

    async def ingest(
        self,
        data: bytes,
        *,
        received_via: str,
        source: str = "",
        authenticated_glns: frozenset[str] | None = None,
        hint: PayloadHint | None = None,
    ) -> IngestResult:
        """Decide and store, then publish; answers once committed (ingest.py). ``hint``: the
        envelope's facts about a payload that is not EDIFACT (inputs.py); it is routed by
        them. An EDIFACT payload ignores the hint."""
        return await self._ingest(data, received_via=received_via, source=source,
                                  authenticated_glns=authenticated_glns, hint=hint)

    async def run_worker(self, stop: asyncio.Event) -> None:
        """Consume every endpoint queue (competing with other workers) and scan for timeouts;
        a reload adds the queues of new endpoints (``swap_registry``)."""
        self._consuming = True
        try:
            await self._consume_every_queue()
            log.info("worker_started", queues=len(self._consumers))
            await run_scanner(self.ctx, stop)
        finally:
            self._consuming = False
            while self._consumers:
                await self._consumers.popitem()[1].cancel()
            log.info("worker_stopped")

    async def _consume_every_queue(self) -> None:
        # Consumers are only ever added: a removed endpoint's queue stays consumed, so what
        # waits in it is parked (receiver no longer configured) where an operator sees it.
        for queue in self.ctx.topology.endpoint_queues:
            if queue not in self._consumers:
                self._consumers[queue] = await self.ctx.transport.consume(
                    queue, self.worker.handle, prefetch=self.settings.prefetch)

    def on_reload(self, callback: ReloadCallback) -> None:
        """``callback(old, new)`` runs after each swap (e.g. mailbox watchers follow it)."""
        self._reload_callbacks.append(callback)

    async def swap_registry(self, registry: Registry, changes: Changes | None = None, *,
                            before: Callable[[], Awaitable[None]] | None = None) -> None:
        """Make ``registry`` the running configuration. In this order: its endpoint queues are
        declared (so nothing routed to a new endpoint is unroutable), ``before`` runs (the
        audit; if it raises nothing is swapped), the registry and topology are swapped (plain
        assignments, nothing can interleave), then the worker consumes the new queues, drops
        the channels of changed or removed endpoints (``changes``: gateway.reload.Changes) and
        the ``on_reload`` callbacks run."""
        topology = dataclasses.replace(
            self.ctx.topology, endpoint_glns=tuple(ep.gln for ep in registry.endpoints))
        if self._started:
            await self._transport.declare(topology)
        if before is not None:
            await before()
        old = self.ctx.registry
        self.ctx.registry = registry
        self.ctx.topology = topology
        if changes is not None:
            self.worker.forget(*changes.changed, *changes.removed)
        if self._consuming:
            try:
                await self._consume_every_queue()
            except Exception as exc:  # noqa: BLE001 - the next reload or restart consumes it
                log.error("reload_consume_failed", error=repr(exc))
        for callback in self._reload_callbacks:
            try:
                await callback(old, registry)
            except Exception as exc:  # noqa: BLE001 - one follower failing spoils no other
                log.error("reload_callback_failed", callback=repr(callback), error=repr(exc))

    def message_view(self, message_id: str) -> dict[str, Any] | None:
        with self.ctx.store.transaction() as session:
            return repo.message_view(session, message_id)


def _pool_options(url: str, size: int) -> dict[str, Any]:
    if url.startswith("postgresql"):
        return {"pool_size": size, "max_overflow": 4}
    return {}


__all__ = ["Hub", "IngestResult", "PayloadHint"]
