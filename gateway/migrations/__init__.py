"""Alembic migrations for every table medbro keeps, one revision branch per area.

Each area (store, sla, caseflow, ...) owns a branch: its first revision has
``down_revision = None`` and ``branch_labels = ("<area>",)``; later revisions of the area chain
onto it. ``upgrade(url)`` applies all heads, so areas never fight over one linear history.
``TABLE_MODULES`` lists the modules that declare tables on ``gateway.db.Base``; the schema test
checks that the migrations create exactly what those modules declare.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from alembic import command
from alembic.config import Config

HERE = Path(__file__).resolve().parent

# Every module that declares tables on gateway.db.Base (core areas only: gateway never imports
# adapters; adapters that need tables keep them in their own databases).
TABLE_MODULES = (
    "gateway.store.tables",
    "gateway.sla.tables",
    "gateway.caseflow.tables",
)


def import_table_modules() -> list[str]:
    """Import every table module so ``Base.metadata`` is complete; returns those imported.

    A module whose area is not built yet (the module file does not exist) is skipped; any other
    import error is raised.
    """
    imported = []
    for name in TABLE_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                raise
            continue
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
