"""The lifecycle of a stored message, as one transition table (h11 ``_state.py`` style).

Rule: everything that decides which state follows which lives in this module. The pipeline only
names events; ``next_state`` looks them up and an illegal pair raises ``IllegalTransition``
naming both, so a bug can never move a message silently into a wrong state.

Theory of operation (MedCom references in shared/research/medcom.md):

* RECEIVED: the raw bytes are committed, nothing else is known yet (stored before anything can
  go wrong).
* VALIDATED / REJECTED: the codec accepted the interchange, or refused it (a CTL02/CTL01 SYN is
  owed to the sender, §3.1).
* ROUTED: the registry found the receiving endpoint and the message is on its queue; PARKED when
  routing refused it (CTL01 LOK/VER) or delivery gave up: an operator task exists.
* DELIVERED: the endpoint's channel took it. If the sender asked for a receipt (UNB element 9 =
  1) the receipt clock runs: no receipt within the timeout -> RESEND (back to ROUTED), at most
  MAX_RESENDS times (§3.2), then RECEIPT_TIMED_OUT -> PARKED.
* ACKNOWLEDGED / FAILED: a CTL03 or a CTL02/CTL01 came back from the receiver and was forwarded
  to the sender. MedCom: a negative receipt is final; a later receipt does not change it.
* Operators can REQUEUE (release) a parked or failed message (back to ROUTED), CLOSE a parked
  or still-retried one (FAILED), or REPLAY a delivered one (back to ROUTED: a new attempt for a
  receiver that lost it). gateway/operations/rules.py decides which act applies in which state.
"""

from __future__ import annotations

import enum

from gateway.errors import LocalUsageError


class MessageState(enum.StrEnum):
    RECEIVED = "received"
    VALIDATED = "validated"
    REJECTED = "rejected"
    ROUTED = "routed"
    DELIVERED = "delivered"
    ACKNOWLEDGED = "acknowledged"
    FAILED = "failed"
    PARKED = "parked"


class MessageEvent(enum.StrEnum):
    VALIDATE = "validate"
    REJECT = "reject"
    ROUTE = "route"
    REFUSE = "refuse"  # routing said LOK/VER
    DELIVER = "deliver"
    RETRY = "retry"  # transient channel failure, tried again later
    EXHAUST = "exhaust"  # delivery attempts used up, or a permanent channel error
    ACKNOWLEDGE = "acknowledge"  # CTL03 from the receiver
    NEGATIVE_RECEIPT = "negative_receipt"  # CTL02/CTL01 from the receiver or the network
    RESEND = "resend"
    RECEIPT_TIMED_OUT = "receipt_timed_out"
    REQUEUE = "requeue"  # operator: release a parked or failed message
    CLOSE = "close"  # operator
    REPLAY = "replay"  # operator: deliver a delivered message again (the receiver lost it)


S, E = MessageState, MessageEvent

TRANSITIONS: dict[MessageState, dict[MessageEvent, MessageState]] = {
    S.RECEIVED: {E.VALIDATE: S.VALIDATED, E.REJECT: S.REJECTED},
    S.VALIDATED: {E.ROUTE: S.ROUTED, E.REFUSE: S.PARKED},
    S.REJECTED: {},
    S.ROUTED: {
        E.DELIVER: S.DELIVERED,
        E.RETRY: S.ROUTED,
        E.EXHAUST: S.PARKED,
        # A receipt can overtake the commit of our own delivery record.
        E.ACKNOWLEDGE: S.ACKNOWLEDGED,
        E.NEGATIVE_RECEIPT: S.FAILED,
        E.CLOSE: S.FAILED,  # operator gives up on a message still being retried
    },
    S.DELIVERED: {
        E.ACKNOWLEDGE: S.ACKNOWLEDGED,
        E.NEGATIVE_RECEIPT: S.FAILED,
        E.RESEND: S.ROUTED,
        E.RECEIPT_TIMED_OUT: S.PARKED,
        E.REPLAY: S.ROUTED,
    },
    # Operator events only (gateway/operations/rules.py): nothing automatic leaves these.
    S.ACKNOWLEDGED: {E.REPLAY: S.ROUTED},
    S.FAILED: {E.REQUEUE: S.ROUTED},
    S.PARKED: {
        E.REQUEUE: S.ROUTED,
        E.CLOSE: S.FAILED,
        # A late receipt still tells the truth about a message an operator is looking at.
        E.ACKNOWLEDGE: S.ACKNOWLEDGED,
        E.NEGATIVE_RECEIPT: S.FAILED,
    },
}

