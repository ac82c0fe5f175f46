"""A RabbitMQ cluster of its own on loopback, for tests that lose a node.

Each node has its own name (``RABBITMQ_NODENAME``), AMQP and distribution ports, data and log
directories, configuration (no management plugin, no port of the machine's broker) and the
cluster's own Erlang cookie (``HOME`` of the cluster), so the machine's RabbitMQ on 5672 and its
users never notice. Nodes 2.. join node 1 with ``rabbitmqctl join_cluster``. A node runs in a
process group of its own, so ``kill`` ends exactly that node (SIGKILL: no goodbye to the
cluster, like a crashed machine) and ``stop`` everything this cluster started.

A module with a name of its own (not ``conftest``) so every test package can import it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")


def available() -> bool:
    return (RABBITMQ_BIN / "rabbitmq-server").exists() and shutil.which("erl") is not None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Node:
    name: str
    port: int
    dist_port: int
    root: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"


class RabbitCluster:
    def __init__(self, base: Path, size: int = 3) -> None:
        tag = uuid.uuid4().hex[:8]
        self.base = base
        self.home = base / "home"
        self.nodes = [Node(f"medbro-{tag}-{i}@localhost", free_port(), free_port(),
                           base / f"node{i}") for i in range(1, size + 1)]

    @property
    def url(self) -> str:
        """Every node's address, as ``MEDBRO_BROKER_URL`` takes them."""
        return ",".join(node.url for node in self.nodes)

    def _env(self, node: Node) -> dict[str, str]:
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))},
            "HOME": str(self.home),  # the cluster's Erlang cookie
            "RABBITMQ_NODENAME": node.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(node.port),
            "RABBITMQ_DIST_PORT": str(node.dist_port),
            "RABBITMQ_MNESIA_BASE": str(node.root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(node.root / "log"),
            "RABBITMQ_PID_FILE": str(node.root / "pid"),
            "RABBITMQ_CONFIG_FILE": str(node.root / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(node.root / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(node.root / "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(node.root / "enabled_plugins"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    def ctl(self, node: Node, *args: str, timeout: float = 60) -> str:
        """``rabbitmqctl -n <node> ...`` with this cluster's cookie; raises on failure."""
        done = subprocess.run([str(RABBITMQ_BIN / "rabbitmqctl"), "-n", node.name, *args],
                              env=self._env(node), capture_output=True, text=True,
                              timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl -n {node.name} {' '.join(args)}: "
                               f"{done.stdout[-1000:]}{done.stderr[-1000:]}")
        return done.stdout

    def _prepare(self, node: Node) -> None:
        node.root.mkdir(parents=True, exist_ok=True)
        (node.root / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{node.port}\n"
            "loopback_users = none\n"
            "queue_leader_locator = balanced\n"
            "cluster_partition_handling = pause_minority\n", encoding="utf-8")
        (node.root / "rabbitmq-env.conf").write_text("", encoding="utf-8")
        (node.root / "enabled_plugins").write_text("[].\n", encoding="utf-8")

    def start_node(self, node: Node) -> None:
        self._prepare(node)
        log = open(node.root / "console.log", "ab")  # noqa: SIM115 - the node writes to it
        node.process = subprocess.Popen(
            [str(RABBITMQ_BIN / "rabbitmq-server")], env=self._env(node), stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def await_node(self, node: Node, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert node.process is not None
            if node.process.poll() is not None:
                raise RuntimeError(f"{node.name} exited: "
                                   f"{(node.root / 'console.log').read_text()[-2000:]}")
            try:
                self.ctl(node, "await_startup", "--timeout", "10", timeout=30)
                return
            except (RuntimeError, subprocess.TimeoutExpired):
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        cookie = self.home / ".erlang.cookie"
        cookie.write_text(secrets.token_hex(16).upper(), encoding="ascii")
        cookie.chmod(0o400)
        for node in self.nodes:
            self.start_node(node)
        for node in self.nodes:
            self.await_node(node)
        first = self.nodes[0]
        for node in self.nodes[1:]:
            self.ctl(node, "stop_app")
            self.ctl(node, "join_cluster", first.name)
            self.ctl(node, "start_app")
        running = self.ctl(first, "cluster_status", "--formatter", "json")
        for node in self.nodes:
            assert node.name in running, running

    def kill(self, node: Node) -> None:
        """SIGKILL the node's process group: a crash, no goodbye to the cluster."""
        if node.process is not None and node.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.process.pid, signal.SIGKILL)
            node.process.wait(30)

    def stop(self) -> None:
        for node in self.nodes:
            self.kill(node)


@contextlib.contextmanager
def rabbit_cluster(base: Path, size: int = 3) -> Iterator[RabbitCluster]:
    cluster = RabbitCluster(base, size)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
