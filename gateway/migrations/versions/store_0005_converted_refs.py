"""Message store: the reference of the twin a receiver was delivered.

An endpoint that takes only EDIFACT gets a CareCommunication as a DIS91 interchange with
references of its own (gateway/pipeline/conversion.py); its CONTRL names those. The delivery
records them in ``messages.converted_ref`` so the receipt correlates to the stored original.
A nullable column: nothing is rewritten.

Revision ID: store_0005
Revises: store_0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "store_0005"
down_revision = "store_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("converted_ref", sa.String(64), nullable=True))
    op.create_index("ix_messages_converted_ref", "messages", ["converted_ref"])


def downgrade() -> None:
    op.drop_index("ix_messages_converted_ref", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("converted_ref")
