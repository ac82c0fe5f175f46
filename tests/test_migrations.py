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


def test_the_patient_key_backfill_keys_stored_letters_from_their_bytes(tmp_path):
    """store_0003: letters stored before ingest wrote ``patient_key`` get it from their bytes;
    a municipal copy too; a pruned body or a message without a patient stays NULL."""
    import importlib.util
    from datetime import UTC, datetime

    from gateway.demo import discharge_letter
    from gateway.edifact import parse
    from gateway.migrations import HERE
    from gateway.store.patient_key import patient_key
    from gateway.store.repository import interchange_values
    from gateway.store.tables import InterchangeRow, MessageRow

    spec = importlib.util.spec_from_file_location(
        "store_0003", HERE / "versions" / "store_0003_patient_key.py")
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    url = f"sqlite:///{tmp_path / 'backfill.db'}"
    upgrade(url)
    raw = discharge_letter(1, sender="5790000120420", receiver="5790000128686",
                           patient=("0108584947", "Jensen", "Anne"),
                           prepared_at=datetime(2026, 12, 1, 9, 0), ack_requested=False)
    ref = parse(raw).messages[0].ref
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    summary = {"letter": {"patient": "010858-****"}}
    rows = {  # message id -> (interchange bytes, message ref, summary)
        "letter": (raw, ref, summary),
        "copy": (raw, f"{ref}~CC5790000181872", summary),
        "pruned": (b"", ref, summary),
        "receipt": (raw, "R1", {"receipt": {}}),
    }
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for n, (message_id, (body, message_ref, summ)) in enumerate(rows.items()):
                conn.execute(sa.insert(InterchangeRow), interchange_values(
                    f"i{n}", raw=body, received_via="test", source="", at=now))
                conn.execute(sa.insert(MessageRow), dict(
                    id=message_id, interchange_id=f"i{n}", type="DIS01", sender_gln="579",
                    control_ref=f"K{n}", message_ref=message_ref, summary=summ,
                    state="delivered", created_at=now, updated_at=now))
        with engine.begin() as conn:
            assert migration.backfill(conn) == 2
            keys = dict(conn.execute(sa.select(MessageRow.id, MessageRow.patient_key)).all())
    finally:
        engine.dispose()
    assert keys == {"letter": patient_key("0108584947"), "copy": patient_key("010858-4947"),
                    "pruned": None, "receipt": None}
    assert keys["letter"] != patient_key("0108581234")  # same birth date, another patient
