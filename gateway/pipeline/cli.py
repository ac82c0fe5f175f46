"""``medbro worker``: deliver routed messages and watch receipt timeouts until SIGTERM.

Run as many as you like side by side: they are competing consumers on the same endpoint
queues, and the store's conditional updates keep their scanners from acting twice. SIGTERM or
SIGINT stops consuming, lets running deliveries commit and ack, then disconnects; anything
unfinished stays unacknowledged in the broker and goes to another worker.
"""

from __future__ import annotations

import asyncio
import signal

import click

from gateway.logging import configure, get_logger

log = get_logger(__name__)


@click.command("worker")
@click.option("--log-json/--log-console", default=None,
              help="Log format (default: JSON when not on a terminal).")
def worker_command(log_json: bool | None) -> None:
    """Deliver routed messages to their endpoints; resend when receipts are overdue."""
    from gateway.pipeline.hub import Hub
    from gateway.settings import Settings

    configure(json=log_json)
    hub = Hub.from_settings(Settings.load())  # a ConfigError: one line, exit 2 (gateway/cli.py)
    asyncio.run(run_until_signalled(hub))


async def run_until_signalled(hub: object) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await hub.start()  # type: ignore[attr-defined]
    try:
        await hub.run_worker(stop)  # type: ignore[attr-defined]
    finally:
        await hub.stop()  # type: ignore[attr-defined]
        log.info("worker_exited")
