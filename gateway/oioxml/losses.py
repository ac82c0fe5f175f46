"""What a model letter or receipt holds that OIOXML cannot say.

OIOXML is narrower than EDIFACT in a few places (one letter identifier, no separate send time,
no FTX qualifiers besides the subject, no UCM action). The writer writes what it can; this
module names, by model field, what a reader of the XML will not get back, so the loss is
logged (and testable) instead of silent.
"""

from __future__ import annotations

from dataclasses import replace

from gateway.model import Envelope, Letter, LetterStatus, Receipt
from gateway.oioxml import codes, extras, referral_extras

_ROLES = {"sender": "SSP", "receiver": "PO"}


def unrepresented(envelope: Envelope, message: Letter | Receipt) -> list[str]:
    lost = _envelope(envelope)
    if isinstance(message, Receipt):
        lost += _receipt(message)
    else:
        lost += _letter(message)
    return lost


def _envelope(envelope: Envelope) -> list[str]:
    lost = []
    if envelope.sender_qualifier != "14":
        lost.append("envelope.sender_qualifier")
    if envelope.recipient_qualifier != "14":
        lost.append("envelope.recipient_qualifier")
    if (envelope.syntax, envelope.syntax_version) != ("UNOC", "3"):
        lost.append("envelope.syntax")
    return lost


def _party_losses(party, where: str, role: str) -> list[str]:
    if party is None:
        return []
    lost = []
    if party.role != role:
        lost.append(f"{where}.role")
    scheme = party.scheme or ("EAN" if party.agency else "")
    if scheme and party.agency != codes.AGENCY_BY_SCHEME.get(scheme):
        lost.append(f"{where}.agency")
    if len(party.names) > 3 and any(party.names[3:]):
        lost.append(f"{where}.names")
    if role != "SSP":
        if party.speciality:
            lost.append(f"{where}.speciality")
        if party.phone:
            lost.append(f"{where}.phone")
    if party.speciality and party.speciality_scheme != "SKS":
        lost.append(f"{where}.speciality_scheme")
    if party.refs:
        lost.append(f"{where}.refs")
    return lost


def _diagnosis_losses(diags, where: str) -> list[str]:
    return [
        f"{where}[{i}].agency"
        for i, d in enumerate(diags)
        if d.agency != codes.DIAGNOSIS_AGENCY.get(d.scheme, d.agency)
    ]


def _notification(letter: Letter) -> list[str]:
    """XDIS20 NotificationOfAdmission: parties by id and name, the patient's CPR and episode
    status, the admission time, the notification identifier."""
    lost = []
    if letter.letter_id not in ("", letter.ref):
        lost.append("letter.letter_id")
    if letter.sent_at is not None and letter.sent_at != letter.authorised_at:
        lost.append("letter.sent_at")
    kept = extras.represented(letter)
    lost += [f"letter.extra[{i}]" for i in range(len(letter.extra)) if i not in kept]
    for where, party, role in (
        ("letter.sender", letter.sender, "SOR"),
        ("letter.receiver", letter.receiver, "ROR"),
    ):
        if party is None:
            continue
        if party.role != role:
            lost.append(f"{where}.role")
        names = 3 if role == "SOR" else 1
        if len(party.names) > names and any(party.names[names:]):
            lost.append(f"{where}.names")
        for name in ("address", "speciality"):
            if getattr(party, name):
                lost.append(f"{where}.{name}")
        if role == "ROR" and party.phone:
            lost.append(f"{where}.phone")
        locations = [r for r in party.refs if r[0] == "LOC"]
        if role == "SOR" and not locations:
            lost.append(f"{where}.refs (no RFF+LOC: AnswerTo names the envelope sender)")
        if role == "ROR" and party.refs or len(locations) != len(party.refs) or len(locations) > 1:
            lost.append(f"{where}.refs")
    if letter.patient is not None:
        p = letter.patient
        if p.surname or p.given_names or p.address is not None:
            lost.append("letter.patient (name, address)")
    for name in ("copies", "contacts", "relatives", "diagnoses", "texts"):
        if getattr(letter, name):
            lost.append(f"letter.{name}")
    if letter.referral is not None:
        lost.append("letter.referral")
    if letter.discharged_at is not None:
        lost.append("letter.discharged_at")
    if letter.priority:
        lost.append("letter.priority")
    return lost


