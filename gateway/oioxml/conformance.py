"""What MedCom's official OIOXML schemas require of a letter before medbro writes it.

medbro's own schemas (schemas/oioxml/) describe what its reader takes, leniently; MedCom's
schemas (shipped with MedCom's converter; tests validate every document medbro writes against
them, ../shared/research/medcom-xsd/) are stricter: mandatory elements and length facets. The
rules below are those facets, by model field, so ``write`` refuses a letter MedCom would refuse
(an ``OioxmlError`` naming the field) instead of writing an invalid document. One table.
"""

from __future__ import annotations

from collections.abc import Iterator

from gateway.model import Address, Envelope, Letter, Party, Receipt
from gateway.oioxml import referral_extras

# MedCom's String_1_n types: (min 1, max n) characters.
IDENTIFIER_MAX = 17  # Identifier (String_1_17)
NAME_MAX = 35  # OrganisationName, DepartmentName, UnitName, StreetName, DistrictName
POSTCODE_MAX = 9  # PostCodeIdentifier
PHONE_MAX = 25  # TelephoneSubscriberIdentifier
PERSON_NAME_MAX = 70  # PersonSurnameName, PersonGivenName
ENVELOPE_IDENTIFIER_MAX = 14  # Envelope/Identifier (String_1_14)
# Codes medbro's tables translate (from MedCom's stylesheets) that MedCom's enumerations lack:
# DiagnoseDescriptionCode has no "grundmorbus" (CIN+G); MedicalSpecialityCode has no
# "paediatri_sygehus" (80) and spells pathology "patologi " with a trailing space (2522).
KINDS_NOT_IN_MEDCOM = frozenset({"G"})
SPECIALITIES_NOT_IN_MEDCOM = frozenset({"80", "2522"})
SUBJECT_MAX = 70  # ClinicalEmail AdditionalInformation/Subject (String_1_70)
ADMISSION_EPISODE_STATUSES = ("HS", "DA")  # EpisodeOfCareStatusCode02Type: indlagt, doed


def problems(envelope: Envelope, message: Letter | Receipt) -> list[tuple[str, str]]:
    """(model field, what MedCom's schema requires) for every rule ``message`` breaks."""
    found = list(_envelope(envelope))
    if isinstance(message, Letter):
        found += _letter(message)
    return found


def _envelope(envelope: Envelope) -> Iterator[tuple[str, str]]:
    if not envelope.control_ref or len(envelope.control_ref) > ENVELOPE_IDENTIFIER_MAX:
        yield "envelope.control_ref", f"1 to {ENVELOPE_IDENTIFIER_MAX} characters (Identifier)"


def _letter(letter: Letter) -> Iterator[tuple[str, str]]:
    if letter.authorised_at is None:
        yield "letter.authorised_at", "Authorisation is mandatory"
    if letter.type == "REF01":
        yield from _hospital_referral(letter)
        return
    parties = [("letter.sender", letter.sender), ("letter.receiver", letter.receiver)]
    parties += [(f"letter.copies[{i}]", p) for i, p in enumerate(letter.copies)]
    parties += [(f"letter.contacts[{i}]", p) for i, p in enumerate(letter.contacts)]
    for where, party in parties:
        if party is not None:
            yield from _party(
                where,
                party,
                name_required=not (letter.type == "DIS20" and where == "letter.receiver"),
            )
    if letter.type == "DIS20":  # NotificationOfAdmission: the patient is a CPR number
        if letter.admitted_at is None:
            yield "letter.admitted_at", "Admission is mandatory"
        status = letter.patient.episode_status if letter.patient is not None else ""
        if status not in ("", *ADMISSION_EPISODE_STATUSES):
            yield "letter.patient.episode_status", "indlagt (HS) or doed (DA) in a DIS20"
        return
    if letter.type == "DIS01" and len(letter.copies) > 1:
        yield "letter.copies", "a DischargeLetter has at most one CCReceiver"
    if letter.type == "DIS91":
        subject = next((t.text for t in letter.texts if t.qualifier == "OE"), None)
        if subject is not None and not 1 <= len(subject) <= SUBJECT_MAX:
            yield "letter.texts (subject)", f"Subject is 1 to {SUBJECT_MAX} characters"
    if letter.patient is not None:
        patient = letter.patient
        if not patient.episode_status:
            yield "letter.patient.episode_status", "EpisodeOfCareStatusCode (PAS) is mandatory"
        if not 1 <= len(patient.surname) <= PERSON_NAME_MAX:
            yield "letter.patient.surname", f"1 to {PERSON_NAME_MAX} characters"
        if len(patient.given_names) > PERSON_NAME_MAX:
            yield "letter.patient.given_names", f"at most {PERSON_NAME_MAX} characters"
        yield from _address("letter.patient.address", patient.address)
    for i, relative in enumerate(letter.relatives):
        if not 1 <= len(relative.surname) <= PERSON_NAME_MAX:
            yield f"letter.relatives[{i}].surname", f"1 to {PERSON_NAME_MAX} characters"
    diagnoses = [(f"letter.diagnoses[{i}]", d) for i, d in enumerate(letter.diagnoses)]
    if letter.referral is not None:
        diagnoses += [
            (f"letter.referral.diagnoses[{i}]", d) for i, d in enumerate(letter.referral.diagnoses)
        ]
    for where, diagnosis in diagnoses:
        if not 1 <= len(diagnosis.code) <= IDENTIFIER_MAX:
            yield f"{where}.code", f"DiagnoseCode is 1 to {IDENTIFIER_MAX} characters"
        if diagnosis.kind in KINDS_NOT_IN_MEDCOM:
            yield (
                f"{where}.kind",
                "DiagnoseDescriptionCode has no word for CIN qualifier " + (diagnosis.kind),
            )
        if not diagnosis.text:
            yield f"{where}.text", "DiagnoseText is 1 or more characters"
    for where, segment in letter.extra:
        if where == "S11#1" and segment == "RFF+REI":
            yield "letter.extra", "EpisodeOfCareIdentifier is 1 or more characters"


