"""Deep validation of one message body against its letter type's grammar table.

One generic walker for every type (h11's "state machine as tables" applied to EDI): the
tables in ``gateway.edifact.grammars`` say which groups and segments a type allows, in which
order and how often, and which codes, DTM formats and party schemes each position takes;
this module only walks. Types marked ``structure`` get the group checks, ``deep`` types get
every rule. Every finding is an ``EdifactError`` naming the segment number (UNH = 1), tag,
element and component; an unknown type or version answers VER, everything else SYN.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from typing import Any

from gateway.edifact.errors import EdifactError
from gateway.edifact.grammar import (
    DTM_FORMAT_LENGTHS,
    HEADER,
    TRIGGER_TAG,
    Group,
    GroupSpec,
    MessageGrammar,
    SegmentSpec,
    components,
    get,
    split_groups,
    value,
)
from gateway.edifact.grammars import find_grammar
from gateway.edifact.segment_values import parse_dtm
from gateway.model import RefusalCode

__all__ = ["validate_message", "message_problems", "groups", "grammar_of"]

FTX_MAX_COMPONENTS = 5
FTX_MAX_LENGTH = 70
DTM_NAMES = {"102": "CCYYMMDD", "203": "CCYYMMDDHHMM", "204": "CCYYMMDDHHMMSS"}


def _identifier(message: Any) -> list[str]:
    return [c or "" for c in (getattr(message, "identifier", None) or [])]


def grammar_of(message: Any) -> MessageGrammar | None:
    """The grammar for a message's letter type (UNH element 3), None when unknown."""
    return find_grammar(getattr(message, "type", "") or "")


def groups(message: Any) -> list[Group]:
    """The message body split into its segment groups (first the ``header`` group).

    Explicit ``Snn`` groups for every family; MEDPRE's implicit groups when its grammar is known.
    """
    grammar = grammar_of(message)
    triggers = grammar.triggers if grammar is not None else frozenset()
    return split_groups(list(message.segments), triggers=triggers)


def validate_message(message: Any) -> None:
    """Raise the first problem of ``message`` as an ``EdifactError``; return when it is valid."""
    found = message_problems(message, first_only=True)
    if found:
        raise found[0]


def message_problems(message: Any, *, first_only: bool = False) -> list[EdifactError]:
    """Every problem of ``message`` in segment order (or just the first)."""
    walker = _Walker(message, first_only)
    with contextlib.suppress(_Stop):
        walker.run()
    return walker.errors


class _Stop(Exception):
    """Internal: the first error was found and only the first was asked for."""


