"""The systems, codes and profile URLs of MedCom's FHIR messaging that medbro reads and writes.

Read from MedCom's implementation guides (dk-medcom-messaging 2.x, dk-medcom-core,
dk-medcom-carecommunication 5.x, dk-medcom-hospitalnotification 3.x,
dk-medcom-acknowledgement 2.x; FHIR 4.0.1). Only the names medbro needs are here: a value this
module does not know is kept as written, and the profile rules decide whether it matters.
"""

from __future__ import annotations

# Identifier systems (dk-core / dk-medcom-core).
GLN_SYSTEM = "https://www.gs1.org/gln"  # EAN/GLN location number ("lokationsnummer")
SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"  # SOR, Sundhedsvæsenets Organisationsregister
CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"  # the official CPR number
# Replacement CPR numbers (x-eCPR, d-eCPR) have systems under this OID.
ECPR_SYSTEM_PREFIX = "urn:oid:1.2.208.176.1.6."

_IG = "http://medcomfhir.dk/ig"
_TERMINOLOGY = f"{_IG}/terminology/CodeSystem"
EVENT_SYSTEM = f"{_TERMINOLOGY}/medcom-messaging-eventCodes"
ACTIVITY_SYSTEM = f"{_TERMINOLOGY}/medcom-messaging-activityCodes"
DESTINATION_USE_SYSTEM = f"{_TERMINOLOGY}/medcom-messaging-destinationUse"
CATEGORY_SYSTEM = f"{_TERMINOLOGY}/medcom-careCommunication-categoryCodes"
ISSUE_DETAILS_SYSTEM = f"{_TERMINOLOGY}/medcom-acknowledgement-issue-details"
SOR_ENDPOINT = "https://sor2.sum.dsdn.dk/#id="  # how MedCom writes a SOR endpoint address

DESTINATION_USE_EXTENSION = (
    f"{_IG}/messaging/StructureDefinition/medcom-messaging-destinationUseExtension"
)
CORE_EXTENSION = f"{_IG}/core/StructureDefinition"
DATETIME_EXTENSION = f"{CORE_EXTENSION}/medcom-core-datetime-extension"
AUTHOR_EXTENSION = f"{CORE_EXTENSION}/medcom-core-practitioner-extension"
CONTACT_EXTENSION = f"{CORE_EXTENSION}/medcom-core-contact-extension"
IDENTIFIER_EXTENSION = f"{CORE_EXTENSION}/medcom-core-identifier-extension"

# MessageHeader.eventCoding.code -> medbro's letter type (the VANSEnvelope Document/Name is
# MCM:<type>#<postfix>, FHIRMessages_NetworkEnvelopes).
CARE_COMMUNICATION = "care-communication-message"
HOSPITAL_NOTIFICATION = "hospital-notification-message"
ACKNOWLEDGEMENT = "acknowledgement-message"
TYPE_BY_EVENT = {
    CARE_COMMUNICATION: "FDIS91",
    HOSPITAL_NOTIFICATION: "FDIS20",
    ACKNOWLEDGEMENT: "FCTL",
}

# Profiles medbro writes (Bundle.meta.profile and each resource's meta.profile).
PROFILES = {
    "ack-bundle": f"{_IG}/acknowledgement/StructureDefinition/medcom-messaging-acknowledgement",
    "ack-header": (
        f"{_IG}/acknowledgement/StructureDefinition/medcom-messaging-acknowledgementHeader"
    ),
    "ack-outcome": (
        f"{_IG}/acknowledgement/StructureDefinition/medcom-acknowledgement-operationoutcome"
    ),
    "provenance": f"{_IG}/messaging/StructureDefinition/medcom-messaging-provenance",
    "organization": f"{_IG}/messaging/StructureDefinition/medcom-messaging-organization",
    "cc-bundle": f"{_IG}/carecommunication/StructureDefinition/medcom-careCommunication-message",
    "cc-header": (
        f"{_IG}/carecommunication/StructureDefinition/medcom-careCommunication-messageHeader"
    ),
    "cc-communication": (
        f"{_IG}/carecommunication/StructureDefinition/medcom-careCommunication-communication"
    ),
    "cc-provenance": (
        f"{_IG}/carecommunication/StructureDefinition/medcom-careCommunication-provenance"
    ),
    "patient": f"{_IG}/core/StructureDefinition/medcom-core-patient",
}
CARE_COMMUNICATION_DEFINITION = (
    f"{_IG}/messagedefinitions/MessageDefinition/MedComCareCommunicationMessageDefinition|5.0"
)

# MessageHeader.response.code (FHIR R4 response-code).
RESPONSE_CODES = ("ok", "transient-error", "fatal-error")
