"""``medbro mailbox-watch``: the inbound side of every EDI mailbox, as its own process.

An ingest process like ``medbro api``: it claims complete files from each ``edi_mailbox``
endpoint's inbox, stores them through ``Hub.ingest`` (which publishes them for the workers) and
archives them. Several can run side by side (a file is claimed by exactly one rename).
SIGTERM/SIGINT finishes the file in hand and stops; anything claimed but not stored is finished
by the next start (``processing/`` recovery).
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import click

from gateway.logging import get_logger

log = get_logger(__name__)


async def watch_all(hub: Any, stop: asyncio.Event) -> int:
    """Run a watcher for every mailbox endpoint with an inbox until ``stop``; how many ran."""
    from gateway.channels import load_channel

    watchers = []
    for endpoint in hub.registry.endpoints:
        if endpoint.channel.kind != "edi_mailbox":
            continue
        channel = load_channel(endpoint, hub.settings)
        if channel.has_inbox:
            watchers.append(channel.watch(hub.ingest, stop))
    if not watchers:
        log.warning("mailbox_watch_idle", reason="no edi_mailbox endpoint has an inbox")
    await asyncio.gather(*watchers, stop.wait())
    return len(watchers)


async def _run(hub: Any) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await hub.start()
    try:
        await watch_all(hub, stop)
    finally:
        await hub.stop()


@click.command("mailbox-watch")
@click.option("--log-json/--log-console", default=None,
              help="Log format (default: JSON when not on a terminal).")
def watch_command(log_json: bool | None) -> None:
    """Take interchanges from every EDI mailbox inbox into medbro (MEDBRO_* settings)."""
    from gateway.logging import configure
    from gateway.pipeline.hub import Hub
    from gateway.settings import Settings

    configure(json=log_json)
    hub = Hub.from_settings(Settings.load())  # a ConfigError: one line, exit 2 (gateway/cli.py)
    asyncio.run(_run(hub))


if __name__ == "__main__":  # python -m adapters.edi_mailbox.cli (same as medbro mailbox-watch)
    import sys

    from gateway.cli import main

    main(["mailbox-watch", *sys.argv[1:]])
