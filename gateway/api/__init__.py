"""The HTTP API (FastAPI): message ingest and lookup, health, plugin routers."""

from gateway.api.app import create_app, load_routers

__all__ = ["create_app", "load_routers"]
