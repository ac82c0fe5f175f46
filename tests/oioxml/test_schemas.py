"""medbro's OIOXML schemas agree with the code tables the writer uses."""

from __future__ import annotations

import pytest
from lxml import etree

from gateway.oioxml import codes
from gateway.oioxml.validate import SCHEMA_DIR, SCHEMA_FILES, schema_for

XS = "{http://www.w3.org/2001/XMLSchema}"
TABLES = {
    "StatusCodeType": codes.STATUS_CODES,
    "IdentifierCodeType": codes.IDENTIFIER_CODES,
    "RefuseCodeType": codes.REFUSE_CODES,
    "DiagnoseDescriptionCodeType": codes.DIAGNOSIS_KINDS,
    "DiagnoseTypeCodeType": codes.DIAGNOSIS_SCHEMES,
    "EpisodeOfCareStatusCodeType": codes.EPISODE_STATUS,
    "RelationCodeType": codes.RELATION_CODES,
    "PriorityType": codes.PRIORITY_CODES,
    "MedicalSpecialityCodeType": codes.SPECIALITY_CODES,
    "ReferralPriorityType": codes.REFERRAL_PRIORITY,
    "ReferralTransportType": codes.REFERRAL_TRANSPORT,
    "TelephoneSubscriberCodeType": codes.TELEPHONE_CODES,
}


@pytest.mark.parametrize("type_name", sorted(TABLES))
def test_enumeration_matches_code_table(type_name):
    common = etree.parse(str(SCHEMA_DIR / "common.xsd"))
    [simple] = common.findall(f"{XS}simpleType[@name='{type_name}']")
    words = [e.get("value") for e in simple.iter(f"{XS}enumeration")]
    assert sorted(words) == sorted(TABLES[type_name].words())


@pytest.mark.parametrize("namespace", sorted(SCHEMA_FILES))
def test_schemas_compile(namespace):
    assert schema_for(namespace) is not None


def test_code_tables_are_two_way():
    for table in TABLES.values():
        for code in table.codes():
            assert table.to_edi(table.to_xml(code)) == code
