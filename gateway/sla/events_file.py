"""The hospitals' monthly discharge file: one CSV row per discharge.

Header (exactly these columns, any order, more columns allowed and ignored unless named
below)::

    hospital,department,discharge_id,discharged_at,letter_sent_at

Optional column ``patient_cpr`` (used by the importer for matching; never logged). Times are
Copenhagen local ``YYYY-MM-DDTHH:MM`` (seconds allowed); ``letter_sent_at`` is empty when no
letter was sent. A bad row stops the read with an error naming the line and the column:
nothing is skipped silently. Bad rows include a ``letter_sent_at`` before ``discharged_at``
(a typo that would otherwise count as "within 1 workday") and a ``hospital`` +
``discharge_id`` already given on an earlier line (the report would count it twice and the
importer would keep only the last one; a file must say each discharge once).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from gateway.errors import LocalUsageError

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
    first_line: dict[tuple[str, str], int] = {}
    for row in reader:
        line = reader.line_num
        for column in ("hospital", "department", "discharge_id", "discharged_at"):
            if not (row.get(column) or "").strip():
                raise EventsFileError("is empty", line=line, column=column)
        hospital, discharge_id = row["hospital"].strip(), row["discharge_id"].strip()
        earlier = first_line.setdefault((hospital, discharge_id), line)
        if earlier != line:
            raise EventsFileError(
                f"discharge {hospital}/{discharge_id} is already on line {earlier}; "
                "give each hospital + discharge_id once per file",
                line=line,
                column="discharge_id",
            )
        discharged_at = _parse_time(row["discharged_at"].strip(), line, "discharged_at")
        sent_text = (row.get("letter_sent_at") or "").strip()
        sent = _parse_time(sent_text, line, "letter_sent_at") if sent_text else None
        if sent is not None and sent < discharged_at:
            raise EventsFileError(
                f"{sent_text!r} is before discharged_at {row['discharged_at'].strip()!r}",
                line=line,
                column="letter_sent_at",
            )
        yield DischargeRecord(
            hospital=hospital,
            department=row["department"].strip(),
            discharge_id=discharge_id,
            discharged_at=discharged_at,
            letter_sent_at=sent,
            patient_cpr=(row.get("patient_cpr") or "").strip(),
        )
