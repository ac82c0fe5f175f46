"""How the console writes times, dates, months and numbers: Europe/Copenhagen, Danish formats.

Operators read Danish formats (``22.04.2025 13.05``, ``95,3 %``, ``april 2025``) whatever the
language of the text around them; only month names follow the chosen language. Formatting is
Babel's (CLDR data), not hand-written. Naive datetimes are taken to be Copenhagen local, the
way MedCom and the SLA code use them (gateway.sla.deadlines.as_local); the message store's
naive UTC columns are converted by the caller with ``utc=True``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from gateway.sla.deadlines import COPENHAGEN

DATE_LOCALE = "da_DK"  # dates and numbers: always Danish formats
MONTH_LOCALE = {"da": "da_DK", "en": "en_GB"}


def local(moment: datetime, *, utc: bool = False) -> datetime:
    """``moment`` as an aware Copenhagen time; naive means local, or UTC with ``utc``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC if utc else COPENHAGEN)
    return moment.astimezone(COPENHAGEN)


def when(moment: datetime | str | None, *, utc: bool = False, seconds: bool = False) -> str:
    """``22.04.2025 13.05`` (Copenhagen time); empty for None. ISO strings are parsed."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    pattern = "dd.MM.y HH.mm.ss" if seconds else "dd.MM.y HH.mm"
    return format_datetime(local(moment, utc=utc), pattern, tzinfo=COPENHAGEN,
                           locale=DATE_LOCALE)


def day(value: date | datetime | str | None) -> str:
    """``22.04.2025``; a datetime is first put in Copenhagen time."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = local(value).date()
    return format_date(value, "dd.MM.y", locale=DATE_LOCALE)


def month(key: str, lang: str) -> str:
    """``2025-04`` -> ``april 2025`` (da) or ``April 2025`` (en)."""
    year, _, number = key.partition("-")
    return format_date(date(int(year), int(number), 1), "LLLL y", locale=MONTH_LOCALE[lang])


def month_short(key: str, lang: str) -> str:
    """``2025-04`` -> ``apr. 2025`` (da) or ``Apr 2025`` (en): chart axis labels."""
    year, _, number = key.partition("-")
    return format_date(date(int(year), int(number), 1), "LLL y", locale=MONTH_LOCALE[lang])


def number(value: float | int | None, decimals: int = 0) -> str:
    """``1.234`` / ``95,3``; a dash for None (a percentage of nothing)."""
    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, pattern, locale=DATE_LOCALE)


def percent(value: float | None) -> str:
    """``95,3 %`` (one decimal, as the region's table); a dash for None."""
    return "–" if value is None else f"{number(value, 1)} %"


def hours(delta: timedelta | float) -> str:
    """Time left as hours with one decimal, ``-3,5 t`` once passed (unit added by the page)."""
    value = delta.total_seconds() / 3600 if isinstance(delta, timedelta) else delta
    return number(round(value, 1), 1)
