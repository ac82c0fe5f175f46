"""RabbitMQ transport (aio-pika): the durable path of the transport port.

* Robust connection: aio-pika reconnects and restores channels, the declared topology and the
  consumers after a broker restart or a network cut. A publish during the outage raises
  ``TransportError``; callers keep the message in the store and hand the command to
  ``publish_later``, which publishes it as soon as the connection is back (``on_reconnect``).
* Clusters: the URL may list every node (addresses.py); each connection attempt, at start and
  after a loss, takes the next address, so losing a node moves the connection to another one.
* Publisher confirms + ``mandatory``: ``publish`` returns after the broker's ack; an unroutable
  message raises ``UnroutableError`` instead of vanishing (``on_return_raises``).
* A nacked publish renews the publishing channel. After a quorum queue's leader node dies, a
  long-lived channel can go on nacking every publish to that queue while a fresh channel on the
  same connection is acked (RabbitMQ 3.10, seen in tests/transport/test_cluster.py); the nack is
  a ``TransportError`` and the caller's retry publishes on the new channel.
* Persistent messages on durable quorum queues (replicated, at-least-once dead-lettering).
* Manual acks: a message is acked after the handler returned (the store committed), nacked with
  requeue when it raised; the quorum queue's ``x-delivery-limit`` dead-letters a message that
  keeps failing to ``<prefix>.parking``.
* Delays: one fanout exchange + queue per tier with ``x-message-ttl`` and the main exchange as
  dead-letter exchange, so an expired message is routed again by its original key.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aio_pika
import aiormq
import tenacity
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractRobustConnection,
)
from yarl import URL

from gateway.logging import get_logger
from gateway.transport.addresses import broker_addresses, display
from gateway.transport.pending import PendingPublishes
from gateway.transport.port import (
    Handler,
    IncomingMessage,
    PublishCommand,
    ReconnectCallback,
    TransportError,
    UnroutableError,
)
from gateway.transport.topology import Topology

log = get_logger(__name__)

_QUORUM = {"x-queue-type": "quorum"}


# A broker call during shutdown gets this long: a robust channel waits for a connection that
# may never come back, and SIGTERM must be honoured within seconds.
_CLOSE_STEP_SECONDS = 2.0


class _ClusterConnection(aio_pika.RobustConnection):
    """A robust connection over the addresses of one cluster: every connection attempt (aio-pika
    clears ``transport`` right before each one) takes the next address in turn."""

    def __init__(self, urls: tuple[str, ...], *, start: int = 0, **kwargs: Any) -> None:
        self._urls = tuple(URL(u) for u in urls)
        self._turn = start - 1  # the first attempt takes ``start``
        super().__init__(self._urls[start % len(self._urls)], **kwargs)

    @property  # type: ignore[override]
    def transport(self) -> Any:
        return self.__dict__.get("_medbro_transport")

    @transport.setter
    def transport(self, value: Any) -> None:
        urls = self.__dict__.get("_urls")
        attempt = "_medbro_transport" in self.__dict__  # not the first set, in __init__
        if value is None and urls and attempt and not getattr(self, "_close_called", False):
            self._turn += 1
            self.url = urls[self._turn % len(urls)]
        self.__dict__["_medbro_transport"] = value


def _is_up(connection: Any) -> bool:
    """Connected now (a robust connection that lost its broker is reconnecting: not up)."""
    return (connection is not None and connection.connected.is_set()
            and connection.transport is not None)


class _RabbitSubscription:
    grace_seconds = 5.0

    def __init__(self, connection: Any, channel: AbstractChannel,
                 queue: aio_pika.abc.AbstractQueue, tag: str,
                 inflight: set[asyncio.Task[Any]]) -> None:
        self._connection = connection
        self._channel, self._queue, self._tag, self._inflight = channel, queue, tag, inflight

    async def cancel(self) -> None:
        """Stop consuming and let running handlers finish (ack or nack) for ``grace_seconds``.

        With the broker away, a robust channel's calls would wait for it to come back: they are
        skipped, and running handlers are cancelled at once (their messages were not acked, so
        the broker redelivers them, and the store skips what was already done)."""
        up = _is_up(self._connection)
        if up:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._queue.cancel(self._tag), _CLOSE_STEP_SECONDS)
        if self._inflight:
            _done, pending = await asyncio.wait(set(self._inflight),
                                                timeout=self.grace_seconds if up else 0.5)
            for task in pending:  # unacked: the broker requeues them when the channel closes
                task.cancel()
        if up:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._channel.close(), _CLOSE_STEP_SECONDS)


class RabbitTransport:
    def __init__(self, url: str, *, connect_patience: float = 30.0,
                 reconnect_interval: float = 1.0, publish_timeout: float = 10.0) -> None:
        self.url = url
        self.addresses = broker_addresses(url)
        self.connect_patience = connect_patience
        self.reconnect_interval = reconnect_interval
        self.publish_timeout = publish_timeout
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchanges: dict[str, AbstractExchange] = {}
        self._topology: Topology | None = None
        self._subscriptions: list[_RabbitSubscription] = []
        self._reconnect_callbacks: list[ReconnectCallback] = []
        self._callback_tasks: set[asyncio.Task[None]] = set()
        self._pending = PendingPublishes(self.publish)
        self._renewing = asyncio.Lock()
        self._reconnect_callbacks.append(self._pending.reconnected)

    async def connect(self) -> None:
        """Connect, waiting up to ``connect_patience`` seconds for a broker that is starting;
        each attempt starts at the next address of a cluster."""
        if self._connection is not None:
            return
        start = 0
        try:
            async for attempt in tenacity.AsyncRetrying(
                retry=tenacity.retry_if_exception_type(
                    (OSError, aiormq.exceptions.AMQPError, asyncio.TimeoutError)),
                stop=tenacity.stop_after_delay(self.connect_patience),
                wait=tenacity.wait_exponential(multiplier=0.2, max=3.0),
                before_sleep=lambda rs: log.warning("broker_unreachable",
                                                    attempt=rs.attempt_number,
                                                    brokers=display(self.url)),
                reraise=True,
            ):
                with attempt:
                    connection = _ClusterConnection(self.addresses, start=start,
                                                    reconnect_interval=self.reconnect_interval)
                    start += 1
                    try:
                        await connection.connect(timeout=10)
                    except BaseException:
                        with contextlib.suppress(Exception):
                            await connection.close()
                        raise
                    self._connection = connection
            assert self._connection is not None
            self._connection.reconnect_callbacks.add(self._reconnected)
            self._channel = await self._connection.channel(
                publisher_confirms=True, on_return_raises=True)
        except (TimeoutError, OSError, aiormq.exceptions.AMQPError) as exc:
            raise TransportError(f"cannot connect to RabbitMQ: {exc}") from exc
        log.info("broker_connected", broker=str(self._connection).rpartition("@")[2])

    def _reconnected(self, *_args: Any) -> None:
        log.info("broker_reconnected", broker=str(self._connection).rpartition("@")[2])
        for callback in self._reconnect_callbacks:
            task = asyncio.get_running_loop().create_task(callback())
            self._callback_tasks.add(task)
            task.add_done_callback(self._callback_tasks.discard)

    def on_reconnect(self, callback: ReconnectCallback) -> None:
        self._reconnect_callbacks.append(callback)

    def publish_later(self, command: PublishCommand) -> bool:
        return self._pending.add(command)

    def _require_channel(self) -> AbstractChannel:
        if self._channel is None:
            raise TransportError("RabbitMQ transport is not connected; call connect() first")
        return self._channel

    async def declare(self, topology: Topology) -> None:
        try:
            await self._declare(topology)
        except aiormq.exceptions.ChannelPreconditionFailed as exc:
            raise TransportError(
                f"the broker already has medbro queues with other arguments ({exc}); with prefix "
                f"{topology.prefix!r} keep MEDBRO_POISON_DELIVERY_LIMIT and "
                "MEDBRO_RETRY_DELAYS_SECONDS as they were, or drain and delete those queues"
            ) from exc

    @staticmethod
    async def _publishing_exchanges(ch: AbstractChannel, topology: Topology
                                    ) -> dict[str, AbstractExchange]:
        """The exchanges ``publish`` sends to, declared (idempotently) on ``ch``: the main
        topic exchange and one fanout per delay tier."""
        out = {topology.exchange: await ch.declare_exchange(
            topology.exchange, aio_pika.ExchangeType.TOPIC, durable=True)}
        for name in topology.delay_names:
            out[name] = await ch.declare_exchange(name, aio_pika.ExchangeType.FANOUT,
                                                  durable=True)
        return out

    async def _declare(self, topology: Topology) -> None:
        ch = self._require_channel()
        exchanges = await self._publishing_exchanges(ch, topology)
        main = exchanges[topology.exchange]
        dead = await ch.declare_exchange(topology.dead_letter_exchange,
                                         aio_pika.ExchangeType.FANOUT, durable=True)
        parking = await ch.declare_queue(topology.parking_queue, durable=True, arguments=_QUORUM)
        await parking.bind(dead)
        for gln in topology.endpoint_glns:
            queue = await ch.declare_queue(
                topology.endpoint_queue(gln), durable=True,
                arguments={**_QUORUM, "x-delivery-limit": topology.delivery_limit,
                           "x-dead-letter-exchange": topology.dead_letter_exchange},
            )
            await queue.bind(main, routing_key=topology.endpoint_binding(gln))
        for tier in topology.delay_tiers:
            name = topology.delay_name(tier)
            delay_q = await ch.declare_queue(
                name, durable=True,
                arguments={**_QUORUM, "x-message-ttl": int(round(tier * 1000)),
                           "x-dead-letter-exchange": topology.exchange,
                           "x-dead-letter-strategy": "at-least-once",
                           "x-overflow": "reject-publish"},
            )
            await delay_q.bind(exchanges[name])
        self._exchanges.update(exchanges)
        self._topology = topology

    async def _renew_channel(self, failed: AbstractChannel) -> None:
        """A new publishing channel in place of ``failed`` (once, however many publishes saw it
        fail); publishes still in flight on the old one fail and are retried by their callers."""
        async with self._renewing:
            if self._channel is not failed or self._connection is None or self._topology is None:
                return
            fresh = await self._connection.channel(publisher_confirms=True,
                                                   on_return_raises=True)
            exchanges = await self._publishing_exchanges(fresh, self._topology)
            self._channel = fresh
            self._exchanges.update(exchanges)
            log.warning("broker_channel_renewed", reason="a publish was nacked")
        with contextlib.suppress(Exception):
            await asyncio.wait_for(failed.close(), _CLOSE_STEP_SECONDS)

    async def publish(self, command: PublishCommand) -> None:
        topology = self._topology
        if topology is None:
            raise TransportError("declare the topology before publishing")
        name = topology.exchange
        if command.delay_seconds > 0:
            name = topology.delay_name(topology.tier_for(command.delay_seconds))
        channel, exchange = self._channel, self._exchanges[name]
        message = aio_pika.Message(
            body=command.body, message_id=command.message_id, headers=dict(command.headers),
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT, content_type="application/octet-stream",
        )
        try:
            await asyncio.wait_for(
                exchange.publish(message, routing_key=command.routing_key, mandatory=True),
                self.publish_timeout)
        except TimeoutError as exc:
            raise TransportError(f"publish of {command.message_id} was not confirmed within "
                                 f"{self.publish_timeout} s") from exc
        except aio_pika.exceptions.PublishError as exc:
            raise UnroutableError(
                f"no queue is bound for routing key {command.routing_key!r}") from exc
        except aio_pika.exceptions.DeliveryError as exc:  # nacked: see the module docstring
            if channel is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._renew_channel(channel), self.publish_timeout)
            raise TransportError(f"publish of {command.message_id} was nacked: {exc!r}") from exc
        except (aiormq.exceptions.AMQPError, ConnectionError, RuntimeError, OSError) as exc:
            raise TransportError(f"publish of {command.message_id} failed: {exc!r}") from exc

    async def consume(self, queue: str, handler: Handler, *,
                      prefetch: int = 32) -> _RabbitSubscription:
        if self._connection is None:
            raise TransportError("RabbitMQ transport is not connected; call connect() first")
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=max(1, prefetch))
        source = await channel.declare_queue(queue, passive=True)
        inflight: set[asyncio.Task[Any]] = set()

        async def on_message(raw: AbstractIncomingMessage) -> None:
            task = asyncio.current_task()
            if task is not None:
                inflight.add(task)
            try:
                headers = {k: str(v) for k, v in (raw.headers or {}).items()
                           if isinstance(v, str | int | bytes)}
                incoming = IncomingMessage(
                    body=raw.body, routing_key=raw.routing_key or "",
                    message_id=raw.message_id or "", headers=headers,
                    redelivered=bool(raw.redelivered),
                    delivery_count=int((raw.headers or {}).get("x-delivery-count", 0) or 0),
                )
                try:
                    await handler(incoming)
                except Exception as exc:  # noqa: BLE001 - not done: back to the queue
                    log.warning("message_handler_failed", queue=queue,
                                message_id=incoming.message_id, error=repr(exc))
                    with contextlib.suppress(Exception):
                        await raw.nack(requeue=True)
                    return
                try:
                    await raw.ack()
                except Exception as exc:  # noqa: BLE001 - channel lost: it will be redelivered
                    log.warning("message_ack_failed", queue=queue, error=repr(exc))
            finally:
                if task is not None:
                    inflight.discard(task)

        tag = await source.consume(on_message, no_ack=False)
        subscription = _RabbitSubscription(self._connection, channel, source, tag, inflight)
        self._subscriptions.append(subscription)
        return subscription

    async def queue_depth(self, queue: str) -> int:
        # The raw channel: aio-pika's robust channel answers a repeated declare from its cache.
        raw = await self._require_channel().get_underlay_channel()
        declared = await raw.queue_declare(queue, passive=True)
        return int(declared.message_count or 0)

    async def delete(self, topology: Topology) -> None:
        ch = self._require_channel()
        for name in topology.queues:
            with contextlib.suppress(Exception):
                await ch.queue_delete(name)
        for name in topology.exchanges:
            with contextlib.suppress(Exception):
                await ch.exchange_delete(name)

    async def close(self) -> None:
        """Bounded whatever the broker's state: a few seconds at most while it is away."""
        await self._pending.close()
        for sub in self._subscriptions:
            await sub.cancel()
        self._subscriptions.clear()
        for task in list(self._callback_tasks):
            task.cancel()
        if self._connection is not None:
            # close() marks the connection closed before anything else, which is what stops
            # aio-pika's reconnection loop even when the rest of the close times out.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._connection.close(), _CLOSE_STEP_SECONDS)
        self._connection = None
        self._channel = None
        self._exchanges.clear()
