"""The region's discharge-letter table: a, b, c, d and b/a, c/a, d/a per group and in total.

* a ``discharges``: discharges in the period (by local discharge date);
* b ``with_letter``: discharges with a sent letter;
* c ``within_3_workdays``, d ``within_1_workday``: letters sent by the deadline (deadlines.py);
* percentages of a, rounded half up to one decimal (``None`` when a is 0).

Groups are any ordered subset of ``hospital``, ``department`` and ``month`` (local discharge
month ``YYYY-MM``); the default is all three. The same ``Report`` is filled from a CSV file
(``aggregate``, in Python) or from the store (store_report.py, in SQL). Odd rows are counted by
counting.py's rule and listed in ``warnings`` (JSON) or below the table (CSV, text).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from gateway.errors import LocalUsageError
from gateway.sla.calendar import WorkdayCalendar
from gateway.sla.counting import DEFAULT_PLAUSIBLE_DAYS, Counting, RowWarning, counting_of
from gateway.sla.deadlines import as_local, deadline
from gateway.sla.events_file import DischargeRecord, judged

GROUP_KEYS = ("hospital", "department", "month")
DEFAULT_GROUP_BY = GROUP_KEYS
FIGURE_KEYS = (
    "discharges",
    "with_letter",
    "within_3_workdays",
    "within_1_workday",
    "pct_with_letter",
    "pct_within_3_workdays",
    "pct_within_1_workday",
)


def parse_group_by(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """``"hospital,month"`` -> ("hospital", "month"); empty or ``none`` -> () (total only)."""
    if text is None:
        return DEFAULT_GROUP_BY
    parts = text.split(",") if isinstance(text, str) else list(text)
    keys = tuple(p.strip() for p in parts if p.strip() and p.strip() != "none")
    unknown = [k for k in keys if k not in GROUP_KEYS]
    if unknown:
        raise LocalUsageError(
            f"group_by: unknown key(s) {', '.join(unknown)}; choose from {', '.join(GROUP_KEYS)}"
        )
    if len(set(keys)) != len(keys):
        raise LocalUsageError(f"group_by: a key is repeated in {','.join(keys)}")
    return keys


def percent(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` in percent, one decimal, rounded half up (None when whole is 0)."""
    if whole == 0:
        return None
    value = (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return float(value)


@dataclass
class Figures:
    """The four counts of one row of the table; the percentages derive from them."""

    discharges: int = 0
    with_letter: int = 0
    within_3_workdays: int = 0
    within_1_workday: int = 0

    def add(self, other: Figures) -> None:
        self.discharges += other.discharges
        self.with_letter += other.with_letter
        self.within_3_workdays += other.within_3_workdays
        self.within_1_workday += other.within_1_workday

    def as_dict(self) -> dict[str, Any]:
        return {
            "discharges": self.discharges,
            "with_letter": self.with_letter,
            "within_3_workdays": self.within_3_workdays,
            "within_1_workday": self.within_1_workday,
            "pct_with_letter": percent(self.with_letter, self.discharges),
            "pct_within_3_workdays": percent(self.within_3_workdays, self.discharges),
            "pct_within_1_workday": percent(self.within_1_workday, self.discharges),
        }


@dataclass
class Report:
    """The table: a total and one ``Figures`` per group key (a tuple in ``group_by`` order)."""

    group_by: tuple[str, ...]
    total: Figures = field(default_factory=Figures)
    groups: dict[tuple[str, ...], Figures] = field(default_factory=dict)
    warnings: list[RowWarning] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total.as_dict(),
            "groups": [
                {**dict(zip(self.group_by, key, strict=True)), **figures.as_dict()}
                for key, figures in sorted(self.groups.items())
            ],
            "warnings": [w.as_dict() for w in self.warnings],
        }

    def _footer(self) -> str:
        """The warnings below the CSV and the table: a blank line, then one line each."""
        if not self.warnings:
            return ""
        lines = [f"warnings: {len(self.warnings)}"]
        lines += [f"{w} ({w.rule.explains})" for w in self.warnings]
        return "\n" + "\n".join(lines) + "\n"

    def rows(self) -> list[dict[str, Any]]:
        """Flat rows for CSV and the table: the groups, then a ``total`` row."""
        total_key = {k: ("total" if i == 0 else "") for i, k in enumerate(self.group_by)}
        if not self.group_by:
            total_key = {"group": "total"}
        groups = [
            {**dict(zip(self.group_by, key, strict=True)), **figures.as_dict()}
            for key, figures in sorted(self.groups.items())
        ]
        return [*groups, {**total_key, **self.total.as_dict()}]

    def to_csv(self) -> str:
        out = io.StringIO()
        columns = [*(self.group_by or ("group",)), *FIGURE_KEYS]
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in self.rows():
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
        if self.warnings:  # a second small table: one row per warning
            out.write("\n")
            footer = csv.writer(out, lineterminator="\n")
            footer.writerow(["warning", "where", "column", "counted_as", "message"])
            for w in self.warnings:
                footer.writerow([w.code, w.where, w.column, w.rule.explains, w.message])
        return out.getvalue()

    def to_table(self) -> str:
        """A fixed-width text table with the region's column letters."""
        heads = [*(self.group_by or ("group",)), "a", "b", "c", "d", "b/a %", "c/a %", "d/a %"]
        body = []
        for row in self.rows():
            values = [row.get(k, "") for k in (self.group_by or ("group",))]
            values += [row[k] for k in FIGURE_KEYS]
            body.append(["-" if v is None else str(v) for v in values])
        widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(heads)]
        lines = ["  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True))]
        lines.append("  ".join("-" * w for w in widths))
        for r in body:
            lines.append("  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)))
        return "\n".join(lines) + "\n" + self._footer()


@lru_cache(maxsize=8192)
def _deadlines_for(day: date, calendar: WorkdayCalendar) -> tuple[datetime, datetime]:
    probe = datetime.combine(day, datetime.min.time())
    return deadline(probe, 1, calendar), deadline(probe, 3, calendar)


def record_figures(
    record: DischargeRecord, calendar: WorkdayCalendar, counting: Counting = Counting.COUNTED
) -> Figures:
    """The contribution of one discharge (0 or 1 in each count), by counting.py's rule."""
    if counting is Counting.LEFT_OUT:
        return Figures()
    discharged = as_local(record.discharged_at)
    figures = Figures(discharges=1)
    if record.letter_sent_at is not None:
        figures.with_letter = 1
        if counting is Counting.COUNTED:
            sent = as_local(record.letter_sent_at)
            d1, d3 = _deadlines_for(discharged.date(), calendar)
            figures.within_3_workdays = int(sent <= d3)
            figures.within_1_workday = int(sent <= d1)
    return figures


def group_key(record: DischargeRecord, group_by: tuple[str, ...]) -> tuple[str, ...]:
    values = {
        "hospital": record.hospital,
        "department": record.department,
        "month": as_local(record.discharged_at).strftime("%Y-%m"),
    }
    return tuple(values[k] for k in group_by)


def aggregate(
    records: Iterable[DischargeRecord],
    calendar: WorkdayCalendar,
    group_by: tuple[str, ...] = DEFAULT_GROUP_BY,
    *,
    start: date | None = None,
    end: date | None = None,
    now: datetime | None = None,
    plausible_days: int = DEFAULT_PLAUSIBLE_DAYS,
    strict: bool = False,
) -> Report:
    """The table over ``records`` with discharge date in [start, end] (both inclusive).

    Odd rows are judged as of ``now`` (None: no checks against the clock), counted by
    counting.py's rule and listed in ``Report.warnings``: those of rows in the period, and
    those left out for their date (no period holds them). ``strict`` refuses the file instead.
    """
    report = Report(group_by)
    for item in judged(records, now=now, plausible_days=plausible_days, strict=strict):
        record, counting = item.record, counting_of(item.warnings)
        day = as_local(record.discharged_at).date()
        in_period = not ((start is not None and day < start) or (end is not None and day > end))
        dateless = any(w.rule.column == "discharged_at" for w in item.warnings)
        if in_period or dateless:
            report.warnings.extend(item.warnings)
        if not in_period or counting is Counting.LEFT_OUT:
            continue
        figures = record_figures(record, calendar, counting)
        report.total.add(figures)
        if group_by:
            report.groups.setdefault(group_key(record, group_by), Figures()).add(figures)
    return report
