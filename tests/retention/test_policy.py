"""The retention rule (gateway.retention.policy) from a table of cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.errors import ConfigError
from gateway.retention.policy import (
    RetentionPolicy,
    StoredMessage,
    Verdict,
    message_class,
    verdict,
)

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)
POLICY = RetentionPolicy({"letter": 365, "receipt": 180, "rejected": 90, "XDIS16": 3650})


def msg(state: str, type_: str = "DIS01", family: str = "MEDREP", ack: bool = False):
    return StoredMessage(type_, family, state, ack)


CASES = [
    # age in days, interchange status, messages, held, verdict
    (366, "processed", [msg("delivered")], False, Verdict.PRUNE),
    (364, "processed", [msg("delivered")], False, Verdict.YOUNG),
    (366, "processed", [msg("acknowledged", ack=True)], False, Verdict.PRUNE),
    (366, "processed", [msg("failed")], False, Verdict.PRUNE),
    # may still be delivered, resent or requeued: never pruned, however old
    (3000, "processed", [msg("routed")], False, Verdict.UNSETTLED),
    (3000, "processed", [msg("parked")], False, Verdict.UNSETTLED),
    (3000, "processed", [msg("delivered", ack=True)], False, Verdict.UNSETTLED),
    (3000, "processed", [msg("delivered"), msg("routed")], False, Verdict.UNSETTLED),
    # a legal hold
    (3000, "processed", [msg("delivered")], True, Verdict.HELD),
    (10, "processed", [msg("delivered")], True, Verdict.YOUNG),
    # classes: receipts and rejected interchanges have their own periods
    (181, "processed", [msg("delivered", "CTL03", "CONTRL")], False, Verdict.PRUNE),
    (91, "rejected", [], False, Verdict.PRUNE),
    (89, "rejected", [], False, Verdict.YOUNG),
    (91, "processed", [msg("rejected")], False, Verdict.PRUNE),
    # a message type's own period; several messages: the longest period
    (400, "processed", [msg("delivered", "XDIS16")], False, Verdict.YOUNG),
    (400, "processed", [msg("delivered", "CTL03", "CONTRL"), msg("delivered")], False,
     Verdict.PRUNE),
    (200, "processed", [msg("delivered", "CTL03", "CONTRL"), msg("delivered")], False,
     Verdict.YOUNG),
    # an interchange without messages (a duplicate, say): a letter's period
    (366, "duplicate", [], False, Verdict.PRUNE),
]


@pytest.mark.parametrize(("age", "status", "messages", "held", "expected"), CASES)
def test_rule_table(age, status, messages, held, expected) -> None:
    got = verdict(created_at=NOW - timedelta(days=age), now=NOW, interchange_status=status,
                  messages=messages, policy=POLICY, held=held)
    assert got is expected


def test_classes() -> None:
    assert message_class(msg("delivered", "CTL02", "CONTRL"), "processed") == "receipt"
    assert message_class(None, "rejected") == "rejected"
    assert message_class(msg("delivered"), "processed") == "letter"


def test_setting() -> None:
    policy = RetentionPolicy.from_text('{"letter": 730, "xdis16": 3650}')
    assert policy.days == {"letter": 730, "receipt": 365, "rejected": 90, "XDIS16": 3650}
    assert RetentionPolicy.from_text(None).shortest == 90
    for bad, why in (("[1]", "JSON object"), ('{"letter": 0}', "positive"),
                     ('{"letter": "1y"}', "positive"), ("{", "not JSON"),
                     ('{"dis-01": 3}', "neither a class")):
        with pytest.raises(ConfigError, match=why):
            RetentionPolicy.from_text(bad)
