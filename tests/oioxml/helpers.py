"""Shared helpers for the OIOXML tests: the five MedCom twins and C14N comparison."""

from __future__ import annotations

from lxml import etree

TWINS = ["DIS01_1", "DIS20_1", "DIS91_1", "CTL01_1", "CTL02_1", "CTL03_1"]


def canonical(data: bytes) -> bytes:
    """C14N of an XML document without comments (the twins carry an inserted provenance one)."""
    parser = etree.XMLParser(remove_comments=True)
    return etree.tostring(etree.fromstring(data, parser), method="c14n")
