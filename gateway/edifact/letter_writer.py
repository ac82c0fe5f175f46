"""Writing a canonical ``Letter`` as MEDDIS body segments (the inverse of ``letter_reader``).

The conventions written here (and therefore not recorded as extras by the reader) are listed
in ``gateway.edifact.letters``; extras from ``Letter.extra`` are put back into their group at
the place the grammar gives their tag.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydifact.segments import Segment

from gateway.edifact.ftx import ftx_elements
from gateway.edifact.grammar import MessageGrammar
from gateway.edifact.segment_values import build, dtm_value, element, unpack
from gateway.errors import LocalUsageError
from gateway.model import Address, Diagnosis, Letter, Party, Patient, Referral, Relative

__all__ = ["write_letter", "default_s11_count"]

SENDER_ROLES = ("SSP", "SOR")
RECEIVER_ROLES = ("PO", "ROR")
COPY_ROLES = ("CCR",)
BGM_LETTER = ["EPI", "", "9", "NA"]
# A REF01 hospital referral (MEDREF) goes the other way: the GP (NAD+PO) refers to the hospital
# department (NAD+SSP); BGM+HNV; the letter group S02 holds the referral diagnoses (CIN) and the
# clinical reason (FTX+DI); S12 the clinical texts; S19 the transport with its remark (FTX+COT).
REFERRAL_TYPES = frozenset({"REF01"})
BGM_REFERRAL = ["HNV", "", "9", "NA"]
REFERRAL_SENDER_ROLES = ("PO",)
REFERRAL_RECEIVER_ROLES = ("SSP",)
REFERRAL_TEXT_GROUPS = {"DI": "S02", "COT": "S19"}  # every other FTX qualifier stands in S12
REFERRAL_ORDER = {  # where extras go among the segments written (MedCom's order)
    "S02": {"GIS": 0, "RFF": 1, "DTM": 2, "CIN": 3, "FTX": 4},
    "S19": {"STS": 0, "TDT": 1, "FTX": 2},
}
SPECIALITY_AGENCY = {"SKS": "SST", "YNR": "SFU"}
RECEIVER_FIRST = {"DIS14"}
LAYOUT_KEY = "layout"  # Letter.extra entries that steer from_model, not segments
S11_CIN = "S11.CIN="  # how many leading diagnoses stand in S11 (when not the default)
AS_WRITTEN = "~"  # key prefix: a mapped segment as the sender wrote it (not in our normal form)


def default_s11_count(diagnoses: list[Diagnosis] | tuple[Diagnosis, ...]) -> int:
    """How many leading diagnoses ``from_model`` puts in S11 unless told otherwise."""
    cut = 0
    while cut < len(diagnoses) and diagnoses[cut].kind in ("A", "DM") and not diagnoses[cut].at:
        cut += 1
    return cut


def write_letter(letter: Letter, grammar: MessageGrammar) -> list[Segment]:
    """The body segments of ``letter`` under its type's ``grammar``."""
    if letter.type in REFERRAL_TYPES:
        return _Writer(letter, grammar).write_referral()
    return _Writer(letter, grammar).write()


