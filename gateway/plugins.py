"""Plugin loading through entry points, so that ``gateway`` never imports ``adapters``.

Groups (declared in pyproject.toml):

* ``medbro.commands``: click commands and groups of the ``medbro`` CLI;
* ``medbro.channels``: outside-system channels (EDI mailbox, HTTP, ESDH, ...);
* ``medbro.routers``: FastAPI routers mounted by the API.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from typing import Any

from gateway.errors import ConfigError


def available(group: str) -> dict[str, EntryPoint]:
    """The entry points of ``group`` by name (nothing is imported)."""
    return {ep.name: ep for ep in entry_points(group=group)}


def load(group: str, name: str) -> Any:
    """Import and return the plugin ``name`` of ``group``, with a clear error when it is absent."""
    eps = available(group)
    if name not in eps:
        known = ", ".join(sorted(eps)) or "none"
        raise ConfigError(f"no {group} plugin named {name!r} (installed: {known})")
    return eps[name].load()
