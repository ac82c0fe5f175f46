"""A committed batch whose publishes fail spends the publish patience once, not per command
(gateway/pipeline/ingest.py ``publish_all_or_defer``): the first command waits out
``publish_patience_seconds``, the rest go straight to ``publish_later``, so a batch of 64 stored
during a broker outage is answered after seconds, not after 64 patiences."""

from __future__ import annotations

from types import SimpleNamespace

from gateway.pipeline.ingest import publish_all_or_defer
from gateway.transport import TransportError
from gateway.transport.port import PublishCommand


class AwayBroker:
    """Every publish fails until ``back``; ``later`` holds what was handed to publish_later."""

    def __init__(self, fail_after: int = 0) -> None:
        self.fail_after = fail_after
        self.published: list[str] = []
        self.tried: list[str] = []
        self.later: list[str] = []

    async def publish(self, command: PublishCommand) -> None:
        self.tried.append(command.message_id)
        if len(self.published) >= self.fail_after:
            raise TransportError("broker away")
        self.published.append(command.message_id)

    def publish_later(self, command: PublishCommand) -> bool:
        self.later.append(command.message_id)
        return True


def commands(n: int) -> list[PublishCommand]:
    return [PublishCommand(routing_key="k", body=b"x", message_id=f"m{i}") for i in range(n)]


def ctx(transport: AwayBroker, patience: float) -> SimpleNamespace:
    return SimpleNamespace(transport=transport,
                           settings=SimpleNamespace(publish_patience_seconds=patience))


async def test_the_patience_is_spent_once_per_batch() -> None:
    broker = AwayBroker()
    await publish_all_or_defer(ctx(broker, 0.3), commands(20))
    assert broker.later == [f"m{i}" for i in range(20)]  # every one kept, in order
    assert len(broker.tried) > 1 and set(broker.tried) == {"m0"}  # only the first waited


async def test_what_was_published_before_the_outage_is_not_deferred() -> None:
    broker = AwayBroker(fail_after=3)
    await publish_all_or_defer(ctx(broker, 0.05), commands(6))
    assert broker.published == ["m0", "m1", "m2"]
    assert broker.later == ["m3", "m4", "m5"]


async def test_a_broker_that_is_there_takes_every_command() -> None:
    broker = AwayBroker(fail_after=100)
    await publish_all_or_defer(ctx(broker, 0.05), commands(5))
    assert broker.published == [f"m{i}" for i in range(5)] and broker.later == []
