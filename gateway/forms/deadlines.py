"""When a certificate (LÆ 265, LÆ 275) is due: the agreements' "14 days after the consultation,
at most 30 days after the request" (shared/research/medcom.md §1.4), in calendar days.

Both numbers are configuration (``CertificateDeadlines``): the agreement between KL and
Lægeforeningen is renegotiated, and urgent cases may agree shorter ones. Pure functions of dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from gateway.errors import ConfigError


@dataclass(frozen=True)
class CertificateDeadlines:
    """Calendar days after the consultation and after the request (the earlier one wins)."""

    days_after_consultation: int = 14
    days_after_request: int = 30

    def __post_init__(self) -> None:
        if self.days_after_consultation < 0 or self.days_after_request < 0:
            raise ConfigError(f"certificate deadlines must be >= 0 days, got {self}")


DEFAULT_CERTIFICATE_DEADLINES = CertificateDeadlines()


def certificate_due(
    requested_on: date,
    consultation_on: date | None = None,
    policy: CertificateDeadlines = DEFAULT_CERTIFICATE_DEADLINES,
) -> date:
    """The day the certificate must be sent by.

    ``requested_on`` is the day the doctor received the request (LÆ 261 / LÆ 271); until the
    consultation is known only the request limit applies.
    """
    latest = requested_on + timedelta(days=policy.days_after_request)
    if consultation_on is None:
        return latest
    return min(consultation_on + timedelta(days=policy.days_after_consultation), latest)
