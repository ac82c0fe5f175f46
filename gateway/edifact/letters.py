"""Canonical mapping of MedCom letters: message segments <-> ``gateway.model.Letter``.

``to_model`` reads the groups of a MEDDIS letter (the epikriser DIS01-DIS13, the
correspondence letters DIS90/DIS91 and the municipal advis DIS14/DIS17/DIS20) into a
``Letter``, a CONTRL into a ``Receipt`` (``receipts.receipt_from_message``); other families
give None (their segments stay available on the message). ``from_model`` writes the body
segments back; ``render_letter`` wraps them in UNB/UNH..UNT/UNZ with the codec's encoder.

Nothing is dropped: a segment this mapping does not model (RFF+AHI in S11, a second CON,
RFF+REI, ...) is kept verbatim in ``Letter.extra`` as ``(where, "TAG+el+c1:c2")``, where
``where`` is ``S01/<role>#<n>`` for a party's group, ``header``, or ``<group>#<occurrence>``;
``from_model`` puts it back into that group at the place the grammar gives its tag. One more
kind of entry, ``("layout", "S11.CIN=<n>")``, records how many diagnoses stood in S11 when
that differs from the default below.

Conventions ``from_model`` writes (and ``to_model`` therefore does not record as extras):
BGM+EPI++9+NA; S01 groups sender, receiver, copies, contacts (DIS14: receiver first), each
with SEQ++<n> and the sender with SPR+ORG; S11 always, with GIS+N and SEQ++1 unless extras
say otherwise; diagnoses A/DM without a date in S11, the rest in S14 (one CIN per group,
DTM+CIS after it); all texts in one S14 group, a new group only where two adjacent texts have
the same qualifier and format (they would merge into one run otherwise).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydifact.segments import Segment

from gateway.edifact.ftx import decode_runs, ftx_elements
from gateway.edifact.grammar import MessageGrammar, components, get, split_groups
from gateway.edifact.grammars import find_grammar
from gateway.edifact.segment_values import build, dtm_value, element, pack, parse_dtm, unpack
from gateway.errors import LocalUsageError
from gateway.model import (
    Address,
    Diagnosis,
    Envelope,
    Letter,
    LetterStatus,
    Party,
    Patient,
    Receipt,
    Referral,
    Relative,
)

__all__ = ["to_model", "from_model", "render_letter", "letter_identifier"]

SENDER_ROLES = ("SSP", "SOR")
RECEIVER_ROLES = ("PO", "ROR")
COPY_ROLES = ("CCR",)
BGM_LETTER = ["EPI", "", "9", "NA"]
SPECIALITY_AGENCY = {"SKS": "SST", "YNR": "SFU"}
RECEIVER_FIRST = {"DIS14"}
LAYOUT_KEY = "layout"  # Letter.extra entries that steer from_model, not segments
S11_CIN = "S11.CIN="  # how many leading diagnoses stand in S11 (when not the default)


def to_model(message: Any, interchange: Any = None) -> Letter | Receipt | None:
    """The canonical form of a (valid) message: a Letter, a Receipt, or None for the families
    this codec only checks structurally (MEDREF, MEDRPT, MEDREQ, MEDBIN, MEDPRE)."""
    if message.family == "CONTRL":
        from gateway.edifact.receipts import receipt_from_message

        return receipt_from_message(message)
    grammar = find_grammar(message.type)
    if message.family != "MEDDIS" or grammar is None:
        return None
    return _Reader(message, grammar).read()


def letter_identifier(item: Letter | Receipt) -> list[str]:
    """UNH element 2 for a letter or receipt: e.g. ``MEDDIS:D:93A:UN:D0133L``."""
    grammar = _grammar(item.type)
    return [*grammar.identifier, item.version]


def _grammar(type_: str) -> MessageGrammar:
    grammar = find_grammar(type_)
    if grammar is None:
        raise LocalUsageError(f"unknown letter type {type_!r}")
    return grammar


# -- reading -----------------------------------------------------------------------------------


@dataclass
class _PartyDraft:
    role: str
    fields: dict[str, Any] = field(default_factory=dict)


class _Reader:
    def __init__(self, message: Any, grammar: MessageGrammar) -> None:
        self.message = message
        self.grammar = grammar
        self.values: dict[str, Any] = {}
        self.parties: list[Party] = []
        self.patient: dict[str, Any] = {}
        self.diagnoses: list[Diagnosis] = []
        self.relatives: list[Relative] = []
        self.texts: list = []
        self.extra: list[tuple[str, str]] = []
        self.s11_diagnoses = 0

    def read(self) -> Letter:
        occurrences: Counter[str] = Counter()
        role_counts: Counter[str] = Counter()
        for group in split_groups(list(self.message.segments)):
            occurrences[group.name] += 1
            body = list(group.segments[1:] if group.number is not None else group.segments)
            if group.name == "S01":
                rest, role = self._party(body, occurrences["S01"])
                role_counts[role] += 1
                key = f"S01/{role}#{role_counts[role]}"
            else:
                handler = getattr(self, f"_{group.name.lower()}", self._unknown)
                rest = handler(body)
                key = (
                    group.name
                    if group.name == "header"
                    else f"{group.name}#{occurrences[group.name]}"
                )
            self.extra.extend((key, pack(seg)) for seg in rest)
        if self.s11_diagnoses != _default_s11_count(self.diagnoses):
            self.extra.append((LAYOUT_KEY, f"{S11_CIN}{self.s11_diagnoses}"))
        return self._letter()

    def _letter(self) -> Letter:
        senders = [p for p in self.parties if p.role in SENDER_ROLES]
        receivers = [p for p in self.parties if p.role in RECEIVER_ROLES]
        sender = senders[0] if senders else None
        receiver = receivers[0] if receivers else None
        copies = tuple(p for p in self.parties if p.role in COPY_ROLES)
        contacts = tuple(
            p
            for p in self.parties
            if p is not sender and p is not receiver and p.role not in COPY_ROLES
        )
        patient = Patient(**self.patient) if "cpr" in self.patient else None
        return Letter(
            type=self.message.type,
            version=self.message.version,
            ref=self.message.ref,
            family=self.message.family,
            sender=sender,
            receiver=receiver,
            copies=copies,
            contacts=contacts,
            patient=patient,
            diagnoses=tuple(self.diagnoses),
            texts=tuple(self.texts),
            relatives=tuple(self.relatives),
            extra=tuple(self.extra),
            **self.values,
        )

    def _unknown(self, body: list[Segment]) -> list[Segment]:
        return body

    def _date(self, seg: Segment) -> datetime | None:
        return parse_dtm(get(seg, 1, 2), get(seg, 1, 3))

    def _header(self, body: list[Segment]) -> list[Segment]:
        rest = []
        for seg in body:
            if seg.tag == "BGM" and _flat(seg) == BGM_LETTER:
                continue
            if seg.tag == "DTM" and get(seg, 1) == "137" and self._date(seg):
                self.values["authorised_at"] = self._date(seg)
                continue
            rest.append(seg)
        return rest

    def _party(self, body: list[Segment], number: int) -> tuple[list[Segment], str]:
        rest: list[Segment] = []
        nad = next((s for s in body if s.tag == "NAD"), None)
        role = get(nad, 1) if nad is not None else ""
        values: dict[str, Any] = {"role": role}
        refs: list[tuple[str, str]] = []
        for seg in body:
            if seg is nad:
                values.update(id=get(seg, 2, 1), scheme=get(seg, 2, 2), agency=get(seg, 2, 3))
                names = components(seg.elements[3]) if len(seg.elements) > 3 else []
                names = names[:5]
                while names and not names[-1]:
                    names.pop()
                values["names"] = tuple(names)
            elif seg.tag == "ADR" and "address" not in values:
                values["address"] = _address(seg)
            elif seg.tag == "CON" and "phone" not in values and _is_phone(seg):
                values["phone"] = get(seg, 2, 1)
            elif seg.tag == "RFF" and len(seg.elements) == 1:
                refs.append((get(seg, 1, 1), get(seg, 1, 2)))
            elif seg.tag == "SEQ" and _flat(seg) == ["", str(number)]:
                continue
            elif seg.tag == "SPR" and role in SENDER_ROLES and self._is_spr(seg):
                values["speciality"] = get(seg, 2, 1)
                values["speciality_scheme"] = get(seg, 2, 2) or "SKS"
            else:
                rest.append(seg)
        values["refs"] = tuple(refs)
        self.parties.append(Party(**values))
        return rest, role

    def _is_spr(self, seg: Segment) -> bool:
        """SPR+ORG+<speciality>+<type>:SKS:SST exactly as ``from_model`` writes it."""
        if get(seg, 1) != "ORG" or len(seg.elements) != 3:
            return False
        if components(seg.elements[2]) != [self.message.type, "SKS", "SST"]:
            return False
        code, scheme = get(seg, 2, 1), get(seg, 2, 2)
        if code and scheme not in SPECIALITY_AGENCY:
            return False
        expected = element(code, scheme, SPECIALITY_AGENCY.get(scheme, "")) if code else ""
        return seg.elements[1] == expected

    def _s02(self, body: list[Segment]) -> list[Segment]:
        rest = []
        for seg in body:
            qualifier = get(seg, 1)
            if seg.tag == "GIS" and qualifier in ("N", "M") and "status" not in self.values:
                self.values["status"] = LetterStatus(qualifier)
            elif seg.tag == "RFF" and qualifier == "SRI" and "letter_id" not in self.values:
                self.values["letter_id"] = get(seg, 1, 2)
            elif seg.tag == "RFF" and qualifier == "HI" and "priority" not in self.values:
                self.values["priority"] = get(seg, 1, 2)
            elif seg.tag == "DTM" and qualifier == "182" and self._date(seg):
                self.values["sent_at"] = self._date(seg)
            else:
                rest.append(seg)
        return rest

    def _s05(self, body: list[Segment]) -> list[Segment]:
        rest, values, diagnoses = [], {}, []
        for seg in body:
            qualifier = get(seg, 1)
            if seg.tag == "GIS" and qualifier in ("N", "M") and "status" not in values:
                values["status"] = LetterStatus(qualifier)
            elif seg.tag == "RFF" and qualifier == "ROI" and "id" not in values:
                values["id"] = get(seg, 1, 2)
            elif seg.tag == "DTM" and qualifier == "8" and self._date(seg):
                values["received_at"] = self._date(seg)
            elif seg.tag == "CIN":
                diagnoses.append(_diagnosis(seg))
            else:
                rest.append(seg)
        self.values["referral"] = Referral(
            id=values.get("id", ""),
            status=values.get("status", LetterStatus.NEW),
            received_at=values.get("received_at"),
            diagnoses=tuple(diagnoses),
        )
        return rest

    def _s07(self, body: list[Segment]) -> list[Segment]:
        rest = []
        for seg in body:
            if seg.tag == "PNA" and get(seg, 1) == "PAT" and "cpr" not in self.patient:
                surname, given = _person_names(seg)
                self.patient.update(cpr=get(seg, 2, 1), surname=surname, given_names=given)
            elif seg.tag == "ADR" and "address" not in self.patient:
                self.patient["address"] = _address(seg)
            else:
                rest.append(seg)
        return rest

    def _s09(self, body: list[Segment]) -> list[Segment]:
        rest, relation, names = [], None, None
        for seg in body:
            if seg.tag == "REL" and get(seg, 1) == "PER" and relation is None:
                relation = get(seg, 2)
            elif seg.tag == "PNA" and get(seg, 1) == "PAS" and names is None and not get(seg, 2):
                names = _person_names(seg)
            else:
                rest.append(seg)
        surname, given = names or ("", "")
        self.relatives.append(Relative(relation or "", surname, given))
        return rest

    def _s11(self, body: list[Segment]) -> list[Segment]:
        rest = []
        gis = [s for s in body if s.tag == "GIS"]
        default_gis = len(gis) == 1 and _flat(gis[0]) == ["N"]
        for seg in body:
            qualifier = get(seg, 1)
            if seg.tag == "GIS" and default_gis:
                continue
            if seg.tag == "SEQ" and _flat(seg) == ["", "1"]:
                continue
            if seg.tag == "DTM" and qualifier in ("90", "91") and self._date(seg):
                key = "admitted_at" if qualifier == "90" else "discharged_at"
                if key not in self.values:
                    self.values[key] = self._date(seg)
                    continue
            if seg.tag == "PAS" and "episode_status" not in self.patient:
                self.patient["episode_status"] = qualifier
                continue
            if seg.tag == "CIN":
                self.diagnoses.append(_diagnosis(seg))
                self.s11_diagnoses += 1
                continue
            rest.append(seg)
        return rest

    def _s14(self, body: list[Segment]) -> list[Segment]:
        rest: list[Segment] = []
        run: list[Segment] = []
        last_cin = None
        for seg in body:
            if seg.tag == "FTX" and len(seg.elements) >= 2:
                run.append(seg)
                continue
            self.texts.extend(decode_runs(run))
            run = []
            if seg.tag == "CIN":
                self.diagnoses.append(_diagnosis(seg))
                last_cin = len(self.diagnoses) - 1
            elif (
                seg.tag == "DTM"
                and get(seg, 1) == "CIS"
                and last_cin is not None
                and self._date(seg)
            ):
                old = self.diagnoses[last_cin]
                self.diagnoses[last_cin] = Diagnosis(
                    old.kind, old.code, old.text, old.scheme, old.agency, self._date(seg)
                )
                last_cin = None
            else:
                rest.append(seg)
        self.texts.extend(decode_runs(run))
        return rest


def _default_s11_count(diagnoses: list[Diagnosis] | tuple[Diagnosis, ...]) -> int:
    """How many leading diagnoses ``from_model`` puts in S11 unless told otherwise."""
    cut = 0
    while cut < len(diagnoses) and diagnoses[cut].kind in ("A", "DM") and not diagnoses[cut].at:
        cut += 1
    return cut


def _flat(seg: Segment) -> list[Any]:
    return [e if isinstance(e, str) else list(e) for e in seg.elements]


def _trim(values: list[str]) -> list[str]:
    out = list(values)
    while out and not out[-1]:
        out.pop()
    return out


def _is_phone(seg: Segment) -> bool:
    return (
        len(seg.elements) == 2 and get(seg, 1) == "" and components(seg.elements[1])[1:] == ["TE"]
    )


def _address(seg: Segment) -> Address:
    return Address(street=get(seg, 2, 2), city=get(seg, 3), postcode=get(seg, 4))


def _person_names(seg: Segment) -> tuple[str, str]:
    surname = get(seg, 5, 2) if get(seg, 5, 1) == "SU" else ""
    given = get(seg, 6, 2) if get(seg, 6, 1) == "FO" else ""
    return surname, given


def _diagnosis(seg: Segment) -> Diagnosis:
    return Diagnosis(
        kind=get(seg, 1),
        code=get(seg, 2, 1),
        text=get(seg, 2, 4),
        scheme=get(seg, 2, 2),
        agency=get(seg, 2, 3),
    )


# -- writing -----------------------------------------------------------------------------------


def from_model(item: Letter | Receipt) -> list[Segment]:
    """The body segments (between UNH and UNT) of a letter or receipt."""
    if isinstance(item, Receipt):
        from gateway.edifact.receipts import receipt_segments

        return receipt_segments(item)
    grammar = _grammar(item.type)
    if grammar.family != "MEDDIS":
        raise LocalUsageError(f"{item.type}: only MEDDIS letters and CONTRL receipts render")
    return _Writer(item, grammar).write()


def render_letter(envelope: Envelope, item: Letter | Receipt, *, una: bool = True) -> bytes:
    """A whole interchange (UNA, UNB, UNH, body, UNT, UNZ) carrying one letter or receipt."""
    from gateway.edifact.encoder import encode
    from gateway.edifact.interchange import Interchange, Message

    message = Message(
        ref=item.ref,
        family=_grammar(item.type).family,
        version=item.version,
        type=item.type,
        identifier=letter_identifier(item),
        segments=from_model(item),
    )
    return encode(Interchange(envelope=envelope, messages=[message], una=una))


class _Writer:
    def __init__(self, letter: Letter, grammar: MessageGrammar) -> None:
        self.letter = letter
        self.grammar = grammar
        self.extra: dict[str, list[Segment]] = {}
        self.layout: list[str] = []
        for key, text in letter.extra:
            if key == LAYOUT_KEY:
                self.layout.append(text)
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

    def _place(self, group: str, body: list[Segment], key: str) -> list[Segment]:
        """``body`` with the group's extras inserted where the grammar orders their tags."""
        located = self.grammar.group(group)
        spec = self.grammar.header if group == "header" else (located[1] if located else None)
        order = {s.tag: i for i, s in enumerate(spec.segments or ())} if spec else {}
        result = list(body)
        for seg in self.extra.pop(key, []):
            rank = order.get(seg.tag, len(order))
            at = len(result)
            while at > 0 and order.get(result[at - 1].tag, len(order)) > rank:
                at -= 1
            result.insert(at, seg)
        return result

    def _group(self, name: str, body: list[Segment], key: str) -> list[Segment]:
        return [build(name, name[1:]), *self._place(name, body, key)]

    def _dtm(self, group: str, qualifier: str, at: datetime) -> Segment:
        fmt = self._format(group, qualifier)
        return build("DTM", [qualifier, dtm_value(at, fmt), fmt])

    def _format(self, group: str, qualifier: str) -> str:
        spec = self.grammar.header if group == "header" else self.grammar.group(group)[1]
        seg = spec.segment("DTM")
        allowed = seg[1].formats.get(qualifier) if seg else None
        for fmt in ("203", "204", "102"):
            if allowed is None or fmt in allowed:
                return fmt
        return "203"

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
        cut = _default_s11_count(diagnoses)
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
