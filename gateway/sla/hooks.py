"""What the pipeline tells the SLA clocks, inside its own store transaction.

The pipeline calls these with its session; they only add and change SLA rows and never commit,
so a letter and its clock are stored together or not at all. Letters that are not epikriser
are ignored (DIS01 and its siblings DIS02/03/05/06/07/08/09/10 are, medcom.md §1.3);
DIS17 (udskrivningsadvis) is a discharge event. Times may be aware or naive local.

Every write of a discharge time or a letter time re-judges the row (``judge_row``): an odd row
(an implausible discharge date, a letter on an earlier day than its discharge) keeps its
warning code and is counted by counting.py's rule, the same rule as the monthly files.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache

from sqlalchemy import and_, insert, or_, select
from sqlalchemy.orm import Session

from gateway.logging import get_logger
from gateway.model import Letter, LetterStatus
from gateway.sla import counting, matching
from gateway.sla.config import SlaConfig
from gateway.sla.deadlines import as_local, as_utc_naive, from_utc_naive
from gateway.sla.state import ClockColumns, clock_for
from gateway.sla.tables import Discharge, SlaLetter, SlaTask

EPIKRISE_TYPES = frozenset(
    {"DIS01", "DIS02", "DIS03", "DIS05", "DIS06", "DIS07", "DIS08", "DIS09", "DIS10"}
)
DISCHARGE_ADVICE_TYPES = frozenset({"DIS17"})

log = get_logger(__name__)

# What letters_received writes for a new clock (the other columns stay NULL until it runs).
_DISCHARGE_COLUMNS = (
    "discharge_key", "source", "hospital", "department", "discharge_id", "patient_cpr",
    "discharged_at", "discharge_date", "month", "deadline_1", "deadline_3", "at_risk_at",
    "letters", "corrections", "letter_received_at", "letter_message_id", "warning",
    "reported_at",
)


@lru_cache(maxsize=1)
def current_config() -> SlaConfig:
    """The process's SLA configuration, read once from the environment."""
    return SlaConfig.from_env()


def is_epikrise(letter_type: str) -> bool:
    return letter_type.upper() in EPIKRISE_TYPES


def hospital_of(department: str) -> str:
    """The hospital (sygehus) part of an SKS department code: its first four characters."""
    return department[:4]


def judge_row(row: Discharge, config: SlaConfig) -> None:
    """Keep the row's stored counting rule (counting.py) in line with its times."""
    warnings = counting.judge(
        from_utc_naive(row.discharged_at),
        from_utc_naive(row.letter_sent_at) if row.letter_sent_at is not None else None,
        reference=from_utc_naive(row.reported_at) if row.reported_at is not None else None,
        plausible_days=config.plausible_days,
    )
    code = counting.stored_code(warnings)
    if code != row.warning:
        row.warning = code
        if code is not None:
            log.info("discharge_warning", code=code, key=row.discharge_key)


def _reported(row: Discharge, discharged_at: datetime, reported_at: datetime | None) -> None:
    """``reported_at`` changes with the discharge time only (a repeat of the same is no news)."""
    if row.reported_at is None or row.discharged_at != discharged_at:
        row.reported_at = as_utc_naive(reported_at or datetime.now(UTC))


def set_clock(
    row: Discharge,
    discharged_at: datetime,
    config: SlaConfig,
    *,
    reported_at: datetime | None = None,
) -> None:
    """Write the discharge time, the precomputed deadlines and the row's warning onto ``row``.

    ``reported_at``: when medbro learned this time (default now), the plausibility reference.
    """
    clock = clock_for(discharged_at, config)
    _reported(row, clock.discharged_at, reported_at)
    row.discharged_at = clock.discharged_at
    row.discharge_date = clock.discharge_date
    row.month = clock.month
    row.deadline_1 = clock.deadline_1
    row.deadline_3 = clock.deadline_3
    row.at_risk_at = clock.at_risk_at
    judge_row(row, config)


