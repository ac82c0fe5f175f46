"""The department a discharge's clock is keyed by, when the report names it by SOR code.

EDIFACT letters name their hospital department by SKS code (NAD+SSP), and the clocks are keyed
by it: a letter joins the discharge of the same patient at the same department (matching.py),
and the hospital is the SKS code's first four characters (``hooks.hospital_of``), as for a
DIS17. A FHIR HospitalNotification names its sender by SOR code (FHIR carries no SKS code).
The partner file's departments pair the two (``Registry.sks_by_sor``), so a discharge reported
by SOR is keyed exactly as the DIS17 of that SKS department would be, and the DIS01 from it
joins that clock instead of starting a second one. A SOR code the partner file does not pair
keys the clock by SOR codes as reported (no EDIFACT letter joins it).
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.sla.hooks import hospital_of


def clock_place(hospital: str, department: str,
                sks_by_sor: Mapping[str, str]) -> tuple[str, str]:
    """(hospital, department) to key a reported discharge's clock by; pure."""
    sks = sks_by_sor.get(department)
    if not sks:
        return hospital, department
    return hospital_of(sks), sks
