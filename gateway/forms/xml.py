"""LÆ forms as XML, the primary format, validated against medbro's XSDs in schemas/lae/.

MedCom's real LÆ forms are DDB XML over DGWS (shared/research/medcom.md §1.4); that schema is
not public in full, so medbro defines its own, one XSD per form on shared types
(schemas/lae/common.xsd). Element names are the model's field names in PascalCase, which lets a
schema error name the field it is about (``/LAE265/Answers/Answer[2]/Reply`` becomes
``lae265.answers[2].reply``). Reading is sans-IO (bytes in, form out), refuses DTDs and
entities, checks the schema, then the semantic rules of gateway.forms.validation.
"""

from __future__ import annotations

import re
from functools import cache

from lxml import etree

from gateway.forms import tree
from gateway.forms.errors import FieldError, FormValidationError
from gateway.forms.model import FORM_CLASSES, Form, FormType
from gateway.forms.validation import check, validate
from gateway.schemas import schema_dir

NAMESPACE = "urn:medbro:lae:1"
SCHEMA_DIR = schema_dir("lae")
_NS = "{" + NAMESPACE + "}"


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@cache
def schema(form_type: FormType) -> etree.XMLSchema:
    """The compiled XSD of one form (schemas/lae/lae<nnn>.xsd)."""
    path = SCHEMA_DIR / f"lae{form_type.value}.xsd"
    return etree.XMLSchema(etree.parse(str(path)))


def to_xml(form: Form) -> bytes:
    """The form as UTF-8 XML; the form is validated first, so what leaves is always valid."""
    validate(form)
    root = etree.Element(f"{_NS}LAE{form.form_type.value}", nsmap={None: NAMESPACE})
    _build(root, tree.dump(form))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _build(parent: etree._Element, nodes: list[tuple[str, tree.Node]]) -> None:
    for name, node in nodes:
        el = etree.SubElement(parent, _NS + _pascal(name))
        if isinstance(node, str):
            el.text = node
        else:
            _build(el, node)


_PARSER_OPTIONS = dict(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
)


def from_xml(data: bytes) -> Form:
    """Read one form; FormValidationError names each wrong field (schema and semantic rules)."""
    try:
        doc = etree.fromstring(data, etree.XMLParser(**_PARSER_OPTIONS))
    except etree.XMLSyntaxError as exc:
        raise FormValidationError([FieldError("xml", f"not well-formed: {exc}")]) from exc
    if doc.getroottree().docinfo.doctype:
        raise FormValidationError([FieldError("xml", "a DOCTYPE is not allowed in an LÆ form")])
    form_type = _form_type(doc)
    root = f"lae{form_type.value}"
    xsd = schema(form_type)
    if not xsd.validate(doc):
        raise FormValidationError(
            [FieldError(_field_path(doc, root, e.path), e.message) for e in xsd.error_log]
        )
    form = tree.load(FORM_CLASSES[form_type], _read(doc), root)
    errors = check(form)
    if errors:
        raise FormValidationError(errors)
    return form


def _form_type(doc: etree._Element) -> FormType:
    qname = etree.QName(doc)
    if qname.namespace != NAMESPACE or not qname.localname.startswith("LAE"):
        raise FormValidationError(
            [FieldError("xml", f"root {qname.text!r} is not an LÆ form of {NAMESPACE}")]
        )
    try:
        return FormType(qname.localname[3:])
    except ValueError:
        raise FormValidationError(
            [FieldError("xml", f"unknown form {qname.localname!r} (known: LAE261/265/271/275)")]
        ) from None


def _read(el: etree._Element) -> list[tuple[str, tree.Node]]:
    out: list[tuple[str, tree.Node]] = []
    for child in el:
        name = _snake(etree.QName(child).localname)
        if len(child):
            out.append((name, _read(child)))
        else:
            out.append((name, child.text or ""))
    return out


def _field_path(doc: etree._Element, root: str, xpath: str | None) -> str:
    """The field an XSD error is about: ``/*/*[12]/*[2]/*[2]`` -> ``lae265.answers[2].reply``."""
    found = doc.getroottree().xpath(xpath) if xpath else []
    if not found or not isinstance(found[0], etree._Element):
        return root
    names: list[str] = []
    el = found[0]
    while el is not None and el is not doc:
        parent = el.getparent()
        name = _snake(etree.QName(el).localname)
        if parent is not None and _snake(etree.QName(parent).localname) == name + "s":
            same = [c for c in parent if c.tag == el.tag]
            names.append(f"[{same.index(el) + 1}]")  # an item of a list field: answers[2]
        else:
            names.append("." + name)
        el = parent
    return root + "".join(reversed(names))
