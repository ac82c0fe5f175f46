"""The letter-type grammar tables, layered and compiled once.

Layers, each a plain dict merged over the one below (``grammar.merge``):
1. ``edifact.SEGMENT_DEFAULTS``: what a segment always holds (merged under every segment rule);
2. ``medcom.LETTER``: the MedCom envelope (BGM, DTM+137);
3. the family (``meddis.FAMILY``, ``contrl.FAMILY``, ``structure.LAYERS``);
4. the letter type (``meddis.TYPES`` ...), which tightens or removes what it inherits.

Every table is compiled (and so checked) the first time any grammar is asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache, reduce
from typing import Any

from gateway.edifact.grammar import GrammarError, MessageGrammar, compile_grammar, merge
from gateway.edifact.grammars import contrl, meddis, structure
from gateway.edifact.grammars.edifact import SEGMENT_DEFAULTS

__all__ = ["all_grammars", "find_grammar", "merged_table", "TITLES"]

_MODULES = (meddis, contrl, structure)


def _with_defaults(group: Mapping[str, Any]) -> dict[str, Any]:
    segments = group.get("segments")
    if segments is None:
        return dict(group)
    return {
        **group,
        "segments": {
            tag: merge(SEGMENT_DEFAULTS.get(tag, {}), rule) for tag, rule in segments.items()
        },
    }


def merged_table(type_table: Mapping[str, Any], layers: Mapping[str, list]) -> dict[str, Any]:
    """Merge one letter type over its family layers and the segment defaults."""
    base_name = type_table.get("extends") or type_table.get("family") or ""
    if base_name not in layers:
        raise GrammarError(f"{type_table.get('type')}: unknown base layer {base_name!r}")
    table = reduce(merge, [*layers[base_name], type_table], {})
    table["header"] = _with_defaults(table.get("header", {}))
    table["groups"] = {name: _with_defaults(g) for name, g in table.get("groups", {}).items()}
    return table


@cache
def _compiled() -> dict[str, MessageGrammar]:
    grammars: dict[str, MessageGrammar] = {}
    for module in _MODULES:
        for type_table in module.TYPES:
            grammar = compile_grammar(merged_table(type_table, module.LAYERS))
            if grammar.type in grammars:
                raise GrammarError(f"letter type {grammar.type} is defined twice")
            grammars[grammar.type] = grammar
    return grammars


def all_grammars() -> dict[str, MessageGrammar]:
    """Every known letter type's compiled grammar, by type (DIS01, CTL02, ...)."""
    return dict(_compiled())


def find_grammar(type_: str) -> MessageGrammar | None:
    """The grammar of a letter type (UNH element 3), or None when the type is unknown."""
    return _compiled().get(type_)


TITLES: dict[str, str] = {
    t["type"]: t.get("title", "") for module in _MODULES for t in module.TYPES
}
