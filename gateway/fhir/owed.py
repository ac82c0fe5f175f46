"""Which Acknowledgement medbro owes for a FHIR message: one pure decision, table-tested.

MedCom (Rules_Acknowledgement KR1.R/KR2.R; the Acknowledgement IG): every MedCom FHIR message is
acknowledged, an Acknowledgement never is. The final receiver answers ``ok`` when it accepted
the message, ``fatal-error`` when the content is wrong ("no point in re-sending without
change"), ``transient-error`` when it failed inside ("wait and try again"). medbro as a network
hop answers only what it cannot pass on: ``fatal-error`` for a message it cannot deliver
(unknown receiver, type not taken) or cannot read, ``transient-error`` for its own failure; a
message it passes on is acknowledged by its final receiver, not by medbro.

An EDIFACT receiver's CONTRL answers a converted CareCommunication: ``from_receipt`` maps
CTL03 to ``ok`` and CTL01/CTL02 to ``fatal-error`` (both mean "rejected, do not resend as is").
The other way, a FHIR receiver's Acknowledgement answers the CareCommunication twin of an
EDIFACT DIS91: ``receipt_owed`` says which CONTRL its EDIFACT sender is owed (``ok`` -> CTL03
only when the UNB asked for one, ``fatal-error`` -> CTL02, ``transient-error`` -> none yet).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from gateway.fhir.errors import FhirError
from gateway.fhir.message import Issue
from gateway.model import Receipt, RefusalCode


class Role(enum.StrEnum):
    FINAL_RECEIVER = "final-receiver"  # medbro is the message's receiver (or speaks for it)
    HOP = "hop"  # medbro passes the message on to its receiver


class Outcome(enum.StrEnum):
    ACCEPTED = "accepted"  # read, valid, taken (final receiver) or passed on (hop)
    UNDELIVERABLE = "undeliverable"  # no endpoint for the receiver, or it does not take the type
    FAILED = "failed"  # medbro itself failed (store, broker): the sender may try again


@dataclass(frozen=True)
class Owed:
    """The Acknowledgement to write: its response code and, unless ``ok``, one issue."""

    code: str  # ok | transient-error | fatal-error
    issue: str = ""  # FHIR issue-type code (structure, value, not-found, transient, ...)
    text: str = ""  # OperationOutcome.issue.details.text: what is wrong, and where

    @property
    def ok(self) -> bool:
        return self.code == "ok"


def acknowledgement_owed(
    *,
    is_acknowledgement: bool,
    answerable: bool,
    problem: FhirError | None,
    outcome: Outcome,
    role: Role,
    reason: str = "",
) -> Owed | None:
    """The Acknowledgement owed, or None when none is.

    ``answerable``: the message has a MessageHeader.id and a sender to answer (without them an
    Acknowledgement could say nothing). ``problem``: the first broken rule, if any.
    ``reason``: for UNDELIVERABLE/FAILED, what happened (goes into the OperationOutcome).
    """
    if is_acknowledgement or not answerable:
        return None
    if problem is not None:
        return Owed("fatal-error", problem.issue, str(problem))
    if outcome is Outcome.UNDELIVERABLE:
        return Owed("fatal-error", "not-found", reason or "the message cannot be delivered")
    if outcome is Outcome.FAILED:
        return Owed("transient-error", "transient", reason or "medbro could not take the message")
    if role is Role.FINAL_RECEIVER:
        return Owed("ok")
    return None  # passed on: its final receiver acknowledges it


def from_receipt(receipt: Receipt) -> Owed:
    """The Acknowledgement an EDIFACT/OIOXML receiver's CONTRL receipt stands for."""
    if receipt.accepted:
        return Owed("ok")
    refusal = receipt.refusal.value if receipt.refusal is not None else "NC"
    text = f"{receipt.type} ({refusal}) from the receiver" + (
        f": {receipt.text}" if receipt.text else ""
    )
    issue = "not-found" if refusal in ("LOK", "MID") else "processing"
    return Owed("fatal-error", issue, text)


@dataclass(frozen=True)
class ReceiptOwed:
    """The CONTRL to write for an EDIFACT sender: its type and, for a CTL02, why."""

    type: str  # CTL03 | CTL02
    refusal: RefusalCode | None = None
    text: str = ""


def receipt_owed(code: str, issues: tuple[Issue, ...] = (), *,
                 ack_requested: bool) -> ReceiptOwed | None:
    """The CONTRL an Acknowledgement (``code``, its OperationOutcome ``issues``) stands for,
    owed to the EDIFACT sender of the letter its receiver got as a CareCommunication.

    ``ok``: a CTL03 when the interchange asked for one (UNB element 9 = 1), else none (MedCom's
    receipt rule). ``fatal-error``: the receiver refused it, a CTL02 (LOK for ``not-found``,
    else NC) naming the receiver's reason. ``transient-error``: none yet; the resend rule
    (30 minutes, at most twice) sends the letter again."""
    if code == "ok":
        return ReceiptOwed("CTL03") if ack_requested else None
    if code == "fatal-error":
        refusal = RefusalCode.LOK if any(i.code == "not-found" for i in issues) else RefusalCode.NC
        details = "; ".join(i.detail for i in issues if i.detail)
        text = "Afvist af modtageren (FHIR fatal-error)" + (f": {details}" if details else "")
        return ReceiptOwed("CTL02", refusal, text[:350])
    if code == "transient-error":
        return None
    raise FhirError("MessageHeader.response.code", f"no FHIR response code {code!r}",
                    issue="value")
