"""The sample forms in examples/lae/ validate against schemas/lae and read as forms."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from gateway.forms import FormType, from_xml, to_xml
from gateway.forms.xml import schema

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "lae"


def test_there_is_one_example_per_form() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.xml")) == [
        f"lae{t.value}.xml" for t in FormType]


@pytest.mark.parametrize("form_type", list(FormType), ids=lambda t: t.label)
def test_example_validates_against_its_schema(form_type: FormType) -> None:
    path = EXAMPLES / f"lae{form_type.value}.xml"
    xsd = schema(form_type)
    assert xsd.validate(etree.parse(str(path))), xsd.error_log
    form = from_xml(path.read_bytes())  # the schema and the semantic rules
    assert form.form_type is form_type
    assert from_xml(to_xml(form)) == form
