"""Import of the hospitals' monthly discharge files (events_file.py) into the store.

The file is read whole before anything is written (a row that cannot be read stops the import,
naming the line and the column). Odd rows follow counting.py, as in the report: a repeated
discharge id is skipped (the first line counts); a discharge with an implausible date or a
letter on an earlier day is imported and keeps its warning, so the store report counts it by
the same rule; every warning is listed. ``strict`` refuses the file at the first one instead.
Idempotent: a discharge is keyed by ``hospital/discharge_id``; importing the same file again
changes nothing, and a corrected file updates the rows it changes. A letter time already
recorded from live traffic is kept when it is earlier (the first sent letter counts). Rows are
committed in batches, so an interrupted import can simply be run again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tqdm import tqdm

from gateway.logging import get_logger
from gateway.sla.config import SlaConfig
from gateway.sla.counting import RowWarning
from gateway.sla.deadlines import as_utc_naive
from gateway.sla.events_file import DischargeRecord, judged, read_events
from gateway.sla.hooks import judge_row, set_clock
from gateway.sla.tables import Discharge

BATCH = 2000
log = get_logger(__name__)
T = TypeVar("T")


@dataclass
class ImportResult:
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # repeated discharge ids (the first line counts)
    warnings: list[RowWarning] = field(default_factory=list)


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def key_of(record: DischargeRecord) -> str:
    return f"{record.hospital}/{record.discharge_id}"


def apply_record(
    row: Discharge,
    record: DischargeRecord,
    config: SlaConfig,
    *,
    reported_at: datetime | None = None,
) -> bool:
    """Bring ``row`` in line with ``record``; True when something changed.

    The deadlines count too: after a calendar change (MEDBRO_SLA_EXTRA_CLOSED_DAYS, holidays)
    re-importing a file rewrites them and reports those rows as updated (recompute.py).
    """

    def snapshot() -> tuple[object, ...]:
        return (
            row.hospital,
            row.department,
            row.patient_cpr,
            row.discharged_at,
            row.letter_sent_at,
            row.deadline_1,
            row.deadline_3,
            row.at_risk_at,
            row.warning,
        )

    before = snapshot()
    row.hospital = record.hospital
    row.department = record.department
    row.discharge_id = record.discharge_id
    if record.patient_cpr:
        row.patient_cpr = record.patient_cpr
    elif row.patient_cpr is None:
        row.patient_cpr = ""
    set_clock(row, record.discharged_at, config, reported_at=reported_at)
    if record.letter_sent_at is not None:
        sent = as_utc_naive(record.letter_sent_at)
        if row.letter_sent_at is None or sent < row.letter_sent_at:
            row.letter_sent_at = sent
            judge_row(row, config)
    return before != snapshot()


def import_records(
    session: Session,
    records: Iterable[DischargeRecord],
    config: SlaConfig,
    *,
    reported_at: datetime | None = None,
) -> ImportResult:
    """Upsert ``records`` in one session (the caller commits); give each discharge once."""
    result = ImportResult()
    for batch in _batches(records, BATCH):
        keys = {key_of(r) for r in batch}
        existing = {
            row.discharge_key: row
            for row in session.scalars(select(Discharge).where(Discharge.discharge_key.in_(keys)))
        }
        for record in batch:
            result.rows += 1
            key = key_of(record)
            row = existing.get(key)
            if row is None:
                row = Discharge(discharge_key=key, source="import", letters=0, corrections=0)
                apply_record(row, record, config, reported_at=reported_at)
                session.add(row)
                existing[key] = row
                result.inserted += 1
            elif apply_record(row, record, config, reported_at=reported_at):
                result.updated += 1
            else:
                result.unchanged += 1
        session.flush()
    return result


def import_file(
    sessions: sessionmaker,
    path: Path,
    config: SlaConfig,
    *,
    progress: bool = True,
    strict: bool = False,
    now: datetime | None = None,
) -> ImportResult:
    """Import ``path`` with a progress bar (one commit per batch); odd rows as counting.py
    says, judged as of ``now`` (default: the current time)."""
    now = now or datetime.now(UTC)
    total = ImportResult()

    def judged_rows(stream):  # type: ignore[no-untyped-def]
        return judged(
            read_events(stream), now=now, plausible_days=config.plausible_days, strict=strict
        )

    with path.open(newline="", encoding="utf-8-sig") as stream:
        # Check the whole file before the first write: a bad row (events_file.py) near the
        # end must not leave the earlier batches imported.
        lines = sum(1 for _ in judged_rows(stream))
    with path.open(newline="", encoding="utf-8-sig") as stream:
        bar = tqdm(total=max(lines, 0), unit="rows", desc=path.name, disable=not progress)
        for batch in _batches(judged_rows(stream), BATCH):
            kept = []
            for item in batch:
                total.warnings.extend(item.warnings)
                if any(w.code == "repeated_discharge" for w in item.warnings):
                    total.skipped += 1
                else:
                    kept.append(item.record)
            with sessions() as session, session.begin():
                part = import_records(session, kept, config, reported_at=now)
            for name in ("rows", "inserted", "updated", "unchanged"):
                setattr(total, name, getattr(total, name) + getattr(part, name))
            bar.update(len(batch))
        bar.close()
    total.rows += total.skipped
    log.info(
        "discharge_file_imported",
        file=path.name,
        rows=total.rows,
        inserted=total.inserted,
        updated=total.updated,
        unchanged=total.unchanged,
        skipped=total.skipped,
        warnings=len(total.warnings),
    )
    return total
