"""Semantic validation: every wrong field named at once; text limited to what travels."""

from __future__ import annotations

import dataclasses

import pytest

from gateway.forms import Citizen, FormValidationError, check, validate
from gateway.forms.validation import cpr_is_valid

from .examples import LAE261, LAE275


def test_valid_forms_pass() -> None:
    assert validate(LAE261) is LAE261
    assert check(LAE275) == []


def test_every_problem_is_reported_with_its_field() -> None:
    bad = dataclasses.replace(
        LAE261,
        citizen=Citizen("3213824933"),
        background="  \n ",
        situation="pris 10 €",
        questions=("ok", "tab\there"),
        form_version="9.9",
    )
    fields = {e.field for e in check(bad)}
    assert fields == {
        "lae261.citizen.cpr",
        "lae261.background",
        "lae261.situation",
        "lae261.questions[2]",
        "lae261.form_version",
    }
    with pytest.raises(FormValidationError, match="outside ISO-8859-1"):
        validate(bad)


def test_clinical_function_is_required_on_lae275() -> None:
    bad = dataclasses.replace(
        LAE275, parties=dataclasses.replace(LAE275.parties, clinical_function=None)
    )
    assert [e.field for e in check(bad)] == ["lae275.parties.clinical_function"]


@pytest.mark.parametrize(
    ("cpr", "ok"),
    [("1502824933", True), ("2902004933", True), ("3202824933", False), ("150282493", False),
     ("15028249x3", False), ("0113824933", False)],
)
def test_cpr_format(cpr: str, ok: bool) -> None:
    assert cpr_is_valid(cpr) is ok
