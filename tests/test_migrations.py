"""The Alembic migrations create exactly the schema the table modules declare.

Runs on SQLite and PostgreSQL. Every module listed in gateway.migrations.TABLE_MODULES must
exist: ``import_table_modules`` refuses a missing one (ConfigError naming it).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from databases import fresh_postgres_database

from gateway.db import Base, create_engine
from gateway.errors import ConfigError
from gateway.migrations import TABLE_MODULES, import_table_modules, upgrade


def test_migrations_create_exactly_the_declared_schema(empty_database_url):
    database_url = empty_database_url
    imported = import_table_modules()
    assert imported == list(TABLE_MODULES)
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
    assert set(TABLE_MODULES) == {
        "gateway.store.tables", "gateway.sla.tables", "gateway.caseflow.tables",
        "gateway.operations.tables",
        "gateway.retention.tables"}


def test_a_missing_table_module_is_an_error_naming_it():
    with pytest.raises(ConfigError, match=r"table module gateway\.nosucharea\.tables "):
        import_table_modules(("gateway.store.tables", "gateway.nosucharea.tables"))
    with pytest.raises(ConfigError, match=r"gateway\.store\.nosuchtables"):
        import_table_modules(("gateway.store.nosuchtables",))


def test_an_import_error_inside_a_table_module_is_raised_as_it_is(tmp_path, monkeypatch):
    (tmp_path / "medbro_broken_tables.py").write_text("import medbro_no_such_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="medbro_no_such_dependency"):
        import_table_modules(("medbro_broken_tables",))


def test_processes_starting_together_migrate_once(database_url, tmp_path):
    """Several workers start at the same moment: the schema upgrade must not race."""
    import subprocess
    import sys

    fresh = None
    if database_url.startswith("postgresql"):
        fresh = fresh_postgres_database("medbro_mig")
        url = next(fresh)
    else:
        url = f"sqlite:///{tmp_path / 'race.db'}"
    code = ("import sys; from gateway.store import Store; s = Store(sys.argv[1]); s.migrate(); "
            "s.dispose()")
    try:
        procs = [subprocess.Popen([sys.executable, "-c", code, url], stderr=subprocess.PIPE)
                 for _ in range(3)]
        errors = [p.communicate(timeout=120)[1] for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0], errors
    finally:
        if fresh is not None:
            fresh.close()  # drops the database
