"""The pipeline's calls into the SLA clocks (gateway.sla.hooks): one hook per committed fact.

Called inside the transaction that stores what they observe, once per batch whatever its size
(a batch of one is a batch), so an SLA record and the state it reflects commit together. The
hooks are no-ops for letters that are not epikriser.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from gateway.fhir.hospitalnotification import DischargeReport
from gateway.sla import hooks
from gateway.sla.departments import clock_place


def discharges_reported(session: Session, reports: list[DischargeReport], *,
                        at: datetime, sks_by_sor: Mapping[str, str] | None = None) -> None:
    """Discharges that stored FHIR HospitalNotifications report (as a DIS17 does): start their
    clocks, or move them (a revision: the same stay, the same clock). A department the partner
    file pairs with an SKS code (``sks_by_sor``) is keyed by it, so its DIS01 joins the clock."""
    for report in reports:
        hospital, department = clock_place(report.hospital, report.department, sks_by_sor or {})
        hooks.discharge_reported(session, **(asdict(report) | {
            "hospital": hospital, "department": department}), reported_at=at)


def letters_received(session: Session, letters: list[tuple[str, Any]], *, at: datetime) -> None:
    """Letters (message id, canonical letter) stored: start or join their discharge clocks."""
    letters = [(mid, letter) for mid, letter in letters if letter is not None]
    if letters:
        hooks.letters_received(session, letters, at=at)


def letters_delivered(session: Session, message_ids: list[str], *, at: datetime) -> None:
    """Letters handed to their receivers' channels: the first delivery stops the clock."""
    if message_ids:
        hooks.letters_delivered(session, message_ids, at=at)


def letters_acknowledged(session: Session, message_ids: list[str], *, at: datetime) -> None:
    """Positive receipts (CTL03) correlated: the report counts the letters acknowledged."""
    for message_id in message_ids:
        hooks.letter_acknowledged(session, message_id=message_id, at=at)