def _set_clock_by_day(
    row: Discharge,
    discharged_at: datetime,
    config: SlaConfig,
    days: dict[date, ClockColumns],
    reported_at: datetime,
) -> None:
    """``set_clock`` for many rows: the deadlines depend only on the local discharge date
    (deadlines.deadline), so the calendar is walked once per date of a batch."""
    local = as_local(discharged_at)
    same_day = days.get(local.date())
    if same_day is None:
        same_day = days[local.date()] = clock_for(discharged_at, config)
    _reported(row, as_utc_naive(local), reported_at)
    row.discharged_at = as_utc_naive(local)
    row.discharge_date = local.date()
    row.month = local.strftime("%Y-%m")
    row.deadline_1 = same_day.deadline_1
    row.deadline_3 = same_day.deadline_3
    row.at_risk_at = same_day.at_risk_at
    judge_row(row, config)


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
    reported_at: datetime | None = None,
) -> Discharge:
    """Record a discharge (API, import, DIS17); repeated reports update the same row.

    ``reported_at``: when the report arrived (default now), the plausibility reference."""
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
    set_clock(row, discharged_at, config, reported_at=reported_at)
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
            reported_at=at,
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
        set_clock(discharge, letter.discharged_at or at, config, reported_at=at)
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
    discharge = (
        session.get(Discharge, letter.discharge_pk, with_for_update=True)
        if letter.discharge_pk
        else None
    )  # locked: a competing delivery of another letter of it stops the clock once
    if discharge is None or discharge.letter_sent_at is not None:
        return
    discharge.letter_sent_at = sent
    discharge.letter_message_id = message_id
    judge_row(discharge, config or current_config())
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


def letters_received(
    session: Session,
    letters: list[tuple[str, Letter]],
    *,
    at: datetime,
    config: SlaConfig | None = None,
) -> None:
    """``letter_received`` for the letters of one ingest batch, in a few statements.

    The common case - epikriser whose patient and department have no discharge in the window,
    whose letter id is new, no two of them about the same patient - starts one clock per letter
    with two queries and two inserts for the whole batch. Any other batch goes letter by letter
    through ``letter_received``, so matching is exactly the same.
    """
    config = config or current_config()
    epikriser = [(mid, letter) for mid, letter in letters if is_epikrise(letter.type)]
    if not epikriser or len(epikriser) != len(letters) or not _all_new(session, epikriser, at):
        for message_id, letter in letters:
            letter_received(session, message_id=message_id, letter=letter, at=at, config=config)
        return
    received = as_utc_naive(at)
    discharges: list[dict[str, object]] = []
    days: dict[date, ClockColumns] = {}
    for message_id, letter in epikriser:
        department = letter.sender.id if letter.sender is not None else ""
        discharge = Discharge(
            discharge_key=f"letter/{message_id}",
            source="letter",
            hospital=hospital_of(department),
            department=department,
            discharge_id="",
            patient_cpr=letter.patient.cpr if letter.patient is not None else "",
            letters=1,
            corrections=1 if letter.status is LetterStatus.CORRECTED else 0,
            letter_received_at=received,
            letter_message_id=message_id,
        )
        _set_clock_by_day(discharge, letter.discharged_at or at, config, days, at)
        discharges.append({c: getattr(discharge, c) for c in _DISCHARGE_COLUMNS})
    # Bulk INSERTs (the rows are final, nothing reads them back in this transaction): one
    # multi-row INSERT .. RETURNING id in parameter order, then the letters pointing at them.
    ids = session.scalars(
        insert(Discharge).returning(Discharge.id, sort_by_parameter_order=True), discharges
    ).all()
    session.execute(
        insert(SlaLetter),
        [
            dict(
                message_id=message_id,
                discharge_pk=discharge_pk,
                letter_type=letter.type.upper(),
                letter_id=letter.letter_id,
                status=letter.status.value,
                sender_id=discharge["department"],
                received_at=received,
                delivered_at=None,
                acknowledged_at=None,
            )
            for (message_id, letter), discharge, discharge_pk in zip(
                epikriser, discharges, ids, strict=True
            )
        ],
    )
    # one line for the batch (a line per letter was a measurable share of batch ingest)
    log.info("letter_clocks_started", source="letter", letters=len(epikriser),
             message_ids=[message_id for message_id, _ in epikriser])


