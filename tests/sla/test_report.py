"""The region's table from a discharge file: Region Hovedstaden 2014-2015 reproduced.

The synthetic files are built from the published counts (shared/domain.md) without using the
code under test to place letters: every discharge is on the second Tuesday of its month, a
letter "within 1" is sent the same afternoon, one "within 3 but not 1" on the Friday of that
week (Wednesday to Friday are never all holidays there), and a late one 14 days later.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main
from gateway.errors import LocalUsageError
from gateway.sla.calendar import WorkdayCalendar
from gateway.sla.events_file import EventsFileError, read_events
from gateway.sla.report import aggregate, parse_group_by, percent


def second_tuesday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(1 - first.weekday()) % 7 + 7)


def spread(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def month_rows(year: int, month: int, a: int, b: int, c: int, d: int, hospitals: list[str]):
    """Rows for one month: d within 1, c-d within 3 only, b-c late, a-b without a letter."""
    tue = second_tuesday(year, month)
    fri = tue + timedelta(days=3)
    late = tue + timedelta(days=14)
    for i in range(a):
        hospital = hospitals[i % len(hospitals)]
        discharged = f"{tue}T10:{i % 60:02d}"
        if i < d:
            sent = f"{tue}T15:00"
        elif i < c:
            sent = f"{fri}T10:00"
        elif i < b:
            sent = f"{late}T09:00"
        else:
            sent = ""
        yield f"{hospital},{hospital}01,{year}{month:02d}-{i},{discharged},{sent}\n"


def write_file(path: Path, year: int, months: dict[int, tuple[int, int, int, int]]) -> None:
    with path.open("w") as out:
        out.write("hospital,department,discharge_id,discharged_at,letter_sent_at\n")
        for month, counts in months.items():
            out.writelines(month_rows(year, month, *counts, hospitals=["Herlev", "Rigshosp"]))


def split(total: tuple[int, ...], months: list[int]) -> dict[int, tuple[int, int, int, int]]:
    columns = [spread(t, len(months)) for t in total]
    return {m: tuple(col[i] for col in columns) for i, m in enumerate(months)}  # type: ignore


# The files here are historical (2014-2025): a window of a century keeps them plausible
# whatever year the tests run in; test_plausibility_window_* narrows it.
HISTORICAL = {"MEDBRO_SLA_PLAUSIBLE_DAYS": "36500"}


def run_report(path: Path, *args: str, env: dict[str, str] | None = None) -> dict:
    result = CliRunner(env={**HISTORICAL, **(env or {})}).invoke(
        main, ["sla", "report", "--events", str(path), "--format", "json", *args]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def rounded(figures: dict) -> tuple[int, ...]:
    return tuple(
        round(figures[k]) if figures[k] is not None else None
        for k in ("pct_with_letter", "pct_within_3_workdays", "pct_within_1_workday")
    )


def test_region_2015(tmp_path: Path) -> None:
    sep = (36_304, 31_996, 29_349, 25_796)
    jan_sep = (314_915, 284_508, 243_847, 207_764)
    months = split(tuple(t - s for t, s in zip(jan_sep, sep, strict=True)), list(range(1, 9)))
    months[9] = sep
    path = tmp_path / "2015.csv"
    write_file(path, 2015, months)

    report = run_report(path, "--group-by", "month")
    assert [g["month"] for g in report["groups"]] == [f"2015-{m:02d}" for m in range(1, 10)]
    september = report["groups"][-1]
    counts = ("discharges", "with_letter", "within_3_workdays", "within_1_workday")
    assert tuple(september[k] for k in counts) == sep
    assert rounded(september) == (88, 81, 71)
    assert (september["pct_with_letter"], september["pct_within_3_workdays"]) == (88.1, 80.8)
    assert tuple(report["total"][k] for k in counts) == jan_sep
    assert rounded(report["total"]) == (90, 77, 66)


@pytest.mark.slow
def test_region_2014(tmp_path: Path) -> None:
    sep = (35_296, 32_004, 27_064, 0)
    jan_sep = (311_899, 280_380, 231_979, 0)
    year = (418_777, 376_976, 313_166, 0)
    months = split(tuple(t - s for t, s in zip(jan_sep, sep, strict=True)), list(range(1, 9)))
    months[9] = sep
    months.update(split(tuple(y - j for y, j in zip(year, jan_sep, strict=True)), [10, 11, 12]))
    path = tmp_path / "2014.csv"
    write_file(path, 2014, months)

    whole = run_report(path, "--group-by", "none")
    assert whole["groups"] == []
    assert (whole["total"]["discharges"], whole["total"]["with_letter"]) == year[:2]
    assert whole["total"]["within_3_workdays"] == year[2]
    assert rounded(whole["total"])[:2] == (90, 75)
    first_nine = run_report(
        path, "--group-by", "none", "--from", "2014-01-01", "--to", "2014-09-30"
    )
    assert rounded(first_nine["total"])[:2] == (90, 74)
    assert first_nine["total"]["discharges"] == jan_sep[0]
    september = run_report(path, "--from", "2014-09-01", "--to", "2014-09-30", "--group-by", "")
    assert rounded(september["total"])[:2] == (91, 77)


EVENTS = (
    "hospital,department,discharge_id,discharged_at,letter_sent_at\n"
    "Herlev,1301011,a1,2025-04-16T14:00,2025-04-22T23:30\n"  # Wed before Easter: within 1
    "Herlev,1301011,a2,2025-04-16T14:00,2025-04-23T08:00\n"  # within 3, not 1
    "Herlev,1301012,a3,2025-04-19T10:00,\n"  # no letter
    "Hvidovre,1330011,b1,2025-05-02T09:00,2025-05-02T12:00\n"  # same day: within 1
)


def test_group_by_and_formats(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(EVENTS)
    report = run_report(path)
    assert set(report["total"]) == {
        "discharges", "with_letter", "within_3_workdays", "within_1_workday",
        "pct_with_letter", "pct_within_3_workdays", "pct_within_1_workday",
    }  # fmt: skip
    assert report["total"]["discharges"] == 4
    assert report["total"]["within_1_workday"] == 2
    assert report["total"]["pct_within_3_workdays"] == 75.0
    assert [(g["hospital"], g["department"], g["month"]) for g in report["groups"]] == [
        ("Herlev", "1301011", "2025-04"),
        ("Herlev", "1301012", "2025-04"),
        ("Hvidovre", "1330011", "2025-05"),
    ]
    by_hospital = run_report(path, "--group-by", "hospital")
    assert [set(g) - set(report["total"]) for g in by_hospital["groups"]] == [{"hospital"}] * 2
    herlev = by_hospital["groups"][0]
    assert (herlev["discharges"], herlev["within_3_workdays"], herlev["within_1_workday"]) == (
        3,
        2,
        1,
    )

    out = CliRunner(env=HISTORICAL).invoke(
        main, ["sla", "report", "--events", str(path), "--format", "csv"]
    )
    rows = list(csv.DictReader(io.StringIO(out.output)))
    assert rows[-1]["hospital"] == "total" and rows[-1]["discharges"] == "4"
    assert len(rows) == 4
    table = CliRunner(env=HISTORICAL).invoke(
        main, ["sla", "report", "--events", str(path), "--format", "table"]
    )
    assert "b/a %" in table.output and "total" in table.output


def test_extra_closed_days_from_environment(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "hospital,department,discharge_id,discharged_at,letter_sent_at\n"
        "H,D,1,2025-12-23T10:00,2025-12-29T09:00\n"
    )
    default = run_report(path)["total"]
    # 24 Dec is workday 1 and 29 Dec workday 2 by default; closing 24 Dec makes 29 Dec workday 1
    assert (default["within_1_workday"], default["within_3_workdays"]) == (0, 1)
    result = CliRunner(env={**HISTORICAL, "MEDBRO_SLA_EXTRA_CLOSED_DAYS": "12-24,12-31"}).invoke(
        main, ["sla", "report", "--events", str(path), "--format", "json"]
    )
    closed = json.loads(result.output)["total"]
    assert (closed["within_1_workday"], closed["within_3_workdays"]) == (1, 1)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("hospital,department,discharged_at\n", "lacks column(s) discharge_id, letter_sent_at"),
        (EVENTS + "H,D,x,2025-13-01T10:00,\n", "line 6, column 'discharged_at'"),
        (EVENTS + "H,D,x,2025-01-01T10:00,tomorrow\n", "line 6, column 'letter_sent_at'"),
        (EVENTS + "H,,x,2025-01-01T10:00,\n", "line 6, column 'department': is empty"),
    ],
)
def test_bad_file_names_line_and_column(content: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(EventsFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        list(read_events(io.StringIO(content)))
    path = tmp_path / "bad.csv"
    path.write_text(content)
    result = CliRunner(env=HISTORICAL).invoke(main, ["sla", "report", "--events", str(path)])
    # a bad file is a data error: exit 1, the message on stderr, nothing on stdout
    assert result.exit_code == 1
    assert message.split(":")[0] in result.stderr and result.stdout == ""


def test_repeated_discharge_is_a_warning_and_the_first_line_counts(tmp_path: Path) -> None:
    """The importer keys by hospital + discharge_id; the report must not count a repeat twice."""
    first = EVENTS.splitlines()[1]
    path = tmp_path / "twice.csv"
    path.write_text(EVENTS + first.replace("2025-04-22T23:30", "2025-05-22T10:00") + "\n")
    report = run_report(path, "--group-by", "none")
    assert (report["total"]["discharges"], report["total"]["within_1_workday"]) == (4, 2)
    assert report["warnings"] == [
        {
            "line": 6,
            "column": "discharge_id",
            "code": "repeated_discharge",
            "message": "discharge Herlev/a1 is already on line 2; the first line counts",
            "counted_as": "left out: the first line counts",
        }
    ]
    # --strict keeps the refusal, naming both lines
    result = CliRunner(env=HISTORICAL).invoke(
        main, ["sla", "report", "--events", str(path), "--strict"]
    )
    assert result.exit_code == 1 and result.stdout == ""
    assert "line 6, column 'discharge_id': discharge Herlev/a1 is already on line 2" in (
        result.stderr
    )
    # the same id at another hospital is another discharge
    other = first.replace(first.split(",")[0], "Other", 1)
    path.write_text(EVENTS + other + "\n")
    assert run_report(path)["warnings"] == []


def test_letter_sent_at_discharge_time_is_accepted() -> None:
    rows = "hospital,department,discharge_id,discharged_at,letter_sent_at\n"
    rows += "H,D,x,2025-01-02T10:00,2025-01-02T10:00\n"
    (record,) = read_events(io.StringIO(rows))
    assert record.letter_sent_at == record.discharged_at


def test_percent_rounds_half_up_to_one_decimal() -> None:
    assert percent(1, 8) == 12.5
    assert percent(1, 16) == 6.3  # 6.25 -> 6.3 (half up, not banker's)
    assert percent(2, 3) == 66.7
    assert percent(0, 0) is None


def test_parse_group_by() -> None:
    assert parse_group_by("month,hospital") == ("month", "hospital")
    assert parse_group_by("none") == ()
    with pytest.raises(LocalUsageError, match="ward"):
        parse_group_by("hospital,ward")


def test_aggregate_filters_by_local_discharge_date() -> None:
    records = list(read_events(io.StringIO(EVENTS)))
    report = aggregate(records, WorkdayCalendar(), ("hospital",), start=date(2025, 4, 17))
    assert report.total.discharges == 2


def test_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_text(EVENTS, encoding="utf-8-sig")  # spreadsheet exports start with a BOM
    assert run_report(path)["total"]["discharges"] == 4


def test_same_day_letter_before_the_registered_discharge_time_counts_within_1_and_3(
    tmp_path: Path,
) -> None:
    """The discharge time is often registered after the patient left and the letter went."""
    path = tmp_path / "same-day.csv"
    path.write_text(
        "hospital,department,discharge_id,discharged_at,letter_sent_at\n"
        "H,D,1,2025-03-04T15:30,2025-03-04T11:00\n"
    )
    report = run_report(path, "--group-by", "none", "--strict")
    assert report["total"]["with_letter"] == 1
    assert (report["total"]["within_1_workday"], report["total"]["within_3_workdays"]) == (1, 1)
    assert report["warnings"] == []


ODD = (
    "hospital,department,discharge_id,discharged_at,letter_sent_at\n"
    "H,D,1,2025-03-04T10:00,2025-03-04T15:00\n"  # within 1
    "H,D,2,2025-03-05T10:00,2025-03-04T09:00\n"  # letter on an earlier day: b, not c or d
    "H,D,3,2099-03-05T10:00,\n"  # in the future: left out
    "H,D,1,2025-03-04T10:00,2025-03-20T15:00\n"  # repeated: left out, the first counts
)


def test_odd_rows_are_warnings_in_every_format(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text(ODD)
    report = run_report(path, "--group-by", "month")
    assert [g["month"] for g in report["groups"]] == ["2025-03"]  # no 2099-03 row
    counts = ("discharges", "with_letter", "within_3_workdays", "within_1_workday")
    assert tuple(report["total"][k] for k in counts) == (2, 2, 1, 1)
    assert [(w["line"], w["column"], w["code"]) for w in report["warnings"]] == [
        (3, "letter_sent_at", "letter_before_discharge"),
        (4, "discharged_at", "discharge_in_future"),
        (5, "discharge_id", "repeated_discharge"),
    ]
    assert report["warnings"][0]["counted_as"] == "counted in a and b, not in c or d"

    runner = CliRunner(env=HISTORICAL)
    csv_out = runner.invoke(
        main, ["sla", "report", "--events", str(path), "--format", "csv", "--group-by", "month"]
    ).stdout
    table, _, footer = csv_out.partition("\n\n")
    assert [r["month"] for r in csv.DictReader(io.StringIO(table))] == ["2025-03", "total"]
    warned = list(csv.DictReader(io.StringIO(footer)))
    assert [(w["warning"], w["where"], w["column"]) for w in warned] == [
        ("letter_before_discharge", "line 3", "letter_sent_at"),
        ("discharge_in_future", "line 4", "discharged_at"),
        ("repeated_discharge", "line 5", "discharge_id"),
    ]
    text = runner.invoke(main, ["sla", "report", "--events", str(path)]).stdout
    assert "warnings: 3" in text
    assert "line 4, column 'discharged_at': 2099-03-05T10:00 is after today" in text


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("H,D,9,2025-03-05T10:00,2025-03-04T09:00",
         "line 6, column 'letter_sent_at': 2025-03-04T09:00 is on an earlier day than"),
        ("H,D,9,2099-03-05T10:00,", "line 6, column 'discharged_at': 2099-03-05T10:00 is after"),
        ("H,D,9,1999-03-05T10:00,", "line 6, column 'discharged_at': 1999-03-05T10:00 is more"),
    ],
)
def test_strict_refuses_the_file_at_the_first_odd_row(
    row: str, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "odd.csv"
    path.write_text(EVENTS + row + "\n")
    runner = CliRunner(env={"MEDBRO_SLA_PLAUSIBLE_DAYS": "3650"})
    result = runner.invoke(main, ["sla", "report", "--events", str(path), "--strict"])
    assert result.exit_code == 1 and result.stdout == ""
    assert message in result.stderr
    relaxed = runner.invoke(main, ["sla", "report", "--events", str(path), "--format", "json"])
    assert relaxed.exit_code == 0
    assert [w["line"] for w in json.loads(relaxed.stdout)["warnings"]] == [6]


def test_plausibility_window_is_a_setting(tmp_path: Path) -> None:
    """A 1999 date is kept out of the figures and listed, not made a 1999-01 row."""
    today = date.today()
    recent = today - timedelta(days=40)
    path = tmp_path / "window.csv"
    path.write_text(
        "hospital,department,discharge_id,discharged_at,letter_sent_at\n"
        f"H,D,1,{recent}T10:00,{recent}T15:00\n"
        "H,D,2,1999-01-04T10:00,1999-01-04T15:00\n"
    )
    report = run_report(path, "--group-by", "month", env={"MEDBRO_SLA_PLAUSIBLE_DAYS": "730"})
    assert [g["month"] for g in report["groups"]] == [recent.strftime("%Y-%m")]
    assert report["total"]["discharges"] == 1
    assert [(w["line"], w["code"]) for w in report["warnings"]] == [
        (3, "implausible_discharge_date")]
    # the warning is listed whatever the period: no period holds its date
    dated = run_report(path, "--from", str(recent), env={"MEDBRO_SLA_PLAUSIBLE_DAYS": "730"})
    assert [w["line"] for w in dated["warnings"]] == [3]
    narrow = run_report(path, "--group-by", "none", env={"MEDBRO_SLA_PLAUSIBLE_DAYS": "30"})
    assert narrow["total"]["discharges"] == 0 and len(narrow["warnings"]) == 2
    wide = run_report(path, "--group-by", "month", env={"MEDBRO_SLA_PLAUSIBLE_DAYS": "36500"})
    assert [g["month"] for g in wide["groups"]][0] == "1999-01"
    bad = CliRunner(env={"MEDBRO_SLA_PLAUSIBLE_DAYS": "soon"}).invoke(
        main, ["sla", "report", "--events", str(path)]
    )
    assert bad.exit_code == 2 and "MEDBRO_SLA" in bad.stderr
