"""``medbro check``: one line when the configuration loads; ``--ready`` says what does not
answer (the compose healthcheck of the worker and the mailbox watcher)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

MEDBRO = [sys.executable, "-c", "from gateway.cli import main; main()"]
PARTNERS = """
[[endpoints]]
gln = "5790000128686"
name = "Lægehuset"
kind = "gp"
channel = { kind = "edi_mailbox", directory = "mailbox" }
"""


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def check(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "partners.toml").write_text(PARTNERS, encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MEDBRO_")}
    environ |= {"MEDBRO_CONFIG": "partners.toml",
                "MEDBRO_DATABASE_URL": f"sqlite:///{tmp_path}/medbro.db", **env}
    return subprocess.run([*MEDBRO, "check", *args], cwd=tmp_path, env=environ,
                          capture_output=True, text=True, timeout=60)


def test_a_good_configuration_is_one_line(tmp_path):
    result = check(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "configuration ok: 1 endpoint(s), 0 organisation(s)"


def test_ready_when_the_database_and_broker_answer(tmp_path):
    result = check(tmp_path, "--ready")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("; database and broker answer")


def test_not_ready_names_what_does_not_answer(tmp_path):
    port = closed_port()
    result = check(tmp_path, "--ready",
                   MEDBRO_DATABASE_URL=f"postgresql+psycopg://medbro@127.0.0.1:{port}/medbro",
                   MEDBRO_BROKER_URL=f"amqp://medbro:x@127.0.0.1:{port}/")
    assert result.returncode == 1
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("Error: database: ") and "; broker: " in error


def test_ready_when_one_node_of_a_cluster_answers(tmp_path, amqp_url):
    cluster = f"amqp://medbro:x@127.0.0.1:{closed_port()}/,{amqp_url}"
    result = check(tmp_path, "--ready", MEDBRO_BROKER_URL=cluster)
    assert result.returncode == 0, result.stderr


def test_a_bad_configuration_is_exit_2(tmp_path):
    result = check(tmp_path, MEDBRO_PREFETCH="-1")
    assert result.returncode == 2 and "MEDBRO_PREFETCH" in result.stderr
