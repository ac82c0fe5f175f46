"""The searchable patient key of a stored message: what ``GET /v1/messages?patient=`` finds.

The store never holds a full CPR number outside the raw bytes, yet a patient search must be an
index lookup on a million messages. So each message row carries ``patient_key``: the SHA-256 of
the normalised CPR (10 digits, no hyphen) behind a fixed domain prefix, written once at ingest
(gateway/pipeline/ingest.py) and by the migration that backfilled older rows
(versions/store_0003_patient_key.py). The column holds no readable CPR. It is a pseudonym, not
anonymisation: CPR numbers are few enough to hash them all, so the column is patient data and
is protected like the rest of the store.

Two patients with the same birth date have different keys, so the search is exact.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

DOMAIN = b"medbro/patient-key/v1\x00"  # never change: stored keys would no longer match
_CPR = re.compile(r"^(\d{6})-?(\d{4})$")


def normalise(cpr: str | None) -> str | None:
    """``DDMMYY-SSSS`` or ten digits -> ten digits; anything else -> None."""
    match = _CPR.match((cpr or "").strip())
    return match.group(1) + match.group(2) if match else None


def patient_key(cpr: str | None) -> str | None:
    """The key of a CPR number (None when it is not one)."""
    digits = normalise(cpr)
    if digits is None:
        return None
    return hashlib.sha256(DOMAIN + digits.encode()).hexdigest()


def of_letter(letter: Any) -> str | None:
    """The key of a canonical letter's patient (None: a receipt, or no patient named)."""
    patient = getattr(letter, "patient", None)
    return patient_key(getattr(patient, "cpr", None))
