"""Case flow: the team's meetings, rehabilitation cases, their timeline and their documents.

Revision ID: caseflow_0001
Revises: (root of the ``caseflow`` branch)
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "caseflow_0001"
down_revision = None
branch_labels = ("caseflow",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "caseflow_meetings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("municipality_number", sa.String(3), nullable=False),
        sa.Column("meeting_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_caseflow_meetings")),
        sa.UniqueConstraint("municipality_number", "meeting_on",
                            name="uq_caseflow_meetings_day"),
    )
    op.create_table(
        "caseflow_cases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_ref", sa.String(64), nullable=False),
        sa.Column("municipality_number", sa.String(3), nullable=False),
        sa.Column("gp_ydernummer", sa.String(6), nullable=False),
        sa.Column("clinical_function_sor", sa.String(18), nullable=True),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("cpr", sa.String(10), nullable=False),
        sa.Column("citizen_name", sa.String(200), nullable=False),
        sa.Column("parties", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("agenda_position", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["caseflow_meetings.id"],
                                name=op.f("fk_caseflow_cases_meeting_id_caseflow_meetings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_caseflow_cases")),
        sa.UniqueConstraint("case_ref", name=op.f("uq_caseflow_cases_case_ref")),
    )
    op.create_index(op.f("ix_caseflow_cases_municipality_number"), "caseflow_cases",
                    ["municipality_number"])
    op.create_index(op.f("ix_caseflow_cases_state"), "caseflow_cases", ["state"])
    op.create_table(
        "caseflow_documents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("recipient", sa.String(40), nullable=False),
        sa.Column("form_id", sa.String(64), nullable=True),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("route", sa.String(16), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=True),
        sa.Column("send_error", sa.Text(), nullable=True),
        sa.Column("send_refusals", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["caseflow_cases.id"],
                                name=op.f("fk_caseflow_documents_case_id_caseflow_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_caseflow_documents")),
    )
    op.create_index(op.f("ix_caseflow_documents_case_id"), "caseflow_documents", ["case_id"])
    op.create_table(
        "caseflow_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("from_state", sa.String(32), nullable=False),
        sa.Column("to_state", sa.String(32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["caseflow_cases.id"],
                                name=op.f("fk_caseflow_events_case_id_caseflow_cases")),
        sa.ForeignKeyConstraint(["document_id"], ["caseflow_documents.id"],
                                name=op.f("fk_caseflow_events_document_id_caseflow_documents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_caseflow_events")),
    )
    op.create_index(op.f("ix_caseflow_events_case_id"), "caseflow_events", ["case_id"])


def downgrade() -> None:
    op.drop_table("caseflow_events")
    op.drop_table("caseflow_documents")
    op.drop_table("caseflow_cases")
    op.drop_table("caseflow_meetings")
