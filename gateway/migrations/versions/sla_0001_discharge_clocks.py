"""SLA: discharges with their workday deadlines, epikriser seen, operator tasks.

Revision ID: sla_0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "sla_0001"
down_revision = None
branch_labels = ("sla",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sla_discharges",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("discharge_key", sa.String(200), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("hospital", sa.String(64), nullable=False),
        sa.Column("department", sa.String(32), nullable=False),
        sa.Column("discharge_id", sa.String(128), nullable=False),
        sa.Column("patient_cpr", sa.String(16), nullable=False),
        sa.Column("discharged_at", sa.DateTime(), nullable=False),
        sa.Column("discharge_date", sa.Date(), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("deadline_1", sa.DateTime(), nullable=False),
        sa.Column("deadline_3", sa.DateTime(), nullable=False),
        sa.Column("at_risk_at", sa.DateTime(), nullable=False),
        sa.Column("letter_message_id", sa.String(128), nullable=True),
        sa.Column("letter_received_at", sa.DateTime(), nullable=True),
        sa.Column("letter_sent_at", sa.DateTime(), nullable=True),
        sa.Column("letter_acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("letters", sa.Integer(), nullable=False),
        sa.Column("corrections", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_discharges")),
        sa.UniqueConstraint("discharge_key", name=op.f("uq_sla_discharges_discharge_key")),
    )
    op.create_index(
        "ix_sla_discharges_report",
        "sla_discharges",
        [
            "month",
            "hospital",
            "department",
            "discharge_date",
            "letter_sent_at",
            "deadline_1",
            "deadline_3",
        ],
    )
    op.create_index("ix_sla_discharges_match", "sla_discharges", ["patient_cpr", "department"])
    op.create_index("ix_sla_discharges_open", "sla_discharges", ["letter_sent_at", "deadline_1"])

    op.create_table(
        "sla_letters",
        sa.Column("message_id", sa.String(128), nullable=False),
        sa.Column("discharge_pk", sa.Integer(), nullable=True),
        sa.Column("letter_type", sa.String(8), nullable=False),
        sa.Column("letter_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(1), nullable=False),
        sa.Column("sender_id", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["discharge_pk"],
            ["sla_discharges.id"],
            name=op.f("fk_sla_letters_discharge_pk_sla_discharges"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_sla_letters")),
    )
    op.create_index(op.f("ix_sla_letters_discharge_pk"), "sla_letters", ["discharge_pk"])
    op.create_index("ix_sla_letters_letter_id", "sla_letters", ["sender_id", "letter_id"])

    op.create_table(
        "sla_tasks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("discharge_pk", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("hospital", sa.String(64), nullable=False),
        sa.Column("department", sa.String(32), nullable=False),
        sa.Column("deadline", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["discharge_pk"],
            ["sla_discharges.id"],
            name=op.f("fk_sla_tasks_discharge_pk_sla_discharges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_tasks")),
        sa.UniqueConstraint("discharge_pk", "kind", name=op.f("uq_sla_tasks_discharge_pk")),
    )
    op.create_index(op.f("ix_sla_tasks_discharge_pk"), "sla_tasks", ["discharge_pk"])


def downgrade() -> None:
    op.drop_table("sla_tasks")
    op.drop_table("sla_letters")
    op.drop_table("sla_discharges")
