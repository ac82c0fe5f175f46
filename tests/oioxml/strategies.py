"""Hypothesis strategies for letters and receipts that OIOXML can carry in full.

``Strategies()`` draws what OIOXML can say (``unrepresented(...) == []``, checked by the
round-trip test so the strategies cannot drift from the writer's rules);
``Strategies(edifact=True)`` narrows that to what a valid MedCom EDIFACT interchange can also
say (ISO 8859-1 text, an authorisation time, a refusal code on negative receipts, ...), for
the XML -> EDIFACT -> model chain.
"""

from __future__ import annotations

from dataclasses import replace
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
from gateway.oioxml import codes, extras, referral_extras
from gateway.oioxml.conformance import KINDS_NOT_IN_MEDCOM, SPECIALITIES_NOT_IN_MEDCOM

IDENT = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=14)
MINUTES = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2069, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0)
)


def _trim(names: list[str]) -> tuple[str, ...]:
    while names and not names[-1]:
        names.pop()
    return tuple(names)


def _no_time(d: Diagnosis) -> Diagnosis:
    return Diagnosis(d.kind, d.code, d.text, d.scheme, d.agency)


def _sks(d: Diagnosis) -> Diagnosis:
    return Diagnosis(d.kind, d.code, d.text, "SKS", "SST", d.at)


