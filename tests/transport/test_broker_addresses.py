"""``MEDBRO_BROKER_URL`` with every node of a cluster: read from a table of cases, and a real
connection that moves to the next address when the node it is on goes away (two TCP proxies
in front of the machine's RabbitMQ stand for two nodes)."""

from __future__ import annotations

import asyncio

import pytest
from tcp_proxy import TcpProxy

from gateway.settings import Settings
from gateway.transport import PublishCommand, Topology, TransportError
from gateway.transport.addresses import BrokerAddressError, broker_addresses, display, masked
from gateway.transport.port import IncomingMessage

A = "amqp://u:secret@rabbit-1:5672/"
B = "amqp://u:secret@rabbit-2:5672/"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (A, (A,)),
        (f"{A},{B}", (A, B)),
        (f" {A} ,\n{B} ", (A, B)),
        (f"{A},{B},{A}", (A, B)),
        ("amqps://u:p@rabbit-1:5671/medbro?heartbeat=30", ("amqps://u:p@rabbit-1:5671/medbro"
                                                           "?heartbeat=30",)),
    ],
)
def test_addresses_table(value: str, expected: tuple[str, ...]) -> None:
    assert broker_addresses(value) == expected


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "empty address"),
        (f"{A},", "empty address"),
        ("rabbit-1:5672", "not an amqp"),
        (f"{A},rabbit-2:5672", "not an amqp"),
        ("amqp:///vhost", "no host"),
        ("amqp://u:secret@rabbit-1:notaport/", "bad port"),
    ],
)
def test_bad_addresses_name_the_part_and_hide_the_password(value: str, problem: str) -> None:
    with pytest.raises(BrokerAddressError, match=problem) as caught:
        broker_addresses(value)
    assert "secret" not in str(caught.value)


def test_logs_see_hosts_only() -> None:
    assert display(f"{A},{B}") == "rabbit-1:5672,rabbit-2:5672"
    assert display("memory://") == "memory://"
    assert masked(f"{A},{B}") == "amqp://u:***@rabbit-1:5672/,amqp://u:***@rabbit-2:5672/"


def test_the_setting_takes_a_list_and_refuses_a_bad_one() -> None:
    assert Settings.load(broker_url=f"{A},{B}").broker_url == f"{A},{B}"
    from gateway.errors import ConfigError

    with pytest.raises(ConfigError, match="MEDBRO_BROKER_URL.*rabbit-2"):
        Settings.load(broker_url=f"{A},rabbit-2")


GP = "5790000000017"
KEY = f"medcom.edifact.meddis.dis01.d0133l.{GP}"


@pytest.mark.rabbitmq
async def test_the_connection_moves_to_the_next_node_when_its_node_goes(
        amqp_url: str, broker_prefix: str) -> None:
    from gateway.transport.rabbitmq import RabbitTransport

    port = int(amqp_url.rsplit(":", 1)[1].split("/")[0])
    dead, first, second = TcpProxy(port), TcpProxy(port), TcpProxy(port)
    dead.cut()  # a node that is down when medbro starts
    url = ",".join(f"amqp://guest:guest@127.0.0.1:{p.port}/" for p in (dead, first, second))
    transport = RabbitTransport(url, reconnect_interval=0.2)
    topology = Topology(prefix=broker_prefix, endpoint_glns=(GP,), delay_tiers=(1.0,))
    got: list[bytes] = []

    async def handler(message: IncomingMessage) -> None:
        got.append(message.body)

    try:
        await transport.connect()
        await transport.declare(topology)
        await transport.consume(topology.endpoint_queue(GP), handler)
        await transport.publish(PublishCommand(KEY, b"one", "m1"))
        for _ in range(200):
            if got == [b"one"]:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # acked (an ack lost in the cut would mean a redelivery)
        # it skipped the dead address; now the node it is on goes away too
        on_first = str(first.port) in str(transport._connection)
        (first if on_first else second).cut()
        for _ in range(200):
            try:
                await transport.publish(PublishCommand(KEY, b"two", "m2"))
                break
            except TransportError:
                await asyncio.sleep(0.05)
        else:
            raise AssertionError("never reconnected to the other node")
        for _ in range(200):
            if got == [b"one", b"two"]:
                break
            await asyncio.sleep(0.05)
        assert got == [b"one", b"two"]  # the consumer moved along
        remaining = second if on_first else first
        assert str(remaining.port) in str(transport._connection)
    finally:
        for proxy in (dead, first, second):
            proxy.restore()
        await transport.delete(topology)
        await transport.close()
        for proxy in (dead, first, second):
            proxy.close()
