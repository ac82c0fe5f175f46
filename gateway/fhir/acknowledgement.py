"""Writing a MedCom Acknowledgement for a FHIR message (dk-medcom-acknowledgement 2.0).

The Acknowledgement goes back to the original sender: its primary destination is the
original sender Organization (at the original ``source.endpoint``), its sender is whoever
answers (the original receiver when medbro is the final receiver; medbro's own Organization as
a network hop). ``response.identifier`` is the original ``MessageHeader.id``; a code other than
``ok`` references an OperationOutcome. Two Provenances, as MedCom's examples show: the original
message's own (its activity, e.g. ``new-message``), and one with activity ``acknowledgement``
whose entity (role ``revision``) is the original MessageHeader.

Pure: ids and the clock come from the caller. ``gateway.fhir.owed`` decides what is owed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from gateway.errors import LocalUsageError
from gateway.fhir import codes
from gateway.fhir.errors import FhirError
from gateway.fhir.message import FhirMessage, Organisation
from gateway.fhir.owed import Outcome, Owed, Role, acknowledgement_owed
from gateway.fhir.reader import media_type
from gateway.fhir.writer import JSON, bundle_of, dump, narrative


def new_id() -> str:
    return str(uuid.uuid4())


def acknowledgement(
    original: FhirMessage,
    owed: Owed,
    *,
    now: datetime,
    sender: Organisation | None = None,
    media_type: str = JSON,
    make_id: Callable[[], str] = new_id,
) -> bytes:
    """The Acknowledgement Bundle for ``original`` as bytes (JSON or XML like the original).

    ``sender`` answers; by default the original receiver (medbro as final receiver). ``now``
    must carry a time zone (MedCom: timestamps with a zone).
    """
    return dump(
        bundle_of(
            acknowledgement_document(original, owed, now=now, sender=sender, make_id=make_id)
        ),
        media_type,
    )


def acknowledgement_document(
    original: FhirMessage,
    owed: Owed,
    *,
    now: datetime,
    sender: Organisation | None = None,
    make_id: Callable[[], str] = new_id,
) -> dict[str, Any]:
    if original.is_acknowledgement:
        raise LocalUsageError("an Acknowledgement is never acknowledged (MedCom KR2.R)")
    if now.tzinfo is None:
        raise LocalUsageError("an Acknowledgement's times carry a time zone")
    if not original.header_id or original.sender is None:
        raise LocalUsageError("a message without MessageHeader.id or sender cannot be answered")
    answerer = sender or original.receiver
    if answerer is None:
        raise LocalUsageError("nobody to answer for: the original has no receiver")
    stamp = now.isoformat(timespec="seconds")
    header_id, outcome_id = make_id(), make_id()
    sender_org = _organisation(original, answerer, make_id)
    receiver_org = _organisation(original, original.sender, make_id)
    response: dict[str, Any] = {"identifier": original.header_id, "code": owed.code}
    entries: list[dict[str, Any]] = []
    if not owed.ok:
        response["details"] = {"reference": f"OperationOutcome/{outcome_id}"}
    header = {
        "resourceType": "MessageHeader",
        "id": header_id,
        "meta": {"profile": [codes.PROFILES["ack-header"]]},
        "text": narrative(f"Acknowledgement {owed.code} of message {original.header_id}"),
        "eventCoding": {"system": codes.EVENT_SYSTEM, "code": codes.ACKNOWLEDGEMENT},
        "destination": [
            {
                "extension": [
                    {
                        "url": codes.DESTINATION_USE_EXTENSION,
                        "valueCoding": {"system": codes.DESTINATION_USE_SYSTEM, "code": "primary"},
                    }
                ],
                "endpoint": original.source_endpoint or _endpoint(original.sender),
                "receiver": {"reference": f"Organization/{receiver_org['id']}"},
            }
        ],
        "sender": {"reference": f"Organization/{sender_org['id']}"},
        "source": {"endpoint": _endpoint(answerer)},
        "response": response,
    }
    entries.append(header)
    if not owed.ok:
        entries.append(
            {
                "resourceType": "OperationOutcome",
                "id": outcome_id,
                "meta": {"profile": [codes.PROFILES["ack-outcome"]]},
                "text": narrative(owed.text),
                "issue": [
                    {
                        "severity": "error",
                        "code": owed.issue or "processing",
                        "details": {"text": owed.text[:1024] or owed.code},
                    }
                ],
            }
        )
    own = original.own_activity
    if own is not None:
        entries.append(
            _provenance(
                make_id(),
                target=original.header_id,
                activity=own.code,
                at=own.at.isoformat(timespec="seconds") if own.at else stamp,
                agent=receiver_org["id"],
            )
        )
    entries.append(
        _provenance(
            make_id(),
            target=header_id,
            activity="acknowledgement",
            at=stamp,
            agent=sender_org["id"],
            previous=original.header_id,
        )
    )
    entries += [sender_org, receiver_org] if sender_org is not receiver_org else [sender_org]
    return {
        "resourceType": "Bundle",
        "id": make_id(),
        "meta": {"profile": [codes.PROFILES["ack-bundle"]]},
        "type": "message",
        "timestamp": stamp,
        "entry": [{"fullUrl": f"{r['resourceType']}/{r['id']}", "resource": r} for r in entries],
    }


def _endpoint(org: Organisation) -> str:
    return f"{codes.SOR_ENDPOINT}{org.sor}" if org.sor else f"urn:gln:{org.gln}"


def _organisation(original: FhirMessage, org: Organisation, make_id) -> dict[str, Any]:
    """The Organization resource for ``org``: the original's own when it is in the Bundle."""
    ref_id = org.reference.rstrip("/").rsplit("/", 1)[-1] if org.reference else ""
    for entry in original.bundle.entry or []:
        resource = entry.resource
        if (
            resource is not None
            and resource.get_resource_type() == "Organization"
            and resource.id == ref_id
        ):
            return resource.model_dump(mode="json", exclude_none=True)
    identifiers = []
    if org.sor:
        identifiers.append({"system": codes.SOR_SYSTEM, "value": org.sor})
    if org.gln:
        identifiers.append({"system": codes.GLN_SYSTEM, "value": org.gln})
    result: dict[str, Any] = {
        "resourceType": "Organization",
        "id": ref_id or make_id(),
        "meta": {"profile": [codes.PROFILES["organization"]]},
        "text": narrative(org.name or org.gln),
        "identifier": identifiers,
    }
    if org.name:
        result["name"] = org.name
    return result


