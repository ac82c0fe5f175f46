"""The error of the OIOXML converter: what is wrong and where.

``path`` is an XPath-like location (``/Emessage/DischargeLetter/Diagnose/Other[2]/DiagnoseCode``)
when reading XML, or the model field (``letter.sender.speciality``) when a letter carries
something OIOXML cannot say. It is a ``RemoteMessageError``: the message came from outside.
"""

from __future__ import annotations

from gateway.errors import RemoteMessageError


class OioxmlError(RemoteMessageError):
    """An OIOXML message (or a letter to be written as one) is invalid; names where and what."""

    def __init__(self, path: str, problem: str, *, receipt_hint: str = "SYN") -> None:
        self.path = path
        self.problem = problem
        self.receipt_hint = receipt_hint
        super().__init__(f"{path}: {problem}")

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "problem": self.problem, "refusal": self.receipt_hint}