def _hospital_referral(letter: Letter) -> Iterator[tuple[str, str]]:
    """XREF01: the sender with its Referrer, the receiver, AnswerCCReceiver, the patient by CPR
    and surname, diagnoses with a text, an e-mail of one line."""
    for where, party in (("letter.sender", letter.sender), ("letter.receiver", letter.receiver)):
        if party is not None:
            yield from _party(where, party, name_required=where == "letter.sender")
    referrers = [(i, c) for i, c in enumerate(letter.contacts) if c.role == "BV"]
    if not referrers:
        yield "letter.contacts", "Sender/Referrer (NAD+BV) is mandatory"
    else:
        i, referrer = referrers[0]
        names = (*referrer.names, "", "")
        if not 1 <= len(names[1]) <= NAME_MAX:
            yield f"letter.contacts[{i}].names[1]", f"PersonName is 1 to {NAME_MAX} characters"
        if len(names[0]) > NAME_MAX:
            yield f"letter.contacts[{i}].names[0]", f"PersonTitle is at most {NAME_MAX}"
        if len(referrer.id) > IDENTIFIER_MAX:
            yield f"letter.contacts[{i}].id", f"Identifier is at most {IDENTIFIER_MAX}"
    for i, contact in enumerate(letter.contacts):
        if contact.role == "PRH":
            yield from _party(f"letter.contacts[{i}]", contact, name_required=False)
            break
    patient = letter.patient
    if patient is not None:
        if not patient.cpr:
            yield "letter.patient.cpr", "CivilRegistrationNumber is mandatory"
        if not 1 <= len(patient.surname) <= PERSON_NAME_MAX:
            yield "letter.patient.surname", f"1 to {PERSON_NAME_MAX} characters"
        if len(patient.given_names) > PERSON_NAME_MAX:
            yield "letter.patient.given_names", f"at most {PERSON_NAME_MAX} characters"
        yield from _address("letter.patient.address", patient.address)
    for i, diagnosis in enumerate(letter.diagnoses):
        if len(diagnosis.code) > IDENTIFIER_MAX:
            yield f"letter.diagnoses[{i}].code", f"DiagnoseCode is at most {IDENTIFIER_MAX}"
        if not 1 <= len(diagnosis.text) <= SUBJECT_MAX:
            yield f"letter.diagnoses[{i}].text", f"DiagnoseText is 1 to {SUBJECT_MAX} characters"
        if diagnosis.kind in KINDS_NOT_IN_MEDCOM:
            yield f"letter.diagnoses[{i}].kind", f"DiagnoseDescriptionCode has no {diagnosis.kind}"
    refer = bool(letter.diagnoses) and letter.diagnoses[0].kind == "H"
    if len(letter.diagnoses) - refer > 5:
        yield "letter.diagnoses", "at most 5 ReferralAdditional"
    email = next((t.text for t in letter.texts if t.qualifier == "IN"), None)
    if email is not None and not (1 <= len(email) <= SUBJECT_MAX and "\n" not in email):
        yield "letter.texts (e-mail)", f"EmailIdentifier is one line of 1 to {SUBJECT_MAX}"
    relative = referral_extras.facts(letter).relative
    if relative is not None and not 1 <= len(relative.surname) <= PERSON_NAME_MAX:
        yield "letter.extra (S10 PNA)", f"the relative's surname is 1 to {PERSON_NAME_MAX}"


def _party(where: str, party: Party, *, name_required: bool = True) -> Iterator[tuple[str, str]]:
    if not 1 <= len(party.id) <= IDENTIFIER_MAX:
        yield f"{where}.id", f"Identifier is 1 to {IDENTIFIER_MAX} characters"
    if not (party.scheme or party.agency):
        yield f"{where}.scheme", "IdentifierCode is mandatory"
    if name_required and (not party.names or not party.names[0]):
        yield f"{where}.names", "OrganisationName is mandatory"
    for i, name in enumerate(party.names[:3]):
        if len(name) > NAME_MAX:
            yield f"{where}.names[{i}]", f"at most {NAME_MAX} characters"
    if party.speciality in SPECIALITIES_NOT_IN_MEDCOM:
        yield f"{where}.speciality", "MedicalSpecialityCode has no word for " + party.speciality
    if len(party.phone) > PHONE_MAX:
        yield f"{where}.phone", f"at most {PHONE_MAX} characters"
    yield from _address(f"{where}.address", party.address)


def _address(where: str, address: Address | None) -> Iterator[tuple[str, str]]:
    if address is None:
        return
    if len(address.street) > NAME_MAX:
        yield f"{where}.street", f"at most {NAME_MAX} characters"
    if len(address.city) > NAME_MAX:
        yield f"{where}.city", f"at most {NAME_MAX} characters"
    if len(address.postcode) > POSTCODE_MAX:
        yield f"{where}.postcode", f"at most {POSTCODE_MAX} characters"
