"""VANSEnvelope 1.0.4: read and write the XML envelope, sans IO.

Theory of operation (MedCom "Den Gode VANSEnvelope"; shared/research/medcom.md section 3.3):

* an envelope names a sender and a receiver (``EndPointType`` EAN, CVR or VANS), carries a UUID
  ``EnvelopeIdentifier`` that is new on every send (also on a resend) and a ``SentDateTime``;
* its body is either a ``Message`` (``MetaInformation`` + base64 ``Data``) or a ``Receipt``
  (``PositiveMessage``, ``NegativeMessage`` or ``NegativeVans``) about an earlier envelope;
* ``MetaInformation/Identifier`` is the message id: stable across resends of the same content;
* ``Document/SizeInBytes`` is the length of the decoded payload, checked on read.

Every envelope read or written is validated against medbro's own schema
(``schemas/vans/vansenvelope-1.0.4.xsd``), so what we emit is what we accept.
"""

from __future__ import annotations

import base64
import binascii
import enum
import io
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from lxml import etree

from gateway.errors import LocalUsageError, RemoteMessageError
from gateway.received_xml import DoctypeError, refuse_doctype
from gateway.schemas import schema_path

NS = "urn:oio:medcom:vans-envelope:1.0.4"
SCHEMA_PATH = schema_path("vans", "vansenvelope-1.0.4.xsd")
_Q = "{" + NS + "}"


class VansEnvelopeError(RemoteMessageError):
    """A VANSEnvelope that is not well formed, not valid, or whose payload does not match.

    ``where`` names the place (element path or line) so the sender can find the fault.
    """

    receipt_hint = "SYN"

    def __init__(self, message: str, *, where: str = "") -> None:
        super().__init__(f"{message} (at {where})" if where else message)
        self.where = where


class VansWriteError(LocalUsageError, ValueError):
    """medbro built an envelope its own schema refuses (a bug on our side, never sent)."""


class EndPointType(enum.StrEnum):
    EAN = "EAN"
    CVR = "CVR"
    VANS = "VANS"


class PayloadFormat(enum.StrEnum):
    XML = "XML"
    EDIFACT = "EDIFACT"
    HL7 = "HL7"
    BINARY = "Binary"
    OTHER = "Other"


class TransportType(enum.StrEnum):
    RELIABLE = "reliable"
    UNRELIABLE = "unreliable"


class ReceiptKind(enum.StrEnum):
    POSITIVE_MESSAGE = "PositiveMessage"
    NEGATIVE_MESSAGE = "NegativeMessage"
    NEGATIVE_VANS = "NegativeVans"


@dataclass(frozen=True)
class EndPoint:
    id: str
    type: EndPointType = EndPointType.EAN


@dataclass(frozen=True)
class Processing:
    provider: str
    service: str


@dataclass(frozen=True)
class Document:
    """What the payload is: ``name`` like ``MCM:XDIS22``, ``version`` like ``XD2230L``."""

    format: PayloadFormat
    name: str
    size_in_bytes: int
    version: str = ""


@dataclass(frozen=True)
class Transport:
    type: TransportType | None = None
    transform_message: bool = False
    service_tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class MetaInformation:
    identifier: str
    document: Document
    processing: Processing | None = None
    transport: Transport | None = None

    @property
    def reliable(self) -> bool:
        """Reliable is MedCom's default: only an explicit ``unreliable`` turns receipts off."""
        return self.transport is None or self.transport.type is not TransportType.UNRELIABLE


@dataclass(frozen=True)
class Message:
    meta: MetaInformation
    data: bytes


@dataclass(frozen=True)
class ReceiptError:
    description: str
    code: int | None = None


@dataclass(frozen=True)
class Receipt:
    """A receipt about the envelope ``original_envelope_id`` (and the message in it)."""

    kind: ReceiptKind
    original_envelope_id: str
    original_message: MetaInformation | None = None
    error: ReceiptError | None = None

    def __post_init__(self) -> None:
        if (self.kind is ReceiptKind.POSITIVE_MESSAGE) != (self.error is None):
            raise ValueError(f"{self.kind}: a positive receipt has no Error, a negative one must")
        if self.kind is not ReceiptKind.NEGATIVE_VANS and self.original_message is None:
            raise ValueError(f"{self.kind} needs the OriginalMessage")

    @property
    def positive(self) -> bool:
        return self.kind is ReceiptKind.POSITIVE_MESSAGE


