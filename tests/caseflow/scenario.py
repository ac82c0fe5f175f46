"""One rehabilitation case, step by step, with forms built for it (dates in spring 2026)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date, datetime

from forms.examples import CITIZEN, LAE261, LAE265, LAE271, LAE275, PARTIES

from gateway.forms import Lae261, Lae265, Lae271, Lae275


def new_ref() -> str:
    return f"K-{uuid.uuid4().hex[:8]}"


def lae261(ref: str, at: datetime, n: int = 1) -> Lae261:
    return dataclasses.replace(LAE261, case_ref=ref, form_id=f"{ref}-261-{n}", issued_at=at)


def lae265(ref: str, at: datetime, consultation: date, n: int = 1) -> Lae265:
    return dataclasses.replace(LAE265, case_ref=ref, form_id=f"{ref}-265-{n}", issued_at=at,
                               in_reply_to=f"{ref}-261-{n}", consultation_date=consultation)


def lae271(ref: str, at: datetime) -> Lae271:
    return dataclasses.replace(LAE271, case_ref=ref, form_id=f"{ref}-271-1", issued_at=at)


def lae275(ref: str, at: datetime, consultation: date) -> Lae275:
    return dataclasses.replace(LAE275, case_ref=ref, form_id=f"{ref}-275-1", issued_at=at,
                               in_reply_to=f"{ref}-271-1", consultation_date=consultation)


def create(service, ref: str, at: datetime, **kw):
    return service.create_case(ref, CITIZEN, PARTIES, region="hovedstaden", now=at, **kw)
