"""The hospitals' monthly discharge file: one CSV row per discharge.

Header (exactly these columns, any order, more columns allowed and ignored unless named
below)::

    hospital,department,discharge_id,discharged_at,letter_sent_at

Optional column ``patient_cpr`` (used by the importer for matching; never logged). Times are
Copenhagen local ``YYYY-MM-DDTHH:MM`` (seconds allowed); ``letter_sent_at`` is empty when no
letter was sent. A row that cannot be read (a bad time, an empty required column) stops the
read with an error naming the line and the column: nothing is skipped silently.

Rows that can be read but are odd (a repeated ``hospital`` + ``discharge_id``, a letter on an
earlier day than its discharge, a discharge in the future or with an implausible date) are
``judged`` by counting.py: each gets warnings naming its line and column and is counted by the
documented rule; ``strict=True`` refuses the file at the first one instead.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from gateway.errors import LocalUsageError
from gateway.sla.counting import DEFAULT_PLAUSIBLE_DAYS, RowWarning, judge

REQUIRED_COLUMNS = ("hospital", "department", "discharge_id", "discharged_at", "letter_sent_at")


class EventsFileError(LocalUsageError, ValueError):
    """A discharge file that cannot be read; names the line and column."""

    def __init__(self, message: str, *, line: int | None = None, column: str | None = None):
        where = ""
        if line is not None:
            where = f"line {line}" + (f", column {column!r}" if column else "") + ": "
        super().__init__(where + message)
        self.line = line
        self.column = column


@dataclass(frozen=True, slots=True)
class DischargeRecord:
    """One discharge and when its letter was sent (naive Copenhagen local times)."""

    hospital: str
    department: str
    discharge_id: str
    discharged_at: datetime
    letter_sent_at: datetime | None = None
    patient_cpr: str = ""
    line: int | None = None  # the file line it came from


@dataclass(frozen=True, slots=True)
class JudgedRecord:
    """A record and its warnings (counting.judge); no warnings: it counts as the rule says."""

    record: DischargeRecord
    warnings: tuple[RowWarning, ...] = ()


def _parse_time(text: str, line: int, column: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise EventsFileError(
            f"{text!r} is not a local time YYYY-MM-DDTHH:MM", line=line, column=column
        ) from None
    if value.tzinfo is not None:
        raise EventsFileError(
            f"{text!r} carries a zone; the file holds Copenhagen local times",
            line=line,
            column=column,
        )
    return value


def read_events(lines: Iterable[str]) -> Iterator[DischargeRecord]:
    """Parse the discharge file; ``lines`` is an open text file or any iterable of lines."""
    reader = csv.DictReader(lines)
    header = reader.fieldnames or []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise EventsFileError(
            f"header lacks column(s) {', '.join(missing)} (found: {', '.join(header) or 'none'})",
            line=1,
        )
    for row in reader:
        line = reader.line_num
        for column in ("hospital", "department", "discharge_id", "discharged_at"):
            if not (row.get(column) or "").strip():
                raise EventsFileError("is empty", line=line, column=column)
        hospital, discharge_id = row["hospital"].strip(), row["discharge_id"].strip()
        discharged_at = _parse_time(row["discharged_at"].strip(), line, "discharged_at")
        sent_text = (row.get("letter_sent_at") or "").strip()
        sent = _parse_time(sent_text, line, "letter_sent_at") if sent_text else None
        yield DischargeRecord(
            hospital=hospital,
            department=row["department"].strip(),
            discharge_id=discharge_id,
            discharged_at=discharged_at,
            letter_sent_at=sent,
            patient_cpr=(row.get("patient_cpr") or "").strip(),
            line=line,
        )


def judged(
    records: Iterable[DischargeRecord],
    *,
    now: datetime | None,
    plausible_days: int = DEFAULT_PLAUSIBLE_DAYS,
    strict: bool = False,
) -> Iterator[JudgedRecord]:
    """Each record with its warnings (counting.judge), as of ``now`` (None: no checks against
    the clock). ``strict``: the first warning refuses the file (EventsFileError, exit 1)."""
    today: date | None = now.date() if now is not None else None
    first_line: dict[tuple[str, str], int] = {}
    for number, record in enumerate(records, start=2):
        line = record.line if record.line is not None else number
        earlier = first_line.setdefault((record.hospital, record.discharge_id), line)
        warnings = judge(
            record.discharged_at,
            record.letter_sent_at,
            reference=now,
            plausible_days=plausible_days,
            today=today,
            earlier_line=earlier if earlier != line else None,
            discharge_label=f"{record.hospital}/{record.discharge_id}",
            line=line,
        )
        if strict and warnings:
            first = warnings[0]
            raise EventsFileError(first.message, line=line, column=first.column)
        yield JudgedRecord(record, warnings)
