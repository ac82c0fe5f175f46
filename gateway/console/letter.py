"""A stored letter for the console: its raw text and a readable rendering, masked until revealed.

The patient's CPR and names are masked (``010150-****``, ``•••``) in both the raw EDIFACT and
the rendering until the person asks to see them ("vis"), which is the operations layer's
audited reveal (``POST /v1/messages/{id}/reveal``'s handler). Reading the letter at all is the
audited body read (``GET /v1/messages/{id}/body``'s handler): the console calls those handlers,
it does not read the store itself. The readable rendering comes from the EDIFACT codec's model
(gateway.edifact.parse); other formats are shown raw, CPR-masked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from gateway.logging import mask_cpr

HIDDEN = "•••"


@dataclass(frozen=True)
class Person:
    """The patient as the letter names them: what masking hides."""

    cpr: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class Readable:
    """The parts of a letter an operator reads, already masked or not."""

    type: str
    version: str
    letter_id: str
    status: str
    sender: str
    receiver: str
    patient_cpr: str
    patient_name: str
    admitted_at: datetime | None
    discharged_at: datetime | None
    sent_at: datetime | None
    diagnoses: tuple[tuple[str, str, str], ...] = ()  # (kind, code, text)
    texts: tuple[tuple[str, str], ...] = ()  # (qualifier, text)


@dataclass(frozen=True)
class LetterView:
    raw: str
    readable: tuple[Readable, ...] = ()
    patients: tuple[Person, ...] = field(default=())
    revealed: bool = False


def patients_of(messages: list) -> tuple[Person, ...]:
    out = []
    for m in messages:
        p = getattr(getattr(m, "letter", None), "patient", None)
        if p is not None:
            names = tuple(n for n in (p.given_names, p.surname, *p.given_names.split(),
                                      *re.split(r"[-\s]", p.surname)) if len(n) > 1)
            out.append(Person(p.cpr, names))
    return tuple(out)


def mask(text: str, patients: tuple[Person, ...]) -> str:
    """``text`` with each patient's CPR and names hidden, and any other CPR-like number masked."""
    for person in patients:
        if len(person.cpr) == 10:
            masked = f"{person.cpr[:6]}-****"
            text = text.replace(f"{person.cpr[:6]}-{person.cpr[6:]}", masked)
            text = text.replace(person.cpr, masked)
        for name in sorted(person.names, key=len, reverse=True):  # "Åse Marie" before "Åse"
            text = re.sub(re.escape(name), HIDDEN, text, flags=re.IGNORECASE)
    return mask_cpr(text)


def _party(party) -> str:
    if party is None:
        return ""
    ident = f"{party.scheme} {party.id}".strip()
    return ", ".join(party.names) + (f" ({ident})" if ident else "")


def read(raw: bytes, *, revealed: bool) -> LetterView:
    """Parse ``raw`` (EDIFACT) into a view; masked unless ``revealed``."""
    from gateway.edifact import parse

    text = raw.decode("latin-1")
    try:
        messages = list(parse(raw).messages)
    except Exception:  # noqa: BLE001 - an unreadable interchange is still shown raw
        return LetterView(text if revealed else mask_cpr(text))
    patients = patients_of(messages)

    def shown(value: str) -> str:
        return value if revealed else mask(value, patients)

    readable = []
    for m in messages:
        letter = getattr(m, "letter", None)
        if letter is None or not hasattr(letter, "patient"):
            continue
        p = letter.patient
        readable.append(Readable(
            type=letter.type, version=letter.version, letter_id=letter.letter_id,
            status=getattr(letter.status, "value", str(letter.status)),
            sender=_party(letter.sender), receiver=_party(letter.receiver),
            patient_cpr=shown(p.cpr) if p else "",
            patient_name=shown(" ".join(x for x in (p.given_names, p.surname) if x)) if p else "",
            admitted_at=letter.admitted_at, discharged_at=letter.discharged_at,
            sent_at=letter.sent_at,
            diagnoses=tuple((d.kind, d.code, shown(d.text)) for d in letter.diagnoses),
            texts=tuple((t.qualifier, shown(t.text)) for t in letter.texts),
        ))
    return LetterView(shown(text), tuple(readable), patients, revealed)
