"""XSD validation of OIOXML against medbro's own schemas in schemas/oioxml/.

One schema per MedCom namespace (2005/08/07: XDIS01 and the receipts; 2006/07/01: XDIS91),
both including common.xsd. The first violation becomes an :class:`OioxmlError` naming the
element path, like every other problem in a received message.

Why medbro keeps its own schemas beside MedCom's official ones (../shared/research/medcom-xsd,
from MedCom's converter): they validate what medbro *reads* at run time, where MedCom's files
may not be shipped (they are not medbro's to copy), and describe exactly the elements the
reader maps. What medbro *writes* must satisfy MedCom's schemas: ``conformance.py`` holds their
mandatory elements, lengths and enumerations by model field, ``write`` refuses a letter that
breaks one, and the tests validate every document medbro writes against MedCom's XSDs.
"""

from __future__ import annotations

from functools import cache

from lxml import etree

from gateway.oioxml.errors import OioxmlError
from gateway.oioxml.writer import NS_2005, NS_2006
from gateway.oioxml.xmlpath import path_of
from gateway.schemas import schema_dir

SCHEMA_DIR = schema_dir("oioxml")
SCHEMA_FILES = {NS_2005: "medcom-2005-08-07.xsd", NS_2006: "medcom-2006-07-01.xsd"}


@cache
def schema_for(namespace: str) -> etree.XMLSchema:
    if namespace not in SCHEMA_FILES:
        raise OioxmlError("/Emessage", f"no OIOXML schema for namespace {namespace!r}")
    return etree.XMLSchema(etree.parse(str(SCHEMA_DIR / SCHEMA_FILES[namespace])))


def validate_element(root: etree._Element) -> None:
    """Raise OioxmlError at the first XSD violation of ``root`` (an Emessage)."""
    schema = schema_for(etree.QName(root).namespace or "")
    if schema.validate(root):
        return
    error = schema.error_log[0]
    path = _readable_path(root, error.path) if error.path else path_of(root)
    message = error.message
    if message.startswith("Element"):
        message = message.split(": ", 1)[-1]  # the path says which element
    raise OioxmlError(path, message)


def validate(data: bytes) -> None:
    """Parse and validate OIOXML bytes."""
    from gateway.oioxml.cursor import parse_xml

    validate_element(parse_xml(data))


def _readable_path(root: etree._Element, libxml_path: str) -> str:
    """libxml2 reports ``/*/*[2]/*``; turn it into local names."""
    try:
        found = root.getroottree().xpath(libxml_path)
    except etree.XPathError:
        return libxml_path
    if found and isinstance(found[0], etree._Element):
        return path_of(found[0])
    return libxml_path
