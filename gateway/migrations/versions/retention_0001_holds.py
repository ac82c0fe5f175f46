"""Retention: legal holds and the record of pruned message bodies.

Revision ID: retention_0001
Revises: (root of the ``retention`` branch)
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "retention_0001"
down_revision = None
branch_labels = ("retention",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retention_holds",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_holds")),
        sa.UniqueConstraint("kind", "subject", name=op.f("uq_retention_holds_kind")),
    )
    op.create_table(
        "retention_pruned",
        sa.Column("interchange_id", sa.String(36), nullable=False),
        sa.Column("pruned_at", sa.DateTime(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("interchange_id", name=op.f("pk_retention_pruned")),
    )
    op.create_index(op.f("ix_retention_pruned_pruned_at"), "retention_pruned", ["pruned_at"])


def downgrade() -> None:
    op.drop_table("retention_pruned")
    op.drop_table("retention_holds")
