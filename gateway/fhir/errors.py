"""The error of medbro's FHIR side: what is wrong and where.

``path`` is a FHIRPath-like location (``Bundle.entry[0].resource.eventCoding.code``, or
``MessageHeader.destination[0].receiver`` once the header is found). A ``FhirError`` is a
``RemoteMessageError`` (the message came from outside) and says which Acknowledgement code it
earns: content the sender must change is ``fatal-error`` (MedCom: "no point in re-sending
without change").
"""

from __future__ import annotations

from gateway.errors import RemoteMessageError


class FhirError(RemoteMessageError):
    """A FHIR message is invalid (syntax, FHIR R4 structure or MedCom's profile rules)."""

    def __init__(self, path: str, problem: str, *, issue: str = "structure") -> None:
        self.path = path
        self.problem = problem
        self.issue = issue  # FHIR issue-type code for the OperationOutcome (structure, value...)
        self.receipt_hint = "SYN"
        super().__init__(f"{path}: {problem}")

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "problem": self.problem, "issue": self.issue}
