"""The medbro LÆ profile on the MEDDIS correspondence letter (DIS91), for EDIFACT-only GPs.

MedCom defined no EDIFACT form for LÆ certificates (shared/research/medcom.md §1.4); this is
medbro's own profile, documented in docs/lae-edifact-profile.md. Theory of operation:

* The form becomes an ordinary DIS91 ``gateway.model.Letter``: sender and receiver NAD parties
  from the form's parties (municipality KOM, GP YNR, clinical function SOR), PNA+PAT from the
  citizen, DTM+137/182 from ``issued_at``, RFF+SRI from the letter reference. Any DIS91 reader
  shows it as a letter; the EDIFACT codec (gateway.edifact) renders and parses it.
* FTX+OE carries a human subject: ``LÆ 265 Lægeattest til rehabiliteringsteam, sag K-1``.
* FTX+NC carries the form itself as structured lines: a profile line ``#MEDBRO-LAE-1``, then
  per field a name line ``@<path>`` (``@answers[2].reply``) followed by its value lines.
* Every value line is escaped so MedCom's FTX rules (a ``.`` component is an empty line, a
  trailing ``\\`` continues the line) can never change it: it starts with ``|`` (so it is never
  ``.`` nor a name line) and gets a ``~`` appended when it ends in ``\\``, ``~`` or a space (so
  it never ends in ``\\`` and no trailing space can be trimmed). Decoding strips the ``|`` and
  that one ``~``. The value is its lines joined by a line break, so any multi-line ISO-8859-1
  text round-trips exactly; anything else is refused by validation, naming the field.
* The structured lines are authoritative; the NAD/PNA parts are checked against them.
"""

from __future__ import annotations

import hashlib
import re

from gateway.forms import tree
from gateway.forms.errors import FieldError, FormValidationError
from gateway.forms.model import FORM_CLASSES, Form, FormType
from gateway.forms.validation import check, form_root, validate
from gateway.model import Envelope, FreeText, Letter, Party, Patient

PROFILE_LINE = "#MEDBRO-LAE-1"
DIS91_TYPE = "DIS91"
DIS91_VERSION = "D9134L"
SUBJECT_QUALIFIER = "OE"
BODY_QUALIFIER = "NC"
_ESCAPE_TRIGGERS = ("\\", "~", " ")
_NAME = re.compile(r"@([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+(?:\[\d+\])?)*)")
_STEP = re.compile(r"([a-z_]+)(?:\[(\d+)\])?")


def escape_line(line: str) -> str:
    """One value line as the profile writes it (see the module docstring)."""
    return "|" + line + ("~" if line.endswith(_ESCAPE_TRIGGERS) else "")


def unescape_line(line: str) -> str:
    body = line[1:]
    if body.endswith("~") and len(body) >= 2 and body[-2] in _ESCAPE_TRIGGERS:
        return body[:-1]
    return body


def letter_ref(form_id: str) -> str:
    """A stable 14-character UNH/RFF+SRI reference for a form (EDIFACT refs are an..14)."""
    return "LAE" + hashlib.sha256(form_id.encode()).hexdigest()[:11].upper()


def display_name(name: str) -> str:
    """A name as NAD/PNA can show it: one line, at most 35 characters (an..35). The exact
    name travels in the structured lines."""
    return " ".join(name.split())[:35].rstrip()


def parties_of(form: Form) -> tuple[Party, Party, tuple[Party, ...]]:
    """(sender, receiver, copies) of the DIS91 letter that carries ``form``."""
    p = form.parties
    municipality = Party("SSP", p.municipality.number, "KOM", "IM",
                         (display_name(p.municipality.name),))
    gp = Party("PO", p.gp.ydernummer, "YNR", "SFU", (display_name(p.gp.name),))
    cf = p.clinical_function
    clinical = Party("PO", cf.sor, "SOR", "SST", (display_name(cf.name),)) if cf else None
    t = form.form_type
    if t is FormType.LAE261:
        return municipality, gp, ()
    if t is FormType.LAE265:
        return _as(gp, "SSP"), _as(municipality, "PO"), ()
    if t is FormType.LAE271:
        assert clinical is not None  # validate() requires it
        return municipality, clinical, ()
    assert clinical is not None
    return _as(clinical, "SSP"), _as(municipality, "PO"), (_as(gp, "CCR"),)


def _as(party: Party, role: str) -> Party:
    return Party(role, party.id, party.scheme, party.agency, party.names)


def to_letter(form: Form, *, ref: str | None = None) -> Letter:
    """The DIS91 letter that carries ``form`` (validated first)."""
    validate(form)
    ref = ref or letter_ref(form.form_id)
    sender, receiver, copies = parties_of(form)
    subject = f"{form.form_type.label} {form.form_type.name_da}, sag {form.case_ref}"
    return Letter(
        type=DIS91_TYPE,
        version=DIS91_VERSION,
        ref=ref,
        letter_id=ref,
        authorised_at=form.issued_at.replace(second=0, microsecond=0),
        sent_at=form.issued_at.replace(second=0, microsecond=0),
        sender=sender,
        receiver=receiver,
        copies=copies,
        patient=Patient(cpr=form.citizen.cpr, surname=display_name(form.citizen.name)),
        texts=(FreeText(SUBJECT_QUALIFIER, subject), FreeText(BODY_QUALIFIER, encode_body(form))),
    )


def encode_body(form: Form) -> str:
    """The structured lines of ``form`` (FTX+NC text)."""
    lines = [PROFILE_LINE, "@form_type", escape_line(form.form_type.value)]
    for path, value in _flatten(tree.dump(form), ""):
        lines.append("@" + path)
        lines.extend(escape_line(v) for v in value.split("\n"))
    return "\n".join(lines)


