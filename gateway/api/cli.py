"""``medbro api``: serve the HTTP API with uvicorn (one process; run several behind a proxy).

uvicorn's own log lines (access and server) go through medbro's structlog chain
(gateway/logging.py): JSON, CPR numbers masked, so its logging configuration is not used.
With ``--ssl-certfile`` and ``--ssl-keyfile`` (uvicorn's options, PEM files) it serves HTTPS
itself; otherwise put it behind a reverse proxy that ends TLS (docs/operations.md, TLS).
SIGHUP re-reads the partner file, as ``POST /v1/admin/reload`` does (gateway/reload.py).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import click

from gateway.logging import configure

LEVELS = ("critical", "error", "warning", "info", "debug")
_PEM = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)


@click.command("api")
@click.option("--host", default="127.0.0.1", show_default=True, help="interface to bind")
@click.option("--port", default=8000, show_default=True, type=int, help="TCP port")
@click.option("--log-level", default="info", show_default=True, type=click.Choice(LEVELS))
@click.option("--ssl-certfile", type=_PEM, default=None,
              help="serve HTTPS: the certificate chain (PEM); needs --ssl-keyfile")
@click.option("--ssl-keyfile", type=_PEM, default=None,
              help="the certificate's private key (PEM); needs --ssl-certfile")
def api_command(host: str, port: int, log_level: str, ssl_certfile: Path | None,
                ssl_keyfile: Path | None) -> None:
    """Serve the HTTP API: /v1/messages, every plugin router, /healthz, /readyz (MEDBRO_*)."""
    if (ssl_certfile is None) != (ssl_keyfile is None):
        raise click.UsageError("--ssl-certfile and --ssl-keyfile go together (HTTPS needs both)")
    import uvicorn

    from gateway.api.app import create_app
    from gateway.pipeline.hub import Hub
    from gateway.settings import Settings

    configure(level=logging.getLevelNamesMapping()[log_level.upper()])
    hub = Hub.from_settings(Settings.load())
    tls = ({"ssl_certfile": str(ssl_certfile), "ssl_keyfile": str(ssl_keyfile)}
           if ssl_certfile is not None else {})
    config = uvicorn.Config(create_app(hub), host=host, port=port, log_level=log_level,
                            log_config=None, **tls)
    loop_factory = getattr(config, "get_loop_factory", lambda: None)()
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(_serve(uvicorn.Server(config), hub))


async def _serve(server: Any, hub: Any) -> None:
    """uvicorn's server, with SIGHUP reloading the partner file while it serves."""
    from gateway.reload import reload_on_sighup

    stop_reloading = reload_on_sighup(hub, "api")
    try:
        await server.serve()
    finally:
        stop_reloading()
