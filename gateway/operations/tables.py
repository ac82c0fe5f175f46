"""The operations tables: persons, their organisations, tokens and sessions, the access audit,
bulk operations; and the indexes that make ``GET /v1/messages`` fast on the message store.

Persons are not the organisations' machine API keys (those live in the partner file): a person
logs in to the console with a password (argon2 hash) and gets a session, or uses a personal API
token (only its SHA-256 is stored). ``access_audit`` is append-only: who (person, token or
organisation key), what, when and from where, for every read of patient data and every act.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base
from gateway.store.tables import AttemptRow, MessageRow, UTCDateTime


class PersonRow(Base):
    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    role: Mapped[str] = mapped_column(sa.String(16))  # viewer | operator | admin
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    disabled: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PersonOrganisationRow(Base):
    """A person belongs to one or more organisations of the partner file (by name)."""

    __tablename__ = "person_organisations"

    person_id: Mapped[int] = mapped_column(
        sa.Integer, sa.ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True)
    organisation: Mapped[str] = mapped_column(sa.String(200), primary_key=True)


class PersonTokenRow(Base):
    """A personal API token for scripts; the token itself is shown once and never stored."""

    __tablename__ = "person_tokens"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(
        sa.Integer, sa.ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    label: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PersonSessionRow(Base):
    """A console login: the cookie's SHA-256, its CSRF token, when it ends."""

    __tablename__ = "person_sessions"

    id_sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(
        sa.Integer, sa.ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    remote: Mapped[str] = mapped_column(sa.String(200), default="")


class AccessAuditRow(Base):
    """Who read or did what, when, from where (append-only; never updated)."""

    __tablename__ = "access_audit"
    __table_args__ = (sa.Index("ix_access_audit_at", "at"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(sa.String(250))  # person:anne, token:anne, key:Region H
    action: Mapped[str] = mapped_column(sa.String(64))  # message.read_body, message.release, ...
    target: Mapped[str] = mapped_column(sa.String(250), default="")  # message:<id>, case:<id>
    remote: Mapped[str] = mapped_column(sa.String(200), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)


class BulkOperationRow(Base):
    """A bulk release or replay: its filter, who asked, its progress and outcome."""

    __tablename__ = "bulk_operations"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    action: Mapped[str] = mapped_column(sa.String(16))  # release | replay
    filter: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    actor: Mapped[str] = mapped_column(sa.String(250))
    state: Mapped[str] = mapped_column(sa.String(16))  # running|done|failed|interrupted
    matched: Mapped[int] = mapped_column(sa.Integer, default=0)
    done: Mapped[int] = mapped_column(sa.Integer, default=0)
    skipped: Mapped[int] = mapped_column(sa.Integer, default=0)
    failed: Mapped[int] = mapped_column(sa.Integer, default=0)
    error: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # touched every few seconds by the process walking it (bulk.py: interrupted when stale)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# Search indexes on the message store (``GET /v1/messages``, newest first, keyset paging on
# (created_at, id)): one per filter that can select a large share of a million rows, each
# ending in the sort key so the newest page is read from the index without a sort.
_m = MessageRow.__table__.c
SEARCH_INDEXES = (
    sa.Index("ix_messages_search_created", _m.created_at, _m.id),
    sa.Index("ix_messages_search_state", _m.state, _m.created_at, _m.id),
    sa.Index("ix_messages_search_receiver", _m.receiver_gln, _m.created_at, _m.id),
    sa.Index("ix_messages_search_sender", _m.sender_gln, _m.created_at, _m.id),
    sa.Index("ix_messages_search_type", _m.type, _m.created_at, _m.id),
    sa.Index("ix_messages_search_patient", _m.patient_key, _m.created_at, _m.id),
    sa.Index("ix_messages_search_letter_id", _m.letter_id),
    sa.Index("ix_messages_search_control_ref", _m.control_ref),
)
# Endpoint health (``GET /v1/endpoints``): last delivery and failing-since per endpoint.
_a = AttemptRow.__table__.c
ATTEMPT_INDEXES = (
    sa.Index("ix_attempts_endpoint_outcome", _a.endpoint_gln, _a.outcome, _a.finished_at),
)

TABLES = (PersonRow, PersonOrganisationRow, PersonTokenRow, PersonSessionRow, AccessAuditRow,
          BulkOperationRow)


class TaskResolutionRow(Base):
    """Who resolved an operator or SLA task, when and why (the task tables keep their state)."""

    __tablename__ = "task_resolutions"

    task_id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)  # msg-12, sla-5
    note: Mapped[str] = mapped_column(sa.Text, default="")
    actor: Mapped[str] = mapped_column(sa.String(250))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


TABLES = (*TABLES, TaskResolutionRow)