@dataclass(frozen=True)
class VansEnvelope:
    sender: EndPoint
    receiver: EndPoint
    envelope_id: str
    sent_at: datetime
    body: Message | Receipt

    @property
    def message(self) -> Message | None:
        return self.body if isinstance(self.body, Message) else None

    @property
    def receipt(self) -> Receipt | None:
        return self.body if isinstance(self.body, Receipt) else None


# --- schema -------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def schema() -> etree.XMLSchema:
    """medbro's VANSEnvelope schema (loaded once)."""
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def _parser() -> etree.XMLParser:
    # No DTDs, entities or network: an envelope is data from outside. huge_tree because Data
    # holds whole payloads in one text node.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


def _check_valid(root: etree._Element, *, ours: bool = False) -> None:
    xsd = schema()
    try:
        valid = xsd.validate(root)
    except etree.XMLSchemaValidateError as exc:  # libxml2 gave up on the tree (not ours)
        if ours:
            raise VansWriteError(f"medbro wrote a VANSEnvelope libxml2 cannot check: {exc}"
                                 ) from exc
        raise VansEnvelopeError(f"not a valid VANSEnvelope 1.0.4: {exc}") from exc
    if not valid:
        first = xsd.error_log[0]
        if ours:
            raise VansWriteError(f"medbro wrote an invalid VANSEnvelope: {first.message}")
        raise VansEnvelopeError(
            f"not a valid VANSEnvelope 1.0.4: {first.message}", where=f"line {first.line}"
        )


# --- sniffing -----------------------------------------------------------------------------


def is_vans_envelope(data: bytes) -> bool:
    """True when ``data`` is XML whose root is a VANSEnvelope 1.0.4 (reads the start only)."""
    head = data.lstrip()[:1]
    if head != b"<":
        return False
    try:
        for _event, element in etree.iterparse(
            io.BytesIO(data), events=("start",), resolve_entities=False, no_network=True
        ):
            return element.tag == _Q + "VANSEnvelope"
    except etree.XMLSyntaxError:
        return False
    return False


# --- reading ------------------------------------------------------------------------------


def _text(parent: etree._Element, name: str) -> str:
    child = parent.find(_Q + name)
    return "" if child is None or child.text is None else child.text.strip()


def _read_meta(el: etree._Element) -> MetaInformation:
    doc = el.find(_Q + "Document")
    processing = el.find(_Q + "Processing")
    transport = el.find(_Q + "Transport")
    return MetaInformation(
        identifier=_text(el, "Identifier").lower(),
        document=Document(
            format=PayloadFormat(_text(doc, "Format")),
            name=_text(doc, "Name"),
            version=_text(doc, "Version"),
            size_in_bytes=int(_text(doc, "SizeInBytes")),
        ),
        processing=None
        if processing is None
        else Processing(
            _text(processing, "ProviderIdentifier"), _text(processing, "ServiceIdentifier")
        ),
        transport=None
        if transport is None
        else Transport(
            type=TransportType(_text(transport, "Type")) if _text(transport, "Type") else None,
            transform_message=_text(transport, "TransformMessage") in ("true", "1"),
            service_tags=tuple(
                (tag.get("name", ""), (tag.text or "").strip())
                for tag in transport.findall(_Q + "ServiceTag")
            ),
        ),
    )


def _read_endpoint(el: etree._Element) -> EndPoint:
    return EndPoint(id=(el.text or "").strip(), type=EndPointType(el.get("EndPointType")))


def _read_receipt(el: etree._Element) -> Receipt:
    kind_el = el[0]
    kind = ReceiptKind(etree.QName(kind_el).localname)
    error_el = kind_el.find(_Q + "Error")
    original = kind_el.find(_Q + "OriginalMessage")
    return Receipt(
        kind=kind,
        original_envelope_id=_text(kind_el, "OriginalEnvelopeIdentifier").lower(),
        original_message=None if original is None else _read_meta(original),
        error=None
        if error_el is None
        else ReceiptError(
            description=_text(error_el, "Description"),
            code=int(_text(error_el, "Code")) if _text(error_el, "Code") else None,
        ),
    )


def _decode_data(text: str) -> bytes:
    compact = "".join(text.split())
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise VansEnvelopeError(f"Data is not base64: {exc}", where="Message/Data") from exc


