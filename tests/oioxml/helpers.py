"""Shared helpers for the OIOXML tests: the five MedCom twins and C14N comparison."""

from __future__ import annotations

from lxml import etree

TWINS = ["DIS01_1", "DIS20_1", "DIS91_1", "REF01_1", "CTL01_1", "CTL02_1", "CTL03_1"]


def canonical(data: bytes) -> bytes:
    """C14N of an XML document without comments (the twins carry an inserted provenance one)
    and without whitespace-only text between elements (the REF01 twin is indented)."""
    parser = etree.XMLParser(remove_comments=True, remove_blank_text=True)
    return etree.tostring(etree.fromstring(data, parser), method="c14n")
