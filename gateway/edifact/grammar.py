"""The table-driven message grammar: segment groups and segment rules as data, one walker.

MedCom describes every letter type as segment groups (``S01`` parties, ``S02`` letter data,
...), opened by an explicit trigger segment ``Snn+nn`` (MEDPRE opens its groups implicitly
with a trigger tag such as ``PNA`` or ``LIN``; CONTRL has no groups). The letter-type tables
live in ``gateway.edifact.grammars`` as plain dicts, layered EDIFACT defaults -> MedCom
envelope -> family -> letter type; this module compiles a merged table into frozen specs
(checking it on the way, so a typo in a table fails at import, not on a patient's letter)
and splits a message into its groups.

Positions in rules are ``"element.component"`` strings, 1-based, the way MedCom's guides and
``EdifactError`` count them (element 1 is the first after the tag).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from gateway.errors import LocalUsageError

TRIGGER_TAG = re.compile(r"S[0-9]{2}")
DTM_FORMAT_LENGTHS: Mapping[str, int] = {"102": 8, "203": 12, "204": 14}
HEADER = "header"
UNBOUNDED = 9999


class GrammarError(LocalUsageError):
    """A grammar table is malformed (a bug in medbro's own data, found when it is loaded)."""


@dataclass(frozen=True)
class Position:
    """An element/component position, 1-based."""

    element: int
    component: int = 1

    @classmethod
    def parse(cls, text: str) -> Position:
        try:
            element, _, component = text.partition(".")
            pos = cls(int(element), int(component or 1))
        except ValueError as exc:
            raise GrammarError(f"bad position {text!r} (want 'element.component')") from exc
        if pos.element < 1 or pos.component < 1:
            raise GrammarError(f"bad position {text!r}: positions count from 1")
        return pos


@dataclass(frozen=True)
class ValueRule:
    """What one element/component must hold: present, a code from a list, a pattern."""

    at: Position
    required: bool = False
    codes: frozenset[str] | None = None
    pattern: re.Pattern[str] | None = None
    name: str = ""


# one value rule as the walker reads it: element, component, required, codes, pattern, rule
ValueStep = tuple[int, int, bool, "frozenset[str] | None", "re.Pattern[str] | None", ValueRule]


@dataclass(frozen=True)
class SegmentSpec:
    """One segment allowed in a group: repeat bounds, value rules, DTM formats per qualifier."""

    tag: str
    min: int = 0
    max: int = 1
    values: tuple[ValueRule, ...] = ()
    # DTM only: qualifier -> allowed format codes ("*" = any qualifier not listed)
    formats: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # NAD/SPR only: party id scheme -> allowed responsible agencies
    agencies: Mapping[str, frozenset[str]] = field(default_factory=dict)
    after: str = ""  # a tag that must stand earlier in the same group (DTM+CIS after its CIN)
    # at most this many components per element (and elements): a receipt maps every one
    shape: tuple[int, ...] | None = None
    run: bool = False  # all occurrences adjacent, with one qualifier and format (one FTX text)

    @cached_property
    def value_plan(self) -> tuple[ValueStep, ...]:
        """``values`` as (element, component, required, codes, pattern, rule): the walker's
        precompiled loop, each rule's fields unpacked once here instead of per segment."""
        return tuple(
            (rule.at.element, rule.at.component, rule.required, rule.codes, rule.pattern, rule)
            for rule in self.values
        )

    @cached_property
    def checks_values(self) -> bool:
        """Does a deep grammar check anything inside this segment (the walker skips it if not)?"""
        return bool(
            self.shape is not None or self.values or self.agencies or self.tag in ("DTM", "FTX")
        )


@dataclass(frozen=True)
class GroupSpec:
    """A segment group: name (``header``, ``S01``, or an implicit trigger tag), bounds, segments.

    ``segments`` is None for an open group (structure-only types: any segment is allowed).
    """

    name: str
    min: int = 0
    max: int = UNBOUNDED
    segments: tuple[SegmentSpec, ...] | None = None
    ordered: bool = True

    def segment(self, tag: str) -> tuple[int, SegmentSpec] | None:
        return self.by_tag.get(tag)

    @cached_property
    def mandatory(self) -> tuple[SegmentSpec, ...]:
        """The segments the group must hold (``min`` > 0), in table order."""
        return tuple(spec for spec in self.segments or () if spec.min > 0)

    @cached_property
    def minimums(self) -> tuple[tuple[str, int], ...]:
        """(tag, min) of ``mandatory``: what the walker checks when the group closes."""
        return tuple((spec.tag, spec.min) for spec in self.mandatory)

    @cached_property
    def walk_table(self) -> dict[str, tuple[int, SegmentSpec, bool, str, int, bool]] | None:
        """tag -> (position, spec, run, after, max, checks values): ``by_tag`` with the fields
        the walker reads for every segment unpacked once, at compile time; None for an open
        group (nothing to check)."""
        if self.segments is None:
            return None
        return {
            tag: (index, spec, spec.run, spec.after, spec.max, spec.checks_values)
            for tag, (index, spec) in self.by_tag.items()
        }

    @cached_property
    def by_tag(self) -> dict[str, tuple[int, SegmentSpec]]:
        """tag -> (position in the group, spec): the precompiled lookup of the walker."""
        found: dict[str, tuple[int, SegmentSpec]] = {}
        for index, spec in enumerate(self.segments or ()):
            found.setdefault(spec.tag, (index, spec))
        return found


@dataclass(frozen=True)
class RequiredCode:
    """A code that must occur somewhere in the message (e.g. a NAD+SSP sender party)."""

    group: str
    tag: str
    code: str
    at: Position = Position(1, 1)
    name: str = ""


@dataclass(frozen=True)
class MessageGrammar:
    """The compiled grammar of one letter type."""

    family: str
    type: str
    depth: str  # "deep": every rule checked; "structure": envelope + group structure only
    version_pattern: re.Pattern[str]
    identifier: tuple[str, ...]  # UNH element 2 components 1-4, e.g. MEDDIS, D, 93A, UN
    header: GroupSpec
    groups: tuple[GroupSpec, ...]
    implicit: bool = False  # groups opened by a trigger tag instead of an Snn segment
    groups_ordered: bool = True
    required: tuple[RequiredCode, ...] = ()

    @property
    def deep(self) -> bool:
        return self.depth == "deep"

    def group(self, name: str) -> tuple[int, GroupSpec] | None:
        return self.groups_by_name.get(name)

    @cached_property
    def groups_by_name(self) -> dict[str, tuple[int, GroupSpec]]:
        found: dict[str, tuple[int, GroupSpec]] = {}
        for index, spec in enumerate(self.groups):
            found.setdefault(spec.name, (index, spec))
        return found

    @cached_property
    def mandatory_groups(self) -> tuple[tuple[int, GroupSpec], ...]:
        """(index, spec) of the groups a message must hold (``min`` > 0), in table order."""
        return tuple((index, spec) for index, spec in enumerate(self.groups) if spec.min > 0)

    @cached_property
    def triggers(self) -> frozenset[str]:
        return frozenset(g.name for g in self.groups) if self.implicit else frozenset()

    @cached_property
    def required_plan(self) -> dict[str, tuple[tuple[int, str, int, int, str], ...]]:
        """tag -> (index in ``required``, group, element, component, code): ``required_by_tag``
        unpacked for the walker's per-segment check."""
        return {
            tag: tuple(
                (key, need.group, need.at.element, need.at.component, need.code)
                for key, need in needs
            )
            for tag, needs in self.required_by_tag.items()
        }

    @cached_property
    def required_by_tag(self) -> dict[str, list[tuple[int, RequiredCode]]]:
        """tag -> [(index in ``required``, rule)]: which segments can satisfy a required code."""
        found: dict[str, list[tuple[int, RequiredCode]]] = {}
        for key, need in enumerate(self.required):
            found.setdefault(need.tag, []).append((key, need))
        return found


@dataclass(frozen=True)
class Group:
    """One occurrence of a group in a message: its segments with their UNH-relative numbers."""

    name: str
    segments: tuple[Any, ...]  # pydifact Segment objects
    numbers: tuple[int, ...]  # segment_no of each (UNH = 1)

    @property
    def number(self) -> int | None:
        """The group number of an explicit ``Snn`` group, else None."""
        return int(self.name[1:]) if TRIGGER_TAG.fullmatch(self.name) else None

    def find(self, tag: str, qualifier: str | None = None) -> list[Any]:
        """Segments with ``tag`` (and element 1 component 1 == ``qualifier``, if given)."""
        return [
            s
            for s in self.segments
            if s.tag == tag and (qualifier is None or value(s, Position(1, 1)) == qualifier)
        ]

    def first(self, tag: str, qualifier: str | None = None) -> Any | None:
        found = self.find(tag, qualifier)
        return found[0] if found else None


# --- reading values out of pydifact segments -------------------------------------------------


def components(element: Any) -> list[str]:
    """An element as its list of components (pydifact gives a str for a simple element)."""
    if element is None:
        return []
    if isinstance(element, str):
        return [element]
    return [c if isinstance(c, str) else "" for c in element]


def value(segment: Any, at: Position) -> str:
    """The value at ``at`` in ``segment``, "" when absent."""
    return get(segment, at.element, at.component)


def get(segment: Any, element: int, component: int = 1) -> str:
    """Element ``element``, component ``component`` (1-based) of ``segment``; "" when absent."""
    elements = segment.elements
    if element > len(elements):
        return ""
    found = elements[element - 1]
    if isinstance(found, str):
        return found if component == 1 else ""
    if component > len(found):
        return ""
    item = found[component - 1]
    return item if isinstance(item, str) else ""


# --- splitting a message into groups ----------------------------------------------------------


def split_groups(
    segments: Sequence[Any], *, triggers: Iterable[str] = (), first_no: int = 2
) -> list[Group]:
    """Split body segments into groups.

    A segment named ``Snn`` opens group ``Snn``; with ``triggers`` (implicit groups), a segment
    whose tag is a trigger opens a group named after it. Segments before the first group form
    the ``header`` group (always present, possibly empty). ``first_no`` is the segment_no of
    ``segments[0]`` (2: UNH is 1).
    """
    trigger_set = frozenset(triggers)
    result: list[Group] = []
    name, segs, nums = HEADER, [], []
    for offset, seg in enumerate(segments):
        opens = seg.tag in trigger_set if trigger_set else bool(TRIGGER_TAG.fullmatch(seg.tag))
        if opens:
            result.append(Group(name, tuple(segs), tuple(nums)))
            name, segs, nums = seg.tag, [], []
        segs.append(seg)
        nums.append(first_no + offset)
    result.append(Group(name, tuple(segs), tuple(nums)))
    return result


# --- compiling tables -------------------------------------------------------------------------

_SEGMENT_KEYS = {
    "min",
    "max",
    "required",
    "codes",
    "patterns",
    "formats",
    "agencies",
    "names",
    "after",
    "shape",
    "run",
}
_GROUP_KEYS = {"min", "max", "segments", "ordered"}
_GRAMMAR_KEYS = {
    "family",
    "type",
    "depth",
    "version",
    "identifier",
    "header",
    "groups",
    "implicit",
    "groups_ordered",
    "required",
    "extends",
    "title",
}


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge two table layers: dicts merge, ``None`` deletes a key, anything else replaces.

    Keys new in ``over`` are appended after ``base``'s keys, so a layer can add segments or
    groups at the end but never reorders what a lower layer declared.
    """
    out: dict[str, Any] = dict(base)
    for key, new in over.items():
        if new is None:
            out.pop(key, None)
        elif isinstance(new, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], new)
        else:
            out[key] = new
    return out


def _bounds(where: str, table: Mapping[str, Any], default_min: int, default_max: int) -> tuple:
    lo = table.get("min", default_min)
    hi = table.get("max", default_max)
    if not (isinstance(lo, int) and isinstance(hi, int) and 0 <= lo <= hi):
        raise GrammarError(f"{where}: bad bounds min={lo!r} max={hi!r}")
    return lo, hi


def _codes(where: str, codes: Any) -> frozenset[str]:
    if not isinstance(codes, list | tuple) or not all(isinstance(c, str) for c in codes):
        raise GrammarError(f"{where}: a code list must be a list of strings")
    return frozenset(codes)


def compile_segment(where: str, tag: str, table: Mapping[str, Any]) -> SegmentSpec:
    """Compile one segment rule, checking its keys, positions, codes and DTM formats."""
    if not re.fullmatch(r"[A-Z0-9]{3}", tag):
        raise GrammarError(f"{where}: bad segment tag {tag!r}")
    unknown = set(table) - _SEGMENT_KEYS
    if unknown:
        raise GrammarError(f"{where} {tag}: unknown keys {sorted(unknown)}")
    lo, hi = _bounds(f"{where} {tag}", table, 0, 1)
    names: Mapping[str, str] = table.get("names", {})
    rules: dict[Position, dict[str, Any]] = {}
    for text in table.get("required", []):
        rules.setdefault(Position.parse(text), {})["required"] = True
    for text, codes in table.get("codes", {}).items():
        rules.setdefault(Position.parse(text), {})["codes"] = _codes(f"{where} {tag} {text}", codes)
    for text, pattern in table.get("patterns", {}).items():
        try:
            rules.setdefault(Position.parse(text), {})["pattern"] = re.compile(pattern)
        except re.error as exc:
            raise GrammarError(f"{where} {tag} {text}: bad pattern {pattern!r}: {exc}") from exc
    values = tuple(
        ValueRule(at=pos, name=names.get(f"{pos.element}.{pos.component}", ""), **kw)
        for pos, kw in sorted(rules.items(), key=lambda item: (item[0].element, item[0].component))
    )
    formats = {}
    for qualifier, allowed in table.get("formats", {}).items():
        allowed_set = _codes(f"{where} {tag} formats {qualifier}", allowed)
        unknown_formats = allowed_set - set(DTM_FORMAT_LENGTHS)
        if unknown_formats:
            raise GrammarError(f"{where} {tag}: unknown DTM formats {sorted(unknown_formats)}")
        formats[qualifier] = allowed_set
    if formats and tag != "DTM":
        raise GrammarError(f"{where} {tag}: 'formats' is only for DTM")
    agencies = {
        scheme: _codes(f"{where} {tag} agencies {scheme}", allowed)
        for scheme, allowed in table.get("agencies", {}).items()
    }
    after = table.get("after", "")
    if not isinstance(after, str) or (after and not re.fullmatch(r"[A-Z0-9]{3}", after)):
        raise GrammarError(f"{where} {tag}: 'after' must be a segment tag")
    shape = table.get("shape")
    if shape is not None and not (
        isinstance(shape, list | tuple) and all(isinstance(n, int) and n >= 0 for n in shape)
    ):
        raise GrammarError(f"{where} {tag}: 'shape' must list component counts per element")
    return SegmentSpec(
        tag,
        lo,
        hi,
        values,
        formats,
        agencies,
        after,
        tuple(shape) if shape is not None else None,
        bool(table.get("run", False)),
    )


def compile_group(where: str, name: str, table: Mapping[str, Any]) -> GroupSpec:
    unknown = set(table) - _GROUP_KEYS
    if unknown:
        raise GrammarError(f"{where} {name}: unknown keys {sorted(unknown)}")
    lo, hi = _bounds(f"{where} {name}", table, 0, UNBOUNDED)
    raw = table.get("segments")
    segments = None
    if raw is not None:
        if not isinstance(raw, Mapping):
            raise GrammarError(f"{where} {name}: 'segments' must map tag -> rule")
        segments = tuple(compile_segment(f"{where} {name}", t, r) for t, r in raw.items())
    return GroupSpec(name, lo, hi, segments, bool(table.get("ordered", True)))


def compile_grammar(table: Mapping[str, Any]) -> MessageGrammar:
    """Compile a fully merged letter-type table (see ``gateway.edifact.grammars``)."""
    where = f"{table.get('family', '?')}/{table.get('type', '?')}"
    unknown = set(table) - _GRAMMAR_KEYS
    if unknown:
        raise GrammarError(f"{where}: unknown keys {sorted(unknown)}")
    for key in ("family", "type", "version", "identifier"):
        if key not in table:
            raise GrammarError(f"{where}: missing {key!r}")
    depth = table.get("depth", "structure")
    if depth not in ("deep", "structure"):
        raise GrammarError(f"{where}: depth must be 'deep' or 'structure', not {depth!r}")
    implicit = bool(table.get("implicit", False))
    groups = []
    for name, group in table.get("groups", {}).items():
        if not implicit and not TRIGGER_TAG.fullmatch(name):
            raise GrammarError(f"{where}: explicit group names are Snn, not {name!r}")
        groups.append(compile_group(where, name, group))
    header = compile_group(where, HEADER, table.get("header", {}))
    required = []
    for item in table.get("required", []):
        try:
            required.append(
                RequiredCode(
                    group=item["group"],
                    tag=item["tag"],
                    code=item["code"],
                    at=Position.parse(item.get("at", "1.1")),
                    name=item.get("name", ""),
                )
            )
        except KeyError as exc:
            raise GrammarError(f"{where}: required entry {item!r} lacks {exc}") from exc
    try:
        version = re.compile(table["version"])
    except re.error as exc:
        raise GrammarError(f"{where}: bad version pattern: {exc}") from exc
    identifier = tuple(table["identifier"])
    if len(identifier) != 4:
        raise GrammarError(f"{where}: identifier must be 4 components (type, D, 93A, agency)")
    return MessageGrammar(
        family=table["family"],
        type=table["type"],
        depth=depth,
        version_pattern=version,
        identifier=identifier,
        header=header,
        groups=tuple(groups),
        implicit=implicit,
        groups_ordered=bool(table.get("groups_ordered", True)),
        required=tuple(required),
    )
