"""Certificate deadlines: 14 days after the consultation, at most 30 after the request."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.errors import ConfigError
from gateway.forms import CertificateDeadlines, certificate_due

CASES = [
    # requested, consultation, due
    (date(2026, 3, 2), None, date(2026, 4, 1)),  # only the 30-day limit is known
    (date(2026, 3, 2), date(2026, 3, 5), date(2026, 3, 19)),  # 14 days after the consultation
    (date(2026, 3, 2), date(2026, 3, 25), date(2026, 4, 1)),  # capped by the 30-day limit
    (date(2026, 3, 2), date(2026, 3, 18), date(2026, 4, 1)),  # both on the same day
    (date(2026, 3, 20), date(2026, 3, 30), date(2026, 4, 13)),  # calendar days: Easter counts
]


@pytest.mark.parametrize(("requested", "consultation", "due"), CASES)
def test_certificate_due(requested: date, consultation: date | None, due: date) -> None:
    assert certificate_due(requested, consultation) == due


def test_deadlines_are_configurable() -> None:
    urgent = CertificateDeadlines(days_after_consultation=5, days_after_request=10)
    assert certificate_due(date(2026, 3, 2), date(2026, 3, 3), urgent) == date(2026, 3, 8)
    assert certificate_due(date(2026, 3, 2), date(2026, 3, 9), urgent) == date(2026, 3, 12)
    with pytest.raises(ConfigError):
        CertificateDeadlines(days_after_request=-1)
