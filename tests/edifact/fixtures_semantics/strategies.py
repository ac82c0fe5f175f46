"""Hypothesis strategies for canonical letters, receipts and envelopes the codec can carry.

What they leave out, on purpose (docs/edifact.md, "Round trip"): FTX lines that are exactly
"." or end in a backslash (MedCom's rules give those another meaning; the renderer refuses
them), control characters, DTM seconds where the letter type writes format 203, and letter
parts a type's grammar does not allow (no S05/S09/S14 in the DIS14/17/20 advis types).
"""

from __future__ import annotations

from datetime import datetime

from hypothesis import strategies as st

from gateway.edifact.grammars import find_grammar
from gateway.edifact.receipts import RECEIPT_VERSIONS
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

EPIKRISE = [
    "DIS01",
    "DIS02",
    "DIS03",
    "DIS05",
    "DIS06",
    "DIS07",
    "DIS08",
    "DIS09",
    "DIS10",
    "DIS13",
    "DIS90",
    "DIS91",
]
ADVIS = ["DIS14", "DIS17", "DIS20"]
VERSIONS = {t: f"D{t[3:]}34L" for t in EPIKRISE} | {
    "DIS14": "D1431C",
    "DIS17": "D1730C",
    "DIS20": "D2030C",
}
# segments the mapping keeps verbatim, in the order the reader meets them
EXTRAS = [
    ("S02#1", "RFF+NO:NC"),
    ("S07#1", "RFF+XPI:0708601GH8"),
    ("S11#1", "GIS+P"),
    ("S11#1", "RFF+AHI:1"),
    ("S11#1", "RFF+REI:ep?:1?+2"),
]
AGENCY = {"SKS": "SST", "YNR": "SFU", "KOM": "IM", "EAN": "", "SOR": ""}

# Latin-1 graphic characters, with the five service characters well represented
LATIN1 = st.characters(
    codec="latin-1", exclude_categories=("Cc",), exclude_characters="\x7f"
) | st.sampled_from(list("?:+' .\\æøåÆØÅé"))
ALNUM = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=14)
DIGITS = st.text("0123456789", min_size=1, max_size=13)


def text(min_size: int = 0, max_size: int = 40) -> st.SearchStrategy[str]:
    return st.text(LATIN1, min_size=min_size, max_size=max_size)


def minutes(lo: int = 1950, hi: int = 2090) -> st.SearchStrategy[datetime]:
    return st.datetimes(datetime(lo, 1, 1), datetime(hi, 12, 31, 23, 59)).map(
        lambda d: d.replace(second=0, microsecond=0)
    )


def seconds() -> st.SearchStrategy[datetime]:
    return st.datetimes(datetime(1950, 1, 1), datetime(2090, 12, 31)).map(
        lambda d: d.replace(microsecond=0)
    )


addresses = st.builds(Address, street=text(), city=text(), postcode=text(max_size=8))
names = st.lists(text(max_size=20), max_size=5).filter(lambda n: not n or n[-1]).map(tuple)


@st.composite
def parties(draw, role: str, *, sender: bool = False) -> Party:
    scheme = draw(st.sampled_from(list(AGENCY)))
    speciality = draw(st.sampled_from(["", "30", "580", "4551"])) if sender else ""
    return Party(
        role=role,
        id=draw(DIGITS),
        scheme=scheme,
        agency=AGENCY[scheme],
        names=draw(names),
        address=draw(st.none() | addresses),
        speciality=speciality,
        speciality_scheme=draw(st.sampled_from(["SKS", "YNR"])) if speciality else "SKS",
        phone=draw(st.sampled_from(["", "66133066", "86 15 88 66"])),
        refs=tuple(
            draw(
                st.lists(st.tuples(st.sampled_from(["LOC", "AHL", "BUH"]), text(1, 30)), max_size=2)
            )
        ),
    )


def _line_ok(line: str) -> bool:
    return line != "." and not line.endswith("\\")


free_lines = st.lists(text(max_size=150).filter(_line_ok), min_size=1, max_size=6)


@st.composite
def free_texts(draw, qualifiers: list[str]) -> FreeText:
    lines = draw(free_lines)
    continued = draw(st.booleans())
    if continued and lines:
        lines[-1] = draw(text(max_size=150))  # an open last line may end in anything
    return FreeText(
        qualifier=draw(st.sampled_from(qualifiers)),
        text="\n".join(lines),
        format=draw(st.sampled_from(["P00", "F00", "FF0", "FU0", "PK0"])),
        continued=continued,
    )


