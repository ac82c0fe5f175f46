"""``medbro worker``: deliver routed messages and watch receipt timeouts until SIGTERM.

Run as many as you like side by side: they are competing consumers on the same endpoint
queues, and the store's conditional updates keep their scanners from acting twice. SIGTERM or
SIGINT stops consuming, lets running deliveries commit and ack, then disconnects; anything
unfinished stays unacknowledged in the broker and goes to another worker. SIGHUP re-reads the
partner file (gateway/reload.py): a new endpoint's queue is declared and consumed; a bad file
is logged and the worker goes on with the configuration it has.

The signal is honoured within ``SHUTDOWN_SECONDS`` whatever the broker's state: while starting
(still connecting) the worker stops at once; a shutdown that has not finished by the deadline
(a broker call waiting for a broker that is away) is cut short. Nothing is lost either way:
what was not acknowledged is redelivered, and what was committed is skipped as done.

``--metrics-port`` (or ``MEDBRO_METRICS_PORT``) serves ``/metrics`` (gateway/metrics_server.py)
with this worker's counters and the store-derived gauges, read at each scrape.
"""

from __future__ import annotations

import asyncio
import signal

import click

from gateway.logging import configure, get_logger
from gateway.reload import reload_on_sighup

log = get_logger(__name__)


@click.command("worker")
@click.option("--log-json/--log-console", default=None,
              help="Log format (default: JSON when not on a terminal).")
@click.option("--metrics-port", type=click.IntRange(0, 65535), default=None,
              help="Serve /metrics on this port (default MEDBRO_METRICS_PORT; 0: none).")
def worker_command(log_json: bool | None, metrics_port: int | None) -> None:
    """Deliver routed messages to their endpoints; resend when receipts are overdue."""
    from gateway.pipeline.hub import Hub
    from gateway.settings import Settings

    configure(json=log_json)
    settings = Settings.load()  # a ConfigError: one line, exit 2 (gateway/cli.py)
    hub = Hub.from_settings(settings)
    port = settings.metrics_port if metrics_port is None else metrics_port
    asyncio.run(run_until_signalled(hub, metrics=(settings.metrics_host, port)))


SHUTDOWN_SECONDS = 6.0  # + 2 s to disconnect: inside the 10 s a process manager gives


async def run_until_signalled(hub: object, *, shutdown_seconds: float = SHUTDOWN_SECONDS,
                              metrics: tuple[str, int] = ("127.0.0.1", 0)) -> None:
    """Run the worker until SIGTERM/SIGINT; ``metrics``: (host, port) of /metrics, port 0 none.
    The port is bound before the broker is reached, so a taken port stops the start at once."""
    from gateway.metrics_server import serving

    async with serving(*metrics):
        await _run(hub, shutdown_seconds)


async def _run(hub: object, shutdown_seconds: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None
    started = False

    def on_signal() -> None:
        if stop.is_set():
            return
        stop.set()
        log.info("worker_stopping", started=started)
        if not started:
            main.cancel()  # still connecting: nothing is in flight
        else:
            loop.call_later(shutdown_seconds, main.cancel)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)
    stop_reloading = reload_on_sighup(hub, "worker")  # re-read the partner file
    try:
        await hub.start()  # type: ignore[attr-defined]
        started = True
        await hub.run_worker(stop)  # type: ignore[attr-defined]
    except asyncio.CancelledError:
        if not stop.is_set():
            raise
        main.uncancel()
        log.warning("worker_shutdown_cut_short" if started else "worker_stopped_while_starting")
    finally:
        stop_reloading()
        try:
            await asyncio.wait_for(hub.stop(), timeout=2.0)  # type: ignore[attr-defined]
        except (TimeoutError, asyncio.CancelledError):
            log.warning("worker_stop_timed_out")
        log.info("worker_exited")
