"""The parts of an XREF01 HospitalReferral the EDIFACT codec keeps in ``Letter.extra``.

The codec models a REF01's parties, patient, diagnoses and texts; the rest stays as segments
in ``Letter.extra`` (see ``gateway.edifact.letters``). OIOXML names some of them, and MedCom's
XML->EDIFACT converter writes the others in every REF01 (its twin shows them):

* S02 ``RFF+ROI:_`` and ``DTM+4`` (the authorisation time again), S06 ``STS++NR``: always;
* S07 ``CON+<HO|CE>+<number>:TE``: ``Patient/TelephoneSubscriber``; ``EMP+1++:::<title>``:
  ``Patient/PersonTitle``;
* S10 ``REL+PER+<code>`` and ``PNA+PAS+<cpr>:::CPR:IM+++SU:<surname>+FO:<given>``: ``Relative``;
* S18 ``GIS+N`` and ``PTY+PRI+<code>``: ``AdditionalInformation/Priority``;
* S19 ``STS++NR`` and ``TDT+PHL++<code>``: ``AdditionalInformation/Transport``.

``extra`` builds those entries from what the XML says, ``facts`` reads them back for the
writer; an entry ``extra`` would not build again from ``facts`` is what XML loses (losses.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from gateway.edifact.grammar import get
from gateway.edifact.segment_values import build, dtm_value, element, pack, unpack
from gateway.model import Letter


@dataclass(frozen=True)
class ReferralRelative:
    """XREF01 ``Relative`` (one at most): REL code, CPR, names."""

    relation: str
    cpr: str = ""
    surname: str = ""
    given_names: str = ""


@dataclass(frozen=True)
class ReferralFacts:
    """What an XREF01 says that the model keeps as extras."""

    patient_title: str = ""
    phones: tuple[tuple[str, str], ...] = ()  # (CON code, number)
    relative: ReferralRelative | None = None
    priority: str = ""  # PTY+PRI code
    transport: str = ""  # TDT+PHL code


def extra(authorised_at: datetime | None, facts: ReferralFacts) -> tuple[tuple[str, str], ...]:
    """The ``Letter.extra`` of a REF01 whose XML says ``facts``, as the codec sorts them."""
    out: list[tuple[str, str]] = [("S02#1", "RFF+ROI:_")]
    if authorised_at is not None:
        out.append(("S02#1", pack(build("DTM", ["4", dtm_value(authorised_at, "203"), "203"]))))
    out.append(("S06#1", "STS++NR"))
    for code, number in facts.phones:
        out.append(("S07#1", pack(build("CON", code, element(number, "TE")))))
    if facts.patient_title:
        out.append(("S07#1", pack(build("EMP", "1", "", element("", "", "", facts.patient_title)))))
    relative = facts.relative
    if relative is not None:
        out.append(("S10#1", pack(build("REL", "PER", relative.relation))))
        person = [element(relative.cpr, "", "", "CPR", "IM") if relative.cpr else "", "", ""]
        person.append(element("SU", relative.surname))
        if relative.given_names:
            person.append(element("FO", relative.given_names))
        out.append(("S10#1", pack(build("PNA", "PAS", *person))))
    if facts.priority:
        out += [("S18#1", "GIS+N"), ("S18#1", pack(build("PTY", "PRI", facts.priority)))]
    if facts.transport:
        out += [("S19#1", "STS++NR"), ("S19#1", pack(build("TDT", "PHL", "", facts.transport)))]
    return tuple(out)


def facts(letter: Letter) -> ReferralFacts:
    """The XREF01 facts a REF01's extras hold (the first of each kind)."""
    phones: list[tuple[str, str]] = []
    values: dict[str, object] = {}
    relation = None
    person: tuple[str, str, str] | None = None
    for where, text in letter.extra:
        seg = unpack(text)
        if where == "S07#1" and seg.tag == "CON" and get(seg, 2, 2) == "TE":
            phones.append((get(seg, 1), get(seg, 2, 1)))
        elif where == "S07#1" and seg.tag == "EMP" and "title" not in values:
            values["title"] = get(seg, 3, 4)
        elif where == "S10#1" and seg.tag == "REL" and relation is None:
            relation = get(seg, 2)
        elif where == "S10#1" and seg.tag == "PNA" and person is None:
            cpr = get(seg, 2, 1) if get(seg, 2, 4) == "CPR" else ""
            surname = get(seg, 5, 2) if get(seg, 5, 1) == "SU" else ""
            given = get(seg, 6, 2) if get(seg, 6, 1) == "FO" else ""
            person = (cpr, surname, given)
        elif where == "S18#1" and seg.tag == "PTY" and get(seg, 1) == "PRI":
            values.setdefault("priority", get(seg, 2))
        elif where == "S19#1" and seg.tag == "TDT" and get(seg, 1) == "PHL":
            values.setdefault("transport", get(seg, 3))
    relative = None
    if relation is not None:
        relative = ReferralRelative(relation, *(person or ("", "", "")))
    return ReferralFacts(
        patient_title=str(values.get("title", "")),
        phones=tuple(phones[:3]),  # Patient/TelephoneSubscriber: at most 3
        relative=relative,
        priority=str(values.get("priority", "")),
        transport=str(values.get("transport", "")),
    )


def represented(letter: Letter) -> list[int]:
    """Indexes of a REF01's extras its XREF01 carries (the rest is lost in XML)."""
    kept = Counter(extra(letter.authorised_at, facts(letter)))
    indexes = []
    for i, entry in enumerate(letter.extra):
        if kept[entry] > 0:  # an entry twice is written once
            kept[entry] -= 1
            indexes.append(i)
    return indexes
