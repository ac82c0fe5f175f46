"""The LÆ forms of the rehabilitation-team flow (LÆ 261/265/271/275): models, XML (primary,
validated against schemas/lae/), the DIS91 EDIFACT profile, validation and answer deadlines."""

from gateway.forms.deadlines import (
    DEFAULT_CERTIFICATE_DEADLINES,
    CertificateDeadlines,
    certificate_due,
)
from gateway.forms.edifact_profile import from_edifact, from_letter, to_edifact, to_letter
from gateway.forms.errors import FieldError, FormValidationError
from gateway.forms.model import (
    ANSWERED_BY,
    FORM_CLASSES,
    FORM_VERSION,
    PRESCRIBED_LAE271_ATTACHMENTS,
    Answer,
    Attachment,
    AttachmentKind,
    Citizen,
    ClinicalFunction,
    Form,
    FormType,
    GeneralPractitioner,
    Lae261,
    Lae265,
    Lae271,
    Lae275,
    Municipality,
    Parties,
)
from gateway.forms.validation import check, validate
from gateway.forms.xml import from_xml, to_xml

__all__ = [
    "ANSWERED_BY",
    "DEFAULT_CERTIFICATE_DEADLINES",
    "FORM_CLASSES",
    "FORM_VERSION",
    "PRESCRIBED_LAE271_ATTACHMENTS",
    "Answer",
    "Attachment",
    "AttachmentKind",
    "CertificateDeadlines",
    "Citizen",
    "ClinicalFunction",
    "FieldError",
    "Form",
    "FormType",
    "FormValidationError",
    "GeneralPractitioner",
    "Lae261",
    "Lae265",
    "Lae271",
    "Lae275",
    "Municipality",
    "Parties",
    "certificate_due",
    "check",
    "from_edifact",
    "from_letter",
    "from_xml",
    "to_edifact",
    "to_letter",
    "to_xml",
    "validate",
]