def _flatten(nodes: list[tuple[str, tree.Node]], prefix: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name, node in nodes:
        path = f"{prefix}{name}"
        if isinstance(node, str):
            out.append((path, node))
        elif isinstance(node, tree.Items):
            for i, (_, child) in enumerate(node, start=1):
                if isinstance(child, str):
                    out.append((f"{path}[{i}]", child))
                else:
                    out.extend(_flatten(child, f"{path}[{i}]."))
        else:
            out.extend(_flatten(node, path + "."))
    return out


def from_letter(letter: Letter) -> Form:
    """Read the form a DIS91 letter carries; FormValidationError names each wrong field."""
    if letter.type != DIS91_TYPE:
        raise FormValidationError([FieldError("letter.type", f"{letter.type} is not DIS91")])
    body = "\n".join(t.text for t in letter.texts if t.qualifier == BODY_QUALIFIER)
    fields = decode_body(body)
    form_type_text = fields.pop("form_type", None)
    try:
        form_type = FormType(form_type_text)
    except ValueError:
        raise FormValidationError(
            [FieldError("lae.form_type", f"unknown form {form_type_text!r}")]
        ) from None
    cls = FORM_CLASSES[form_type]
    root = f"lae{form_type.value}"
    form = tree.load(cls, _unflatten(cls, fields, root), root)
    errors = check(form)
    if letter.patient is None or letter.patient.cpr != form.citizen.cpr:
        errors.append(FieldError(f"{form_root(form)}.citizen.cpr", "differs from PNA+PAT"))
    if errors:
        raise FormValidationError(errors)
    return form


def decode_body(body: str) -> dict[str, str]:
    """Structured lines -> ``{path: value}``; errors name the line and the field."""
    lines = body.split("\n")
    if not lines or lines[0] != PROFILE_LINE:
        raise FormValidationError(
            [FieldError("lae", f"FTX+NC does not start with the profile line {PROFILE_LINE}")]
        )
    fields: dict[str, list[str]] = {}
    current: list[str] | None = None
    errors: list[FieldError] = []
    for no, line in enumerate(lines[1:], start=2):
        if line.startswith("@"):
            m = _NAME.fullmatch(line)
            if not m:
                errors.append(FieldError("lae", f"line {no}: malformed field name {line!r}"))
                current = None
                continue
            if m.group(1) in fields:
                errors.append(FieldError(f"lae.{m.group(1)}", "given more than once"))
            current = fields.setdefault(m.group(1), [])
        elif line.startswith("|") and current is not None:
            current.append(unescape_line(line))
        else:
            errors.append(FieldError("lae", f"line {no}: expected @field or |value, got {line!r}"))
    for path, values in fields.items():
        if not values:
            errors.append(FieldError(f"lae.{path}", "has no value line"))
    if errors:
        raise FormValidationError(errors)
    return {path: "\n".join(values) for path, values in fields.items()}


def _unflatten(cls: type, fields: dict[str, str], root: str) -> list[tuple[str, tree.Node]]:
    """``{"answers[2].reply": "..."}`` -> the tree gateway.forms.tree.load reads."""
    top: list[tuple[str, tree.Node]] = []
    errors: list[FieldError] = []
    for path, value in fields.items():
        steps = [_STEP.fullmatch(s) for s in path.split(".")]
        if not all(steps):
            errors.append(FieldError(f"{root}.{path}", "malformed field path"))
            continue
        nodes = top
        for i, m in enumerate(steps):
            assert m is not None
            name, index = m.group(1), m.group(2)
            last = i == len(steps) - 1
            if index is None:
                child = _child(nodes, name, value if last else [])
            else:
                items = _child(nodes, name, [])
                if not isinstance(items, list):
                    errors.append(FieldError(f"{root}.{path}", "not a list field"))
                    break
                n = int(index)
                if n < 1 or n > len(items) + 1:
                    errors.append(FieldError(f"{root}.{path}", f"item {n} out of order"))
                    break
                if n == len(items) + 1:
                    items.append((_item_name(cls, name), value if last else []))
                child = items[n - 1][1]
            if last:
                break
            if not isinstance(child, list):
                errors.append(FieldError(f"{root}.{path}", "is a text value, not a group"))
                break
            nodes = child
    if errors:
        raise FormValidationError(errors)
    return top


def _child(nodes: list[tuple[str, tree.Node]], name: str, new: tree.Node) -> tree.Node:
    for existing, node in nodes:
        if existing == name:
            return node
    nodes.append((name, new))
    return new


def _item_name(cls: type, list_field: str) -> str:
    for f, _tp in tree.fields_of(cls):
        if f.name == list_field:
            return f.metadata.get("item", "item")
    return "item"


def to_edifact(form: Form, envelope: Envelope, *, ref: str | None = None) -> bytes:
    """A whole UNOC interchange carrying ``form`` (the codec's renderer, gateway.edifact)."""
    from gateway.edifact.letters import render_letter

    return render_letter(envelope, to_letter(form, ref=ref))


def from_edifact(data: bytes) -> Form:
    """The form in a one-message DIS91 interchange; the codec's EdifactError for bad EDIFACT."""
    from gateway.edifact import parse

    interchange = parse(data)
    if len(interchange.messages) != 1:
        raise FormValidationError([FieldError(
            "lae", f"expected one DIS91 message, found {len(interchange.messages)}")])
    letter = getattr(interchange.messages[0], "letter", None)
    if not isinstance(letter, Letter):
        raise FormValidationError([FieldError("letter.type", "the message is not a letter")])
    return from_letter(letter)