def _provenance(
    pid: str, *, target: str, activity: str, at: str, agent: str, previous: str = ""
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "resourceType": "Provenance",
        "id": pid,
        "meta": {"profile": [codes.PROFILES["provenance"]]},
        "text": narrative(f"{activity} of MessageHeader/{target}"),
        "target": [{"reference": f"MessageHeader/{target}"}],
        "occurredDateTime": at,
        "recorded": at,
        "activity": {"coding": [{"system": codes.ACTIVITY_SYSTEM, "code": activity}]},
        "agent": [{"who": {"reference": f"Organization/{agent}"}}],
    }
    if previous:
        result["entity"] = [
            {"role": "revision", "what": {"reference": f"MessageHeader/{previous}"}}
        ]
    return result


def answer(
    data: bytes,
    *,
    now: datetime,
    role: Role = Role.FINAL_RECEIVER,
    outcome: Outcome = Outcome.ACCEPTED,
    reason: str = "",
    hub: Organisation | None = None,
    make_id: Callable[[], str] = new_id,
) -> tuple[bytes | None, str]:
    """Read ``data`` and write the Acknowledgement owed: (bytes or None, why / what).

    A network hop (``role=HOP``) answers as ``hub`` (medbro's own Organization); the final
    receiver answers as the original receiver. The answer has the original's media type.
    """
    from gateway.fhir import read_leniently  # the package's one lenient reading

    message, problem = read_leniently(data)
    if message is None:
        return None, f"the Bundle cannot be read ({problem})"
    return answer_read(message, problem, media_type=media_type(data), now=now, role=role,
                       outcome=outcome, reason=reason, hub=hub, make_id=make_id)


def answer_read(
    message: FhirMessage,
    problem: FhirError | None,
    *,
    media_type: str,
    now: datetime,
    role: Role = Role.FINAL_RECEIVER,
    outcome: Outcome = Outcome.ACCEPTED,
    reason: str = "",
    hub: Organisation | None = None,
    make_id: Callable[[], str] = new_id,
) -> tuple[bytes | None, str]:
    """``answer`` for a message already read (``read_leniently``) with its first problem."""
    answerable = (
        bool(message.header_id)
        and message.sender is not None
        and bool(message.sender.gln or message.sender.sor)
    )
    owed = acknowledgement_owed(
        is_acknowledgement=message.is_acknowledgement,
        answerable=answerable,
        problem=problem,
        outcome=outcome,
        role=role,
        reason=reason,
    )
    if owed is None:
        if message.is_acknowledgement:
            return None, "it is an Acknowledgement, which is never answered"
        if not answerable:
            return None, "no MessageHeader.id or sender to answer"
        return None, "medbro passes it on and its final receiver acknowledges it"
    # A hop answers as itself; a final receiver as the receiver, or as medbro when the
    # message is too broken to name one.
    known = message.receiver if message.receiver and message.receiver.gln else None
    sender = hub if role is Role.HOP else (known or hub)
    if sender is None:
        return None, "nobody to answer as (no receiver, no hub Organization)"
    out = acknowledgement(
        message, owed, now=now, sender=sender, media_type=media_type, make_id=make_id
    )
    return out, f"Acknowledgement {owed.code}" + (f": {owed.text}" if owed.text else "")