def roles(letter_type: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(sender, receiver, copy) NAD roles of a letter type."""
    if letter_type in REFERRAL_TYPES:
        return REFERRAL_SENDER_ROLES, REFERRAL_RECEIVER_ROLES, ()
    return SENDER_ROLES, RECEIVER_ROLES, COPY_ROLES


def bgm(letter_type: str) -> list[str]:
    return BGM_REFERRAL if letter_type in REFERRAL_TYPES else BGM_LETTER


def referral_text_group(qualifier: str) -> str:
    return REFERRAL_TEXT_GROUPS.get(qualifier, "S12")


class _Writer:
    def __init__(self, letter: Letter, grammar: MessageGrammar) -> None:
        self.letter = letter
        self.grammar = grammar
        self.extra: dict[str, list[Segment]] = {}
        self.as_written: dict[str, list[Segment]] = {}
        self.layout: list[str] = []
        for key, text in letter.extra:
            if key == LAYOUT_KEY:
                self.layout.append(text)
            elif key.startswith(AS_WRITTEN):
                self.as_written.setdefault(key[len(AS_WRITTEN) :], []).append(unpack(text))
            else:
                self.extra.setdefault(key, []).append(unpack(text))

    def write(self) -> list[Segment]:
        letter = self.letter
        out: list[Segment] = []
        header = [build("BGM", *BGM_LETTER)]
        if letter.authorised_at is not None:
            header.append(self._dtm("header", "137", letter.authorised_at))
        out += self._place("header", header, "header")
        for group, key in self._parties():
            out += self._group("S01", group, key)
        out += self._group("S02", self._s02(), "S02#1")
        if letter.referral is not None:
            out += self._group("S05", self._s05(letter.referral), "S05#1")
        if letter.patient is not None:
            out += self._group("S07", self._s07(letter.patient), "S07#1")
        for n, relative in enumerate(letter.relatives, 1):
            out += self._group("S09", self._s09(relative), f"S09#{n}")
        s11_diagnoses, s14_diagnoses = self._split_diagnoses()
        out += self._group("S11", self._s11(s11_diagnoses), "S11#1")
        s14 = [self._s14_diagnosis(d) for d in s14_diagnoses] + self._s14_texts()
        for n, body in enumerate(s14, 1):
            out += self._group("S14", body, f"S14#{n}")
        for key in list(self.extra):  # extras of groups this letter does not otherwise have
            name, _, _ = key.partition("#")
            name = name.split("/")[0]
            if name.startswith("S") and self.extra.get(key):
                out += self._group(name, [], key)
        return out

    def write_referral(self) -> list[Segment]:
        """A REF01: header, S01 parties, S02 (status, diagnoses, clinical reason), S07 patient,
        S12 texts, S19 transport remark, and the groups only extras hold, in group order."""
        letter = self.letter
        for name in ("copies", "relatives", "referral", "admitted_at", "discharged_at"):
            if getattr(letter, name):
                raise LocalUsageError(f"a {letter.type} has no place for letter.{name}")
        if letter.letter_id or letter.sent_at or letter.priority:
            raise LocalUsageError(f"a {letter.type} has no RFF+SRI, DTM+182 or RFF+HI")
        if any(d.at is not None for d in letter.diagnoses):
            raise LocalUsageError(f"a {letter.type} diagnosis (S02 CIN) carries no date")
        out: list[Segment] = []
        header = [build("BGM", *BGM_REFERRAL)]
        if letter.authorised_at is not None:
            header.append(self._dtm("header", "137", letter.authorised_at))
        out += self._place("header", header, "header")
        groups: list[tuple[str, str, list[Segment]]] = []
        for body, key in self._parties():
            groups.append(("S01", key, body))
        texts: dict[str, list[Segment]] = {}
        for text in letter.texts:
            group = referral_text_group(text.qualifier)
            texts.setdefault(group, []).extend(build("FTX", *els) for els in ftx_elements(text))
        s02 = [build("GIS", letter.status.value), *(_cin(d) for d in letter.diagnoses)]
        groups.append(("S02", "S02#1", s02 + texts.pop("S02", [])))
        if letter.patient is not None:
            groups.append(("S07", "S07#1", self._s07(letter.patient)))
        for name, body in texts.items():
            groups.append((name, f"{name}#1", body))
        claimed = {key for _, key, _ in groups}
        for key in self.extra:
            name = key.partition("#")[0].split("/")[0]
            if name.startswith("S") and key not in claimed:
                groups.append((name, key, []))
        groups.sort(key=lambda g: int(g[0][1:]))  # stable: parties and occurrences keep order
        for name, key, body in groups:
            order = REFERRAL_ORDER.get(name)
            out += [build(name, name[1:]), *self._place(name, body, key, order)]
        return out

    def _place(
        self, group: str, body: list[Segment], key: str, order: dict[str, int] | None = None
    ) -> list[Segment]:
        """``body`` with the group's extras inserted where the grammar orders their tags."""
        located = self.grammar.group(group)
        spec = self.grammar.header if group == "header" else (located[1] if located else None)
        if order is None:
            order = {s.tag: i for i, s in enumerate(spec.segments or ())} if spec else {}
        result = self._as_written(group, list(body))
        for seg in self.extra.pop(key, []):
            rank = order.get(seg.tag, len(order))
            at = len(result)
            while at > 0 and order.get(result[at - 1].tag, len(order)) > rank:
                at -= 1
            result.insert(at, seg)
        return result

    def _as_written(self, group: str, body: list[Segment]) -> list[Segment]:
        """Put back segments as the sender wrote them where the model still says the same
        (their normal form equals what we generated); a changed model wins over them."""
        pool = self.as_written.get(group, [])
        for raw in list(pool):
            target = canonical(self.grammar, group, raw)
            for index, seg in enumerate(body):
                if target is not None and same(seg, target):
                    body[index] = raw
                    pool.remove(raw)
                    break
        return body

    def _group(self, name: str, body: list[Segment], key: str) -> list[Segment]:
        return [build(name, name[1:]), *self._place(name, body, key)]

    def _dtm(self, group: str, qualifier: str, at: datetime) -> Segment:
        fmt = self._format(group, qualifier)
        return build("DTM", [qualifier, dtm_value(at, fmt), fmt])

    def _format(self, group: str, qualifier: str) -> str:
        return dtm_format(self.grammar, group, qualifier)

    def _parties(self) -> Iterable[tuple[list[Segment], str]]:
        letter = self.letter
        main = [letter.sender, letter.receiver]
        if letter.type in RECEIVER_FIRST:
            main.reverse()
        parties = [p for p in main if p is not None] + list(letter.copies) + list(letter.contacts)
        seen: Counter[str] = Counter()
        for number, party in enumerate(parties, 1):
            seen[party.role] += 1
            yield (
                self._party(party, number, is_sender=party is letter.sender),
                (f"S01/{party.role}#{seen[party.role]}"),
            )

    def _party(self, party: Party, number: int, *, is_sender: bool) -> list[Segment]:
        if len(party.names) > 5:
            raise LocalUsageError("a NAD party has at most 5 name components")
        names = element(*party.names, *[""] * (5 - len(party.names)), "US") if party.names else ""
        body = [build("NAD", party.role, element(party.id, party.scheme, party.agency), "", names)]
        if party.address is not None:
            body.append(_adr(party.address))
        if party.phone:
            body.append(build("CON", "", element(party.phone, "TE")))
        body += [build("RFF", element(q, v)) for q, v in party.refs]
        body.append(build("SEQ", "", str(number)))
        if is_sender:
            scheme = party.speciality_scheme if party.speciality else ""
            speciality = element(party.speciality, scheme, SPECIALITY_AGENCY.get(scheme, ""))
            body.append(build("SPR", "ORG", speciality, element(self.letter.type, "SKS", "SST")))
        return body

    def _s02(self) -> list[Segment]:
        letter = self.letter
        body = [build("GIS", letter.status.value), build("RFF", element("SRI", letter.letter_id))]
        if letter.priority:
            body.append(build("RFF", element("HI", letter.priority)))
        if letter.sent_at is not None:
            body.append(self._dtm("S02", "182", letter.sent_at))
        return body

    def _s05(self, referral: Referral) -> list[Segment]:
        body = [build("GIS", referral.status.value), build("RFF", element("ROI", referral.id))]
        if referral.received_at is not None:
            body.append(self._dtm("S05", "8", referral.received_at))
        for diagnosis in referral.diagnoses:
            if diagnosis.at is not None:
                raise LocalUsageError("a referral diagnosis (S05 CIN) carries no date")
            body.append(_cin(diagnosis))
        return body

    def _s07(self, patient: Patient) -> list[Segment]:
        body = [build("PNA", "PAT", *_person(patient.cpr, patient.surname, patient.given_names))]
        if patient.address is not None:
            body.append(_adr(patient.address))
        return body

    def _s09(self, relative: Relative) -> list[Segment]:
        return [
            build("REL", "PER", relative.relation),
            build("PNA", "PAS", *_person("", relative.surname, relative.given_names)),
        ]

    def _split_diagnoses(self) -> tuple[list[Diagnosis], list[Diagnosis]]:
        diagnoses = list(self.letter.diagnoses)
        cut = default_s11_count(diagnoses)
        for text in self.layout:
            if text.startswith(S11_CIN) and text[len(S11_CIN) :].isdigit():
                cut = int(text[len(S11_CIN) :])
        if any(d.at is not None for d in diagnoses[:cut]) or cut > len(diagnoses):
            raise LocalUsageError(f"layout {S11_CIN}{cut}: S11 diagnoses carry no date")
        return diagnoses[:cut], diagnoses[cut:]

    def _s11(self, diagnoses: list[Diagnosis]) -> list[Segment]:
        letter = self.letter
        has_gis = any(s.tag == "GIS" for s in self.extra.get("S11#1", []))
        body = [] if has_gis else [build("GIS", "N")]
        body.append(build("SEQ", "", "1"))
        if letter.admitted_at is not None:
            body.append(self._dtm("S11", "90", letter.admitted_at))
        if letter.discharged_at is not None:
            body.append(self._dtm("S11", "91", letter.discharged_at))
        if letter.patient is not None and letter.patient.episode_status:
            body.append(build("PAS", letter.patient.episode_status))
        body += [_cin(d) for d in diagnoses]
        return body

    def _s14_diagnosis(self, diagnosis: Diagnosis) -> list[Segment]:
        body = [_cin(diagnosis)]
        if diagnosis.at is not None:
            body.append(self._dtm("S14", "CIS", diagnosis.at))
        return body

    def _s14_texts(self) -> list[list[Segment]]:
        groups: list[list[Segment]] = []
        previous = None
        for text in self.letter.texts:
            key = (text.qualifier, text.format)
            if not groups or key == previous:
                groups.append([])
            groups[-1] += [build("FTX", *els) for els in ftx_elements(text)]
            previous = key
        return groups


def _adr(address: Address) -> Segment:
    return build("ADR", "", element("US", address.street), address.city, address.postcode)


def _person(cpr: str, surname: str, given: str) -> list[Any]:
    els: list[Any] = [element(cpr, "", "", "CPR", "IM") if cpr else "", "", ""]
    if surname or given:
        els.append(element("SU", surname))
    if given:
        els.append(element("FO", given))
    return els


def _cin(diagnosis: Diagnosis) -> Segment:
    code = element(diagnosis.code, diagnosis.scheme, diagnosis.agency, diagnosis.text)
    return build("CIN", diagnosis.kind, code)


def dtm_format(grammar: MessageGrammar, group: str, qualifier: str) -> str:
    """The DTM format code written for ``qualifier`` in ``group``: the first the grammar
    allows of 203, 204, 102."""
    located = grammar.group(group)
    spec = grammar.header if group == "header" else (located[1] if located else None)
    seg = spec.segment("DTM") if spec else None
    allowed = seg[1].formats.get(qualifier) if seg else None
    for fmt in ("203", "204", "102"):
        if allowed is None or fmt in allowed:
            return fmt
    return "203"


def same(a: Segment, b: Segment) -> bool:
    return a.tag == b.tag and list(a.elements) == list(b.elements)


def _names_element(names: tuple[str, ...] | list[str]) -> Any:
    return element(*names, *[""] * (5 - len(names)), "US") if names else ""


def canonical(grammar: MessageGrammar, group: str, seg: Segment) -> Segment | None:
    """The normal form this module writes for what a mapped segment says (None: not mapped
    field by field). A received segment that differs from its normal form carries more than
    the model (extra components, another DTM format ...) and is kept as written."""
    from gateway.edifact.grammar import components, get
    from gateway.edifact.segment_values import parse_dtm

    tag = seg.tag
    if tag == "NAD":
        names = components(seg.elements[3])[:5] if len(seg.elements) > 3 else []
        while names and not names[-1]:
            names.pop()
        party = element(get(seg, 2, 1), get(seg, 2, 2), get(seg, 2, 3))
        return build("NAD", get(seg, 1), party, "", _names_element(names))
    if tag == "ADR":
        return _adr(Address(get(seg, 2, 2), get(seg, 3), get(seg, 4)))
    if tag == "PNA":
        surname = get(seg, 5, 2) if get(seg, 5, 1) == "SU" else ""
        given = get(seg, 6, 2) if get(seg, 6, 1) == "FO" else ""
        return build("PNA", get(seg, 1), *_person(get(seg, 2, 1), surname, given))
    if tag == "CIN":
        return _cin(
            Diagnosis(get(seg, 1), get(seg, 2, 1), get(seg, 2, 4), get(seg, 2, 2), get(seg, 2, 3))
        )
    if tag == "REL":
        return build("REL", get(seg, 1), get(seg, 2))
    if tag in ("GIS", "PAS"):
        return build(tag, get(seg, 1))
    if tag == "RFF":
        return build("RFF", element(get(seg, 1, 1), get(seg, 1, 2)))
    if tag == "DTM":
        at = parse_dtm(get(seg, 1, 2), get(seg, 1, 3))
        if at is None:
            return None
        fmt = dtm_format(grammar, group, get(seg, 1))
        return build("DTM", [get(seg, 1), dtm_value(at, fmt), fmt])
    return None
