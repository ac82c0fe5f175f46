"""Legal holds: set, clear and list them; which stored bodies they cover.

A hold is on a message (a message id or an interchange id) or on a patient (a CPR number).
A patient hold covers every body that holds the patient's number, with or without the hyphen:
the store keeps only masked numbers outside the raw bytes, and reading the bytes for the
number is format-blind (EDIFACT, OIOXML, FHIR alike) and errs on the side of keeping.
Adding and removing are audited (``audit_events``); listings mask the CPR number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.errors import LocalUsageError
from gateway.retention.tables import LegalHold
from gateway.store.repository import audit
from gateway.store.tables import InterchangeRow, MessageRow

KINDS = ("message", "patient")
CPR = re.compile(r"^(\d{6})-?(\d{4})$")


def masked(kind: str, subject: str) -> str:
    return f"{subject[:6]}-****" if kind == "patient" else subject


def normalise(kind: str, subject: str) -> str:
    """The stored form of a hold's subject; a LocalUsageError names what is wrong."""
    subject = subject.strip()
    if kind == "patient":
        match = CPR.match(subject)
        if match is None:
            raise LocalUsageError("patient: a CPR number is 10 digits (DDMMYYXXXX or "
                                  "DDMMYY-XXXX)")
        return match.group(1) + match.group(2)
    if kind == "message":
        if not subject or len(subject) > 64:
            raise LocalUsageError("message: give a message id or an interchange id")
        return subject
    raise LocalUsageError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")


def add_hold(session: Session, kind: str, subject: str, *, reason: str, by: str,
             at: datetime) -> LegalHold:
    """Place a hold (idempotent: an existing hold on the same subject is returned)."""
    subject = normalise(kind, subject)
    if kind == "message" and session.get(MessageRow, subject) is None and \
            session.get(InterchangeRow, subject) is None:
        raise LocalUsageError(f"message: no message or interchange {subject!r}")
    row = session.scalar(sa.select(LegalHold).where(LegalHold.kind == kind,
                                                    LegalHold.subject == subject))
    if row is not None:
        return row
    row = LegalHold(kind=kind, subject=subject, reason=reason, created_by=by, created_at=at)
    session.add(row)
    session.flush()
    audit(session, "legal_hold_added", at=at, message_id=subject if kind == "message" else None,
          hold_id=row.id, kind=kind, subject=masked(kind, subject), reason=reason, by=by)
    return row


def remove_hold(session: Session, kind: str, subject: str, *, by: str, at: datetime) -> bool:
    """Clear a hold; False when there was none."""
    subject = normalise(kind, subject)
    row = session.scalar(sa.select(LegalHold).where(LegalHold.kind == kind,
                                                    LegalHold.subject == subject))
    if row is None:
        return False
    audit(session, "legal_hold_removed", at=at,
          message_id=subject if kind == "message" else None, hold_id=row.id, kind=kind,
          subject=masked(kind, subject), by=by)
    session.delete(row)
    return True


def list_holds(session: Session) -> list[dict[str, Any]]:
    return [
        {"id": h.id, "kind": h.kind, "subject": masked(h.kind, h.subject), "reason": h.reason,
         "created_by": h.created_by, "created_at": h.created_at.isoformat()}
        for h in session.scalars(sa.select(LegalHold).order_by(LegalHold.id))
    ]


@dataclass(frozen=True)
class Holds:
    """All holds, read once per prune run (they are few)."""

    messages: frozenset[str]
    patients: tuple[bytes, ...]  # the byte patterns of each held CPR number

    @classmethod
    def load(cls, session: Session) -> Holds:
        messages, patients = set(), []
        for kind, subject in session.execute(sa.select(LegalHold.kind, LegalHold.subject)):
            if kind == "message":
                messages.add(subject)
            else:
                patients += [subject.encode(), f"{subject[:6]}-{subject[6:]}".encode()]
        return cls(frozenset(messages), tuple(patients))

    def cover(self, interchange_id: str, message_ids: Iterable[str], raw: bytes | None) -> bool:
        if interchange_id in self.messages or any(m in self.messages for m in message_ids):
            return True
        return raw is not None and any(p in raw for p in self.patients)


__all__ = ["KINDS", "Holds", "add_hold", "list_holds", "masked", "normalise", "remove_hold"]
