"""Reading MEDDIS body segments into a canonical ``Letter`` (see ``gateway.edifact.letters``)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from pydifact.segments import Segment

from gateway.edifact.ftx import decode_runs
from gateway.edifact.grammar import MessageGrammar, components, get, split_groups
from gateway.edifact.letter_writer import (
    AS_WRITTEN,
    LAYOUT_KEY,
    REFERRAL_TYPES,
    S11_CIN,
    SPECIALITY_AGENCY,
    bgm,
    canonical,
    default_s11_count,
    roles,
    same,
)
from gateway.edifact.segment_values import element, pack, parse_dtm
from gateway.model import (
    Address,
    Diagnosis,
    Letter,
    LetterStatus,
    Party,
    Patient,
    Referral,
    Relative,
)

__all__ = ["read_letter"]


def read_letter(message: Any, grammar: MessageGrammar) -> Letter:
    """The ``Letter`` of a valid MEDDIS message (unmodelled segments go to ``extra``)."""
    return _Reader(message, grammar).read()


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
        self.referral = message.type in REFERRAL_TYPES
        self.sender_roles, self.receiver_roles, self.copy_roles = roles(message.type)

    def read(self) -> Letter:
        occurrences: Counter[str] = Counter()
        role_counts: Counter[str] = Counter()
        as_written: list[tuple[str, str]] = []
        for group in split_groups(list(self.message.segments)):
            occurrences[group.name] += 1
            body = list(group.segments[1:] if group.number is not None else group.segments)
            if group.name == "S01":
                rest, role = self._party(body, occurrences["S01"])
                role_counts[role] += 1
                key = f"S01/{role}#{role_counts[role]}"
            else:
                rest = self._handler(group.name)(body)
                key = (
                    group.name
                    if group.name == "header"
                    else f"{group.name}#{occurrences[group.name]}"
                )
            self.extra.extend((key, pack(seg)) for seg in rest)
            kept = {id(seg) for seg in rest}
            for seg in body:
                if id(seg) in kept:
                    continue
                normal = canonical(self.grammar, group.name, seg)
                if normal is not None and not same(normal, seg):
                    as_written.append((AS_WRITTEN + group.name, pack(seg)))
        # a stable order, whatever order the groups and parties had on the wire
        self.extra.sort(key=lambda item: item[0])
        self.extra.extend(sorted(as_written))
        if not self.referral and self.s11_diagnoses != default_s11_count(self.diagnoses):
            self.extra.append((LAYOUT_KEY, f"{S11_CIN}{self.s11_diagnoses}"))
        return self._letter()

    def _handler(self, group: str):
        if self.referral:  # a REF01's groups mean other things than a MEDDIS letter's
            handlers = {
                "header": self._header,
                "S02": self._referral_s02,
                "S07": self._s07,
                "S12": self._texts,
            }
            return handlers.get(group, self._texts if group == "S19" else self._unknown)
        return getattr(self, f"_{group.lower()}", self._unknown)

    def _letter(self) -> Letter:
        senders = [p for p in self.parties if p.role in self.sender_roles]
        receivers = [p for p in self.parties if p.role in self.receiver_roles]
        sender = senders[0] if senders else None
        receiver = receivers[0] if receivers else None
        copies = tuple(p for p in self.parties if p.role in self.copy_roles)
        contacts = tuple(
            p
            for p in self.parties
            if p is not sender and p is not receiver and p.role not in self.copy_roles
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
            if seg.tag == "BGM" and _flat(seg) == bgm(self.message.type):
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
            elif seg.tag == "SPR" and role in self.sender_roles and self._is_spr(seg):
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

    def _referral_s02(self, body: list[Segment]) -> list[Segment]:
        """REF01 S02: the status (GIS), the referral diagnoses (CIN), the clinical reason."""
        rest = []
        for seg in body:
            if seg.tag == "GIS" and get(seg, 1) in ("N", "M") and "status" not in self.values:
                self.values["status"] = LetterStatus(get(seg, 1))
            elif seg.tag == "CIN":
                self.diagnoses.append(_diagnosis(seg))
            else:
                rest.append(seg)
        return self._texts(rest)

    def _texts(self, body: list[Segment]) -> list[Segment]:
        """REF01 S12/S19 (and S02's rest): the FTX runs are texts, the rest extras."""
        rest: list[Segment] = []
        run: list[Segment] = []
        for seg in body:
            if seg.tag == "FTX" and len(seg.elements) >= 2:
                run.append(seg)
                continue
            self.texts.extend(decode_runs(run))
            run = []
            rest.append(seg)
        self.texts.extend(decode_runs(run))
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


def _flat(seg: Segment) -> list[Any]:
    return [e if isinstance(e, str) else list(e) for e in seg.elements]


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
