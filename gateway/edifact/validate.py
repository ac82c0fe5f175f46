"""Deep validation of one message body against its letter type's grammar table.

One generic walker for every type (h11's "state machine as tables" applied to EDI): the
tables in ``gateway.edifact.grammars`` say which groups and segments a type allows, in which
order and how often, and which codes, DTM formats and party schemes each position takes;
this module only walks. Types marked ``structure`` get the group checks, ``deep`` types get
every rule. Every finding is an ``EdifactError`` naming the segment number (UNH = 1), tag,
element and component; an unknown type or version answers VER, everything else SYN.
"""

from __future__ import annotations

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
)
from gateway.edifact.grammars import find_grammar
from gateway.edifact.segment_values import dtm_valid
from gateway.model import RefusalCode

__all__ = ["MessageValidator", "validate_message", "message_problems", "groups", "grammar_of"]

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
    checker = MessageValidator(message, first_only=first_only)
    try:
        checker.start()
        checker.feed_many(message.segments, 2)
        checker.finish(len(message.segments) + 2)
    except _Stop:
        pass
    return checker.errors


def _first_three(elements: list) -> tuple[str, str, str]:
    """Components 1-3 of element 1 ("" when absent): ``get(seg, 1, 1..3)`` in one step."""
    if not elements:
        return "", "", ""
    first = elements[0]
    if type(first) is str:
        return first, "", ""
    n = len(first)
    a = first[0] if n > 0 else ""
    b = first[1] if n > 1 else ""
    c = first[2] if n > 2 else ""
    return (a if type(a) is str else "", b if type(b) is str else "", c if type(c) is str else "")


def _where(seg: Any, no: int, at: Any) -> dict[str, Any]:
    return {"segment_no": no, "tag": seg.tag, "element": at.element, "component": at.component}


class _Stop(Exception):
    """Internal: the first error was found and only the first was asked for."""


class _GroupState:
    """One open group: its spec (None: open group or skipped) and what was seen in it.

    ``last_index`` (the table position of the latest segment, for the order check) and
    ``previous`` (the latest segment's tag, for ``run`` segments) live in ``feed_many``'s local
    variables while it walks, and are written back here when the group closes or the run of
    segments ends."""

    __slots__ = ("name", "spec", "by_tag", "first_no", "counts", "last_index", "previous",
                 "runs", "skip_trigger")

    def __init__(self, name: str, spec: GroupSpec | None, first_no: int, skip_trigger: bool):
        self.name = name
        self.spec = spec
        # tag -> (index, spec) of a group whose segments are checked; None: nothing to check
        self.by_tag = spec.walk_table if spec is not None else None
        self.first_no = first_no
        self.counts: dict[str, int] = {}
        self.last_index = -1
        self.previous: str | None = None
        self.runs: dict[str, tuple[str, str]] | None = None  # made by the first run segment
        self.skip_trigger = skip_trigger

    @property
    def where(self) -> str:
        """The group as an error names it (built only when an error needs it)."""
        return "the message header" if self.name == HEADER else f"group {self.name}"

    @property
    def last_tag(self) -> str:
        """The tag of the latest segment in table order (built only for an order error)."""
        assert self.spec is not None and self.spec.segments is not None
        return self.spec.segments[self.last_index].tag


