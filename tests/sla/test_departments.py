"""The department a SOR-reported discharge's clock is keyed by (gateway/sla/departments.py):
the SKS department the partner file pairs with its SOR code, and that code's hospital, exactly
as a DIS17 from the SKS department is keyed (hooks.letter_received: department = NAD+SSP,
hospital = its first four characters)."""

from __future__ import annotations

import pytest

from gateway.registry import Registry
from gateway.sla.departments import clock_place
from gateway.sla.hooks import hospital_of

HERLEV_SOR, HERLEV_HOSPITAL_SOR, OTHER_SOR = "265161000016000", "325421000016001", "953741000016009"
SKS_BY_SOR = {HERLEV_SOR: "2001060", OTHER_SOR: "130101A"}

CASES = [
    # reported (hospital, department)       -> keyed by (hospital, department)
    ("a paired SOR department: its SKS code and SKS hospital",
     (HERLEV_HOSPITAL_SOR, HERLEV_SOR), ("2001", "2001060")),
    ("the hospital SOR is replaced too (it is the SKS code's first four characters)",
     (HERLEV_SOR, HERLEV_SOR), ("2001", "2001060")),
    ("another paired department, letters in its SKS code", ("x", OTHER_SOR), ("1301", "130101A")),
    ("a SOR department the partner file does not pair: as reported",
     (HERLEV_HOSPITAL_SOR, "100071000016001"), (HERLEV_HOSPITAL_SOR, "100071000016001")),
    ("an SKS department (a DIS17, the API): as reported", ("2001", "2001060"),
     ("2001", "2001060")),
    ("no department: as reported", (HERLEV_HOSPITAL_SOR, ""), (HERLEV_HOSPITAL_SOR, "")),
]


@pytest.mark.parametrize(("reported", "keyed"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_clock_place(reported, keyed):
    assert clock_place(*reported, SKS_BY_SOR) == keyed


def test_without_pairs_every_report_is_keyed_as_reported():
    assert clock_place(HERLEV_HOSPITAL_SOR, HERLEV_SOR, {}) == (HERLEV_HOSPITAL_SOR, HERLEV_SOR)


def test_the_pairs_come_from_the_partner_files_departments():
    registry = Registry.from_dict({"endpoints": [{
        "gln": "5790000209354", "name": "Herlev Hospital", "kind": "hospital",
        "channel": {"kind": "local"}, "sor": HERLEV_HOSPITAL_SOR,
        "departments": [{"sor": HERLEV_SOR, "sks": "2001060", "name": "Hjerteafdelingen"}]}]})
    hospital, department = clock_place(HERLEV_HOSPITAL_SOR, HERLEV_SOR, registry.sks_by_sor)
    assert (hospital, department) == (hospital_of("2001060"), "2001060")