# XREF01 texts by FTX qualifier, in the order its reader gives them (reader.REFERRAL_TEXTS).
REFERRAL_TEXT_ORDER = ("DI", "IN", "NC", "CF", "MT", "AL", "COT")


def _hospital_referral(letter: Letter) -> list[str]:
    """XREF01 HospitalReferral: parties (the GP's Referrer and AnswerCCReceiver among the
    contacts), the patient, the referral diagnoses, one text per qualifier, and the extras
    referral_extras names."""
    lost = []
    if letter.letter_id:
        lost.append("letter.letter_id")
    if letter.sent_at is not None:
        lost.append("letter.sent_at")
    if letter.family != codes.family_of_version(letter.version):
        lost.append("letter.family")
    kept = referral_extras.represented(letter)
    lost += [f"letter.extra[{i}]" for i in range(len(letter.extra)) if i not in kept]
    # as an SSP: its phone and speciality are kept; the role is checked below
    lost += [x for x in _party_losses(letter.sender, "letter.sender", "SSP")
             if x != "letter.sender.role"]
    if letter.sender is not None and letter.sender.role != "PO":
        lost.append("letter.sender.role (NAD+PO)")
    lost += [x for x in _party_losses(letter.receiver, "letter.receiver", "PO")
             if x != "letter.receiver.role"]
    if letter.receiver is not None and letter.receiver.role != "SSP":
        lost.append("letter.receiver.role (NAD+SSP)")
    first = {"BV": None, "PRH": None}
    for i, contact in enumerate(letter.contacts):
        if contact.role not in first or first[contact.role] is not None:
            lost.append(f"letter.contacts[{i}]")
            continue
        first[contact.role] = i
        where = f"letter.contacts[{i}]"
        if contact.role == "BV":
            if contact.address is not None or contact.phone or contact.speciality:
                lost.append(f"{where} (address, phone, speciality)")
            if contact.refs != (("AHL", "1"),):
                lost.append(f"{where}.refs")
            if len(contact.names) > 2 and any(contact.names[2:]):
                lost.append(f"{where}.names")
            scheme = contact.scheme or ("EAN" if contact.agency else "")
            if scheme and contact.agency != codes.AGENCY_BY_SCHEME.get(scheme):
                lost.append(f"{where}.agency")
        else:
            lost += [x for x in _party_losses(replace(contact, phone=""), where, "PRH")]
    for name in ("copies", "relatives"):
        if getattr(letter, name):
            lost.append(f"letter.{name}")
    for name in ("referral", "admitted_at", "discharged_at"):
        if getattr(letter, name) is not None:
            lost.append(f"letter.{name}")
    if letter.priority:
        lost.append("letter.priority")
    if letter.patient is not None and letter.patient.episode_status:
        lost.append("letter.patient.episode_status")
    for i, diagnosis in enumerate(letter.diagnoses):
        if diagnosis.agency:
            lost.append(f"letter.diagnoses[{i}].agency")
        if diagnosis.at is not None:
            lost.append(f"letter.diagnoses[{i}].at")
    seen: list[str] = []
    for i, text in enumerate(letter.texts):
        if text.qualifier not in REFERRAL_TEXT_ORDER or text.qualifier in seen:
            lost.append(f"letter.texts[{i}]")
            continue
        seen.append(text.qualifier)
        if text.format != "P00":
            lost.append(f"letter.texts[{i}].format")
        if text.continued:
            lost.append(f"letter.texts[{i}].continued")
    if seen != sorted(seen, key=REFERRAL_TEXT_ORDER.index):
        lost.append("letter.texts (order)")
    return lost