def _sent_at(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:  # valid xs:dateTime Python cannot hold (24:00:00, year 0)
        raise VansEnvelopeError(f"SentDateTime {text!r}: {exc}", where="SentDateTime") from exc


def parse(data: bytes, *, check_size: bool = True) -> VansEnvelope:
    """Read a VANSEnvelope; raise ``VansEnvelopeError`` naming what is wrong and where.

    With ``check_size`` a ``SizeInBytes`` that differs from the decoded payload is an error;
    the reliable receiver turns that off and answers with a NegativeMessage instead. A
    DOCTYPE is refused before the envelope is parsed (gateway.received_xml).
    """
    try:
        refuse_doctype(data, "a VANSEnvelope")
    except DoctypeError as exc:
        raise VansEnvelopeError(str(exc), where="the prolog, before the root") from exc
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise VansEnvelopeError(
            f"not well-formed XML: {exc.msg}", where=f"line {exc.lineno}"
        ) from exc
    if root.tag != _Q + "VANSEnvelope":
        raise VansEnvelopeError(
            f"root element is {root.tag!r}, expected VANSEnvelope in namespace {NS}", where="line 1"
        )
    _check_valid(root)
    message_el = root.find(_Q + "Message")
    if message_el is not None:
        body: Message | Receipt = Message(
            meta=_read_meta(message_el.find(_Q + "MetaInformation")),
            data=_decode_data(_text(message_el, "Data")),
        )
    else:
        body = _read_receipt(root.find(_Q + "Receipt"))
    envelope = VansEnvelope(
        sender=_read_endpoint(root.find(_Q + "SenderID")),
        receiver=_read_endpoint(root.find(_Q + "ReceiverID")),
        envelope_id=_text(root, "EnvelopeIdentifier").lower(),
        sent_at=_sent_at(_text(root, "SentDateTime")),
        body=body,
    )
    if check_size:
        problem = size_problem(envelope)
        if problem:
            raise VansEnvelopeError(problem, where="Message/MetaInformation/Document/SizeInBytes")
    return envelope


def size_problem(envelope: VansEnvelope) -> str:
    """A description of a SizeInBytes mismatch, or "" when the payload has the declared size."""
    message = envelope.message
    if message is None:
        return ""
    declared = message.meta.document.size_in_bytes
    if declared != len(message.data):
        return f"SizeInBytes says {declared} but Data decodes to {len(message.data)} bytes"
    return ""


# --- writing ------------------------------------------------------------------------------


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, _Q + name)
    if text is not None:
        el.text = text
    return el


def _write_meta(parent: etree._Element, name: str, meta: MetaInformation) -> None:
    el = _sub(parent, name)
    _sub(el, "Identifier", meta.identifier)
    if meta.processing is not None:
        proc = _sub(el, "Processing")
        _sub(proc, "ProviderIdentifier", meta.processing.provider)
        _sub(proc, "ServiceIdentifier", meta.processing.service)
    doc = _sub(el, "Document")
    _sub(doc, "Format", str(meta.document.format))
    _sub(doc, "Name", meta.document.name)
    if meta.document.version:
        _sub(doc, "Version", meta.document.version)
    _sub(doc, "SizeInBytes", str(meta.document.size_in_bytes))
    if meta.transport is not None:
        tr = _sub(el, "Transport")
        if meta.transport.type is not None:
            _sub(tr, "Type", str(meta.transport.type))
        _sub(tr, "TransformMessage", "true" if meta.transport.transform_message else "false")
        for tag_name, value in meta.transport.service_tags:
            _sub(tr, "ServiceTag", value).set("name", tag_name)


def serialize(envelope: VansEnvelope) -> bytes:
    """The envelope as UTF-8 XML, validated against medbro's schema before it leaves."""
    root = etree.Element(_Q + "VANSEnvelope", nsmap={None: NS})
    for name, endpoint in (("SenderID", envelope.sender), ("ReceiverID", envelope.receiver)):
        _sub(root, name, endpoint.id).set("EndPointType", str(endpoint.type))
    _sub(root, "EnvelopeIdentifier", envelope.envelope_id)
    _sub(root, "SentDateTime", envelope.sent_at.isoformat(timespec="seconds"))
    if isinstance(envelope.body, Message):
        msg = _sub(root, "Message")
        _write_meta(msg, "MetaInformation", envelope.body.meta)
        _sub(msg, "Data", base64.b64encode(envelope.body.data).decode("ascii"))
    else:
        receipt = envelope.body
        kind_el = _sub(_sub(root, "Receipt"), str(receipt.kind))
        if receipt.error is not None:
            err = _sub(kind_el, "Error")
            if receipt.error.code is not None:
                _sub(err, "Code", str(receipt.error.code))
            _sub(err, "Description", receipt.error.description[:512])
        _sub(kind_el, "OriginalEnvelopeIdentifier", receipt.original_envelope_id)
        if receipt.original_message is not None:
            _write_meta(kind_el, "OriginalMessage", receipt.original_message)
    _check_valid(root, ours=True)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
