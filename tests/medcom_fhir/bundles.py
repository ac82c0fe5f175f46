"""MedCom FHIR message Bundles for tests, built by hand to MedCom's profiles as JSON dicts.

Independent of medbro's own writers (gateway/fhir/acknowledgement.py, carecommunication.py), so
a test that reads these checks the reader against the profiles, not against medbro's writer.
Identifiers are MedCom's test organisations' (dk-medcom-messaging examples) and test CPRs.
"""

from __future__ import annotations

import copy
import json

IG = "http://medcomfhir.dk/ig"
EVENTS = f"{IG}/terminology/CodeSystem/medcom-messaging-eventCodes"
ACTIVITIES = f"{IG}/terminology/CodeSystem/medcom-messaging-activityCodes"
USE = f"{IG}/terminology/CodeSystem/medcom-messaging-destinationUse"
USE_EXT = f"{IG}/messaging/StructureDefinition/medcom-messaging-destinationUseExtension"
GLN = "https://www.gs1.org/gln"
SOR = "urn:oid:1.2.208.176.1.1"
CPR = "urn:oid:1.2.208.176.1.2"

MUNICIPALITY = {
    "id": "b581c63c-181f-46f6-990d-b9942c576724",
    "gln": "5790001382445",
    "sor": "123456789012345",
    "name": "Aarhus Kommune, Hjemmeplejen",
}
GP = {
    "id": "487ac745-fd11-4879-9b59-c08c7d47260e",
    "gln": "5790000121526",
    "sor": "543210987654321",
    "name": "Lægehuset Vestergade",
}
HOSPITAL = {
    "id": "d7056980-a8b2-42aa-8a0e-c1fc85d1f40d",
    "gln": "5790000209354",
    "sor": "265161000016000",
    "name": "Hjerteafdelingen, Herlev Hospital",
}
HEADER_ID = "42cb9200-f421-4d08-8391-7d51a2503cb4"
NARRATIVE = {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">x</div>'}


def organisation(org: dict) -> dict:
    return {
        "resourceType": "Organization",
        "id": org["id"],
        "text": NARRATIVE,
        "meta": {"profile": [f"{IG}/messaging/StructureDefinition/medcom-messaging-organization"]},
        "identifier": [{"system": SOR, "value": org["sor"]}, {"system": GLN, "value": org["gln"]}],
        "name": org["name"],
    }


def patient(cpr: str = "0201919990", system: str = CPR) -> dict:
    return {
        "resourceType": "Patient",
        "id": "733cef33-3626-422b-955d-d506aaa65fe1",
        "text": NARRATIVE,
        "identifier": [{"system": system, "value": cpr}],
        "name": [{"use": "official", "family": "Elmer", "given": ["Bruno", "Test"]}],
    }


def header(
    event: str,
    sender: dict,
    receiver: dict,
    *,
    header_id: str = HEADER_ID,
    focus: str | None = None,
) -> dict:
    result = {
        "resourceType": "MessageHeader",
        "id": header_id,
        "text": NARRATIVE,
        "eventCoding": {"system": EVENTS, "code": event},
        "destination": [
            {
                "extension": [{"url": USE_EXT, "valueCoding": {"system": USE, "code": "primary"}}],
                "endpoint": f"https://sor2.sum.dsdn.dk/#id={receiver['sor']}",
                "receiver": {"reference": f"Organization/{receiver['id']}"},
            }
        ],
        "sender": {"reference": f"Organization/{sender['id']}"},
        "source": {"endpoint": f"https://sor2.sum.dsdn.dk/#id={sender['sor']}"},
    }
    if focus:
        result["focus"] = [{"reference": focus}]
    return result


def provenance(
    activity: str,
    agent: dict,
    *,
    header_id: str = HEADER_ID,
    at: str = "2024-05-01T12:00:00+02:00",
    pid: str = "4c284936-5454-4116-95fc-3c8eeeed2400",
    previous: str | None = None,
) -> dict:
    result = {
        "resourceType": "Provenance",
        "id": pid,
        "text": NARRATIVE,
        "target": [{"reference": f"MessageHeader/{header_id}"}],
        "occurredDateTime": at,
        "recorded": at,
        "activity": {"coding": [{"system": ACTIVITIES, "code": activity}]},
        "agent": [{"who": {"reference": f"Organization/{agent['id']}"}}],
    }
    if previous:
        result["entity"] = [{"role": "revision", "what": {"reference": previous}}]
    return result


def bundle(
    resources: list[dict],
    *,
    bundle_id: str = "add5e7e2-0c0f-4a4a-bfff-f6f984fa7e3c",
    timestamp: str = "2024-05-01T12:00:00+02:00",
) -> dict:
    return {
        "resourceType": "Bundle",
        "id": bundle_id,
        "type": "message",
        "timestamp": timestamp,
        "entry": [
            {"fullUrl": f"https://medcomfhir.dk/ig/x/{r['resourceType']}/{r['id']}", "resource": r}
            for r in resources
        ],
    }


def care_communication(
    *,
    category: str = "other",
    topic: str = "Forundersøgelse",
    text: str = "Vi beder om blodtryk.\nVenlig hilsen",
    sender: dict = MUNICIPALITY,
    receiver: dict = GP,
    cpr: str = "0201919990",
) -> dict:
    communication = {
        "resourceType": "Communication",
        "id": "94e65db8-2f0c-4a2c-a7c9-06a160d59a12",
        "text": NARRATIVE,
        "status": "unknown",
        "identifier": [{"value": "urn:uuid:b2eb3d0e-5de5-4de9-b2a3-0ff321ad1c3a"}],
        "category": [
            {
                "coding": [
                    {
                        "system": f"{IG}/terminology/CodeSystem/"
                        "medcom-careCommunication-categoryCodes",
                        "code": category,
                    }
                ]
            }
        ],
        "topic": {"text": topic},
        "subject": {"reference": "Patient/733cef33-3626-422b-955d-d506aaa65fe1"},
        "payload": [
            {
                "extension": [
                    {
                        "url": f"{IG}/core/StructureDefinition/medcom-core-datetime-extension",
                        "valueDateTime": "2024-05-01T12:00:00+02:00",
                    },
                    {
                        "url": f"{IG}/core/StructureDefinition/medcom-core-identifier-extension",
                        "valueIdentifier": {
                            "value": "urn:uuid:24d01288-ad36-4af2-96a8-fd1432dadee1"
                        },
                    },
                ],
                "contentString": text,
            }
        ],
    }
    h = header(
        "care-communication-message", sender, receiver, focus=f"Communication/{communication['id']}"
    )
    h["definition"] = (
        f"{IG}/messagedefinitions/MessageDefinition/MedComCareCommunicationMessageDefinition|5.0"
    )
    return bundle(
        [
            h,
            communication,
            patient(cpr),
            organisation(sender),
            organisation(receiver),
            provenance("new-message", sender),
        ]
    )


def hospital_notification(
    *,
    activity: str = "discharge-inpatient-home",
    status: str = "finished",
    start: str = "2024-05-01T08:00:00+02:00",
    end: str | None = "2024-05-03T14:30:00+02:00",
    cpr: str = "0201919990",
) -> dict:
    encounter = {
        "resourceType": "Encounter",
        "id": "a790f964-88d3-4652-bbc8-81d2f3d035f8",
        "text": NARRATIVE,
        "status": status,
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
        "subject": {"reference": "Patient/733cef33-3626-422b-955d-d506aaa65fe1"},
        "episodeOfCare": [
            {
                "identifier": {
                    "system": f"https://sor2.sum.dsdn.dk/#id={HOSPITAL['sor']}",
                    "value": "bd481c38-a921-11ed-afa1-0242ac120002",
                }
            }
        ],
        "period": {"start": start, **({"end": end} if end else {})},
        "serviceProvider": {"reference": f"Organization/{HOSPITAL['id']}"},
    }
    h = header(
        "hospital-notification-message",
        HOSPITAL,
        MUNICIPALITY,
        focus=f"Encounter/{encounter['id']}",
    )
    return bundle(
        [
            h,
            patient(cpr),
            encounter,
            organisation(HOSPITAL),
            organisation(MUNICIPALITY),
            provenance(
                "discharge-inpatient-home" if activity is None else activity,
                HOSPITAL,
                at=end or start,
            ),
        ]
    )


def to_bytes(doc: dict) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def changed(doc: dict, change) -> dict:
    """A deep copy of ``doc`` with ``change(copy)`` applied (returns the copy)."""
    result = copy.deepcopy(doc)
    change(result)
    return result


def resource(doc: dict, kind: str) -> dict:
    return next(e["resource"] for e in doc["entry"] if e["resource"]["resourceType"] == kind)
