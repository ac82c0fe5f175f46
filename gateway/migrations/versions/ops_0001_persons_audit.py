"""Operations: persons, organisations, tokens, sessions, access audit, bulk operations, task
resolutions; search indexes on ``messages``.

Revision ID: ops_0001
Revises: (root of the ``ops`` branch; needs the store's ``messages`` table)
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ops_0001"
down_revision = None
branch_labels = ("ops",)
depends_on = "store_0001"

SEARCH_INDEXES = {
    "ix_messages_search_created": ["created_at", "id"],
    "ix_messages_search_state": ["state", "created_at", "id"],
    "ix_messages_search_receiver": ["receiver_gln", "created_at", "id"],
    "ix_messages_search_sender": ["sender_gln", "created_at", "id"],
    "ix_messages_search_type": ["type", "created_at", "id"],
    "ix_messages_search_letter_id": ["letter_id"],
    "ix_messages_search_control_ref": ["control_ref"],
}


def upgrade() -> None:
    op.create_table(
        "persons",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
        sa.UniqueConstraint("name", name=op.f("uq_persons_name")),
    )
    op.create_table(
        "person_organisations",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("organisation", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], ondelete="CASCADE",
                                name=op.f("fk_person_organisations_person_id_persons")),
        sa.PrimaryKeyConstraint("person_id", "organisation", name=op.f("pk_person_organisations")),
    )
    op.create_table(
        "person_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], ondelete="CASCADE",
                                name=op.f("fk_person_tokens_person_id_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_tokens")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_person_tokens_token_sha256")),
    )
    op.create_index(op.f("ix_person_tokens_person_id"), "person_tokens", ["person_id"])
    op.create_table(
        "person_sessions",
        sa.Column("id_sha256", sa.String(64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("remote", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], ondelete="CASCADE",
                                name=op.f("fk_person_sessions_person_id_persons")),
        sa.PrimaryKeyConstraint("id_sha256", name=op.f("pk_person_sessions")),
    )
    op.create_index(op.f("ix_person_sessions_person_id"), "person_sessions", ["person_id"])
    op.create_table(
        "access_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(250), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(250), nullable=False),
        sa.Column("remote", sa.String(200), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_audit")),
    )
    op.create_index("ix_access_audit_at", "access_audit", ["at"])
    op.create_table(
        "bulk_operations",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("filter", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(250), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_operations")),
    )
    op.create_table(
        "task_resolutions",
        sa.Column("task_id", sa.String(40), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(250), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_task_resolutions")),
    )
    for name, columns in SEARCH_INDEXES.items():
        op.create_index(name, "messages", columns)
    op.create_index("ix_attempts_endpoint_outcome", "attempts",
                    ["endpoint_gln", "outcome", "finished_at"])


def downgrade() -> None:
    op.drop_index("ix_attempts_endpoint_outcome", table_name="attempts")
    for name in SEARCH_INDEXES:
        op.drop_index(name, table_name="messages")
    for table in ("task_resolutions", "bulk_operations", "access_audit", "person_sessions",
                  "person_tokens", "person_organisations", "persons"):
        op.drop_table(table)
