"""HospitalNotification -> the SLA clock input: a discharge notification starts a clock.

A HospitalNotification (``MCM:FDIS20#<activity>``) tells the municipality what happened to an
admitted patient; its Provenance activity says what (MedCom's messaging activity codes). A
discharge (``discharge-inpatient-home``, ``discharge-emergency-home``, and their revisions) is
what a DIS17 udskrivningsadvis says, so it reports a discharge to the SLA clocks exactly as a
DIS17 does (``gateway.sla.hooks.discharge_reported``, source ``dis17``); admissions, leave and
cancellations start nothing. Pure: the pipeline calls the hook with this report.

The discharge is keyed on the hospital stay: the Encounter's episodeOfCare identifier, so a
revised discharge updates the same clock. Hospital and department are the SOR codes of the
Encounter's service provider and of the sender: a FHIR message carries no SKS code (the
pipeline keys the clock by the SKS department the partner file pairs with the sender's SOR
code, gateway.sla.departments, so the department's DIS01 joins it). The time
is ``Encounter.period.end`` when it is a time (not just a date), else the Provenance's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gateway.fhir import codes
from gateway.fhir.message import FhirMessage, identifier_value

# Provenance activities that mean "the patient has left the hospital" (the DIS17 events).
DISCHARGE_ACTIVITIES = frozenset(
    {
        "discharge-inpatient-home",
        "discharge-emergency-home",
        "revise-discharge-inpatient-home",
        "revise-discharge-emergency-home",
    }
)


@dataclass(frozen=True)
class DischargeReport:
    """The keyword arguments of ``gateway.sla.hooks.discharge_reported`` (bar session/config)."""

    hospital: str
    department: str
    patient_cpr: str
    discharge_id: str
    discharged_at: datetime  # aware
    message_id: str
    source: str = "dis17"


def discharge_report(message: FhirMessage) -> DischargeReport | None:
    """The discharge a HospitalNotification reports, or None when it reports none."""
    if message.event != codes.HOSPITAL_NOTIFICATION:
        return None
    own = message.own_activity
    if own is None or own.code not in DISCHARGE_ACTIVITIES:
        return None
    encounter = message.focus
    period = getattr(encounter, "period", None)
    discharged_at = (
        _instant(period.end if period is not None else None)
        or _instant(own.at)
        or _instant(message.timestamp)
    )
    if discharged_at is None:
        return None
    department = message.sender.sor if message.sender is not None else ""
    return DischargeReport(
        hospital=_service_provider_sor(message) or department,
        department=department,
        patient_cpr=message.cpr,
        discharge_id=_stay(encounter),
        discharged_at=discharged_at,
        message_id=message.header_id,
    )


def _instant(value: object) -> datetime | None:
    """A point in time, or None: ``period.end`` may be a date or a month (FHIR dateTime), which
    names no time to start a clock from."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    return None


def _stay(encounter) -> str:
    for episode in getattr(encounter, "episodeOfCare", None) or []:
        if episode.identifier is not None and episode.identifier.value:
            return episode.identifier.value
    return ""


def _service_provider_sor(message: FhirMessage) -> str:
    reference = getattr(message.focus, "serviceProvider", None)
    ref = reference.reference if reference is not None else ""
    wanted = (ref or "").rstrip("/").rsplit("/", 1)[-1]
    for entry in message.bundle.entry or []:
        resource = entry.resource
        if (
            resource is not None
            and resource.get_resource_type() == "Organization"
            and resource.id == wanted
        ):
            return identifier_value(resource, codes.SOR_SYSTEM)
    return ""
