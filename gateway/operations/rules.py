"""Which operator act does what in which message state: one pure table.

``decide(action, state)`` answers ``apply`` (with the lifecycle event to fire: the transition
itself is gateway/store/states.py's), ``noop`` (already done, or under way: the act is
idempotent, so a repeat or a race with another operator answers the current state), or
``refuse`` with the reason shown to the operator (409).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from gateway.store.states import MessageEvent, MessageState


class Action(enum.StrEnum):
    RELEASE = "release"  # a parked or failed message: route it again
    REPLAY = "replay"  # a delivered message: deliver it again, as a new attempt
    CLOSE = "close"  # give up for good


class Verdict(enum.StrEnum):
    APPLY = "apply"
    NOOP = "noop"
    REFUSE = "refuse"


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    event: MessageEvent | None = None
    reason: str = ""


S, A = MessageState, Action
_apply = {
    A.RELEASE: MessageEvent.REQUEUE, A.REPLAY: MessageEvent.REPLAY, A.CLOSE: MessageEvent.CLOSE,
}
_NOT_YET = "it has not been routed yet (received or validated): wait, or look at its events"
_REJECTED = "it was rejected as malformed: the sender must send a corrected interchange"

TABLE: dict[tuple[Action, MessageState], tuple[Verdict, str]] = {
    (A.RELEASE, S.PARKED): (Verdict.APPLY, ""),
    (A.RELEASE, S.FAILED): (Verdict.APPLY, ""),
    (A.RELEASE, S.ROUTED): (Verdict.NOOP, "already on its way to the receiver"),
    (A.RELEASE, S.DELIVERED): (Verdict.NOOP, "already delivered"),
    (A.RELEASE, S.ACKNOWLEDGED): (Verdict.NOOP, "already delivered and acknowledged"),
    (A.RELEASE, S.RECEIVED): (Verdict.REFUSE, _NOT_YET),
    (A.RELEASE, S.VALIDATED): (Verdict.REFUSE, _NOT_YET),
    (A.RELEASE, S.REJECTED): (Verdict.REFUSE, _REJECTED),
    (A.REPLAY, S.DELIVERED): (Verdict.APPLY, ""),
    (A.REPLAY, S.ACKNOWLEDGED): (Verdict.APPLY, ""),
    (A.REPLAY, S.ROUTED): (Verdict.NOOP, "a delivery is already under way"),
    (A.REPLAY, S.PARKED): (Verdict.REFUSE, "it was never delivered: release it instead"),
    (A.REPLAY, S.FAILED): (Verdict.REFUSE, "it is failed: release it to route it again"),
    (A.REPLAY, S.RECEIVED): (Verdict.REFUSE, _NOT_YET),
    (A.REPLAY, S.VALIDATED): (Verdict.REFUSE, _NOT_YET),
    (A.REPLAY, S.REJECTED): (Verdict.REFUSE, _REJECTED),
    (A.CLOSE, S.PARKED): (Verdict.APPLY, ""),
    (A.CLOSE, S.ROUTED): (Verdict.APPLY, ""),
    (A.CLOSE, S.FAILED): (Verdict.NOOP, "already closed or failed"),
    (A.CLOSE, S.REJECTED): (Verdict.NOOP, "rejected: it will never be delivered"),
    (A.CLOSE, S.DELIVERED): (Verdict.REFUSE, "it was delivered: nothing to give up"),
    (A.CLOSE, S.ACKNOWLEDGED): (Verdict.REFUSE, "it was delivered and acknowledged"),
    (A.CLOSE, S.RECEIVED): (Verdict.REFUSE, _NOT_YET),
    (A.CLOSE, S.VALIDATED): (Verdict.REFUSE, _NOT_YET),
}


def decide(action: Action | str, state: MessageState | str) -> Decision:
    action, state = Action(action), MessageState(state)
    verdict, reason = TABLE[(action, state)]
    return Decision(verdict, _apply[action] if verdict is Verdict.APPLY else None, reason)