def _all_new(session: Session, letters: list[tuple[str, Letter]], at: datetime) -> bool:
    """True when every letter would start its own clock: no earlier version, no candidate
    discharge, no other letter of the batch about the same patient and department."""
    received = as_utc_naive(at)
    keys, ids, windows = set(), set(), []
    keys_by_letter = []
    for _, letter in letters:
        department = letter.sender.id if letter.sender is not None else ""
        cpr = letter.patient.cpr if letter.patient is not None else ""
        dtm91 = as_utc_naive(letter.discharged_at) if letter.discharged_at else None
        if not department or not cpr or (department, cpr) in keys:
            return False
        if letter.letter_id and (department, letter.letter_id) in ids:
            return False
        keys.add((department, cpr))
        keys_by_letter.append((department, cpr))
        if letter.letter_id:
            ids.add((department, letter.letter_id))
        windows.append(matching.window(dtm91, received))
    clauses = [SlaLetter.message_id.in_([mid for mid, _ in letters])]
    if ids:  # an earlier version of one of these letters (a superset: ids crossed with senders)
        clauses.append(
            and_(
                SlaLetter.sender_id.in_({d for d, _ in ids}),
                SlaLetter.letter_id.in_({i for _, i in ids}),
                SlaLetter.discharge_pk.is_not(None),
            )
        )
    if session.execute(select(SlaLetter.message_id).where(or_(*clauses)).limit(1)).first():
        return False
    spans = dict(zip(keys_by_letter, windows, strict=True))
    rows = session.execute(
        select(Discharge.department, Discharge.patient_cpr, Discharge.discharged_at).where(
            Discharge.patient_cpr.in_({c for _, c in spans}),
            Discharge.department.in_({d for d, _ in spans}),
            Discharge.discharged_at >= min(start for start, _ in windows),
            Discharge.discharged_at <= max(end for _, end in windows),
        )
    ).all()
    return not any(
        (department, cpr) in spans
        and spans[(department, cpr)][0] <= discharged_at <= spans[(department, cpr)][1]
        for department, cpr, discharged_at in rows
    )


def letters_delivered(
    session: Session, message_ids: list[str], *, at: datetime, config: SlaConfig | None = None
) -> None:
    """``letter_delivered`` for the messages of one delivery batch, in a few statements."""
    if not message_ids:
        return
    from gateway.sla.alerts import raise_escalation

    sent = as_utc_naive(at)
    letters = {
        row.message_id: row
        for row in session.scalars(select(SlaLetter).where(SlaLetter.message_id.in_(message_ids)))
    }
    first_of: dict[int, str] = {}
    for message_id in message_ids:
        letter = letters.get(message_id)
        if letter is None:
            continue
        if letter.delivered_at is None:
            letter.delivered_at = sent
        if letter.discharge_pk is not None:
            first_of.setdefault(letter.discharge_pk, message_id)
    if not first_of:
        session.flush()
        return
    # Locked, in one order: two batches delivering letters of one discharge stop its clock
    # once (the second waits, then no longer sees it open), and raise its breaches once.
    discharges = session.scalars(
        select(Discharge)
        .where(Discharge.id.in_(list(first_of)), Discharge.letter_sent_at.is_(None))
        .order_by(Discharge.id)
        .with_for_update()
    ).all()
    if discharges:
        tasks: dict[int, list[SlaTask]] = {}
        for task in session.scalars(
            select(SlaTask).where(SlaTask.discharge_pk.in_([d.id for d in discharges]))
        ):
            tasks.setdefault(task.discharge_pk, []).append(task)
        for discharge in discharges:
            discharge.letter_sent_at = sent
            discharge.letter_message_id = first_of[discharge.id]
            judge_row(discharge, config or current_config())
            own = tasks.get(discharge.id, [])
            kinds = {t.kind for t in own}
            for task in own:
                if task.resolved_at is None:
                    task.resolved_at = sent
            for n, due in ((1, discharge.deadline_1), (3, discharge.deadline_3)):
                if sent > due and f"breached_{n}" not in kinds:
                    raise_escalation(
                        session, discharge, "breached", n, from_utc_naive(due),
                        from_utc_naive(sent),
                    )
    session.flush()
