"""Semantic checks of an LÆ form, done before a form is sent and after one is read.

The XSD (schemas/lae/) checks shape; these checks add what a schema cannot say well and what
the wire formats need: a CPR number is 10 digits with a real birth date, identifiers have their
registry formats, required text is not blank, LÆ 271 carries the prescribed attachments, and all
text is ISO-8859-1 without control characters other than the line break, because the DIS91
profile travels as UNOC (shared/research/medcom.md §0 item 2) and XML cannot carry C0 bytes.
Every problem names its field (``lae271.attachments``), all of them at once.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from typing import Any

from gateway.forms.errors import FieldError, FormValidationError
from gateway.forms.model import (
    FORM_VERSION,
    PRESCRIBED_LAE271_ATTACHMENTS,
    Form,
    FormType,
    Lae265,
    Lae271,
    Lae275,
)

SUPPORTED_VERSIONS = (FORM_VERSION,)
_CPR = re.compile(r"[0-9]{10}")
_MUNICIPALITY = re.compile(r"[0-9]{3}")
_YDERNUMMER = re.compile(r"[0-9]{6}")
_SOR = re.compile(r"[0-9]{6,18}")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}")
_REQUIRED_TEXT = {
    FormType.LAE261: ("background", "situation"),
    FormType.LAE265: ("health_conditions", "treatment_and_prognosis", "functional_ability"),
    FormType.LAE271: ("background", "coordinator_assessment"),
    FormType.LAE275: ("health_conditions", "treatment_and_prognosis", "functional_ability"),
}


def form_root(form: Form) -> str:
    """The root of every field path of ``form``: ``lae265``."""
    return f"lae{form.form_type.value}"


def cpr_is_valid(cpr: str) -> bool:
    """Ten digits whose first six are a real date (DDMMYY; the century does not matter here)."""
    if not _CPR.fullmatch(cpr):
        return False
    day, month = int(cpr[0:2]), int(cpr[2:4])
    try:
        date(2000, month, day)  # a leap year, so 29 February passes
    except ValueError:
        return False
    return True


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot travel in a form (None when it can)."""
    for ch in text:
        if ch == "\n":
            continue
        if ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0:
            return f"control character U+{ord(ch):04X} is not allowed (only line breaks)"
        if ord(ch) > 0xFF:
            return f"character {ch!r} is outside ISO-8859-1"
    return None


def check(form: Form) -> list[FieldError]:
    """Every problem of ``form``; an empty list when it may be sent."""
    root = form_root(form)
    errors: list[FieldError] = []
    _check_texts(form, root, errors)

    def need(ok: bool, name: str, message: str) -> None:
        if not ok:
            errors.append(FieldError(f"{root}.{name}", message))

    need(form.form_version in SUPPORTED_VERSIONS, "form_version",
         f"unsupported version {form.form_version!r} (supported: {', '.join(SUPPORTED_VERSIONS)})")
    need(bool(_ID.fullmatch(form.form_id)), "form_id", "must be 1-64 letters, digits or ._:/-")
    need(bool(_ID.fullmatch(form.case_ref)), "case_ref", "must be 1-64 letters, digits or ._:/-")
    need(cpr_is_valid(form.citizen.cpr), "citizen.cpr", "must be 10 digits starting DDMMYY")
    p = form.parties
    need(bool(_MUNICIPALITY.fullmatch(p.municipality.number)), "parties.municipality.number",
         "must be a 3-digit municipality number")
    need(bool(_YDERNUMMER.fullmatch(p.gp.ydernummer)), "parties.gp.ydernummer",
         "must be a 6-digit ydernummer")
    if p.clinical_function is not None:
        need(bool(_SOR.fullmatch(p.clinical_function.sor)), "parties.clinical_function.sor",
             "must be a SOR code (6-18 digits)")
    elif form.form_type in (FormType.LAE271, FormType.LAE275):
        need(False, "parties.clinical_function", f"required on {form.form_type.label}")
    for name in _REQUIRED_TEXT[form.form_type]:
        need(bool(getattr(form, name).strip()), name, "must not be blank")
    if isinstance(form, Lae265 | Lae275):
        need(bool(_ID.fullmatch(form.in_reply_to)), "in_reply_to",
             "must name the request's form_id")
        need(form.consultation_date <= form.issued_at.date(), "consultation_date",
             "is after the certificate was issued")
        for i, a in enumerate(form.answers, start=1):
            need(bool(a.reply.strip()), f"answers[{i}].reply", "must not be blank")
    if isinstance(form, Lae271):
        kinds = {a.kind for a in form.attachments}
        missing = [k.value for k in PRESCRIBED_LAE271_ATTACHMENTS if k not in kinds]
        need(not missing, "attachments", f"prescribed attachments missing: {', '.join(missing)}")
    return errors


def validate(form: Form) -> Form:
    """Return ``form`` unchanged, or raise FormValidationError naming every wrong field."""
    errors = check(form)
    if errors:
        raise FormValidationError(errors)
    return form


def _check_texts(obj: Any, path: str, errors: list[FieldError]) -> None:
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        where = f"{path}.{f.name}"
        if isinstance(value, str):
            problem = text_problem(value)
            if problem:
                errors.append(FieldError(where, problem))
        elif isinstance(value, tuple):
            for i, item in enumerate(value, start=1):
                if isinstance(item, str):
                    problem = text_problem(item)
                    if problem:
                        errors.append(FieldError(f"{where}[{i}]", problem))
                elif dataclasses.is_dataclass(item):
                    _check_texts(item, f"{where}[{i}]", errors)
        elif dataclasses.is_dataclass(value):
            _check_texts(value, where, errors)
