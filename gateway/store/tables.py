"""The message store's tables (on ``gateway.db.Base``; migration: versions/*_store_*.py).

Granularity: an interchange (one UNB..UNZ, the unit that travels, is delivered byte for byte and
that receipts name in UCI) is stored ONCE in ``interchanges`` with its raw bytes; each UNH
message in it gets one row in ``messages``, which carries the state, the duplicate key and the
routing facts. MedCom writes one letter per interchange, so usually it is one of each; with
several, all share the delivery (attempts hang off the interchange) and each is answered by
its own UCM line in a receipt.

Duplicate key: UNIQUE (sender GLN, UNB control ref, UNH ref) on ``messages`` (MedCom §3.2: the
receiver de-duplicates; the same receipt is returned). Rejected interchanges whose envelope
could not be read have NULLs there and never collide.

Times are stored as naive UTC and read back as aware UTC (``UTCDateTime``), the same on SQLite
and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware UTC time")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


class InterchangeRow(Base):
    __tablename__ = "interchanges"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    raw: Mapped[bytes] = mapped_column(sa.LargeBinary)
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    format: Mapped[str] = mapped_column(sa.String(16), default="edifact")
    origin: Mapped[str] = mapped_column(sa.String(16), default="inbound")  # inbound | generated
    received_via: Mapped[str] = mapped_column(sa.String(32))
    source: Mapped[str] = mapped_column(sa.String(500), default="")
    sender_gln: Mapped[str | None] = mapped_column(sa.String(35))
    receiver_gln: Mapped[str | None] = mapped_column(sa.String(35))
    control_ref: Mapped[str | None] = mapped_column(sa.String(64))
    ack_requested: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    status: Mapped[str] = mapped_column(sa.String(16))  # received|processed|rejected|duplicate
    error: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MessageRow(Base):
    __tablename__ = "messages"
    __table_args__ = (
        sa.UniqueConstraint("sender_gln", "control_ref", "message_ref"),
        sa.Index("ix_messages_state_receipt_due_at", "state", "receipt_due_at"),
        sa.Index("ix_messages_state_updated_at", "state", "updated_at"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    interchange_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("interchanges.id"), index=True
    )
    format: Mapped[str] = mapped_column(sa.String(16), default="edifact")
    family: Mapped[str] = mapped_column(sa.String(16), default="")
    type: Mapped[str] = mapped_column(sa.String(16), default="")
    version: Mapped[str] = mapped_column(sa.String(16), default="")
    sender_gln: Mapped[str | None] = mapped_column(sa.String(35))
    receiver_gln: Mapped[str | None] = mapped_column(sa.String(35), index=True)
    control_ref: Mapped[str | None] = mapped_column(sa.String(64))
    message_ref: Mapped[str | None] = mapped_column(sa.String(64))
    # the reference of the twin a receiver was delivered (a DIS91 made from a CareCommunication,
    # gateway/pipeline/conversion.py): its receipts name this, not ``control_ref``
    converted_ref: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    letter_id: Mapped[str] = mapped_column(sa.String(70), default="")
    summary: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # SHA-256 of the patient's CPR behind a domain prefix (patient_key.py): the patient search
    patient_key: Mapped[str | None] = mapped_column(sa.String(64))
    state: Mapped[str] = mapped_column(sa.String(16))
    ack_requested: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    resend_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    # sends an operator asked for (release, replay): a FHIR message's next send gets a new
    # Bundle.id from it (gateway/pipeline/resend.py ``resend_bundle_id``)
    redeliveries: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    receipt_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AttemptRow(Base):
    """One try to hand an interchange to an endpoint's channel."""

    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    interchange_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("interchanges.id"), index=True
    )
    endpoint_gln: Mapped[str] = mapped_column(sa.String(35))
    channel: Mapped[str] = mapped_column(sa.String(32))
    attempt_no: Mapped[int] = mapped_column(sa.Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(sa.String(24))  # delivered|transient_error|permanent_error
    error: Mapped[str] = mapped_column(sa.Text, default="")
    external_ref: Mapped[str] = mapped_column(sa.String(500), default="")


class ReceiptRow(Base):
    """A receipt medbro received (direction in) or wrote/forwarded (direction out)."""

    __tablename__ = "receipts"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str | None] = mapped_column(
        sa.String(36), sa.ForeignKey("messages.id"), index=True
    )  # the original message the receipt speaks of (None when it could not be correlated)
    interchange_id: Mapped[str | None] = mapped_column(
        sa.String(36), sa.ForeignKey("interchanges.id"), index=True
    )  # the interchange that carries the receipt itself
    direction: Mapped[str] = mapped_column(sa.String(8))  # in | out
    kind: Mapped[str] = mapped_column(sa.String(8))  # CTL01 | CTL02 | CTL03
    refusal: Mapped[str | None] = mapped_column(sa.String(8))
    text: Mapped[str] = mapped_column(sa.Text, default="")
    raw: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FhirBundleRow(Base):
    """A FHIR Bundle.id received (MedCom's reliable-messaging cache): with the MessageHeader.id
    it came with, so that a Bundle.id reused for another message is refused
    (gateway/pipeline/ingest_verdict.py). Keyed per sender, like the duplicate key."""

    __tablename__ = "fhir_bundles"

    sender_gln: Mapped[str] = mapped_column(sa.String(35), primary_key=True)
    bundle_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    header_id: Mapped[str] = mapped_column(sa.String(64))
    interchange_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("interchanges.id"), index=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEventRow(Base):
    """Append-only history of everything that happened to a message (never updated)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    interchange_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    event: Mapped[str] = mapped_column(sa.String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)


class OperatorTaskRow(Base):
    """Something a person must look at: a parked message, a missing receipt."""

    __tablename__ = "operator_tasks"
    # medbro_tasks_open reads the open tasks by kind at every scrape (gateway/operations/gauges.py)
    __table_args__ = (sa.Index("ix_operator_tasks_status_kind", "status", "kind"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str | None] = mapped_column(
        sa.String(36), sa.ForeignKey("messages.id"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(32))  # refused|undeliverable|receipt_missing|...
    reason: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default="open")  # open | closed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


TABLES = (InterchangeRow, MessageRow, AttemptRow, ReceiptRow, AuditEventRow, OperatorTaskRow)
