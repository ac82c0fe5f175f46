"""Message store: the FHIR Bundle.ids received, and the sends operators asked for.

MedCom's reliable messaging (043_Reliable_Messaging-FHIR) caches each message's Bundle.id with
its MessageHeader.id: the same pair again is a retry, a new Bundle.id with a known
MessageHeader.id a resend, and a known Bundle.id with a new MessageHeader.id an error (a
Bundle.id is never reused). ``fhir_bundles`` holds them per sender. ``messages.redeliveries``
counts the sends an operator asked for (release, replay), so that such a send of a FHIR message
gets a Bundle.id of its own, like an automatic resend. New table and a column with a default:
nothing is rewritten.

Revision ID: store_0006
Revises: store_0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "store_0006"
down_revision = "store_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fhir_bundles",
        sa.Column("sender_gln", sa.String(35), primary_key=True),
        sa.Column("bundle_id", sa.String(64), primary_key=True),
        sa.Column("header_id", sa.String(64), nullable=False),
        sa.Column("interchange_id", sa.String(36), sa.ForeignKey("interchanges.id"),
                  nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_fhir_bundles_interchange_id", "fhir_bundles", ["interchange_id"])
    op.add_column("messages", sa.Column("redeliveries", sa.Integer(), nullable=False,
                                        server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("redeliveries")
    op.drop_index("ix_fhir_bundles_interchange_id", table_name="fhir_bundles")
    op.drop_table("fhir_bundles")
