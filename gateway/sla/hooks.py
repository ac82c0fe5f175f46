"""What the pipeline tells the SLA clocks, inside its own store transaction.

The pipeline calls these with its session; they only add and change SLA rows and never commit,
so a letter and its clock are stored together or not at all. Letters that are not epikriser
are ignored (DIS01 and its siblings DIS02/03/05/06/07/08/09/10 are, medcom.md §1.3);
DIS17 (udskrivningsadvis) is a discharge event. Times may be aware or naive local.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.logging import get_logger
from gateway.model import Letter, LetterStatus
from gateway.sla import matching
from gateway.sla.config import SlaConfig
from gateway.sla.deadlines import as_utc_naive
from gateway.sla.state import clock_for
from gateway.sla.tables import Discharge, SlaLetter

EPIKRISE_TYPES = frozenset(
    {"DIS01", "DIS02", "DIS03", "DIS05", "DIS06", "DIS07", "DIS08", "DIS09", "DIS10"}
)
DISCHARGE_ADVICE_TYPES = frozenset({"DIS17"})

log = get_logger(__name__)


@lru_cache(maxsize=1)
def current_config() -> SlaConfig:
    """The process's SLA configuration, read once from the environment."""
    return SlaConfig.from_env()


def is_epikrise(letter_type: str) -> bool:
    return letter_type.upper() in EPIKRISE_TYPES


def hospital_of(department: str) -> str:
    """The hospital (sygehus) part of an SKS department code: its first four characters."""
    return department[:4]


def set_clock(row: Discharge, discharged_at: datetime, config: SlaConfig) -> None:
    """Write the discharge time and the precomputed deadlines onto ``row``."""
    clock = clock_for(discharged_at, config)
    row.discharged_at = clock.discharged_at
    row.discharge_date = clock.discharge_date
    row.month = clock.month
    row.deadline_1 = clock.deadline_1
    row.deadline_3 = clock.deadline_3
    row.at_risk_at = clock.at_risk_at


def discharge_reported(
    session: Session,
    *,
    hospital: str,
    department: str,
    patient_cpr: str,
    discharge_id: str,
    discharged_at: datetime,
    source: str = "api",
    message_id: str | None = None,
    config: SlaConfig | None = None,
) -> Discharge:
    """Record a discharge (API, import, DIS17); repeated reports update the same row."""
    config = config or current_config()
    if source not in matching.SOURCE_STRENGTH or source == "letter":
        raise ValueError(f"unknown discharge source {source!r}")
    key = f"{hospital}/{discharge_id}" if discharge_id else f"{source}/{message_id}"
    row = session.scalar(select(Discharge).where(Discharge.discharge_key == key))
    if row is None:
        utc = as_utc_naive(discharged_at)
        weaker, covering = matching.weaker_duplicate(session, patient_cpr, department, utc, source)
        if weaker is None and covering is not None and source == "dis17":
            log.info("discharge_confirmed", source=source, department=department)
            return covering
        row = weaker or Discharge(letters=0, corrections=0)
        if weaker is None:
            session.add(row)
    row.discharge_key = key
    row.source = source
    row.hospital = hospital
    row.department = department
    row.discharge_id = discharge_id
    row.patient_cpr = patient_cpr
    set_clock(row, discharged_at, config)
    session.flush()
    log.info("discharge_recorded", source=source, department=department, key=key)
    return row


def letter_received(
    session: Session,
    *,
    message_id: str,
    letter: Letter,
    at: datetime,
    config: SlaConfig | None = None,
) -> None:
    """An incoming letter was stored: start or join a discharge clock (epikriser only)."""
    config = config or current_config()
    sender = letter.sender
    department = sender.id if sender is not None else ""
    cpr = letter.patient.cpr if letter.patient is not None else ""
    if letter.type.upper() in DISCHARGE_ADVICE_TYPES:
        discharge_reported(
            session,
            hospital=hospital_of(department),
            department=department,
            patient_cpr=cpr,
            discharge_id="",
            # An advis is written at discharge: DTM+91 when present, else its own time stamps.
            discharged_at=letter.discharged_at or letter.authorised_at or letter.sent_at or at,
            source="dis17",
            message_id=message_id,
            config=config,
        )
        return
    if not is_epikrise(letter.type) or session.get(SlaLetter, message_id) is not None:
        return
    received = as_utc_naive(at)
    dtm91 = as_utc_naive(letter.discharged_at) if letter.discharged_at else None
    discharge: Discharge | None = None
    known = matching.discharge_of_known_letter(session, department, letter.letter_id)
    if known is not None:
        discharge = session.get(Discharge, known)
    if discharge is None:
        start, end = matching.window(dtm91, received)
        found = matching.candidates(session, cpr, department, start, end)
        discharge = matching.choose(found, dtm91, received)
    if discharge is None:
        discharge = Discharge(
            discharge_key=f"letter/{message_id}",
            source="letter",
            hospital=hospital_of(department),
            department=department,
            discharge_id="",
            patient_cpr=cpr,
            letters=0,
            corrections=0,
        )
        set_clock(discharge, letter.discharged_at or at, config)
        session.add(discharge)
        session.flush()
    discharge.letters = (discharge.letters or 0) + 1
    if letter.status is LetterStatus.CORRECTED:
        discharge.corrections = (discharge.corrections or 0) + 1
    if discharge.letter_received_at is None:
        discharge.letter_received_at = received
    if discharge.letter_message_id is None:
        discharge.letter_message_id = message_id
    session.add(
        SlaLetter(
            message_id=message_id,
            discharge_pk=discharge.id,
            letter_type=letter.type.upper(),
            letter_id=letter.letter_id,
            status=letter.status.value,
            sender_id=department,
            received_at=received,
        )
    )
    session.flush()
    log.info("letter_clock_joined", message_id=message_id, source=discharge.source)


def letter_delivered(
    session: Session, *, message_id: str, at: datetime, config: SlaConfig | None = None
) -> None:
    """The letter reached the receiver's channel: the first delivery stops the clock."""
    letter = session.get(SlaLetter, message_id)
    if letter is None:
        return
    sent = as_utc_naive(at)
    if letter.delivered_at is None:
        letter.delivered_at = sent
    discharge = session.get(Discharge, letter.discharge_pk) if letter.discharge_pk else None
    if discharge is None or discharge.letter_sent_at is not None:
        return
    discharge.letter_sent_at = sent
    discharge.letter_message_id = message_id
    from gateway.sla.alerts import letter_delivered_for

    letter_delivered_for(session, discharge, sent)
    session.flush()


def letter_acknowledged(
    session: Session, *, message_id: str, at: datetime, config: SlaConfig | None = None
) -> None:
    """The receiver's positive receipt (CTL03) arrived: the report can count acknowledged."""
    letter = session.get(SlaLetter, message_id)
    if letter is None:
        return
    acked = as_utc_naive(at)
    if letter.acknowledged_at is None:
        letter.acknowledged_at = acked
    discharge = session.get(Discharge, letter.discharge_pk) if letter.discharge_pk else None
    if discharge is not None and discharge.letter_acknowledged_at is None:
        discharge.letter_acknowledged_at = acked
    session.flush()
