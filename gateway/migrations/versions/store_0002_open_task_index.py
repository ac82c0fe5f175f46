"""Message store: an index for the open operator tasks by kind.

``medbro_tasks_open`` counts the open tasks by kind at every scrape of every process
(gateway/operations/gauges.py); the index answers that GROUP BY without reading the table.

Revision ID: store_0002
Revises: store_0001
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "store_0002"
down_revision = "store_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_operator_tasks_status_kind", "operator_tasks", ["status", "kind"])


def downgrade() -> None:
    op.drop_index("ix_operator_tasks_status_kind", table_name="operator_tasks")