class Strategies:
    def __init__(self, *, edifact: bool = False) -> None:
        self.edifact = edifact
        if edifact:  # UNOC: ISO 8859-1 graphic characters; "\\" ends a line only as continuation
            chars = st.characters(
                codec="latin-1", exclude_categories=("Cc", "Cs"), exclude_characters="\\"
            )
        else:  # XML 1.0 text without \r (parsers turn it into \n) and control characters
            chars = st.characters(
                min_codepoint=32, max_codepoint=0x17F, exclude_categories=("Cs", "Cc")
            ) | st.sampled_from("€æøåÆØÅ")
        self.text = st.text(chars, max_size=20)
        self.some_text = st.text(chars, min_size=1, max_size=20)
        self.ident = st.text(chars, min_size=1, max_size=17)  # MedCom: Identifier String_1_17
        line = self.text.filter(lambda t: t != ".") if edifact else self.text  # "." = empty
        self.lines = st.lists(line, min_size=1, max_size=4).map("\n".join)
        self.line = line
        self.addresses = st.one_of(
            st.none(),
            st.builds(
                Address, street=self.text, city=self.text, postcode=st.text(chars, max_size=9)
            ).filter(lambda a: a.street or a.city or a.postcode),
        )
        self.patients = st.builds(
            Patient,
            cpr=st.from_regex(r"[0-9]{10}", fullmatch=True),
            surname=self.some_text,
            given_names=self.text,
            address=self.addresses,
            episode_status=st.sampled_from(codes.EPISODE_STATUS.codes()),  # MedCom: mandatory
        )
        self.envelopes = st.builds(
            Envelope,
            sender=IDENT,
            recipient=IDENT,
            control_ref=IDENT,
            prepared_at=MINUTES,
            ack_requested=st.booleans(),
        )
        self.messages = self.letters() | self.receipts()

    def party(self, role: str, *, sender: bool = False, address: bool = True):
        @st.composite
        def build(draw) -> Party:
            scheme = draw(st.sampled_from(codes.IDENTIFIER_CODES.codes()))
            specialities = ["", *codes.SPECIALITY_CODES.codes()]
            specialities = [c for c in specialities if c not in SPECIALITIES_NOT_IN_MEDCOM]
            return Party(
                role=role,
                id=draw(self.ident),
                scheme=scheme,
                agency=codes.AGENCY_BY_SCHEME.get(scheme, ""),
                names=_trim([draw(self.some_text), *draw(st.lists(self.text, max_size=2))]),
                address=draw(self.addresses) if address else None,
                speciality=draw(st.sampled_from(specialities)) if sender else "",
                phone=draw(self.text) if sender else "",
            )

        return build()

    def diagnosis(self, kind):
        @st.composite
        def build(draw) -> Diagnosis:
            scheme = draw(st.sampled_from(codes.DIAGNOSIS_SCHEMES.codes()))
            return Diagnosis(
                kind=draw(kind),
                code=draw(self.ident),
                text=draw(self.some_text),
                scheme=scheme,
                agency=codes.DIAGNOSIS_AGENCY[scheme],
                at=draw(st.none() | MINUTES),
            )

        return build()

    def diagnosis_lists(self):
        """(diagnoses, layout extras): an S11 head XDIS01 can say (an A, then DMs; SKS, no
        time) and any S14 tail, with the layout entry the EDIFACT codec records if needed."""

        @st.composite
        def build(draw):
            plain = self.diagnosis(st.just("DM")).map(_no_time).map(_sks)
            head = draw(st.lists(plain, max_size=2))
            if draw(st.booleans()):
                head = [_sks(_no_time(draw(self.diagnosis(st.just("A"))))), *head]
            kinds = st.sampled_from(
                [k for k in codes.DIAGNOSIS_KINDS.codes() if k not in KINDS_NOT_IN_MEDCOM]
            )
            tail = draw(st.lists(self.diagnosis(kinds), max_size=3))
            diags = tuple(head + tail)
            layout = extras.layout_extra(diags, len(head))
            return diags, (() if layout is None else (layout,))

        return build()

    def referrals(self):
        @st.composite
        def build(draw) -> Referral:
            main = draw(st.lists(self.diagnosis(st.just("DI")).map(_no_time), max_size=1))
            more = draw(st.lists(self.diagnosis(st.just("DM")).map(_no_time), max_size=2))
            return Referral(
                id=draw(self.text),
                received_at=draw(st.none() | MINUTES),
                diagnoses=tuple(main + more),
            )

        return build()

    def free_text(self):
        @st.composite
        def build(draw) -> FreeText:
            body = draw(self.lines)
            fmt = draw(st.sampled_from(list(codes.TEXT_FORMATS)))
            open_end = not body.endswith("\n") and (fmt != "P00" or body != "")
            return FreeText("NC", body, fmt, continued=draw(st.booleans()) and open_end)

        return build()

    def letters(self):
        @st.composite
        def build(draw) -> Letter:
            letter_type = draw(st.sampled_from(["DIS01", "DIS91", "DIS20", "REF01"]))
            if letter_type == "DIS20":
                return draw(self.notifications())
            if letter_type == "REF01":
                return draw(self.hospital_referrals())
            version = {"DIS01": "D0133L", "DIS91": "D9134L"}[letter_type]
            ref = draw(IDENT)
            authorised = draw(MINUTES)  # MedCom: Authorisation is mandatory
            texts = draw(st.lists(self.free_text(), max_size=4))
            common = dict(
                type=letter_type,
                version=version,
                ref=ref,
                letter_id=ref,
                status=draw(st.sampled_from(LetterStatus)),
                family="MEDDIS",
                authorised_at=authorised,
                sent_at=authorised,
                sender=draw(self.party("SSP", sender=True)),
                receiver=draw(self.party("PO")),
                patient=draw(self.patients),
            )
            episode = extras.episode_extra(draw(st.none() | self.some_text))
            if letter_type == "DIS91":
                line = self.line.filter(bool)
                subject = draw(st.lists(line.map(lambda t: FreeText("OE", t)), max_size=1))
                level = draw(st.sampled_from(["", "HI", "NO"]))
                kept = (extras.ROUTINE, episode) if level == "NO" else (episode,)
                priority = extras.HIGH_PRIORITY if level == "HI" else ""
                return Letter(**common, texts=tuple(subject + texts), priority=priority, extra=kept)
            diags, layout = draw(self.diagnosis_lists())
            relative = st.builds(
                Relative,
                relation=st.sampled_from(codes.RELATION_CODES.codes()),
                surname=self.some_text,
                given_names=self.text,
            )
            return Letter(
                **common,
                extra=(episode, *layout),
                copies=tuple(draw(st.lists(self.party("CCR"), max_size=1))),
                contacts=tuple(draw(st.lists(self.party("RSP", address=False), max_size=1))),
                relatives=tuple(draw(st.lists(relative, max_size=2))),
                referral=draw(st.none() | self.referrals()),
                admitted_at=draw(st.none() | MINUTES),
                discharged_at=draw(st.none() | MINUTES),
                diagnoses=diags,
                texts=tuple(texts),
            )

        return build()

    def notifications(self):
        """XDIS20 NotificationOfAdmission: what its twin and MedCom's schema say."""

        @st.composite
        def build(draw) -> Letter:
            ref = draw(IDENT)
            authorised = draw(MINUTES).replace(second=draw(st.integers(0, 59)))
            scheme = st.sampled_from(codes.IDENTIFIER_CODES.codes())
            sender_scheme, receiver_scheme = draw(scheme), draw(scheme)
            sender = Party(
                role="SOR",
                id=draw(self.ident),
                scheme=sender_scheme,
                agency=codes.AGENCY_BY_SCHEME[sender_scheme],
                names=_trim([draw(self.some_text), *draw(st.lists(self.text, max_size=2))]),
                phone=draw(self.text),
                refs=(("LOC", draw(IDENT)),),
            )
            receiver = Party(
                role="ROR",
                id=draw(self.ident),
                scheme=receiver_scheme,
                agency=codes.AGENCY_BY_SCHEME[receiver_scheme],
                names=_trim(draw(st.lists(self.some_text, max_size=1))),
            )
            patient = Patient(
                cpr=draw(st.from_regex(r"[0-9]{10}", fullmatch=True)),
                episode_status=draw(st.sampled_from(["", "HS", "DA"])),
            )
            return Letter(
                type="DIS20",
                version="D2030C",
                ref=ref,
                letter_id=ref,
                status=draw(st.sampled_from(LetterStatus)),
                family="MEDDIS",
                authorised_at=authorised,
                sent_at=authorised,
                sender=sender,
                receiver=receiver,
                patient=patient,
                admitted_at=draw(MINUTES),
                extra=extras.notification_extra(draw(self.some_text)),
            )

        return build()

    def hospital_referrals(self):
        """XREF01 HospitalReferral: what its twin and MedCom's schema say."""

        @st.composite
        def build(draw) -> Letter:
            ref = draw(IDENT)
            authorised = draw(MINUTES)
            referrer_id = draw(st.just("") | self.ident)
            scheme = draw(st.sampled_from(codes.IDENTIFIER_CODES.codes())) if referrer_id else ""
            referrer = Party(
                role="BV",
                id=referrer_id,
                scheme=scheme,
                agency=codes.AGENCY_BY_SCHEME.get(scheme, ""),
                names=(draw(self.text), draw(self.some_text)),  # PersonTitle, PersonName
                refs=(("AHL", "1"),),
            )
            contacts = [referrer]
            if draw(st.booleans()):
                answer = draw(self.party("PRH"))
                contacts.append(replace(answer, phone=draw(self.text)))
            kinds = [k for k in codes.DIAGNOSIS_KINDS.codes() if k not in KINDS_NOT_IN_MEDCOM]
            diagnosis = self.diagnosis(st.sampled_from(kinds)).map(
                lambda d: replace(d, code=d.code[:17], agency="", at=None)
            )
            diagnoses = draw(st.lists(diagnosis, max_size=5))
            if draw(st.booleans()):
                diagnoses = [replace(draw(diagnosis), kind="H"), *diagnoses]
            texts = []
            for qualifier in ("DI", "IN", "NC", "CF", "MT", "AL", "COT"):
                if draw(st.booleans()):
                    body = draw(self.some_text if qualifier == "IN" else self.lines)
                    texts.append(FreeText(qualifier, body))
            relative = None
            if draw(st.booleans()):
                relative = referral_extras.ReferralRelative(
                    relation=draw(st.sampled_from(codes.RELATION_CODES.codes())),
                    cpr=draw(st.just("") | st.from_regex(r"[0-9]{10}", fullmatch=True)),
                    surname=draw(self.some_text),
                    given_names=draw(self.text),
                )
            phones = draw(
                st.lists(
                    st.tuples(st.sampled_from(codes.TELEPHONE_CODES.codes()), self.some_text),
                    max_size=3,
                )
            )
            facts = referral_extras.ReferralFacts(
                patient_title=draw(self.text),
                phones=tuple(phones),
                relative=relative,
                priority=draw(st.sampled_from(["", *codes.REFERRAL_PRIORITY.codes()])),
                transport=draw(st.sampled_from(["", *codes.REFERRAL_TRANSPORT.codes()])),
            )
            return Letter(
                type="REF01",
                version="H0130R",
                ref=ref,
                status=draw(st.sampled_from(LetterStatus)),
                family="MEDREF",
                authorised_at=authorised,
                sender=draw(self.party("PO", sender=True)),
                receiver=draw(self.party("SSP")),
                patient=replace(draw(self.patients), episode_status=""),
                diagnoses=tuple(diagnoses),
                texts=tuple(texts),
                contacts=tuple(contacts),
                extra=referral_extras.extra(authorised, facts),
            )

        return build()

    def receipts(self):
        @st.composite
        def build(draw) -> Receipt:
            receipt_type = draw(st.sampled_from(["CTL01", "CTL02", "CTL03"]))
            action = "7" if receipt_type == "CTL03" else "4"
            refs = draw(st.lists(IDENT, min_size=1, max_size=3, unique=True))
            versions = st.sampled_from(["H0130R", "D0133L", "D9134L", "R0130K", "Q0130K"])
            originals = tuple(
                OriginalLetter(r, codes.message_identifier(draw(versions)), action) for r in refs
            )
            refusal, body, on_letter = None, "", ""
            if receipt_type != "CTL03":
                codes_ = st.sampled_from(RefusalCode)
                refusal = draw(codes_ if self.edifact else st.none() | codes_)
                body = draw(st.just("") | self.lines)
                if refusal is not None or body:
                    on_letter = draw(st.sampled_from(["", *refs]))
            return Receipt(
                type=receipt_type,
                version={"CTL01": "C0130Q", "CTL02": "C0230Q", "CTL03": "C0330Q"}[receipt_type],
                ref=draw(IDENT),
                original_control_ref=draw(IDENT),
                original_sender=draw(IDENT),
                original_recipient=draw(IDENT),
                original_letters=originals,
                refusal=refusal,
                text=body,
                refused_letter_ref=on_letter,
            )

        return build()


XML = Strategies()
