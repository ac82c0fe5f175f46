"""The one error type of the EDIFACT codec.

Every problem found in a received interchange is an ``EdifactError``: a ``RemoteMessageError``
(the sender's fault) that names where it is and what to answer:

* ``code``: a stable machine code (see docs/edifact.md for the list), e.g. ``UNT_COUNT``;
* ``segment_no``: inside a message, the position counted from UNH = 1 (the way UNT counts and
  CONTRL reports positions); for service segments outside a message (UNA, UNB, UNZ), the
  position in the interchange with UNB = 1;
* ``tag``: the segment tag; ``element``/``component``: 1-based positions (element 1 is the first
  after the tag);
* ``receipt_hint``: the MedCom refusal code for the CTL02/CTL01 receipt (SYN, VER, ...).

``str(err)`` reads like ``UNT segment 26: count 25 does not match 26 segments``.
"""

from __future__ import annotations

from gateway.errors import RemoteMessageError
from gateway.model import RefusalCode


class EdifactError(RemoteMessageError):
    """A received interchange is malformed or invalid; carries where and what to answer."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        segment_no: int | None = None,
        tag: str | None = None,
        element: int | None = None,
        component: int | None = None,
        message_ref: str | None = None,
        receipt_hint: RefusalCode = RefusalCode.SYN,
    ) -> None:
        self.code = code
        self.message = message
        self.segment_no = segment_no
        self.tag = tag
        self.element = element
        self.component = component
        self.message_ref = message_ref
        self.receipt_hint = receipt_hint
        super().__init__(str(self))

    @property
    def location(self) -> str:
        """``UNT segment 26, element 1`` (as much as is known)."""
        parts = []
        if self.tag:
            parts.append(self.tag)
        if self.segment_no is not None:
            parts.append(f"segment {self.segment_no}")
        where = " ".join(parts)
        if self.element is not None:
            where += f", element {self.element}"
            if self.component is not None:
                where += f" component {self.component}"
        return where

    def __str__(self) -> str:
        where = self.location
        return f"{where}: {self.message}" if where else self.message

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "segment_no": self.segment_no,
            "tag": self.tag,
            "element": self.element,
            "component": self.component,
            "message_ref": self.message_ref,
            "refusal": str(self.receipt_hint),
            "text": str(self),
        }
