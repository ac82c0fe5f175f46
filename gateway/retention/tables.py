"""Retention's tables: legal holds, and the record of each pruned body.

``retention_holds``: a hold on a message (its id, or its interchange's id) or on a patient
(the CPR number, ten digits, since the store keeps only masked numbers elsewhere). A hold is
removed by deleting its row; both are audited in ``audit_events``.
``retention_pruned``: one row per interchange whose raw bytes were removed: when, how many
bytes, which class and period. The interchange row itself keeps its sha256 and metadata.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base
from gateway.store.tables import UTCDateTime


class LegalHold(Base):
    __tablename__ = "retention_holds"
    __table_args__ = (sa.UniqueConstraint("kind", "subject"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # message | patient
    subject: Mapped[str] = mapped_column(sa.String(64))  # message/interchange id, or CPR
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_by: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PrunedBody(Base):
    __tablename__ = "retention_pruned"

    interchange_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    pruned_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    size: Mapped[int] = mapped_column(sa.Integer)
    retention_days: Mapped[int] = mapped_column(sa.Integer)


__all__ = ["LegalHold", "PrunedBody"]
