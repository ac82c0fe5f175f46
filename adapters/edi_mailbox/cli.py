"""``medbro mailbox-watch``: the inbound side of every EDI mailbox, as its own process.

An ingest process like ``medbro api``: it claims complete files from each ``edi_mailbox``
endpoint's inbox, stores them through ``Hub.ingest`` (which publishes them for the workers) and
archives them. Several can run side by side (a file is claimed by exactly one rename).
SIGTERM/SIGINT finishes the file in hand and stops; anything claimed but not stored is finished
by the next start (``processing/`` recovery). SIGHUP re-reads the partner file
(gateway/reload.py): a new mailbox endpoint gets its watcher, a removed one's watcher finishes
its file and stops, a changed one is restarted with its new options.
``--metrics-port`` (or ``MEDBRO_METRICS_PORT``)
serves ``/metrics``: this process's counters and the store-derived gauges, read at each scrape.
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import click

from gateway.logging import get_logger

log = get_logger(__name__)


class Watchers:
    """One watcher task per mailbox endpoint with an inbox, following the registry: ``follow``
    starts the new ones and stops (after the file in hand) the removed and changed ones."""

    def __init__(self, hub: Any) -> None:
        self.hub = hub
        self._running: dict[str, tuple[asyncio.Task[None], asyncio.Event]] = {}
        self.started = 0
        self.crashed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def _start(self, endpoint: Any) -> None:
        from gateway.channels import load_channel

        channel = load_channel(endpoint, self.hub.settings)
        if not channel.has_inbox:
            return
        stop = asyncio.Event()
        task = asyncio.create_task(channel.watch(self.hub.ingest, stop))
        task.add_done_callback(self._ended)
        self._running[endpoint.gln] = (task, stop)
        self.started += 1

    def _ended(self, task: asyncio.Task[None]) -> None:
        # A watcher that crashes stops the process (as before reloads existed), not silently.
        if not task.cancelled() and task.exception() is not None and not self.crashed.done():
            self.crashed.set_exception(task.exception())  # type: ignore[arg-type]

    async def _stop(self, gln: str) -> None:
        task, stop = self._running.pop(gln)
        stop.set()
        await asyncio.gather(task, return_exceptions=True)

    async def follow(self, old: Any, new: Any) -> None:
        """After a reload: the endpoints of ``new`` that changed from ``old`` are followed."""
        from gateway.reload import diff

        changes = diff(old, new)
        for gln in (*changes.removed, *changes.changed):
            if gln in self._running:
                await self._stop(gln)
        for gln in (*changes.added, *changes.changed):
            endpoint = new.endpoint(gln)
            if endpoint is not None and endpoint.channel.kind == "edi_mailbox":
                self._start(endpoint)
        log.info("mailbox_watch_following", watchers=sorted(self._running))

    def start_all(self) -> None:
        for endpoint in self.hub.registry.endpoints:
            if endpoint.channel.kind == "edi_mailbox":
                self._start(endpoint)

    async def stop_all(self) -> None:
        for gln in list(self._running):
            await self._stop(gln)


async def watch_all(hub: Any, stop: asyncio.Event) -> int:
    """Run a watcher for every mailbox endpoint with an inbox until ``stop``, following
    reloads of the partner file; how many watchers ran."""
    watchers = Watchers(hub)
    watchers.start_all()
    if not watchers.started:
        log.warning("mailbox_watch_idle", reason="no edi_mailbox endpoint has an inbox")
    hub.on_reload(watchers.follow)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({stopped, watchers.crashed}, return_when=asyncio.FIRST_COMPLETED)
        if watchers.crashed.done():
            watchers.crashed.result()  # raises the watcher's error
    finally:
        stopped.cancel()
        await watchers.stop_all()
    return watchers.started


async def _run(hub: Any, metrics: tuple[str, int] = ("127.0.0.1", 0)) -> None:
    from gateway.metrics_server import serving
    from gateway.reload import reload_on_sighup

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with serving(*metrics):
        await hub.start()
        stop_reloading = reload_on_sighup(hub, "mailbox-watch")
        try:
            await watch_all(hub, stop)
        finally:
            stop_reloading()
            await hub.stop()


@click.command("mailbox-watch")
@click.option("--log-json/--log-console", default=None,
              help="Log format (default: JSON when not on a terminal).")
@click.option("--metrics-port", type=click.IntRange(0, 65535), default=None,
              help="Serve /metrics on this port (default MEDBRO_METRICS_PORT; 0: none).")
def watch_command(log_json: bool | None, metrics_port: int | None) -> None:
    """Take interchanges from every EDI mailbox inbox into medbro (MEDBRO_* settings)."""
    from gateway.logging import configure
    from gateway.pipeline.hub import Hub
    from gateway.settings import Settings

    configure(json=log_json)
    settings = Settings.load()  # a ConfigError: one line, exit 2 (gateway/cli.py)
    hub = Hub.from_settings(settings)
    port = settings.metrics_port if metrics_port is None else metrics_port
    asyncio.run(_run(hub, (settings.metrics_host, port)))


if __name__ == "__main__":  # python -m adapters.edi_mailbox.cli (same as medbro mailbox-watch)
    import sys

    from gateway.cli import main

    main(["mailbox-watch", *sys.argv[1:]])
