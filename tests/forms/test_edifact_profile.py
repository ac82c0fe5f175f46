"""The DIS91 profile: form -> Letter -> form exactly, escaping, and errors naming the field."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.forms import FormValidationError, from_letter, to_letter
from gateway.forms.edifact_profile import (
    PROFILE_LINE,
    decode_body,
    encode_body,
    escape_line,
    unescape_line,
)
from gateway.model import FreeText, Patient

from .examples import ALL, LAE261, LAE265, LAE275
from .strategies import FORMS


@pytest.mark.parametrize("form", ALL, ids=lambda f: f.form_type.label)
def test_example_forms_round_trip(form) -> None:
    letter = to_letter(form)
    assert letter.type == "DIS91" and letter.version == "D9134L"
    assert letter.texts[0].qualifier == "OE"
    assert letter.texts[0].text.startswith(f"{form.form_type.label} ")
    assert form.case_ref in letter.texts[0].text
    assert letter.patient is not None and letter.patient.cpr == form.citizen.cpr
    assert from_letter(letter) == form


def test_parties_follow_the_direction_of_each_form() -> None:
    ids = {f.form_type.value: to_letter(f) for f in ALL}
    assert (ids["261"].sender.scheme, ids["261"].receiver.scheme) == ("KOM", "YNR")
    assert (ids["265"].sender.scheme, ids["265"].receiver.scheme) == ("YNR", "KOM")
    assert (ids["271"].sender.scheme, ids["271"].receiver.scheme) == ("KOM", "SOR")
    l275 = ids["275"]
    assert (l275.sender.scheme, l275.receiver.scheme) == ("SOR", "KOM")
    assert [(c.role, c.scheme, c.id) for c in l275.copies] == [("CCR", "YNR", "291714")]


@given(st.text(st.characters(codec="latin-1", exclude_characters="\n")))
def test_escaped_lines_are_never_ambiguous_in_ftx(line: str) -> None:
    escaped = escape_line(line)
    assert escaped != "." and not escaped.endswith(("\\", " ")) and escaped.startswith("|")
    assert unescape_line(escaped) == line


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(FORMS)
def test_any_valid_form_round_trips_exactly(form) -> None:
    assert from_letter(to_letter(form)) == form


def test_body_split_over_several_ftx_runs_is_joined() -> None:
    letter = to_letter(LAE265)
    lines = letter.texts[1].text.split("\n")
    half = len(lines) // 2
    split = (letter.texts[0], FreeText("NC", "\n".join(lines[:half])),
             FreeText("NC", "\n".join(lines[half:])))
    assert from_letter(dataclasses.replace(letter, texts=split)) == LAE265


def test_body_errors_name_the_field() -> None:
    body = encode_body(LAE261)
    with pytest.raises(FormValidationError) as exc:
        decode_body(body.replace("@background", "@background\n|x\n@background"))
    assert exc.value.fields == ("lae.background",)
    broken = body.replace("@parties.gp.ydernummer\n|291714", "@parties.gp.ydernummer\n|29")
    broken = broken.replace("@situation", "@situatoin")
    letter = dataclasses.replace(to_letter(LAE261), texts=(FreeText("NC", broken),))
    with pytest.raises(FormValidationError) as exc:
        from_letter(letter)
    assert set(exc.value.fields) == {"lae261.situatoin", "lae261.situation"}
    fixed = broken.replace("@situatoin", "@situation")
    letter = dataclasses.replace(letter, texts=(FreeText("NC", fixed),))
    with pytest.raises(FormValidationError) as exc:
        from_letter(letter)
    assert exc.value.fields == ("lae261.parties.gp.ydernummer",)


def test_list_items_out_of_order_are_refused() -> None:
    body = encode_body(LAE265).replace("@answers[2]", "@answers[3]")
    letter = dataclasses.replace(to_letter(LAE265), texts=(FreeText("NC", body),))
    with pytest.raises(FormValidationError) as exc:
        from_letter(letter)
    assert exc.value.fields[0].startswith("lae265.answers[3]")


def test_pna_must_agree_with_the_form() -> None:
    letter = dataclasses.replace(to_letter(LAE275), patient=Patient("0108584947"))
    with pytest.raises(FormValidationError) as exc:
        from_letter(letter)
    assert exc.value.fields == ("lae275.citizen.cpr",)


def test_not_a_profile_letter() -> None:
    letter = dataclasses.replace(to_letter(LAE261), texts=(FreeText("NC", "Kære læge"),))
    with pytest.raises(FormValidationError, match=PROFILE_LINE):
        from_letter(letter)


@given(st.text(st.characters(codec="latin-1"), max_size=300))
def test_any_body_text_gives_a_form_error_or_a_form(text: str) -> None:
    letter = dataclasses.replace(
        to_letter(LAE261), texts=(FreeText("NC", PROFILE_LINE + "\n" + text),)
    )
    try:
        from_letter(letter)
    except FormValidationError as exc:
        assert exc.errors
