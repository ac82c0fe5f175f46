"""The one rule for odd rows (gateway.sla.counting), from a table of cases."""

from __future__ import annotations

from datetime import datetime

import pytest

from gateway.sla.calendar import WorkdayCalendar
from gateway.sla.counting import Counting, counting_of, judge, stored_code
from gateway.sla.events_file import DischargeRecord
from gateway.sla.report import record_figures

NOW = datetime(2026, 12, 4, 12, 0)  # naive = Copenhagen local
TODAY = NOW.date()


def t(text: str) -> datetime:
    return datetime.fromisoformat(text)


# discharged_at, letter_sent_at, earlier_line, expected codes, counting, (a, b, c, d)
CASES = [
    # ordinary letters
    ("2026-12-01T10:00", "2026-12-01T15:00", None, [], Counting.COUNTED, (1, 1, 1, 1)),
    ("2026-12-01T10:00", None, None, [], Counting.COUNTED, (1, 0, 0, 0)),
    ("2026-11-02T10:00", "2026-11-20T10:00", None, [], Counting.COUNTED, (1, 1, 0, 0)),
    # same day, letter before the registered discharge time: within 1 and 3, no warning
    ("2026-12-01T16:00", "2026-12-01T09:00", None, [], Counting.COUNTED, (1, 1, 1, 1)),
    ("2026-12-01T23:59", "2026-12-01T00:00", None, [], Counting.COUNTED, (1, 1, 1, 1)),
    # a letter on an earlier day: a and b, never c or d
    ("2026-12-02T00:10", "2026-12-01T23:50", None, ["letter_before_discharge"],
     Counting.NOT_ON_TIME, (1, 1, 0, 0)),
    ("2026-12-02T10:00", "2025-12-01T10:00", None, ["letter_before_discharge"],
     Counting.NOT_ON_TIME, (1, 1, 0, 0)),
    # a discharge in the future (a later local date than today): left out
    ("2026-12-05T08:00", None, None, ["discharge_in_future"], Counting.LEFT_OUT, (0, 0, 0, 0)),
    # later today is not the future (the same-day rule)
    ("2026-12-04T23:00", "2026-12-04T11:00", None, [], Counting.COUNTED, (1, 1, 1, 1)),
    # the plausibility window (730 days back from the reference)
    ("1999-01-04T10:00", "2026-12-04T10:00", None, ["implausible_discharge_date"],
     Counting.LEFT_OUT, (0, 0, 0, 0)),
    ("2024-12-04T10:00", None, None, [], Counting.COUNTED, (1, 0, 0, 0)),  # day 730
    ("2024-12-03T23:59", None, None, ["implausible_discharge_date"], Counting.LEFT_OUT,
     (0, 0, 0, 0)),
    # a repeated discharge id: left out (the first line counts)
    ("2026-12-01T10:00", "2026-12-01T15:00", 2, ["repeated_discharge"], Counting.LEFT_OUT,
     (0, 0, 0, 0)),
    # several: the most severe decides
    ("2099-01-02T10:00", "2099-01-01T10:00", 3,
     ["repeated_discharge", "discharge_in_future", "letter_before_discharge"],
     Counting.LEFT_OUT, (0, 0, 0, 0)),
]


@pytest.mark.parametrize(
    ("discharged", "sent", "earlier", "codes", "counting", "figures"), CASES
)
def test_rule_table(discharged, sent, earlier, codes, counting, figures) -> None:
    warnings = judge(
        t(discharged),
        t(sent) if sent else None,
        reference=NOW,
        today=TODAY,
        earlier_line=earlier,
        discharge_label="H/1",
        line=7,
    )
    assert [w.code for w in warnings] == codes
    assert counting_of(warnings) is counting
    assert all(w.line == 7 and str(w).startswith("line 7, column ") for w in warnings)
    record = DischargeRecord("H", "D", "1", t(discharged), t(sent) if sent else None)
    got = record_figures(record, WorkdayCalendar(), counting)
    assert (got.discharges, got.with_letter, got.within_3_workdays, got.within_1_workday) == (
        figures
    )


def test_warnings_name_the_column_and_the_values() -> None:
    (early,) = judge(t("2025-01-02T10:00"), t("2025-01-01T09:00"), reference=None, line=6)
    assert str(early) == (
        "line 6, column 'letter_sent_at': 2025-01-01T09:00 is on an earlier day than "
        "discharged_at 2025-01-02T10:00"
    )
    (old,) = judge(t("1999-01-04T10:00"), None, reference=NOW, plausible_days=365,
                   discharge_key="letter/m1")
    assert str(old) == (
        "discharge letter/m1, column 'discharged_at': 1999-01-04T10:00 is more than 365 days "
        "before 2026-12-04 (MEDBRO_SLA_PLAUSIBLE_DAYS)"
    )
    assert old.as_dict()["counted_as"] == "left out of every figure"


def test_without_a_reference_or_today_only_the_clock_free_rules_apply() -> None:
    assert judge(t("1999-01-04T10:00"), None, reference=None, today=None) == ()
    assert judge(t("2099-01-04T10:00"), None, reference=None, today=None) == ()


def test_what_a_discharge_row_stores() -> None:
    """The future is judged when the report runs (a planned discharge stops being future)."""
    future = judge(t("2026-12-24T10:00"), None, reference=NOW, today=TODAY)
    assert [w.code for w in future] == ["discharge_in_future"] and stored_code(future) is None
    both = judge(t("1999-01-04T10:00"), t("1998-12-31T10:00"), reference=NOW, today=TODAY)
    assert stored_code(both) == "implausible_discharge_date"
    early = judge(t("2026-12-02T10:00"), t("2026-12-01T10:00"), reference=NOW, today=TODAY)
    assert stored_code(early) == "letter_before_discharge"
    assert stored_code(()) is None
