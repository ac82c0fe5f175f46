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


def test_migrations_create_exactly_the_declared_schema(empty_database_url):
    database_url = empty_database_url
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


def test_processes_starting_together_migrate_once(database_url, tmp_path):
    """Several workers start at the same moment: the schema upgrade must not race."""
    import subprocess
    import sys

    if database_url.startswith("postgresql"):
        import uuid

        from tests.conftest import PG_ADMIN_URL

        name = f"medbro_mig_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.engine.make_url(database_url).set(database=name).render_as_string(
            hide_password=False)
    else:
        admin, url = None, f"sqlite:///{tmp_path / 'race.db'}"
    code = ("import sys; from gateway.store import Store; s = Store(sys.argv[1]); s.migrate(); "
            "s.dispose()")
    try:
        procs = [subprocess.Popen([sys.executable, "-c", code, url], stderr=subprocess.PIPE)
                 for _ in range(3)]
        errors = [p.communicate(timeout=120)[1] for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0], errors
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                    {"n": name})
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            admin.dispose()
