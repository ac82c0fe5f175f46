"""``medbro api``: serve the HTTP API with uvicorn (one process; run several behind a proxy)."""

from __future__ import annotations

import click

from gateway.logging import configure


@click.command("api")
@click.option("--host", default="127.0.0.1", show_default=True, help="interface to bind")
@click.option("--port", default=8000, show_default=True, type=int, help="TCP port")
@click.option("--log-level", default="info", show_default=True)
def api_command(host: str, port: int, log_level: str) -> None:
    """Serve the HTTP API: /v1/messages, every plugin router, /healthz, /readyz (MEDBRO_*)."""
    import uvicorn

    from gateway.api.app import create_app
    from gateway.pipeline.hub import Hub
    from gateway.settings import Settings

    configure()
    hub = Hub.from_settings(Settings.load())
    uvicorn.run(create_app(hub), host=host, port=port, log_level=log_level)
