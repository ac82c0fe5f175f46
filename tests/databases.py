"""Fresh PostgreSQL databases for tests that must not see each other's rows.

A module with a name of its own (not ``conftest``) so every test package can import it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import sqlalchemy as sa

PG_ADMIN_URL = os.environ.get(
    "MEDBRO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def fresh_postgres_database(prefix: str = "medbro_test") -> Iterator[str]:
    """Yield the URL of a new, empty PostgreSQL database; drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(
            hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
