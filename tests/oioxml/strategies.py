"""Hypothesis strategies for letters and receipts that OIOXML can carry in full.

Every generated message satisfies ``unrepresented(...) == []``; the round-trip tests rely on
it, and test_roundtrip checks it so the strategies cannot drift from the writer's rules.
"""

from __future__ import annotations

from datetime import datetime

from hypothesis import strategies as st

from gateway.model import (
    Address,
    Diagnosis,
    Envelope,
    FreeText,
    Letter,
    LetterStatus,
    OriginalLetter,
    Party,
    Patient,
    Receipt,
    Referral,
    RefusalCode,
    Relative,
)
from gateway.oioxml import codes, extras

# XML 1.0 text without \r (parsers turn it into \n) and without control characters.
_CHARS = st.characters(
    min_codepoint=32, max_codepoint=0x17F, exclude_categories=("Cs", "Cc")
) | st.sampled_from("€æøåÆØÅ")
text = st.text(_CHARS, max_size=20)
some_text = st.text(_CHARS, min_size=1, max_size=20)
ident = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=14)
minutes = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0)
)
lines_text = st.lists(text, min_size=1, max_size=4).map("\n".join)


def _names():
    return st.lists(text, max_size=3).map(lambda ns: tuple(_trim(ns)))


def _trim(names: list[str]) -> list[str]:
    while names and not names[-1]:
        names.pop()
    return names


addresses = st.one_of(
    st.none(),
    st.builds(Address, street=text, city=text, postcode=text).filter(
        lambda a: a.street or a.city or a.postcode
    ),
)
schemes = st.sampled_from(["", *codes.IDENTIFIER_CODES.codes()])


@st.composite
def parties(draw, role: str, *, sender: bool = False, address: bool = True) -> Party:
    scheme = draw(schemes)
    return Party(
        role=role,
        id=draw(text),
        scheme=scheme,
        agency=codes.AGENCY_BY_SCHEME.get(scheme, ""),
        names=draw(_names()),
        address=draw(addresses) if address else None,
        speciality=draw(st.sampled_from(["", *codes.SPECIALITY_CODES.codes()])) if sender else "",
        phone=draw(text) if sender else "",
    )


patients = st.builds(
    Patient,
    cpr=st.from_regex(r"[0-9]{10}", fullmatch=True),
    surname=text,
    given_names=text,
    address=addresses,
    episode_status=st.sampled_from(["", *codes.EPISODE_STATUS.codes()]),
)


@st.composite
def diagnoses(draw, kind) -> Diagnosis:
    scheme = draw(st.sampled_from(codes.DIAGNOSIS_SCHEMES.codes()))
    return Diagnosis(
        kind=draw(kind),
        code=draw(text),
        text=draw(text),
        scheme=scheme,
        agency=codes.DIAGNOSIS_AGENCY[scheme],
        at=draw(st.none() | minutes),
    )


@st.composite
def diagnosis_lists(draw):
    """(diagnoses, layout extras): an S11 head XDIS01 can say (an A, then DMs; SKS, no time)
    and any S14 tail, with the layout entry the EDIFACT codec records when it is needed."""
    plain = diagnoses(st.just("DM")).map(_no_time).map(_sks)
    head = draw(st.lists(plain, max_size=2))
    if draw(st.booleans()):
        head = [_sks(_no_time(draw(diagnoses(st.just("A"))))), *head]
    tail = draw(st.lists(diagnoses(st.sampled_from(codes.DIAGNOSIS_KINDS.codes())), max_size=3))
    diags = tuple(head + tail)
    layout = extras.layout_extra(diags, len(head))
    return diags, (() if layout is None else (layout,))


def _sks(d: Diagnosis) -> Diagnosis:
    return Diagnosis(d.kind, d.code, d.text, "SKS", "SST", d.at)


@st.composite
def referrals(draw) -> Referral:
    main = draw(st.lists(diagnoses(st.just("DI")).map(_no_time), max_size=1))
    more = draw(st.lists(diagnoses(st.just("DM")).map(_no_time), max_size=2))
    return Referral(
        id=draw(text), received_at=draw(st.none() | minutes), diagnoses=tuple(main + more)
    )


