"""MedCom's reliable messaging for FHIR, as pure decisions the pipeline calls.

Sources: MedCom-FHIR-Communication 043_Reliable_Messaging-FHIR and Rules_Messaging (MR2-MR8),
read via ../shared/research/medcom.md §3.2 and §3.4.

* ``duplicate_case``: a message is keyed on ``MessageHeader.id`` (MR8), a send on ``Bundle.id``
  (new on every send, MR7). A seen MessageHeader.id is a duplicate whether its Bundle.id is
  new (a resend) or not (the same send again): it is not delivered again and gets the same
  Acknowledgement as the first time ("SHALL return the same acknowledgement content"). A
  Bundle.id seen with another MessageHeader.id is a reuse, refused (``fatal-error``).
* ``verdict``: what an incoming Acknowledgement means for the message it answers: ``ok`` = sent
  and received (MR2); ``fatal-error`` = failed, no automatic resend (MR3/MR4: "no point in
  re-sending without change"); ``transient-error`` = may be resent under the 30-minute,
  at-most-twice rule, like a missing Acknowledgement.
* ``resend``: the same message again with a new ``Bundle.id`` and ``timestamp`` (MR7); the
  MessageHeader.id and everything else stay.
"""

from __future__ import annotations

import enum
from datetime import datetime

from gateway.errors import LocalUsageError
from gateway.fhir.reader import media_type, read_bundle
from gateway.fhir.writer import dump


class Case(enum.StrEnum):
    NEW = "new"  # process and answer
    RESENT = "resent"  # MessageHeader.id seen, new Bundle.id: replay the first Acknowledgement
    REPEATED = "repeated"  # the same Bundle.id and MessageHeader.id again: replay it too
    BUNDLE_REUSED = "bundle-reused"  # Bundle.id seen with another MessageHeader.id: refuse


def duplicate_case(*, header_seen: bool, bundle_seen_with: str | None, header_id: str) -> Case:
    """``bundle_seen_with``: the MessageHeader.id the Bundle.id was first seen with, if any."""
    if bundle_seen_with is not None and bundle_seen_with != header_id:
        return Case.BUNDLE_REUSED
    if header_seen:
        return Case.REPEATED if bundle_seen_with == header_id else Case.RESENT
    return Case.NEW


class Verdict(enum.StrEnum):
    ACKNOWLEDGED = "acknowledged"
    REJECTED = "rejected"
    RETRY = "retry"


_VERDICTS = {
    "ok": Verdict.ACKNOWLEDGED,
    "fatal-error": Verdict.REJECTED,
    "transient-error": Verdict.RETRY,
}


def verdict(response_code: str) -> Verdict:
    try:
        return _VERDICTS[response_code]
    except KeyError:
        raise LocalUsageError(f"no FHIR response code {response_code!r}") from None


def resend(data: bytes, *, bundle_id: str, now: datetime) -> bytes:
    """``data`` with a new Bundle.id and timestamp, in its own media type."""
    if now.tzinfo is None:
        raise LocalUsageError("a FHIR timestamp carries a time zone")
    bundle = read_bundle(data)
    if bundle_id == bundle.id:
        raise LocalUsageError("a resend needs a new Bundle.id (MedCom MR7)")
    again = bundle.model_copy(update={"id": bundle_id, "timestamp": now.replace(microsecond=0)})
    return dump(again, media_type(data))