def diagnoses(kinds: list[str], *, dated: bool) -> st.SearchStrategy[Diagnosis]:
    return st.builds(
        Diagnosis,
        kind=st.sampled_from(kinds),
        code=ALNUM,
        text=text(max_size=60),
        scheme=st.sampled_from(["SKS", "USP", "ICP"]),
        agency=st.sampled_from(["SST", ""]),
        at=(st.none() | minutes()) if dated else st.none(),
    )


@st.composite
def letters(draw, types: list[str] | None = None) -> Letter:
    type_ = draw(st.sampled_from(types or EPIKRISE + ADVIS))
    advis = type_ in ADVIS
    grammar = find_grammar(type_)
    pas = sorted(next(v for v in grammar.group("S11")[1].segment("PAS")[1].values).codes)
    when = seconds() if advis else minutes()
    sender_role, receiver_role = ("SOR", "ROR") if advis else ("SSP", "PO")
    qualifiers = ["OE", "NC"] if type_ in ("DIS90", "DIS91") else ["NC", "BIN", "SUP", "URL"]
    return Letter(
        type=type_,
        version=VERSIONS[type_],
        ref=draw(ALNUM),
        letter_id=draw(ALNUM),
        status=draw(st.sampled_from(list(LetterStatus))),
        family="MEDDIS",
        authorised_at=draw(when),
        sent_at=draw(when),
        sender=draw(parties(sender_role, sender=True)),
        receiver=draw(parties(receiver_role)),
        copies=() if advis else tuple(draw(st.lists(parties("CCR"), max_size=2))),
        contacts=tuple(
            draw(
                st.lists(
                    parties("BV" if type_ == "DIS14" else "RSP"),
                    max_size=0 if type_ in ("DIS17", "DIS20") else 2,
                )
            )
        ),
        patient=Patient(
            cpr=draw(st.text("0123456789", min_size=10, max_size=10)),
            surname=draw(text(max_size=30)),
            given_names=draw(text(max_size=30)),
            address=draw(st.none() | addresses),
            episode_status=draw(st.sampled_from(["", *pas])),
        ),
        admitted_at=draw(st.none() | minutes()),
        discharged_at=draw(st.none() | minutes()),
        diagnoses=tuple(
            draw(
                st.lists(
                    diagnoses(
                        ["A", "DM"] if advis else ["A", "DM", "TR", "IN", "DI", "B", "H"],
                        dated=not advis,
                    ),
                    max_size=4,
                )
            )
        ),
        texts=() if advis else tuple(draw(st.lists(free_texts(qualifiers), max_size=4))),
        relatives=()
        if advis
        else tuple(
            draw(
                st.lists(
                    st.builds(
                        Relative,
                        relation=st.sampled_from(["FA", "MO", "SO"]),
                        surname=text(max_size=20),
                        given_names=text(max_size=20),
                    ),
                    max_size=2,
                )
            )
        ),
        referral=None
        if advis
        else draw(
            st.none()
            | st.builds(
                Referral,
                id=ALNUM,
                status=st.sampled_from(list(LetterStatus)),
                received_at=st.none() | minutes(),
                diagnoses=st.lists(diagnoses(["DI", "DM"], dated=False), max_size=2).map(tuple),
            )
        ),
        priority=draw(st.sampled_from(["", "NC"])),
        extra=tuple(
            e
            for e, keep in zip(
                EXTRAS, draw(st.lists(st.booleans(), min_size=5, max_size=5)), strict=True
            )
            if keep
        ),
    )


@st.composite
def receipts(draw) -> Receipt:
    type_ = draw(st.sampled_from(sorted(RECEIPT_VERSIONS)))
    accepted = type_ == "CTL03"
    refs = draw(st.lists(ALNUM, min_size=0 if type_ == "CTL01" else 1, max_size=3, unique=True))
    identifier = draw(st.sampled_from(["MEDDIS:D:93A:UN:D0133L", "MEDREF:D:93A:UN:H0130R"]))
    letters_ = tuple(OriginalLetter(r, identifier, "7" if accepted else "4") for r in refs)
    return Receipt(
        type=type_,
        version=RECEIPT_VERSIONS[type_],
        ref=draw(ALNUM),
        original_control_ref=draw(ALNUM),
        original_sender=draw(DIGITS),
        original_recipient=draw(DIGITS),
        original_letters=letters_,
        refusal=None if accepted else draw(st.sampled_from(list(RefusalCode))),
        text="" if accepted else "\n".join(draw(free_lines)),
        refused_letter_ref="" if accepted or not refs else draw(st.sampled_from(["", *refs])),
    )


envelopes = st.builds(
    Envelope,
    sender=st.text("0123456789", min_size=13, max_size=13),
    recipient=st.text("0123456789", min_size=13, max_size=13),
    control_ref=ALNUM,
    prepared_at=minutes(1971, 2069),
    ack_requested=st.booleans(),
    test=st.booleans(),
)
