"""The grammar tables load and check themselves; the walker splits messages into groups."""

from __future__ import annotations

import pytest

from gateway.edifact.grammar import (
    GrammarError,
    Position,
    compile_grammar,
    merge,
    split_groups,
)
from gateway.edifact.grammars import TITLES, all_grammars, find_grammar
from gateway.edifact.segment_values import unpack
from gateway.edifact.validate import groups

from .fixtures_semantics.messages import sample_message

DEEP = {
    "DIS01",
    "DIS02",
    "DIS03",
    "DIS05",
    "DIS06",
    "DIS07",
    "DIS08",
    "DIS09",
    "DIS10",
    "DIS13",
    "DIS14",
    "DIS17",
    "DIS20",
    "DIS90",
    "DIS91",
    "CTL01",
    "CTL02",
    "CTL03",
}


def test_every_table_loads_and_every_listed_type_has_a_grammar() -> None:
    grammars = all_grammars()
    assert set(grammars) == set(TITLES)
    assert {t for t, g in grammars.items() if g.deep} == DEEP
    families = {g.family for g in grammars.values()}
    assert families == {"MEDDIS", "MEDREF", "MEDRPT", "MEDREQ", "MEDBIN", "MEDPRE", "CONTRL"}


def test_layers_tighten_what_they_inherit() -> None:
    dis01, dis20 = find_grammar("DIS01"), find_grammar("DIS20")
    assert [g.name for g in dis01.groups] == ["S01", "S02", "S05", "S07", "S09", "S11", "S14"]
    assert [g.name for g in dis20.groups] == ["S01", "S02", "S07", "S11"]
    nad20 = dis20.group("S01")[1].segment("NAD")[1]
    assert next(v for v in nad20.values if v.at == Position(1, 1)).codes == {"SOR", "ROR"}
    dtm01 = dis01.header.segment("DTM")[1]
    assert dtm01.formats == {"137": {"203"}}
    assert find_grammar("DIS20").header.segment("DTM")[1].formats == {"137": {"204"}}
    # the EDIFACT default layer is merged under every DTM: the format code is required
    assert any(v.required and v.at == Position(1, 3) for v in dtm01.values)


def test_structure_only_types_have_open_groups_and_implicit_medpre() -> None:
    ref01 = find_grammar("REF01")
    assert not ref01.deep and ref01.group("S12")[1].segments is None
    pre01 = find_grammar("PRE01")
    assert pre01.implicit and pre01.triggers == {"PNA", "LIN"}


def test_merge_deletes_with_none_merges_dicts_and_keeps_order() -> None:
    base = {"a": {"x": 1, "y": 2}, "b": [1], "c": 3}
    assert merge(base, {"a": {"y": 5, "z": 6}, "b": [2], "c": None}) == {
        "a": {"x": 1, "y": 5, "z": 6},
        "b": [2],
    }
    assert list(merge(base, {"d": 1, "a": {}})) == ["a", "b", "c", "d"]


GOOD = {"family": "X", "type": "T01", "version": "^V$", "identifier": ["X", "D", "93A", "UN"]}


@pytest.mark.parametrize(
    ("patch", "complaint"),
    [
        ({"depth": "deeper"}, "depth"),
        ({"groups": {"G1": {}}}, "explicit group names"),
        ({"groups": {"S01": {"min": 3, "max": 1}}}, "bounds"),
        ({"groups": {"S01": {"segments": {"DTM": {"formats": {"137": ["999"]}}}}}}, "DTM formats"),
        ({"groups": {"S01": {"segments": {"NAD": {"formats": {"1": ["203"]}}}}}}, "only for DTM"),
        ({"groups": {"S01": {"segments": {"NAD": {"codes": {"x.1": ["A"]}}}}}}, "bad position"),
        ({"groups": {"S01": {"segments": {"NAD": {"colour": 1}}}}}, "unknown keys"),
        ({"groups": {"S01": {"segments": {"nad": {}}}}}, "bad segment tag"),
        ({"identifier": ["X"]}, "identifier"),
        ({"version": "("}, "version pattern"),
        ({"required": [{"group": "S01"}]}, "lacks"),
    ],
)
def test_a_broken_table_fails_when_compiled(patch, complaint) -> None:
    with pytest.raises(GrammarError, match=complaint):
        compile_grammar({**GOOD, **patch})


def test_split_groups_numbers_segments_from_unh() -> None:
    body = [unpack(t) for t in ("BGM+EPI", "DTM+137:1:203", "S01+01", "NAD+SSP", "S02+02")]
    found = split_groups(body)
    assert [(g.name, g.numbers) for g in found] == [
        ("header", (2, 3)),
        ("S01", (4, 5)),
        ("S02", (6,)),
    ]
    assert found[1].number == 1 and found[0].number is None
    assert found[1].first("NAD", "SSP") is body[3]


def test_implicit_groups_open_at_trigger_tags() -> None:
    body = [unpack(t) for t in ("BGM+X", "PNA+PO", "ADR+1", "LIN+1", "PNA+PAT")]
    assert [g.name for g in split_groups(body, triggers={"PNA", "LIN"})] == [
        "header",
        "PNA",
        "LIN",
        "PNA",
    ]


def test_groups_of_samples(samples_dir) -> None:
    dis01 = groups(sample_message("edifact_DIS01_1.edi"))
    assert [g.name for g in dis01] == [
        "header",
        "S01",
        "S01",
        "S01",
        "S02",
        "S05",
        "S07",
        "S09",
        "S11",
        "S14",
        "S14",
        "S14",
        "S14",
    ]
    assert dis01[5].first("RFF", "ROI") is not None
    pre01 = groups(sample_message("edifact_PRE01_1.edi"))
    assert [g.name for g in pre01][:4] == ["header", "PNA", "PNA", "PNA"]
    assert "LIN" in [g.name for g in pre01]
    ctl = groups(sample_message("edifact_CTL02_1.edi"))
    assert [g.name for g in ctl] == ["header"]
