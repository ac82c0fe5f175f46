"""``medbro sla import``, ``report`` (from the store) and ``worklist`` through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from gateway.cli import main

# The files here are historical (2025): a century-wide plausibility window keeps them in the
# figures whatever year the tests run in.
HISTORICAL = {"MEDBRO_SLA_PLAUSIBLE_DAYS": "36500"}


def db_env(tmp_path: Path) -> dict[str, str]:
    return {"MEDBRO_DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}", **HISTORICAL}


EVENTS = (
    "hospital,department,discharge_id,discharged_at,letter_sent_at,patient_cpr\n"
    "Herlev,1301011,a1,2025-04-16T14:00,2025-04-22T23:30,0108584947\n"
    "Herlev,1301011,a2,2025-04-16T14:00,,0202020202\n"
    "Herlev,1301012,a3,2025-04-19T10:00,,0303030303\n"
)


def test_import_then_report_and_worklist_from_the_store(tmp_path: Path) -> None:
    runner = CliRunner(env=db_env(tmp_path))
    path = tmp_path / "herlev.csv"
    path.write_text(EVENTS)
    first = runner.invoke(main, ["sla", "import", str(path), "--quiet"])
    assert first.exit_code == 0, first.output
    assert first.output.strip().endswith("3 rows: 3 new, 0 updated, 0 unchanged")
    again = runner.invoke(main, ["sla", "import", str(path)])
    assert again.output.strip().endswith("3 rows: 0 new, 0 updated, 3 unchanged")

    stored = runner.invoke(main, ["sla", "report", "--format", "json"])
    from_file = runner.invoke(main, ["sla", "report", "--events", str(path), "--format", "json"])
    assert stored.exit_code == 0, stored.output
    assert json.loads(stored.output) == json.loads(from_file.output)
    dated = runner.invoke(
        main, ["sla", "report", "--format", "json", "--from", "2025-04-17", "--group-by", "none"]
    )
    assert json.loads(dated.output)["total"]["discharges"] == 1

    listed = runner.invoke(
        main, ["sla", "worklist", "--now", "2025-04-22T13:00", "--format", "json"]
    )
    items = json.loads(listed.output)
    # Both are due at the end of Tuesday 22 April: a2 was discharged the Wednesday before
    # Easter, a3 on Easter Saturday (Easter Monday is a holiday); ties go by department.
    assert [(i["discharge_id"], i["status"], i["deadline"][:10]) for i in items] == [
        ("a2", "at_risk", "2025-04-22"),
        ("a3", "at_risk", "2025-04-22"),
    ]
    table = runner.invoke(main, ["sla", "worklist", "--now", "2025-04-22T13:00"])
    assert "020202-****" in table.output and "0202020202" not in table.output


def test_import_reports_a_bad_line(tmp_path: Path) -> None:
    runner = CliRunner(env=db_env(tmp_path))
    path = tmp_path / "bad.csv"
    path.write_text(EVENTS + "Herlev,1301011,a4,16/04/2025,\n")
    result = runner.invoke(main, ["sla", "import", str(path), "--quiet"])
    assert result.exit_code == 1
    assert "line 5, column 'discharged_at'" in result.stderr


def _stored_total(runner: CliRunner) -> int:
    stored = runner.invoke(main, ["sla", "report", "--format", "json", "--group-by", "none"])
    assert stored.exit_code == 0, stored.output
    return json.loads(stored.stdout)["total"]["discharges"]


def test_strict_import_refuses_a_repeated_discharge_and_writes_nothing(tmp_path: Path) -> None:
    runner = CliRunner(env=db_env(tmp_path))
    path = tmp_path / "twice.csv"
    path.write_text(EVENTS + "Herlev,1301011,a1,2025-04-17T09:00,,0108584947\n")
    result = runner.invoke(main, ["sla", "import", str(path), "--quiet", "--strict"])
    assert result.exit_code == 1
    assert "line 5, column 'discharge_id'" in result.stderr and "line 2" in result.stderr
    assert _stored_total(runner) == 0  # checked whole before the first write


def test_strict_import_refuses_a_letter_before_its_discharge(tmp_path: Path) -> None:
    runner = CliRunner(env=db_env(tmp_path))
    path = tmp_path / "early.csv"
    path.write_text(EVENTS + "Herlev,1301011,a4,2025-04-17T09:00,2025-04-16T09:00,\n")
    result = runner.invoke(main, ["sla", "import", str(path), "--quiet", "--strict"])
    assert result.exit_code == 1
    assert "line 5, column 'letter_sent_at'" in result.stderr
    assert _stored_total(runner) == 0


def test_import_keeps_odd_rows_as_warnings_counted_like_the_file_report(tmp_path: Path) -> None:
    """A repeated id is skipped (the first line counts); a letter on an earlier day is stored
    with its warning; the store report then counts and lists them as the file report does."""
    runner = CliRunner(env=db_env(tmp_path))
    path = tmp_path / "odd.csv"
    path.write_text(
        EVENTS
        + "Herlev,1301011,a1,2025-04-17T09:00,,0108584947\n"
        + "Herlev,1301011,a4,2025-04-17T09:00,2025-04-16T09:00,0404040404\n"
    )
    result = runner.invoke(main, ["sla", "import", str(path), "--quiet"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "5 rows: 4 new, 0 updated, 0 unchanged, 1 skipped"
    assert lines[1].startswith("warning: line 5, column 'discharge_id': discharge Herlev/a1 is")
    assert lines[2].startswith("warning: line 6, column 'letter_sent_at': 2025-04-16T09:00 is on")
    stored = json.loads(
        runner.invoke(main, ["sla", "report", "--format", "json", "--group-by", "none"]).stdout
    )
    from_file = json.loads(
        runner.invoke(
            main, ["sla", "report", "--events", str(path), "--format", "json", "--group-by",
                   "none"]
        ).stdout
    )
    assert stored["total"] == from_file["total"]
    # a1 (one), a2, a3, a4: a4's letter counts in b, not in c or d
    assert (stored["total"]["discharges"], stored["total"]["with_letter"]) == (4, 2)
    assert stored["total"]["within_3_workdays"] == 1
    assert [w["code"] for w in stored["warnings"]] == ["letter_before_discharge"]
    assert stored["warnings"][0]["discharge"] == "Herlev/a4"
    assert [w["code"] for w in from_file["warnings"]] == [
        "repeated_discharge", "letter_before_discharge"]


def test_import_logs_to_stderr_and_prints_only_its_result(tmp_path: Path) -> None:
    runner = CliRunner(env=db_env(tmp_path))
    path = tmp_path / "herlev.csv"
    path.write_text(EVENTS)
    result = runner.invoke(main, ["sla", "import", str(path), "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "3 rows: 3 new, 0 updated, 0 unchanged\n"
    logged = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert [e["event"] for e in logged] == ["discharge_file_imported"]
    assert "0108584947" not in result.stderr


def test_recompute_command_after_closed_days_change(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    path = tmp_path / "xmas.csv"
    path.write_text(
        "hospital,department,discharge_id,discharged_at,letter_sent_at\n"
        "1301,1301011,x1,2026-12-23T10:00,\n"
        "1301,1301011,x2,2026-12-23T10:00,2026-12-24T10:00\n"
    )
    imported = CliRunner(env={"MEDBRO_DATABASE_URL": url}).invoke(
        main, ["sla", "import", str(path), "--quiet"]
    )
    assert imported.exit_code == 0, imported.output
    closed = CliRunner(
        env={"MEDBRO_DATABASE_URL": url, "MEDBRO_SLA_EXTRA_CLOSED_DAYS": "12-24,12-31"}
    )
    first = closed.invoke(main, ["sla", "recompute"])
    assert first.exit_code == 0, first.output
    assert first.stdout == "1 open discharges: 1 changed, 0 unchanged\n"
    assert closed.invoke(main, ["sla", "recompute"]).stdout.endswith("0 changed, 1 unchanged\n")
    assert closed.invoke(main, ["sla", "recompute", "--all"]).stdout == (
        "2 discharges: 1 changed, 1 unchanged\n"
    )
    listed = closed.invoke(
        main, ["sla", "worklist", "--now", "2026-12-24T13:00", "--format", "json"]
    )
    assert json.loads(listed.stdout)[0]["deadline"].startswith("2026-12-28")