OPERATOR_EVENTS = frozenset({E.REQUEUE, E.CLOSE, E.REPLAY})
# Final unless an operator acts: no automatic event leaves these states.
TERMINAL = frozenset(state for state, events in TRANSITIONS.items()
                     if not set(events) - OPERATOR_EVENTS)
# States in which the message has been handed over (a redelivered queue message is only acked).
HANDED_OVER = frozenset({S.DELIVERED, S.ACKNOWLEDGED, S.FAILED})


class IllegalTransition(LocalUsageError):
    """Our code tried a transition the table does not allow."""

    def __init__(self, state: MessageState, event: MessageEvent) -> None:
        self.state, self.event = state, event
        allowed = ", ".join(sorted(TRANSITIONS[state])) or "none (final state)"
        super().__init__(
            f"event {event.value!r} is not allowed in state {state.value!r} (allowed: {allowed})"
        )


def next_state(state: MessageState | str, event: MessageEvent | str) -> MessageState:
    state, event = MessageState(state), MessageEvent(event)
    try:
        return TRANSITIONS[state][event]
    except KeyError:
        raise IllegalTransition(state, event) from None


def can(state: MessageState | str, event: MessageEvent | str) -> bool:
    """May ``event`` happen to a message in ``state``? (The guard every step asks.)"""
    return MessageEvent(event) in TRANSITIONS[MessageState(state)]


def walk(state: MessageState, *events: MessageEvent) -> list[tuple[MessageEvent, MessageState,
                                                                   MessageState]]:
    """The steps (event, from, to) of ``events`` applied in order from ``state``; raises
    ``IllegalTransition`` at the first step the table does not allow."""
    steps = []
    for event in events:
        target = next_state(state, event)
        steps.append((event, state, target))
        state = target
    return steps


def mermaid_diagram() -> str:
    """The table as a Mermaid state diagram (docs/architecture.md is generated from this)."""
    lines = ["stateDiagram-v2", "    [*] --> received"]
    for state, events in TRANSITIONS.items():
        for event, target in events.items():
            lines.append(f"    {state.value} --> {target.value}: {event.value}")
    lines += [f"    {s.value} --> [*]" for s in MessageState if s in TERMINAL]
    return "\n".join(lines)


# -- interchanges ------------------------------------------------------------------------------
#
# An interchange row is the envelope as it arrived. It is written once, already decided
# (ingest stores and decides in one transaction), so its status only ever leaves RECEIVED, the
# status of rows written by older releases that stored the bytes before deciding.


class InterchangeStatus(enum.StrEnum):
    RECEIVED = "received"  # stored, not yet decided (rows of older releases only)
    PROCESSED = "processed"  # accepted: its messages were routed or refused
    DUPLICATE = "duplicate"  # its letters were all received before
    REJECTED = "rejected"  # unreadable, unauthorised or partly a duplicate


class InterchangeEvent(enum.StrEnum):
    ACCEPT = "accept"
    DUPLICATE = "duplicate"
    REJECT = "reject"


IS, IE = InterchangeStatus, InterchangeEvent

INTERCHANGE_TRANSITIONS: dict[InterchangeStatus, dict[InterchangeEvent, InterchangeStatus]] = {
    IS.RECEIVED: {IE.ACCEPT: IS.PROCESSED, IE.DUPLICATE: IS.DUPLICATE, IE.REJECT: IS.REJECTED},
    IS.PROCESSED: {},
    IS.DUPLICATE: {},
    IS.REJECTED: {},
}


def interchange_status(event: InterchangeEvent | str) -> InterchangeStatus:
    """The status an interchange takes when ingest decides ``event`` for it."""
    event = InterchangeEvent(event)
    return INTERCHANGE_TRANSITIONS[IS.RECEIVED][event]


def can_decide(status: InterchangeStatus | str) -> bool:
    """May ingest still decide this interchange (nobody decided it yet)?"""
    return bool(INTERCHANGE_TRANSITIONS[InterchangeStatus(status)])