class MessageValidator:
    """The grammar walker, one segment at a time (the reader calls it as it tokenises, so the
    first wrong segment stops the parse): ``feed(segment, segment_no)`` for each body segment
    in order (UNH = 1, so the first body segment is 2), then ``finish(unt_no)``.

    With ``first_only`` (the reader's mode) the first problem raises ``EdifactError``;
    otherwise every problem is collected in ``errors`` in segment order.
    """

    def __init__(self, message: Any, *, first_only: bool = True, raise_first: bool = False):
        self.message = message
        self.ref = getattr(message, "ref", None)
        self.first_only = first_only or raise_first
        self.raise_first = raise_first
        self.errors: list[EdifactError] = []
        self.grammar: MessageGrammar | None = None
        self._group: _GroupState | None = None
        self._group_counts: dict[str, int] = {}
        self._last_group_index = -1
        self._last_group_name = HEADER
        self._first_of: dict[str, int] = {}  # group name -> number of its first trigger
        self._required_seen: set[int] = set()

    def start(self) -> None:
        """Check UNH (letter type, identifier, version) and open the message header."""
        grammar = self._identify()
        if grammar is not None:
            self.grammar = grammar
            self._triggers = grammar.triggers
            self._implicit = grammar.implicit
            self._deep = grammar.deep
            self._required = grammar.required_plan if grammar.deep else {}
            self._group = _GroupState(HEADER, grammar.header, 2, False)

    def fail(self, code: str, text: str, **where: Any) -> None:
        hint = where.pop("hint", RefusalCode.SYN)
        err = EdifactError(code, text, message_ref=self.ref, receipt_hint=hint, **where)
        if self.raise_first:
            raise err
        self.errors.append(err)
        if self.first_only:
            raise _Stop

    # -- the message as a whole ----------------------------------------------------------------

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
        ident = getattr(self.message, "identifier", None) or []
        if tuple(ident[:4]) != grammar.identifier:  # decided at once in the common case
            self._check_identifier(grammar, _identifier(self.message))
        version = (ident[4] if len(ident) > 4 else "") or ""
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

    def _check_identifier(self, grammar: MessageGrammar, ident: list[str]) -> None:
        """Name the first component of UNH element 2 that differs from the letter type's."""
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

    def feed(self, seg: Any, no: int) -> None:
        """Check the next body segment (``no``: its number, UNH = 1)."""
        self.feed_many((seg,), no)

    def feed_many(self, segments: Any, first_no: int) -> None:
        """Check the next body segments in order, numbered from ``first_no`` (UNH = 1).

        The walker's hot path, one call per run of segments the envelope hands over: the
        walker's state stays in local variables (the open group's table, counts, last position
        and previous tag; see ``_GroupState``), the group's precompiled ``by_tag`` table gives
        each segment's place and rules in one lookup, and the per-segment checks are inlined."""
        group = self._group
        if group is None:
            return  # unknown letter type: reported at UNH, nothing more to check
        implicit, triggers, required, deep = (
            self._implicit, self._triggers, self._required, self._deep
        )
        by_tag, counts = group.by_tag, group.counts
        last_index, previous = group.last_index, group.previous
        check_values = self._check_values
        no = first_no - 1
        for seg in segments:
            no += 1
            tag = seg.tag
            if (tag in triggers) if implicit else (
                tag[0] == "S" and tag[1:].isdigit()  # Snn (a tag is [A-Z][A-Z0-9]{2})
            ):
                group.last_index, group.previous = last_index, previous
                self._close_group(group)
                group = self._open_group(seg, no)
                by_tag, counts = group.by_tag, group.counts
                last_index, previous = -1, None
                check = not group.skip_trigger  # an Snn trigger is checked by _open_group
            else:
                check = True
                if no == 2:
                    self._first_of[HEADER] = 2  # the header group is not empty
            if check and by_tag is not None:
                located = by_tag.get(tag)
                if located is None:
                    self._unexpected(group, tag, no)
                else:
                    index, seg_spec, run, after, most, checks_values = located
                    if index >= last_index:
                        last_index = index
                    elif group.spec.ordered:  # type: ignore[union-attr]
                        group.last_index = last_index
                        self.fail(
                            "SEGMENT_ORDER",
                            f"segment {tag} cannot come after {group.last_tag} in {group.where}",
                            segment_no=no,
                            tag=tag,
                        )
                    seen = counts.get(tag, 0)
                    if run:
                        self._check_run(group, seg, no, seen, previous)
                    previous = tag
                    if after and not counts.get(after):
                        self.fail(
                            "SEGMENT_CONTEXT",
                            f"segment {tag} must follow a {after} in {group.where}",
                            segment_no=no,
                            tag=tag,
                        )
                    counts[tag] = seen + 1
                    if seen >= most:
                        self.fail(
                            "SEGMENT_REPEAT",
                            f"segment {tag} occurs more than {most} time(s) in {group.where}",
                            segment_no=no,
                            tag=tag,
                        )
                    if deep and checks_values:
                        check_values(seg_spec, seg, no)
            if required:
                needs = required.get(tag)
                if needs:
                    for key, group_name, element, component, code in needs:
                        if group_name == group.name and get(seg, element, component) == code:
                            self._required_seen.add(key)
        group.last_index, group.previous = last_index, previous

    def finish(self, end_no: int) -> None:
        """The message ended at UNT (number ``end_no``): the checks of what is missing."""
        grammar = self.grammar
        if grammar is None or self._group is None:
            return
        self._close_group(self._group)
        self._group = None
        counts = self._group_counts
        for index, spec in grammar.mandatory_groups:
            if counts.get(spec.name, 0) < spec.min:
                self.fail(
                    "GROUP_MISSING",
                    f"mandatory segment group {spec.name} is missing",
                    segment_no=self._where_missing(index, end_no),
                    tag=spec.name,
                )
        if grammar.deep:
            for key, need in enumerate(grammar.required):
                if key in self._required_seen:
                    continue
                first = self._first_of.get(need.group)
                self.fail(
                    "REQUIRED_MISSING",
                    f"{grammar.type} needs {need.name or need.tag + '+' + need.code}",
                    segment_no=first or end_no,
                    tag=need.group if first else "UNT",
                )

    def _where_missing(self, index: int, end_no: int) -> int:
        """Where a missing group belonged: the first later group, else UNT."""
        assert self.grammar is not None
        located = self.grammar.groups_by_name
        later = [
            no
            for name, no in self._first_of.items()
            if name in located and located[name][0] > index
        ]
        return min(later, default=end_no)

    # -- groups --------------------------------------------------------------------------------

    def _open_group(self, trigger: Any, no: int) -> _GroupState:
        """Open the group ``trigger`` starts, checking its place, count and (``Snn``) text."""
        grammar = self.grammar
        assert grammar is not None
        name = trigger.tag
        self._first_of.setdefault(name, no)
        located = grammar.groups_by_name.get(name)
        if located is None:
            self._group = _GroupState(name, None, no, not self._implicit)
            self.fail(
                "GROUP_UNEXPECTED",
                f"segment group {name} is not part of {grammar.type}",
                segment_no=no,
                tag=name,
            )
            return self._group
        index, spec = located
        if index >= self._last_group_index:
            self._last_group_index, self._last_group_name = index, name
        elif grammar.groups_ordered:
            self.fail(
                "GROUP_ORDER",
                f"segment group {name} cannot come after group {self._last_group_name}",
                segment_no=no,
                tag=name,
            )
        counts = self._group_counts
        count = counts[name] = counts.get(name, 0) + 1
        group = self._group = _GroupState(name, spec, no, not self._implicit)
        if count > spec.max:
            self.fail(
                "GROUP_REPEAT",
                f"segment group {name} occurs more than {spec.max} time(s)",
                segment_no=no,
                tag=name,
            )
        if not self._implicit:
            expected = name[1:]
            els = trigger.elements
            if len(els) != 1 or (els[0] != expected and get(trigger, 1) != expected):
                self.fail(
                    "GROUP_TRIGGER",
                    f"group trigger {name} must read {name}+{expected}",
                    segment_no=no,
                    tag=name,
                    element=1,
                )
        return group

    def _close_group(self, group: _GroupState) -> None:
        """The group ended: its mandatory segments must all have come."""
        if group.by_tag is None:
            return  # an open group, or one that is not part of the grammar
        counts = group.counts
        for tag, least in group.spec.minimums:  # type: ignore[union-attr]
            if counts.get(tag, 0) < least:
                self.fail(
                    "SEGMENT_MISSING",
                    f"{group.where} lacks its mandatory segment {tag}",
                    segment_no=group.first_no,
                    tag=tag,
                )

    # -- one segment in its group --------------------------------------------------------------

    def _unexpected(self, group: _GroupState, tag: str, no: int) -> None:
        """A segment the group's table does not list."""
        if TRIGGER_TAG.fullmatch(tag):
            return  # an unknown group of an implicit family: reported elsewhere
        grammar = self.grammar
        assert grammar is not None
        self.fail(
            "SEGMENT_UNEXPECTED",
            f"segment {tag} is not allowed in {group.where} of {grammar.type}",
            segment_no=no,
            tag=tag,
        )

    def _check_run(
        self, group: _GroupState, seg: Any, no: int, seen: int, previous: str | None
    ) -> None:
        """All occurrences of a ``run`` segment adjacent, with one qualifier and format
        (``previous``: the tag of the segment before it in the group)."""
        tag = seg.tag
        key = (get(seg, 1), get(seg, 2))
        if group.runs is None:
            group.runs = {}
        started = group.runs.setdefault(tag, key)
        if started != key or (seen and previous != tag):
            self.fail(
                "SEGMENT_RUN",
                f"all {tag} segments in {group.where} must form one text "
                f"({'+'.join(started)}, adjacent)",
                segment_no=no,
                tag=tag,
            )

    # -- one segment ---------------------------------------------------------------------------

    def _check_values(self, spec: SegmentSpec, seg: Any, no: int) -> None:
        elements = seg.elements
        if spec.shape is not None:
            shape = spec.shape
            if len(elements) > len(shape):
                self._check_shape(shape, seg, no)
            else:
                for found, limit in zip(elements, shape, strict=False):
                    if (len(found) if type(found) is list else 1) > limit or (
                        limit == 0 and found != ""
                    ):
                        self._check_shape(shape, seg, no)
                        break
        n = len(elements)
        for element, component, required, codes, pattern, rule in spec.value_plan:
            # value(seg, rule.at), inlined: the walker's hottest line
            if element > n:
                got = ""
            else:
                found = elements[element - 1]
                if type(found) is str:
                    got = found if component == 1 else ""
                elif component > len(found):
                    got = ""
                else:
                    got = found[component - 1]
                    if type(got) is not str:
                        got = ""
            if not got:
                if required:
                    label = rule.name or "value"
                    self.fail("ELEMENT_MISSING", f"{label} is missing", **_where(seg, no, rule.at))
                continue
            if codes is not None and got not in codes:
                label = rule.name or "value"
                allowed = ", ".join(sorted(c for c in codes if c)) or "none"
                self.fail(
                    "CODE_UNKNOWN",
                    f"{label} {got!r} is not allowed here (allowed: {allowed})",
                    **_where(seg, no, rule.at),
                )
            if pattern is not None and not pattern.search(got):
                label = rule.name or "value"
                self.fail(
                    "VALUE_FORMAT",
                    f"{label} {got!r} has the wrong form",
                    **_where(seg, no, rule.at),
                )
        tag = seg.tag
        if tag == "DTM":
            self._check_dtm(spec, seg, no)
        elif tag == "FTX":
            self._check_ftx(seg, no)
        if spec.agencies:
            self._check_agency(spec, seg, no)

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
        qualifier, text, fmt = _first_three(seg.elements)
        formats = spec.formats
        allowed = formats.get(qualifier) or formats.get("*")
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
        if text and fmt in DTM_FORMAT_LENGTHS and not dtm_valid(text, fmt):
            self.fail(
                "DTM_VALUE",
                f"{text!r} is not a valid {DTM_NAMES[fmt]} ({DTM_FORMAT_LENGTHS[fmt]} digits) "
                f"for format {fmt}",
                segment_no=no,
                tag="DTM",
                element=1,
                component=2,
            )

    def _check_agency(self, spec: SegmentSpec, seg: Any, no: int) -> None:
        """The responsible agency (element 2 component 3) the id scheme (component 2) needs."""
        elements = seg.elements
        party = elements[1] if len(elements) > 1 else ""
        if type(party) is str:
            scheme = agency = ""
        else:
            n = len(party)
            scheme = party[1] if n > 1 and type(party[1]) is str else ""
            agency = party[2] if n > 2 and type(party[2]) is str else ""
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
        texts = seg.elements[3]
        if type(texts) is str:
            if len(texts) <= FTX_MAX_LENGTH:
                return  # one line within bounds: the common case
            texts = [texts]
        else:
            try:
                if len(texts) <= FTX_MAX_COMPONENTS and max(map(len, texts)) <= FTX_MAX_LENGTH:
                    return  # lines within bounds, decided in C
            except TypeError:
                pass  # a component that is not text: counted as empty below
            texts = components(texts)
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
