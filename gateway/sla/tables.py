"""The SLA tables: one row per discharge (with its clock), per epikrise seen, per operator task.

All instants are naive UTC (deadlines.as_utc_naive) so SQLite and PostgreSQL compare the same
values; ``discharge_date`` and ``month`` are the *local* Copenhagen date and month, kept so the
report groups without time-zone arithmetic in SQL. ``deadline_1``/``deadline_3`` and
``at_risk_at`` are computed when the discharge time is written (state.py), so the report and
the worklist are plain comparisons and GROUP BY (bench/sla_bench.py).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base


class Discharge(Base):
    """A discharge and its letter clock: first delivered letter counts, corrections do not."""

    __tablename__ = "sla_discharges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # hospital/discharge_id for reported and imported discharges; dis17/<message id> or
    # letter/<message id> when only a DIS17 or the letter itself told us (matching.py).
    discharge_key: Mapped[str] = mapped_column(String(200), unique=True)
    source: Mapped[str] = mapped_column(String(16))  # api, import, dis17, letter
    hospital: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(32))  # SKS code
    discharge_id: Mapped[str] = mapped_column(String(128), default="")
    patient_cpr: Mapped[str] = mapped_column(String(16), default="")
    discharged_at: Mapped[datetime] = mapped_column(DateTime)
    discharge_date: Mapped[date] = mapped_column(Date)
    month: Mapped[str] = mapped_column(String(7))
    deadline_1: Mapped[datetime] = mapped_column(DateTime)
    deadline_3: Mapped[datetime] = mapped_column(DateTime)
    at_risk_at: Mapped[datetime] = mapped_column(DateTime)
    letter_message_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    letter_received_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    letter_sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    letter_acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    letters: Mapped[int] = mapped_column(Integer, default=0)
    corrections: Mapped[int] = mapped_column(Integer, default=0)
    # The stored counting rule of an odd row (gateway.sla.counting), None when it counts as
    # the deadlines say; reported_at: when medbro learned the discharge time (the reference
    # of the plausibility window, and what places the warning in a report period).
    warning: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    reported_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (
        # Covering index of the report: the GROUP BY reads the index only, never the table.
        Index(
            "ix_sla_discharges_report",
            "month",
            "hospital",
            "department",
            "discharge_date",
            "letter_sent_at",
            "deadline_1",
            "deadline_3",
            "warning",
        ),
        Index("ix_sla_discharges_match", "patient_cpr", "department"),
        Index("ix_sla_discharges_open", "letter_sent_at", "deadline_1"),
    )


class SlaLetter(Base):
    """An epikrise message the pipeline stored, and the discharge it was matched to."""

    __tablename__ = "sla_letters"

    message_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    discharge_pk: Mapped[int | None] = mapped_column(
        ForeignKey("sla_discharges.id", ondelete="SET NULL"), nullable=True, index=True
    )
    letter_type: Mapped[str] = mapped_column(String(8))
    letter_id: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(1), default="N")  # GIS: N new, M corrected
    sender_id: Mapped[str] = mapped_column(String(64), default="")
    received_at: Mapped[datetime] = mapped_column(DateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (Index("ix_sla_letters_letter_id", "sender_id", "letter_id"),)


class SlaTask(Base):
    """An operator task raised by an escalation; one per discharge and kind (idempotent)."""

    __tablename__ = "sla_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    discharge_pk: Mapped[int] = mapped_column(
        ForeignKey("sla_discharges.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # at_risk_1, at_risk_3, breached_1, breached_3
    hospital: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(32))
    deadline: Mapped[datetime] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("discharge_pk", "kind"),
        # medbro_tasks_open reads the open tasks by kind at every scrape (operations/gauges.py)
        Index("ix_sla_tasks_resolved_at_kind", "resolved_at", "kind"),
    )


__all__ = ["Discharge", "SlaLetter", "SlaTask"]
