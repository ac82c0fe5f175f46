"""Operations: the patient search index on ``messages``; a bulk operation's heartbeat.

``ix_messages_search_patient`` (patient_key, created_at, id) makes ``GET /v1/messages?patient=``
an index range scan, newest first, like every other filter. ``bulk_operations.heartbeat_at`` is
touched by the process walking a bulk act, so an operation whose process died is shown
``interrupted`` instead of ``running`` for ever (gateway/operations/bulk.py).

Revision ID: ops_0002
Revises: ops_0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ops_0002"
down_revision = "ops_0001"
branch_labels = None
depends_on = "store_0003"


def upgrade() -> None:
    op.create_index("ix_messages_search_patient", "messages", ["patient_key", "created_at", "id"])
    op.add_column("bulk_operations", sa.Column("heartbeat_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bulk_operations") as batch:
        batch.drop_column("heartbeat_at")
    op.drop_index("ix_messages_search_patient", table_name="messages")
