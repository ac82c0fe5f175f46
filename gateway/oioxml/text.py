"""Free text between the canonical model and OIOXML mixed content.

The model keeps a text as lines joined by "\\n". OIOXML writes each line followed by
``<Break/>`` (MedCom's FTXSubElmsToBreakableText), and the FTX format code becomes wrapper
elements (``FixedFont``, ``Bold``, ...). Reading undoes both; a final line without its
``<Break/>`` is accepted as the last line.
"""

from __future__ import annotations

from lxml import etree

from gateway.oioxml.codes import FORMAT_BY_WRAPPERS, TEXT_FORMATS
from gateway.oioxml.errors import OioxmlError
from gateway.oioxml.xmlpath import local_name, path_of

WRAPPERS = frozenset(w for chain in TEXT_FORMATS for w in TEXT_FORMATS[chain])


def append_lines(parent: etree._Element, text: str, qname, *, continued: bool = False) -> None:
    """Append ``text`` to ``parent`` as line, <Break/>, line, <Break/>, ...; a ``continued``
    text leaves its last line open (it goes on in the next run)."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        _append_text(parent, line)
        if not (continued and i == len(lines) - 1):
            etree.SubElement(parent, qname("Break"))


def append_formatted(
    parent: etree._Element, text: str, fmt: str, qname, *, continued: bool = False
) -> None:
    """Append one text run in format ``fmt`` (P00 is bare, others wrapped)."""
    wrappers = TEXT_FORMATS.get(fmt)
    if wrappers is None:
        raise OioxmlError("texts.format", f"FTX format {fmt!r} has no OIOXML form")
    target = parent
    for name in wrappers:
        target = etree.SubElement(target, qname(name))
    append_lines(target, text, qname, continued=continued)


def _append_text(parent: etree._Element, value: str) -> None:
    if not value:
        return
    if len(parent):
        last = parent[-1]
        last.tail = (last.tail or "") + value
    else:
        parent.text = (parent.text or "") + value


def read_lines(element: etree._Element) -> str:
    """Text and <Break/> children -> lines joined by "\\n"; anything else is an error."""
    return read_open_lines(element)[0]


def read_open_lines(element: etree._Element) -> tuple[str, bool]:
    """Like read_lines, and whether the last line is left open (no <Break/> after it)."""
    lines = [element.text or ""]
    for child in element:
        if not isinstance(child.tag, str):  # comments, processing instructions
            lines[-1] += child.tail or ""
            continue
        if local_name(child) != "Break":
            raise OioxmlError(path_of(child), "only text and <Break/> may stand here")
        if len(child) or (child.text or "").strip():
            raise OioxmlError(path_of(child), "<Break/> must be empty")
        lines.append(child.tail or "")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()  # the Break that ends the last line
        return "\n".join(lines), False
    return "\n".join(lines), True


def read_runs(element: etree._Element) -> list[tuple[str, str, bool]]:
    """A Text01 element -> [(format code, text, continued), ...] in document order."""
    runs: list[tuple[str, str, bool]] = []
    plain = etree.Element("plain")  # collects bare text and Breaks between wrappers
    has_plain = False

    def flush() -> None:
        nonlocal plain, has_plain
        if has_plain:
            runs.append(("P00", *read_open_lines(plain)))
        plain = etree.Element("plain")
        has_plain = False

    def add_plain_text(value: str) -> None:
        nonlocal has_plain
        if value:
            _append_text(plain, value)
            has_plain = True

    add_plain_text(element.text or "")
    for child in element:
        if not isinstance(child.tag, str):
            add_plain_text(child.tail or "")
            continue
        name = local_name(child)
        if name == "Break":
            if len(child) or (child.text or "").strip():
                raise OioxmlError(path_of(child), "<Break/> must be empty")
            etree.SubElement(plain, "Break")
            has_plain = True
        elif name in WRAPPERS:
            flush()
            runs.append(_read_wrapped(child))
        else:
            raise OioxmlError(path_of(child), f"unexpected element <{name}> in free text")
        add_plain_text(child.tail or "")
    flush()
    return runs


def _read_wrapped(element: etree._Element) -> tuple[str, str, bool]:
    chain = [local_name(element)]
    inner = element
    while True:
        kids = [c for c in inner if isinstance(c.tag, str)]
        if (
            len(kids) == 1
            and local_name(kids[0]) in WRAPPERS
            and not (inner.text or "").strip()
            and not (kids[0].tail or "").strip()
        ):
            inner = kids[0]
            chain.append(local_name(inner))
            continue
        break
    fmt = FORMAT_BY_WRAPPERS.get(tuple(chain))
    if fmt is None:
        raise OioxmlError(path_of(element), f"text formatting {'/'.join(chain)} has no FTX code")
    return fmt, *read_open_lines(inner)
