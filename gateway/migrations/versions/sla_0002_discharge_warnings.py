"""SLA: a discharge keeps its warning (counting.py) and when medbro learned its time.

``warning`` is the code of the stored counting rule (implausible date, letter before the
discharge day); the report leaves such rows out or does not count them as on time, so the
covering report index gains the column. ``reported_at`` is the reference instant of the
plausibility window and places a warning in a report period.

Revision ID: sla_0002
Revises: sla_0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "sla_0002"
down_revision = "sla_0001"
branch_labels = None
depends_on = None

REPORT_COLUMNS = [
    "month",
    "hospital",
    "department",
    "discharge_date",
    "letter_sent_at",
    "deadline_1",
    "deadline_3",
]


def upgrade() -> None:
    op.add_column("sla_discharges", sa.Column("warning", sa.String(32), nullable=True))
    op.add_column("sla_discharges", sa.Column("reported_at", sa.DateTime(), nullable=True))
    op.drop_index("ix_sla_discharges_report", table_name="sla_discharges")
    op.create_index("ix_sla_discharges_report", "sla_discharges", [*REPORT_COLUMNS, "warning"])
    op.create_index("ix_sla_discharges_warning", "sla_discharges", ["warning"])


def downgrade() -> None:
    op.drop_index("ix_sla_discharges_warning", table_name="sla_discharges")
    op.drop_index("ix_sla_discharges_report", table_name="sla_discharges")
    op.create_index("ix_sla_discharges_report", "sla_discharges", REPORT_COLUMNS)
    with op.batch_alter_table("sla_discharges") as batch:
        batch.drop_column("reported_at")
        batch.drop_column("warning")
