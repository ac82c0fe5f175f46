"""The Alembic migrations create exactly the schema the table modules declare.

Runs on SQLite and PostgreSQL. Table modules of areas not built yet (listed in
gateway.migrations.TABLE_MODULES but absent) are skipped by ``import_table_modules``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from gateway.db import Base, create_engine
from gateway.migrations import TABLE_MODULES, import_table_modules, upgrade


def test_migrations_create_exactly_the_declared_schema(database_url):
    imported = import_table_modules()
    assert "gateway.store.tables" in imported
    upgrade(database_url)
    upgrade(database_url)  # idempotent: already at heads
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = compare_metadata(context, Base.metadata)
            tables = set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()
    assert diffs == [], f"schema differs from the table modules {imported}: {diffs}"
    assert set(Base.metadata.tables) <= tables
    assert {"interchanges", "messages", "attempts", "receipts", "audit_events",
            "operator_tasks"} <= tables


def test_every_area_table_module_is_listed():
    assert "gateway.store.tables" in TABLE_MODULES
