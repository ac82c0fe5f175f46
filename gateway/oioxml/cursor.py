"""Strict reading of OIOXML elements: a cursor that knows which children were read.

``Node`` remembers the children a reader asked for; ``done()`` raises on any other, so an
element the reader does not map is an error naming its path instead of a silent drop.
"""

from __future__ import annotations

import re
from datetime import datetime

from lxml import etree

from gateway.oioxml import codes
from gateway.oioxml.errors import OioxmlError
from gateway.oioxml.xmlpath import local_name, path_of

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_TIME = re.compile(r"\d{2}:\d{2}\Z")


class Node:
    """An element being read; remembers which children were read so the rest is an error."""

    def __init__(self, element: etree._Element) -> None:
        self.element = element
        self.ns = etree.QName(element).namespace
        self._read: set[str] = set()

    @property
    def path(self) -> str:
        return path_of(self.element)

    def fail(self, problem: str) -> OioxmlError:
        return OioxmlError(self.path, problem)

    def many(self, name: str) -> list[Node]:
        self._read.add(name)
        return [Node(c) for c in self.element if isinstance(c.tag, str) and local_name(c) == name]

    def opt(self, name: str) -> Node | None:
        found = self.many(name)
        if len(found) > 1:
            raise found[1].fail(f"<{name}> may occur only once here")
        return found[0] if found else None

    def one(self, name: str) -> Node:
        found = self.opt(name)
        if found is None:
            raise self.fail(f"missing <{name}>")
        return found

    def value(self) -> str:
        for child in self.element:
            if isinstance(child.tag, str):
                raise OioxmlError(path_of(child), "no element may stand inside a value")
        return self.element.text or ""

    def text(self, name: str) -> str:
        return self.one(name).value()

    def opt_text(self, name: str) -> str:
        found = self.opt(name)
        return found.value() if found is not None else ""

    def done(self) -> None:
        """Raise on the first child element nobody read (or one in a foreign namespace)."""
        for child in self.element:
            if not isinstance(child.tag, str):
                continue
            if etree.QName(child).namespace != self.ns:
                raise OioxmlError(path_of(child), f"element in foreign namespace {child.tag}")
            if local_name(child) not in self._read:
                raise OioxmlError(path_of(child), f"unexpected element <{local_name(child)}>")


def parse_xml(data: bytes) -> etree._Element:
    """Parse bytes safely (no entities, no network); a syntax error names line and column."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise OioxmlError("/", f"not well-formed XML: {exc}") from exc
    if root.getroottree().docinfo.internalDTD is not None:
        raise OioxmlError("/", "a DOCTYPE is not allowed in OIOXML (no entities, no DTD)")
    return root


def date_time(node: Node) -> datetime:
    date, time = node.text("Date"), node.text("Time")
    if not _DATE.match(date):
        raise node.one("Date").fail(f"date {date!r} is not YYYY-MM-DD")
    if not _TIME.match(time):
        raise node.one("Time").fail(f"time {time!r} is not HH:MM")
    node.done()
    try:
        return datetime.strptime(f"{date} {time}", "%Y-%m-%d %H:%M")
    except ValueError as exc:
        raise node.fail(f"no such date and time {date} {time}") from exc


def opt_date_time(parent: Node, name: str) -> datetime | None:
    node = parent.opt(name)
    return date_time(node) if node is not None else None


def word_code(parent: Node, name: str, table: codes.CodeTable) -> str:
    node = parent.one(name)
    word = node.value()
    code = table.to_edi(word)
    if code is None:
        raise node.fail(f"unknown {table.name} {word!r} (known: {', '.join(table.words())})")
    return code


def opt_word_code(parent: Node, name: str, table: codes.CodeTable) -> str:
    return word_code(parent, name, table) if parent.opt(name) is not None else ""


def x_code(node: Node, name: str) -> str:
    value = node.text(name)
    if not value.startswith("X") or len(value) < 2:
        raise node.one(name).fail(f"{name} {value!r} must be X followed by the EDIFACT code")
    return value[1:]