def _letter(letter: Letter) -> list[str]:
    if letter.type == "DIS20":
        return _notification(letter)
    if letter.type == "REF01":
        return _hospital_referral(letter)
    lost = []
    if letter.letter_id not in ("", letter.ref):
        lost.append("letter.letter_id")
    if letter.sent_at is not None and letter.sent_at != letter.authorised_at:
        lost.append("letter.sent_at")
    if letter.family != codes.family_of_version(letter.version):
        lost.append("letter.family")
    kept = extras.represented(letter)
    lost += [f"letter.extra[{i}]" for i in range(len(letter.extra)) if i not in kept]
    if not any(letter.extra[i][0] == "S11#1" for i in kept):
        lost.append("letter.extra (no S11 RFF: OIOXML implies RFF+AHI:1)")
    if letter.priority not in ("", extras.HIGH_PRIORITY):
        lost.append("letter.priority")
    if letter.priority and extras.ROUTINE in letter.extra:
        lost.append("letter.extra (RFF+NO beside RFF+HI)")
    lost += _party_losses(letter.sender, "letter.sender", "SSP")
    lost += _party_losses(letter.receiver, "letter.receiver", "PO")
    for i, copy in enumerate(letter.copies):
        lost += _party_losses(copy, f"letter.copies[{i}]", "CCR")
    for i, contact in enumerate(letter.contacts):
        if letter.type != "DIS01" or contact.role != "RSP":
            lost.append(f"letter.contacts[{i}]")
        else:
            lost += _party_losses(contact, f"letter.contacts[{i}]", "RSP")
            if contact.address is not None:
                lost.append(f"letter.contacts[{i}].address")
    if letter.type == "DIS91":
        for name in ("copies", "relatives", "diagnoses"):
            if getattr(letter, name):
                lost.append(f"letter.{name}")
        if letter.referral is not None:
            lost.append("letter.referral")
        if letter.admitted_at is not None or letter.discharged_at is not None:
            lost.append("letter.admitted_at/discharged_at")
    elif letter.priority:
        lost.append("letter.priority")
    texts = list(letter.texts)
    if letter.type == "DIS91" and texts and texts[0].qualifier == "OE":
        if texts[0].format != "P00":
            lost.append("letter.texts[0].format")
        texts = texts[1:]
        offset = 1
    else:
        offset = 0
    for i, text in enumerate(texts, start=offset):
        if text.qualifier != "NC":
            lost.append(f"letter.texts[{i}].qualifier")
    for i, text in enumerate(letter.texts):
        # An open last line that is empty, or an empty open plain run, leaves no trace in XML.
        if text.continued and (
            text.text.endswith("\n") or (text.format == "P00" and not text.text)
        ):
            lost.append(f"letter.texts[{i}].continued")
    if letter.type == "DIS01" and not extras.s11_fits(letter):
        lost.append("letter.diagnoses (which stand in S11)")
    lost += _diagnosis_losses(letter.diagnoses, "letter.diagnoses")
    if letter.referral is not None:
        if letter.referral.status != LetterStatus.NEW:
            lost.append("letter.referral.status")
        lost += _diagnosis_losses(letter.referral.diagnoses, "letter.referral.diagnoses")
        lost += [
            f"letter.referral.diagnoses[{i}].at"
            for i, d in enumerate(letter.referral.diagnoses)
            if d.at is not None
        ]
    return lost


def _receipt(receipt: Receipt) -> list[str]:
    lost = []
    action = "7" if receipt.type == "CTL03" else "4"
    for i, original in enumerate(receipt.original_letters):
        if original.action != action:
            lost.append(f"receipt.original_letters[{i}].action")
        version = original.message_identifier.split(":")[-1]
        if codes.message_identifier(version) != original.message_identifier:
            lost.append(f"receipt.original_letters[{i}].message_identifier")
    if receipt.refused_letter_ref and receipt.refusal is None and not receipt.text:
        lost.append("receipt.refused_letter_ref")
    if receipt.text_format != "P00":
        lost.append("receipt.text_format")
    if (receipt.original_sender_qualifier, receipt.original_recipient_qualifier) != ("14", "14"):
        lost.append("receipt.original_qualifiers")
    return lost
