"""Danish formats for dates, times, months and numbers, in Copenhagen time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from gateway.console import formats
from gateway.sla.deadlines import COPENHAGEN


@pytest.mark.parametrize(("value", "kwargs", "shown"), [
    (datetime(2025, 4, 22, 13, 5, tzinfo=COPENHAGEN), {}, "22.04.2025 13.05"),
    (datetime(2025, 4, 22, 11, 5, tzinfo=UTC), {}, "22.04.2025 13.05"),  # summer: UTC+2
    (datetime(2025, 1, 22, 11, 5, tzinfo=UTC), {}, "22.01.2025 12.05"),  # winter: UTC+1
    (datetime(2025, 1, 22, 11, 5), {"utc": True}, "22.01.2025 12.05"),  # the store's naive UTC
    (datetime(2025, 1, 22, 11, 5), {}, "22.01.2025 11.05"),  # naive = Copenhagen (MedCom)
    (datetime(2025, 10, 26, 0, 30, tzinfo=UTC), {}, "26.10.2025 02.30"),  # before DST ends
    (datetime(2025, 10, 26, 1, 30, tzinfo=UTC), {}, "26.10.2025 02.30"),  # after: same wall time
    (datetime(2025, 4, 22, 13, 5, 9, tzinfo=COPENHAGEN), {"seconds": True}, "22.04.2025 13.05.09"),
    ("2025-04-22T11:05:00+00:00", {}, "22.04.2025 13.05"),
    (None, {}, ""),
])
def test_when(value, kwargs, shown) -> None:
    assert formats.when(value, **kwargs) == shown


@pytest.mark.parametrize(("value", "shown"), [
    (date(2025, 3, 4), "04.03.2025"),
    ("2025-03-04", "04.03.2025"),
    (datetime(2025, 3, 4, 23, 30, tzinfo=UTC), "05.03.2025"),  # already the 5th in Copenhagen
    (None, ""),
])
def test_day(value, shown) -> None:
    assert formats.day(value) == shown


@pytest.mark.parametrize(("key", "lang", "long", "short"), [
    ("2025-03", "da", "marts 2025", "mar. 2025"),
    ("2025-05", "da", "maj 2025", "maj 2025"),
    ("2025-03", "en", "March 2025", "Mar 2025"),
])
def test_months(key, lang, long, short) -> None:
    assert formats.month(key, lang) == long
    assert formats.month_short(key, lang) == short


@pytest.mark.parametrize(("value", "decimals", "shown"), [
    (1234567, 0, "1.234.567"),
    (95.25, 1, "95,2"),  # Babel rounds half to even, as Decimal does
    (95.35, 1, "95,4"),
    (None, 0, "–"),
])
def test_number(value, decimals, shown) -> None:
    assert formats.number(value, decimals) == shown


def test_percent_and_hours() -> None:
    assert formats.percent(57.1) == "57,1 %"
    assert formats.percent(100.0) == "100,0 %"
    assert formats.percent(None) == "–"
    assert formats.hours(timedelta(hours=-925)) == "-925,0"
    assert formats.hours(timedelta(minutes=90)) == "1,5"
