"""SLA: an index for the open SLA tasks by kind.

``medbro_tasks_open`` counts the unresolved SLA tasks by kind at every scrape of every process
(gateway/operations/gauges.py); the index answers that GROUP BY without reading the table.

Revision ID: sla_0003
Revises: sla_0002
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "sla_0003"
down_revision = "sla_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_sla_tasks_resolved_at_kind", "sla_tasks", ["resolved_at", "kind"])


def downgrade() -> None:
    op.drop_index("ix_sla_tasks_resolved_at_kind", table_name="sla_tasks")
