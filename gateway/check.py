"""``medbro check``: is this configuration good, and (``--ready``) can a process work with it?

It reads what every process reads at start-up (the ``MEDBRO_*`` settings, the partner file with
each endpoint's channel options, the case flow's file) and says so in one line; a configuration
error is the one line of gateway/cli.py with exit code 2, before anything is deployed. With
``--ready`` it also asks the database (``SELECT 1``) and the broker (a connection), as
``/readyz`` does for the API: the compose file's healthcheck of the worker and the mailbox
watcher, which serve no HTTP. Exit code 1 names what does not answer.
"""

from __future__ import annotations

import asyncio

import click

CHECK_TIMEOUT = 5.0


async def _database(url: str) -> None:
    from sqlalchemy import text

    from gateway.db import create_engine

    def ping() -> None:
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        finally:
            engine.dispose()

    await asyncio.to_thread(ping)


async def _broker(url: str) -> None:
    """One node of the broker setting answers (a cluster is reached through any of them)."""
    if url.startswith("memory://"):
        return  # in-process: there when the process is
    import aio_pika

    from gateway.transport.addresses import broker_addresses

    problems = []
    for address in broker_addresses(url):
        try:
            connection = await aio_pika.connect(address, timeout=CHECK_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - try the next node; all failing is the answer
            problems.append(exc)
            continue
        await connection.close()
        return
    raise problems[-1]


async def unreachable(database_url: str, broker_url: str) -> dict[str, str]:
    """What does not answer within ``CHECK_TIMEOUT`` seconds: {"database": "why", ...}."""
    async def probe(name: str, check: object) -> tuple[str, str | None]:
        try:
            await asyncio.wait_for(check, timeout=2 * CHECK_TIMEOUT)  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001 - the reason is the answer
            return name, repr(exc)[:200]
        return name, None

    results = await asyncio.gather(probe("database", _database(database_url)),
                                   probe("broker", _broker(broker_url)))
    return {name: why for name, why in results if why is not None}


@click.command("check")
@click.option("--ready", is_flag=True,
              help="Also reach the database and the broker (exit 1 when one does not answer).")
def check_command(ready: bool) -> None:
    """Check the settings, the partner file and the case flow's file (MEDBRO_*)."""
    from gateway.registry import Registry
    from gateway.settings import Settings

    settings = Settings.load()  # a ConfigError: one line, exit 2 (gateway/cli.py)
    registry = Registry.load(settings.config)
    line = (f"configuration ok: {len(registry.endpoints)} endpoint(s), "
            f"{len(registry.organisations)} organisation(s)"
            + (", case flow configured" if settings.caseflow_config else ""))
    if ready:
        down = asyncio.run(unreachable(settings.database_url, settings.broker_url))
        if down:
            raise click.ClickException("; ".join(f"{name}: {why}" for name, why in down.items()))
        line += "; database and broker answer"
    click.echo(line)