def _no_time(d: Diagnosis) -> Diagnosis:
    return Diagnosis(d.kind, d.code, d.text, d.scheme, d.agency)


@st.composite
def free_texts(draw, qualifier: str = "NC") -> FreeText:
    body = draw(lines_text)
    fmt = draw(st.sampled_from(list(codes.TEXT_FORMATS)))
    continued = draw(st.booleans()) and not body.endswith("\n") and (fmt != "P00" or body != "")
    return FreeText(qualifier, body, fmt, continued=continued)


envelopes = st.builds(
    Envelope,
    sender=ident,
    recipient=ident,
    control_ref=ident,
    prepared_at=minutes,
    ack_requested=st.booleans(),
)


@st.composite
def letters(draw) -> Letter:
    letter_type = draw(st.sampled_from(["DIS01", "DIS91"]))
    version = {"DIS01": "D0133L", "DIS91": "D9134L"}[letter_type]
    ref = draw(ident)
    authorised = draw(st.none() | minutes)
    texts = draw(st.lists(free_texts(), max_size=4))
    common = dict(
        type=letter_type,
        version=version,
        ref=ref,
        letter_id=ref,
        status=draw(st.sampled_from(LetterStatus)),
        family="MEDDIS",
        authorised_at=authorised,
        sent_at=authorised,
        sender=draw(parties("SSP", sender=True)),
        receiver=draw(parties("PO")),
        patient=draw(patients),
    )
    episode = extras.episode_extra(draw(st.none() | text))
    if letter_type == "DIS91":
        subject = draw(st.lists(text.map(lambda t: FreeText("OE", t)), max_size=1))
        level = draw(st.sampled_from(["", "HI", "NO"]))
        kept = (extras.ROUTINE, episode) if level == "NO" else (episode,)
        priority = extras.HIGH_PRIORITY if level == "HI" else ""
        return Letter(**common, texts=tuple(subject + texts), priority=priority, extra=kept)
    diags, layout = draw(diagnosis_lists())
    return Letter(
        **common,
        extra=(episode, *layout),
        copies=tuple(draw(st.lists(parties("CCR"), max_size=2))),
        contacts=tuple(draw(st.lists(parties("RSP", address=False), max_size=1))),
        relatives=tuple(
            draw(
                st.lists(
                    st.builds(
                        Relative,
                        relation=st.sampled_from(codes.RELATION_CODES.codes()),
                        surname=text,
                        given_names=text,
                    ),
                    max_size=2,
                )
            )
        ),
        referral=draw(st.none() | referrals()),
        admitted_at=draw(st.none() | minutes),
        discharged_at=draw(st.none() | minutes),
        diagnoses=diags,
        texts=tuple(texts),
    )


@st.composite
def receipts(draw) -> Receipt:
    receipt_type = draw(st.sampled_from(["CTL01", "CTL02", "CTL03"]))
    action = "7" if receipt_type == "CTL03" else "4"
    refs = draw(st.lists(ident, min_size=1, max_size=3, unique=True))
    versions = st.sampled_from(["H0130R", "D0133L", "D9134L", "R0130K", "Q0130K"])
    originals = tuple(
        OriginalLetter(r, codes.message_identifier(draw(versions)), action) for r in refs
    )
    refusal, body, on_letter = None, "", ""
    if receipt_type != "CTL03":
        refusal = draw(st.none() | st.sampled_from(RefusalCode))
        body = draw(st.just("") | lines_text)
        if refusal is not None or body:
            on_letter = draw(st.sampled_from(["", *refs]))
    return Receipt(
        type=receipt_type,
        version={"CTL01": "C0130Q", "CTL02": "C0230Q", "CTL03": "C0330Q"}[receipt_type],
        ref=draw(ident),
        original_control_ref=draw(ident),
        original_sender=draw(ident),
        original_recipient=draw(ident),
        original_letters=originals,
        refusal=refusal,
        text=body,
        refused_letter_ref=on_letter,
    )


messages = letters() | receipts()
