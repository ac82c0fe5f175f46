"""``medbro api``: serve the HTTP API with uvicorn (one process; run several behind a proxy).

uvicorn's own log lines (access and server) go through medbro's structlog chain
(gateway/logging.py): JSON, CPR numbers masked, so its logging configuration is not used.
"""

from __future__ import annotations

import logging

import click

from gateway.logging import configure

LEVELS = ("critical", "error", "warning", "info", "debug")


@click.command("api")
@click.option("--host", default="127.0.0.1", show_default=True, help="interface to bind")
@click.option("--port", default=8000, show_default=True, type=int, help="TCP port")
@click.option("--log-level", default="info", show_default=True, type=click.Choice(LEVELS))
def api_command(host: str, port: int, log_level: str) -> None:
    """Serve the HTTP API: /v1/messages, every plugin router, /healthz, /readyz (MEDBRO_*)."""
    import uvicorn

    from gateway.api.app import create_app
    from gateway.pipeline.hub import Hub
    from gateway.settings import Settings

    configure(level=logging.getLevelNamesMapping()[log_level.upper()])
    hub = Hub.from_settings(Settings.load())
    uvicorn.run(create_app(hub), host=host, port=port, log_level=log_level, log_config=None)
