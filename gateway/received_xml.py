"""Received XML: a DOCTYPE is refused before the document is parsed.

MedCom's XML formats (VANSEnvelope, OIOXML, FHIR) declare no DTD. A DOCTYPE in XML from
outside is a mistake or an attack (entity expansion, external fetches), so every reader of
received XML calls ``refuse_doctype`` first; the refusal is a ``RemoteMessageError`` (bad
input, answered 4xx or with a negative receipt), never a server error.
"""

from __future__ import annotations

import io

from lxml import etree

from gateway.errors import RemoteMessageError


class DoctypeError(RemoteMessageError):
    """Received XML carries a DOCTYPE (with or without entities)."""

    def __init__(self, what: str, declaration: str) -> None:
        self.what, self.declaration = what, declaration
        shown = declaration if len(declaration) <= 80 else declaration[:77] + "..."
        super().__init__(f"a DOCTYPE is not allowed in {what} (no DTD, no entities): {shown}")


def doctype(data: bytes) -> str:
    """The DOCTYPE declaration of ``data`` ("" when there is none or ``data`` is not XML).

    Reads no further than the root element's start tag, resolving no entities, loading no DTD
    and touching no network; other syntax errors are left to the caller's parser to report.
    """
    if data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n\x00\xfe\xff")[:1] not in (b"<", b""):
        return ""
    try:
        for _event, element in etree.iterparse(
            io.BytesIO(data), events=("start",), resolve_entities=False, no_network=True,
            load_dtd=False,
        ):
            return element.getroottree().docinfo.doctype or ""
    except etree.XMLSyntaxError:
        # Broken before the root started (e.g. entity limits hit in the root's attributes):
        # the caller refuses it as not well formed, unless a DOCTYPE is visible.
        head = data[:_HEAD]
        return "<!DOCTYPE" if any(mark in head for mark in _MARKS) else ""
    return ""


_HEAD = 1 << 20
_MARKS = tuple("<!DOCTYPE".encode(codec) for codec in ("utf-8", "utf-16-le", "utf-16-be"))


def refuse_doctype(data: bytes, what: str) -> None:
    """Raise ``DoctypeError`` naming ``what`` (e.g. "a VANSEnvelope") when ``data`` has one."""
    declaration = doctype(data)
    if declaration:
        raise DoctypeError(what, declaration)
