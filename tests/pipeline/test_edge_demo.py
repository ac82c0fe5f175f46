"""``medbro demo`` runs the embedded pipeline end to end (what ``make demo`` shows)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gateway.caseflow.demo import GP_GLN
from gateway.demo import GPS, HOSPITAL, discharge_letter
from gateway.edifact import parse


def test_demo_letters_are_valid_latin1_dis01() -> None:
    from datetime import datetime

    data = discharge_letter(1, sender=HOSPITAL[0], receiver=GPS[0][0],
                            patient=("0101509991", "Ærøboe", "Søren"),
                            prepared_at=datetime(2026, 3, 2, 9, 30))
    interchange = parse(data)
    assert interchange.envelope.ack_requested
    letter = interchange.messages[0].letter
    assert letter.type == "DIS01" and letter.patient.surname == "Ærøboe"
    assert "Ærøboe".encode("latin-1") in data


def test_demo_command_runs_end_to_end(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "demo", "--dir", str(tmp_path / "demo")],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    summary, case_summary = run.stdout.split("Summary: discharge letters", 1)[1].split(
        "Summary: rehabilitation case", 1)
    case_summary, console = case_summary.split("\nConsole: ", 1)  # the demo ends with the console
    assert console.startswith("http://127.0.0.1:8000/console/  log in as 'demo'")
    assert summary.count("acknowledged") == 2 * len(GPS)
    assert summary.count("parked") == 1 and "CTL01 out" in summary
    mailboxes = tmp_path / "demo" / "mailboxes"
    for gln, _ in GPS:
        assert len(list((mailboxes / gln / "outbox").glob(f"{HOSPITAL[0]}_*.edi"))) == 2
    # the hospital got one CTL01 and four forwarded CTL03s; nothing left unprocessed
    assert len(list((mailboxes / HOSPITAL[0] / "outbox").iterdir())) == 1 + 2 * len(GPS)
    assert not list((mailboxes / HOSPITAL[0] / "processing").iterdir())

    # the rehabilitation case: LÆ 261 to the recommendation, every DIS91 in its receiver's outbox
    assert "REFUSED" not in run.stdout and "MISSING" not in case_summary
    rows = [line.split() for line in case_summary.splitlines()[3:] if line.strip()]
    assert [r[0] for r in rows] == ["lae261", "case_to_coordinator", "lae271", "lae275_copy",
                                    "recommendation"]
    assert all(r[4] == "delivered" for r in rows)
    for document, _to, _id, receiver, _state, file in rows:
        assert (mailboxes / receiver / "outbox" / file).is_file(), document
    recommendation = mailboxes / GP_GLN / "outbox" / rows[-1][5]
    letter = parse(recommendation.read_bytes()).messages[0].letter
    assert letter.type == "DIS91" and "ressourceforløb" in letter.texts[1].text
    assert rows[-1][3] == GP_GLN