class _Walker:
    def __init__(self, message: Any, first_only: bool) -> None:
        self.message = message
        self.ref = getattr(message, "ref", None)
        self.first_only = first_only
        self.errors: list[EdifactError] = []
        self.end_no = len(message.segments) + 2  # UNT's segment number

    def fail(self, code: str, text: str, **where: Any) -> None:
        hint = where.pop("hint", RefusalCode.SYN)
        self.errors.append(
            EdifactError(code, text, message_ref=self.ref, receipt_hint=hint, **where)
        )
        if self.first_only:
            raise _Stop

    # -- the message as a whole ----------------------------------------------------------------

    def run(self) -> None:
        grammar = self._identify()
        if grammar is None:
            return
        found = split_groups(list(self.message.segments), triggers=grammar.triggers)
        self._check_group(grammar, grammar.header, found[0])
        self._check_groups(grammar, found[1:])
        if grammar.deep:
            self._check_required(grammar, found)

    def _identify(self) -> MessageGrammar | None:
        type_ = getattr(self.message, "type", "") or ""
        grammar = find_grammar(type_)
        if grammar is None:
            self.fail(
                "UNKNOWN_TYPE",
                f"unknown letter type {type_!r}",
                segment_no=1,
                tag="UNH",
                element=3,
                hint=RefusalCode.VER,
            )
            return None
        ident = _identifier(self.message)
        for index, expected in enumerate(grammar.identifier):
            got = ident[index] if index < len(ident) else ""
            if got != expected:
                self.fail(
                    "UNH_IDENTIFIER",
                    f"{grammar.type} needs message identifier component {index + 1} "
                    f"{expected!r}, not {got!r}",
                    segment_no=1,
                    tag="UNH",
                    element=2,
                    component=index + 1,
                    hint=RefusalCode.VER,
                )
        version = ident[4] if len(ident) > 4 else ""
        if not grammar.version_pattern.fullmatch(version):
            self.fail(
                "UNKNOWN_VERSION",
                f"version {version!r} is not a version of {grammar.type}",
                segment_no=1,
                tag="UNH",
                element=2,
                component=5,
                hint=RefusalCode.VER,
            )
        return grammar

    def _check_groups(self, grammar: MessageGrammar, found: list[Group]) -> None:
        counts: Counter[str] = Counter()
        last_index, last_name = -1, HEADER
        for group in found:
            trigger_no = group.numbers[0]
            located = grammar.group(group.name)
            if located is None:
                self.fail(
                    "GROUP_UNEXPECTED",
                    f"segment group {group.name} is not part of {grammar.type}",
                    segment_no=trigger_no,
                    tag=group.segments[0].tag,
                )
                continue
            index, spec = located
            if grammar.groups_ordered and index < last_index:
                self.fail(
                    "GROUP_ORDER",
                    f"segment group {group.name} cannot come after group {last_name}",
                    segment_no=trigger_no,
                    tag=group.segments[0].tag,
                )
            if index >= last_index:
                last_index, last_name = index, group.name
            counts[group.name] += 1
            if counts[group.name] > spec.max:
                self.fail(
                    "GROUP_REPEAT",
                    f"segment group {group.name} occurs more than {spec.max} time(s)",
                    segment_no=trigger_no,
                    tag=group.segments[0].tag,
                )
            if not grammar.implicit:
                self._check_trigger(group)
            self._check_group(grammar, spec, group)
        for index, spec in enumerate(grammar.groups):
            if counts[spec.name] < spec.min:
                self.fail(
                    "GROUP_MISSING",
                    f"mandatory segment group {spec.name} is missing",
                    segment_no=self._where_missing(grammar, found, index),
                    tag=spec.name,
                )

    def _where_missing(self, grammar: MessageGrammar, found: list[Group], index: int) -> int:
        """Where a missing group belonged: the first later group, else UNT."""
        for group in found:
            located = grammar.group(group.name)
            if located is not None and located[0] > index:
                return group.numbers[0]
        return self.end_no

    def _check_trigger(self, group: Group) -> None:
        trigger = group.segments[0]
        expected = group.name[1:]
        got = get(trigger, 1)
        if got != expected or len(trigger.elements) != 1:
            self.fail(
                "GROUP_TRIGGER",
                f"group trigger {group.name} must read {group.name}+{expected}",
                segment_no=group.numbers[0],
                tag=group.name,
                element=1,
            )

    def _check_required(self, grammar: MessageGrammar, found: list[Group]) -> None:
        for need in grammar.required:
            present = any(
                value(seg, need.at) == need.code
                for group in found
                if group.name == need.group
                for seg in group.segments
                if seg.tag == need.tag
            )
            if not present:
                first = next((g.numbers[0] for g in found if g.name == need.group), None)
                self.fail(
                    "REQUIRED_MISSING",
                    f"{grammar.type} needs {need.name or need.tag + '+' + need.code}",
                    segment_no=first or self.end_no,
                    tag=need.group if first else "UNT",
                )

    # -- one group -----------------------------------------------------------------------------

    def _check_group(self, grammar: MessageGrammar, spec: GroupSpec, group: Group) -> None:
        if spec.segments is None:
            return
        pairs = list(zip(group.segments, group.numbers, strict=True))
        if group.name != HEADER and not grammar.implicit:
            pairs = pairs[1:]  # the Snn trigger, checked by _check_trigger
        counts: Counter[str] = Counter()
        last_index, last_tag = -1, ""
        where = "the message header" if group.name == HEADER else f"group {group.name}"
        previous = None
        runs: dict[str, tuple[str, str]] = {}
        for seg, no in pairs:
            located = spec.segment(seg.tag)
            if located is None:
                if TRIGGER_TAG.fullmatch(seg.tag):
                    continue  # an unknown group of an implicit family: reported elsewhere
                self.fail(
                    "SEGMENT_UNEXPECTED",
                    f"segment {seg.tag} is not allowed in {where} of {grammar.type}",
                    segment_no=no,
                    tag=seg.tag,
                )
                continue
            index, seg_spec = located
            if spec.ordered and index < last_index:
                self.fail(
                    "SEGMENT_ORDER",
                    f"segment {seg.tag} cannot come after {last_tag} in {where}",
                    segment_no=no,
                    tag=seg.tag,
                )
            if index >= last_index:
                last_index, last_tag = index, seg.tag
            if seg_spec.run:
                key = (get(seg, 1), get(seg, 2))
                started = runs.setdefault(seg.tag, key)
                if started != key or (counts[seg.tag] and previous != seg.tag):
                    self.fail(
                        "SEGMENT_RUN",
                        f"all {seg.tag} segments in {where} must form one text "
                        f"({'+'.join(started)}, adjacent)",
                        segment_no=no,
                        tag=seg.tag,
                    )
            previous = seg.tag
            if seg_spec.after and not counts[seg_spec.after]:
                self.fail(
                    "SEGMENT_CONTEXT",
                    f"segment {seg.tag} must follow a {seg_spec.after} in {where}",
                    segment_no=no,
                    tag=seg.tag,
                )
            counts[seg.tag] += 1
            if counts[seg.tag] > seg_spec.max:
                self.fail(
                    "SEGMENT_REPEAT",
                    f"segment {seg.tag} occurs more than {seg_spec.max} time(s) in {where}",
                    segment_no=no,
                    tag=seg.tag,
                )
            if grammar.deep:
                self._check_values(seg_spec, seg, no)
        for seg_spec in spec.segments:
            if counts[seg_spec.tag] < seg_spec.min:
                at = group.numbers[0] if group.numbers else 2
                self.fail(
                    "SEGMENT_MISSING",
                    f"{where} lacks its mandatory segment {seg_spec.tag}",
                    segment_no=at,
                    tag=seg_spec.tag,
                )

    # -- one segment ---------------------------------------------------------------------------

    def _check_values(self, spec: SegmentSpec, seg: Any, no: int) -> None:
        if spec.shape is not None:
            self._check_shape(spec.shape, seg, no)
        for rule in spec.values:
            got = value(seg, rule.at)
            where = {"segment_no": no, "tag": seg.tag, "element": rule.at.element}
            where["component"] = rule.at.component
            label = rule.name or "value"
            if not got:
                if rule.required:
                    self.fail("ELEMENT_MISSING", f"{label} is missing", **where)
                continue
            if rule.codes is not None and got not in rule.codes:
                allowed = ", ".join(sorted(c for c in rule.codes if c)) or "none"
                self.fail(
                    "CODE_UNKNOWN",
                    f"{label} {got!r} is not allowed here (allowed: {allowed})",
                    **where,
                )
            if rule.pattern is not None and not rule.pattern.search(got):
                self.fail("VALUE_FORMAT", f"{label} {got!r} has the wrong form", **where)
        if seg.tag == "DTM":
            self._check_dtm(spec, seg, no)
        if spec.agencies:
            self._check_agency(spec, seg, no)
        if seg.tag == "FTX":
            self._check_ftx(seg, no)

    def _check_shape(self, shape: tuple[int, ...], seg: Any, no: int) -> None:
        if len(seg.elements) > len(shape):
            self.fail(
                "ELEMENT_EXTRA",
                f"{seg.tag} has {len(seg.elements)} elements, at most {len(shape)}",
                segment_no=no,
                tag=seg.tag,
                element=len(shape) + 1,
            )
            return
        for index, (found, limit) in enumerate(zip(seg.elements, shape, strict=False), start=1):
            count = 0 if found == "" else len(components(found))
            if count > limit:
                self.fail(
                    "ELEMENT_EXTRA",
                    f"{seg.tag} element {index} has {count} components, at most {limit}",
                    segment_no=no,
                    tag=seg.tag,
                    element=index,
                    component=limit + 1,
                )

    def _check_dtm(self, spec: SegmentSpec, seg: Any, no: int) -> None:
        qualifier, text, fmt = get(seg, 1, 1), get(seg, 1, 2), get(seg, 1, 3)
        allowed = spec.formats.get(qualifier) or spec.formats.get("*")
        if allowed is not None and fmt and fmt not in allowed:
            need = " or ".join(f"{f} ({DTM_NAMES[f]})" for f in sorted(allowed))
            self.fail(
                "DTM_FORMAT",
                f"DTM+{qualifier} must use format {need}, not {fmt}",
                segment_no=no,
                tag="DTM",
                element=1,
                component=3,
            )
        length = DTM_FORMAT_LENGTHS.get(fmt)
        if length is None or not text:
            return
        if parse_dtm(text, fmt) is None:
            self.fail(
                "DTM_VALUE",
                f"{text!r} is not a valid {DTM_NAMES[fmt]} ({length} digits) for format {fmt}",
                segment_no=no,
                tag="DTM",
                element=1,
                component=2,
            )

    def _check_agency(self, spec: SegmentSpec, seg: Any, no: int) -> None:
        scheme, agency = get(seg, 2, 2), get(seg, 2, 3)
        allowed = spec.agencies.get(scheme)
        if allowed is not None and agency not in allowed:
            self.fail(
                "AGENCY_UNKNOWN",
                f"id scheme {scheme} needs agency {'/'.join(sorted(allowed))}, not {agency!r}",
                segment_no=no,
                tag=seg.tag,
                element=2,
                component=3,
            )

    def _check_ftx(self, seg: Any, no: int) -> None:
        if len(seg.elements) < 4:
            return
        texts = components(seg.elements[3])
        if len(texts) > FTX_MAX_COMPONENTS:
            self.fail(
                "FTX_COMPONENTS",
                f"free text has {len(texts)} components, at most {FTX_MAX_COMPONENTS} allowed",
                segment_no=no,
                tag="FTX",
                element=4,
                component=FTX_MAX_COMPONENTS + 1,
            )
        for index, text in enumerate(texts, start=1):
            if len(text) > FTX_MAX_LENGTH:
                self.fail(
                    "FTX_LENGTH",
                    f"free text line of {len(text)} characters, at most {FTX_MAX_LENGTH}",
                    segment_no=no,
                    tag="FTX",
                    element=4,
                    component=index,
                )
