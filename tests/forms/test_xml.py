"""LÆ forms as XML: schema-valid output, exact round trips, errors that name the field."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway.forms import FormValidationError, from_xml, to_xml
from gateway.forms.xml import schema

from .examples import ALL, LAE265, LAE271
from .strategies import FORMS


@pytest.mark.parametrize("form", ALL, ids=lambda f: f.form_type.label)
def test_example_forms_are_schema_valid_and_round_trip(form) -> None:
    data = to_xml(form)
    doc = etree.fromstring(data)
    schema(form.form_type).assertValid(doc)
    assert etree.QName(doc).localname == f"LAE{form.form_type.value}"
    assert from_xml(data) == form


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(FORMS)
def test_any_valid_form_round_trips_exactly(form) -> None:
    data = to_xml(form)
    schema(form.form_type).assertValid(etree.fromstring(data))
    assert from_xml(data) == form


def _fields(exc: pytest.ExceptionInfo[FormValidationError]) -> set[str]:
    return set(exc.value.fields)


def test_schema_errors_name_the_fields() -> None:
    data = to_xml(LAE265)
    data = data.replace(b"<Ydernummer>291714</Ydernummer>", b"<Ydernummer>2917</Ydernummer>")
    data = data.replace(b"<Reply>Ja, for fysioterapiens vedkommende.</Reply>", b"")
    with pytest.raises(FormValidationError) as exc:
        from_xml(data)
    assert _fields(exc) == {"lae265.parties.gp.ydernummer", "lae265.answers[2]"}


def test_missing_and_malformed_dates_are_named() -> None:
    data = to_xml(LAE265).replace(b"2026-03-16", b"16.03.2026")
    with pytest.raises(FormValidationError) as exc:
        from_xml(data)
    assert _fields(exc) == {"lae265.consultation_date"}


def test_semantic_errors_name_the_fields() -> None:
    bad = dataclasses.replace(LAE271, attachments=LAE271.attachments[2:])
    data = to_xml(LAE271).replace(b"<Kind>lae265</Kind>", b"<Kind>other</Kind>")
    with pytest.raises(FormValidationError) as exc:
        from_xml(data)
    assert _fields(exc) == {"lae271.attachments"}
    with pytest.raises(FormValidationError) as exc:
        to_xml(bad)
    assert "lae265" in str(exc.value) and "rehab_plan" in str(exc.value)


def test_certificate_issued_before_consultation_is_refused() -> None:
    bad = dataclasses.replace(LAE265, consultation_date=LAE265.issued_at.date().replace(day=28))
    with pytest.raises(FormValidationError) as exc:
        to_xml(bad)
    assert _fields(exc) == {"lae265.consultation_date"}


def test_unknown_root_and_garbage_are_refused() -> None:
    with pytest.raises(FormValidationError, match="unknown form"):
        from_xml(b'<LAE999 xmlns="urn:medbro:lae:1"/>')
    with pytest.raises(FormValidationError, match="not well-formed"):
        from_xml(b"<LAE261")
    with pytest.raises(FormValidationError, match="not an L"):
        from_xml(b"<LAE261/>")


def test_entities_are_not_expanded() -> None:
    data = to_xml(LAE265).replace(
        b"<?xml version='1.0' encoding='UTF-8'?>",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    ).replace(b"<CitizenView>", b"<CitizenView>&e;")
    with pytest.raises(FormValidationError):
        from_xml(data)


@settings(max_examples=200)
@given(st.binary(max_size=400) | st.text(max_size=200).map(
    lambda t: f'<LAE265 xmlns="urn:medbro:lae:1">{t}</LAE265>'.encode()))
def test_any_bytes_give_a_form_or_a_field_error(data: bytes) -> None:
    try:
        from_xml(data)
    except FormValidationError as exc:
        assert exc.errors and all(e.field.startswith(("xml", "lae265")) for e in exc.errors)
