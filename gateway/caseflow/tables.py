"""The case flow's tables (on ``gateway.db.Base``; migration: versions/caseflow_0001_*.py).

* ``caseflow_meetings``: the rehabilitation team's calendar, one row per municipality and day;
  cases point at one and carry their place on its agenda.
* ``caseflow_cases``: one row per citizen and referral to the team, with its current state.
* ``caseflow_events``: the timeline, append-only: every transition with its data (appointment
  date, screening notes, postponement reason, ...). The deadlines are recomputed from it.
* ``caseflow_documents``: every document in and out, with its bytes (XML form, DIS91
  interchange, text) and, for outgoing ones, the pipeline message id once the Hub took it.

Times are naive local Danish time, as in gateway.model (the dates the agreements count in).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base


class MeetingRow(Base):
    __tablename__ = "caseflow_meetings"
    __table_args__ = (sa.UniqueConstraint("municipality_number", "meeting_on",
                                          name="uq_caseflow_meetings_day"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    municipality_number: Mapped[str] = mapped_column(sa.String(3))
    meeting_on: Mapped[date] = mapped_column(sa.Date)


class CaseRow(Base):
    __tablename__ = "caseflow_cases"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    case_ref: Mapped[str] = mapped_column(sa.String(64), unique=True)
    municipality_number: Mapped[str] = mapped_column(sa.String(3), index=True)
    gp_ydernummer: Mapped[str] = mapped_column(sa.String(6))
    clinical_function_sor: Mapped[str | None] = mapped_column(sa.String(18), nullable=True)
    region: Mapped[str] = mapped_column(sa.String(32))
    cpr: Mapped[str] = mapped_column(sa.String(10))
    citizen_name: Mapped[str] = mapped_column(sa.String(200), default="")
    parties: Mapped[dict[str, Any]] = mapped_column(sa.JSON)  # gateway.forms.Parties as a tree
    state: Mapped[str] = mapped_column(sa.String(32), index=True)
    urgent: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    meeting_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("caseflow_meetings.id"), nullable=True)
    agenda_position: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime)


class CaseEventRow(Base):
    __tablename__ = "caseflow_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("caseflow_cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(sa.DateTime)
    event: Mapped[str] = mapped_column(sa.String(40))
    from_state: Mapped[str] = mapped_column(sa.String(32))
    to_state: Mapped[str] = mapped_column(sa.String(32))
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    document_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("caseflow_documents.id"), nullable=True)


class DocumentRow(Base):
    __tablename__ = "caseflow_documents"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("caseflow_cases.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    direction: Mapped[str] = mapped_column(sa.String(3))  # "in" / "out"
    recipient: Mapped[str] = mapped_column(sa.String(40))  # role: gp, coordinator, ...
    form_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    content_type: Mapped[str] = mapped_column(sa.String(64))
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    route: Mapped[str] = mapped_column(sa.String(16))  # pipeline / local
    message_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    send_error: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    send_refusals: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime, nullable=True)
