"""Message store: duplicate keys as long as a FHIR id.

A MedCom FHIR message is keyed on its ``MessageHeader.id`` (a FHIR id: up to 64 characters,
in practice a 36-character UUID), stored as the message's control and message reference. The
EDIFACT references (UNB 14, UNH 14 characters) fitted in 35; a FHIR key cut to 35 would make
two messages one. Widening a VARCHAR loses nothing and rewrites nothing on PostgreSQL.

Revision ID: store_0004
Revises: store_0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "store_0004"
down_revision = "store_0003"
branch_labels = None
depends_on = None

COLUMNS = (("interchanges", "control_ref"), ("messages", "control_ref"),
           ("messages", "message_ref"))


def _retype(width: int, was: int) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        for table, column in COLUMNS:
            op.alter_column(table, column, type_=sa.String(width),
                            existing_type=sa.String(was), existing_nullable=True)
        return
    # SQLite stores a VARCHAR as TEXT whatever its length, so only the declared type changes:
    # SQLite's documented in-place schema change ("Making Other Kinds Of Table Schema
    # Changes"). A batch rebuild would drop ``interchanges`` and ``messages``, which other
    # tables reference: refused with foreign keys on (gateway/db.py turns them on).
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    for table, column in COLUMNS:
        bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = ?",
            (f"{column} VARCHAR({was})", f"{column} VARCHAR({width})", table))
    bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema=OFF")


def upgrade() -> None:
    _retype(64, 35)


def downgrade() -> None:
    _retype(35, 64)
