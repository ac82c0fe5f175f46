"""How one discharge counts in the region's table when its dates are odd: the one rule.

Real monthly files and live traffic hold rows the definition does not foresee. None of them
refuses a month (``--strict`` does, for those who want it); each is *counted by a rule* and
*listed as a warning* with where it is (docs/sla.md, "Odd rows"):

====================================  ===============  =======================================
warning                               column           counted as
====================================  ===============  =======================================
``repeated_discharge``                discharge_id     left out (the first line counts)
``implausible_discharge_date``        discharged_at    left out (not a month row of its own)
``discharge_in_future``               discharged_at    left out
``letter_before_discharge``           letter_sent_at   a and b, never c or d
====================================  ===============  =======================================

* A letter sent on the discharge day, even before the registered discharge time, is *not* odd:
  the discharge time is often registered after the patient left and the letter was sent. It is
  within 1 and 3 workdays, as the deadline rule says (deadlines.py).
* *Implausible*: the local discharge date is more than ``plausible_days`` days before the
  reference instant (when medbro learned the discharge time: the letter's reception, the API
  call, the import or the report run). A MedCom sample letter with DTM+91 in 1999 received in
  2026 is kept and delivered, but is no "1999-01" row.
* *In the future*: the local discharge date is after ``today``. The store report judges this
  when it runs (a planned discharge stops being in the future), so it is never stored
  (``Rule.stored``).
* A letter sent on an *earlier day* than the discharge has a date nobody can trust: it shows a
  letter was written (b) but is never counted as on time (c, d).

Everything here is pure: the reference instant and ``today`` are arguments.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from gateway.sla.config import DEFAULT_PLAUSIBLE_DAYS
from gateway.sla.deadlines import as_local


class Counting(enum.StrEnum):
    """What a row adds to the table (a = discharges, b = with a letter, c/d = on time)."""

    COUNTED = "counted"  # a, b, c, d as the deadlines say
    NOT_ON_TIME = "not_on_time"  # a and b (when there is a letter), never c or d
    LEFT_OUT = "left_out"  # no figure and no group row; only the warning


@dataclass(frozen=True, slots=True)
class Rule:
    column: str
    counting: Counting
    stored: bool  # kept on the discharge row; False: judged when the report runs
    explains: str  # the counting rule in words, for the outputs


RULES: dict[str, Rule] = {
    "repeated_discharge": Rule(
        "discharge_id", Counting.LEFT_OUT, False, "left out: the first line counts"
    ),
    "implausible_discharge_date": Rule(
        "discharged_at", Counting.LEFT_OUT, True, "left out of every figure"
    ),
    "discharge_in_future": Rule(
        "discharged_at", Counting.LEFT_OUT, False, "left out of every figure"
    ),
    "letter_before_discharge": Rule(
        "letter_sent_at", Counting.NOT_ON_TIME, True, "counted in a and b, not in c or d"
    ),
}
SEVERITY = (Counting.COUNTED, Counting.NOT_ON_TIME, Counting.LEFT_OUT)
LEFT_OUT_CODES = tuple(code for code, rule in RULES.items() if rule.counting is Counting.LEFT_OUT)
NOT_ON_TIME_CODES = tuple(
    code for code, rule in RULES.items() if rule.counting is Counting.NOT_ON_TIME
)


@dataclass(frozen=True, slots=True)
class RowWarning:
    """One odd row: its rule ``code``, where it is (a file line or a stored discharge), why."""

    code: str
    message: str
    line: int | None = None
    discharge: str | None = None

    @property
    def rule(self) -> Rule:
        return RULES[self.code]

    @property
    def column(self) -> str:
        return self.rule.column

    @property
    def where(self) -> str:
        if self.line is not None:
            return f"line {self.line}"
        return f"discharge {self.discharge}" if self.discharge else "discharge"

    def __str__(self) -> str:
        return f"{self.where}, column {self.column!r}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        place: dict[str, Any] = (
            {"line": self.line} if self.line is not None else {"discharge": self.discharge}
        )
        return {
            **place,
            "column": self.column,
            "code": self.code,
            "message": self.message,
            "counted_as": self.rule.explains,
        }


def _text(moment: datetime) -> str:
    return as_local(moment).strftime("%Y-%m-%dT%H:%M")


def judge(
    discharged_at: datetime,
    letter_sent_at: datetime | None,
    *,
    reference: datetime | None,
    plausible_days: int = DEFAULT_PLAUSIBLE_DAYS,
    today: date | None = None,
    earlier_line: int | None = None,
    discharge_key: str | None = None,
    discharge_label: str = "",
    line: int | None = None,
) -> tuple[RowWarning, ...]:
    """The warnings of one discharge; empty when it counts as the deadlines say.

    ``reference``: when the discharge time was learned (None: no plausibility check);
    ``today``: the local date the report runs (None: no check for the future);
    ``earlier_line``: the first line of the same hospital + discharge id in the same file.
    """
    found: list[RowWarning] = []

    def warn(code: str, message: str) -> None:
        found.append(RowWarning(code, message, line=line, discharge=discharge_key))

    discharged = as_local(discharged_at)
    if earlier_line is not None:
        warn(
            "repeated_discharge",
            f"discharge {discharge_label} is already on line {earlier_line}; "
            "the first line counts",
        )
    if reference is not None:
        oldest = as_local(reference).date() - timedelta(days=plausible_days)
        if discharged.date() < oldest:
            warn(
                "implausible_discharge_date",
                f"{_text(discharged)} is more than {plausible_days} days before "
                f"{as_local(reference).date()} (MEDBRO_SLA_PLAUSIBLE_DAYS)",
            )
    if today is not None and discharged.date() > today:
        warn("discharge_in_future", f"{_text(discharged)} is after today {today}")
    if letter_sent_at is not None and as_local(letter_sent_at).date() < discharged.date():
        warn(
            "letter_before_discharge",
            f"{_text(letter_sent_at)} is on an earlier day than discharged_at "
            f"{_text(discharged)}",
        )
    return tuple(found)


def counting_of(warnings: Iterable[RowWarning]) -> Counting:
    """The most severe treatment among ``warnings`` (COUNTED when there are none)."""
    return max(
        (w.rule.counting for w in warnings), key=SEVERITY.index, default=Counting.COUNTED
    )


def stored_code(warnings: Iterable[RowWarning]) -> str | None:
    """The warning a discharge row keeps: the most severe of those that do not age."""
    kept = [w for w in warnings if w.rule.stored]
    if not kept:
        return None
    return max(kept, key=lambda w: SEVERITY.index(w.rule.counting)).code


def warnings_text(warnings: Iterable[RowWarning]) -> Iterator[str]:
    """Footer lines for the CSV and table outputs and the import summary."""
    for warning in warnings:
        yield f"warning: {warning} ({warning.rule.explains})"


__all__ = [
    "DEFAULT_PLAUSIBLE_DAYS",
    "LEFT_OUT_CODES",
    "NOT_ON_TIME_CODES",
    "RULES",
    "Counting",
    "RowWarning",
    "Rule",
    "counting_of",
    "judge",
    "stored_code",
    "warnings_text",
]
