"""docs/caseflow.md's walkthrough runs as written: its shell blocks, in one bash, from an empty
database to the LÆ 261 journalised on the case in the reference ESDH (real processes: the
reference ESDH, `medbro api` and `medbro worker` on RabbitMQ), on ports of the test's own."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "caseflow.md"


def walkthrough() -> str:
    text = DOC.read_text(encoding="utf-8")
    part = text.split("<!-- BEGIN WALKTHROUGH -->", 1)[1].split("<!-- END WALKTHROUGH -->", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", part, flags=re.S)
    assert len(blocks) >= 5
    return "\n".join(blocks)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.rabbitmq
def test_walkthrough_runs_as_written(amqp_url: str, broker_prefix: str, tmp_path: Path) -> None:
    walk = tmp_path / "walk"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDBRO_")}
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
               WALK=str(walk), API_PORT=str(free_port()), ESDH_PORT=str(free_port()),
               MEDBRO_BROKER_PREFIX=broker_prefix)
    proc = subprocess.Popen(["bash", "-e", "-c", walkthrough()], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"the walkthrough did not finish:\n{out}\n{err[-4000:]}")
    finally:
        with contextlib.suppress(ProcessLookupError):  # nothing it started may outlive it
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, f"{out}\n{err[-4000:]}"
    assert "medbro case: awaiting_lae265" in out
    journalised = [line for line in out.splitlines() if " | " in line]
    assert len(journalised) == 1, out
    document_type, title, files = journalised[0].split(" | ")
    assert document_type == "Anmodning om lægeattest til rehabiliteringsteam (LÆ 261)"
    assert title == f"{document_type} fra Aarhus Kommune (751 KOM)"
    assert [f.rsplit(".", 1)[1] for f in files.split(", ")] == ["edi", "html", "pdf"]
    (gp_file,) = (walk / "mailboxes" / "gp" / "outbox").glob("*.edi")
    assert b"#MEDBRO-LAE-1" in gp_file.read_bytes()  # the LÆ 261 in its DIS91 profile
    assert (walk / "lae261.pdf").read_bytes().startswith(b"%PDF-1.4")
