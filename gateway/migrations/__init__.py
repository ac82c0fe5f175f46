"""Alembic migrations for every table medbro keeps, one revision branch per area.

Each area (store, sla, caseflow, ...) owns a branch: its first revision has
``down_revision = None`` and ``branch_labels = ("<area>",)``; later revisions of the area chain
onto it. ``upgrade(url)`` applies all heads, so areas never fight over one linear history.
``TABLE_MODULES`` lists the modules that declare tables on ``gateway.db.Base``; the schema test
checks that the migrations create exactly what those modules declare.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config

from gateway.errors import ConfigError

HERE = Path(__file__).resolve().parent

# Every module that declares tables on gateway.db.Base (core areas only: gateway never imports
# adapters; adapters that need tables keep them in their own databases).
TABLE_MODULES = (
    "gateway.store.tables",
    "gateway.sla.tables",
    "gateway.caseflow.tables",
    "gateway.operations.tables",
    "gateway.retention.tables",
)


def import_table_modules(modules: Sequence[str] = TABLE_MODULES) -> list[str]:
    """Import every table module so ``Base.metadata`` is complete; returns those imported.

    Every listed module must exist: skipping a missing one would let the migrations (and the
    schema test) run against an incomplete ``Base.metadata`` without anyone noticing. A missing
    module is a ``ConfigError`` naming it; any other import error is raised as it is.
    """
    imported = []
    for name in modules:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                raise  # the module exists but needs something that is missing
            raise ConfigError(
                f"table module {name} (listed in gateway.migrations.TABLE_MODULES) does not "
                f"exist: {exc.name} cannot be imported"
            ) from exc
        imported.append(name)
    return imported


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    """Bring the database at ``url`` up to date (all area branches)."""
    command.upgrade(alembic_config(url), revision)
