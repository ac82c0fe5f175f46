"""``medbro sla``: the region's report, the import of the hospitals' files, the worklist.

``medbro sla report --events FILE.csv --format json`` is an acceptance contract: keep its
options and its JSON shape (report.py).

Exit codes: 1 when the input file is bad (the message names the line and the column), 2 for a
bad option or setting. Odd rows (gateway.sla.counting) are warnings in the output, counted by
the documented rule; ``--strict`` makes the first one a bad file (exit 1). The command's
result goes to stdout; logs go to stderr (gateway.logging, CPR masked), so
``medbro sla report ... > table.csv`` holds the table only.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from gateway.errors import MedbroError
from gateway.sla.config import SlaConfig

DEFAULT_DATABASE_URL = "sqlite:///./var/medbro.db"


def _database_url() -> str:
    return os.environ.get("MEDBRO_DATABASE_URL", DEFAULT_DATABASE_URL)


def _config() -> SlaConfig:
    return SlaConfig.from_env()  # a ConfigError: one line, exit 2 (gateway/cli.py)


def _engine_with_schema(url: str):  # type: ignore[no-untyped-def]
    from gateway.db import create_engine
    from gateway.migrations import upgrade

    upgrade(url)
    return create_engine(url)


def _fail(exc: MedbroError) -> Exception:
    """A bad file is a data error (exit 1); a configuration error is stated by gateway/cli.py;
    anything else is a usage error (exit 2)."""
    from gateway.errors import ConfigError
    from gateway.sla.events_file import EventsFileError

    if isinstance(exc, ConfigError):
        return exc
    if isinstance(exc, EventsFileError):
        return click.ClickException(str(exc))
    return click.UsageError(str(exc))


@click.group("sla")
def sla_group() -> None:
    """Discharge-letter SLA: reports, imports and the daily worklist."""
    from gateway.logging import configure

    configure()


@sla_group.command("report")
@click.option(
    "--events",
    "events_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV with hospital,department,discharge_id,discharged_at,letter_sent_at; "
    "without it the report reads the store (MEDBRO_DATABASE_URL).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "csv", "table"]),
    default="table",
    show_default=True,
)
@click.option(
    "--group-by",
    default="hospital,department,month",
    show_default=True,
    help="Comma list of hospital, department, month; 'none' for the total only.",
)
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First discharge date.")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last discharge date.")
@click.option(
    "--basis",
    type=click.Choice(["sent", "acknowledged"]),
    default="sent",
    show_default=True,
    help="Store only: count letters delivered to the receiver's channel, or acknowledged.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="With --events: refuse the file at the first odd row instead of a warning.",
)
def report_command(
    events_path: Path | None,
    fmt: str,
    group_by: str,
    start: datetime | None,
    end: datetime | None,
    basis: str,
    strict: bool,
) -> None:
    """The region's table: discharges (a), with a letter (b), within 3 (c) and 1 (d) workdays."""
    from gateway.sla.report import aggregate, parse_group_by

    config = _config()
    try:
        keys = parse_group_by(group_by)
        first = start.date() if start else None
        last = end.date() if end else None
        if events_path is not None:
            from gateway.sla.events_file import read_events

            with events_path.open(newline="", encoding="utf-8-sig") as stream:
                report = aggregate(
                    read_events(stream),
                    config.calendar,
                    keys,
                    start=first,
                    end=last,
                    now=datetime.now(UTC),
                    plausible_days=config.plausible_days,
                    strict=strict,
                )
        else:
            from gateway.db import session_factory
            from gateway.sla.store_report import store_report

            engine = _engine_with_schema(_database_url())
            with session_factory(engine)() as session:
                report = store_report(
                    session,
                    keys,
                    start=first,
                    end=last,
                    basis=basis,
                    plausible_days=config.plausible_days,
                )
            engine.dispose()
    except MedbroError as exc:
        raise _fail(exc) from None
    if fmt == "json":
        click.echo(json.dumps(report.as_dict(), indent=2))
    elif fmt == "csv":
        click.echo(report.to_csv(), nl=False)
    else:
        click.echo(report.to_table(), nl=False)


@sla_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--strict", is_flag=True, help="Refuse the file at the first odd row.")
def import_command(file: Path, quiet: bool, strict: bool) -> None:
    """Import a hospital's monthly discharge file into the store (idempotent)."""
    from gateway.db import session_factory
    from gateway.sla.importer import import_file

    config = _config()
    engine = _engine_with_schema(_database_url())
    try:
        result = import_file(
            session_factory(engine),
            file,
            config,
            progress=not quiet and sys.stderr.isatty(),
            strict=strict,
        )
    except MedbroError as exc:
        raise _fail(exc) from None
    finally:
        engine.dispose()
    from gateway.sla.counting import warnings_text

    skipped = f", {result.skipped} skipped" if result.skipped else ""
    click.echo(
        f"{result.rows} rows: {result.inserted} new, {result.updated} updated, "
        f"{result.unchanged} unchanged{skipped}"
    )
    for line in warnings_text(result.warnings):
        click.echo(line)


@sla_group.command("recompute")
@click.option(
    "--all",
    "include_closed",
    is_flag=True,
    help="Also discharges whose letter was delivered (changes past report figures).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def recompute_command(include_closed: bool, quiet: bool) -> None:
    """Recompute stored deadlines after MEDBRO_SLA_* or the holidays data changed (idempotent)."""
    from tqdm import tqdm

    from gateway.db import session_factory
    from gateway.sla.recompute import count_in_scope, recompute

    config = _config()
    engine = _engine_with_schema(_database_url())
    try:
        sessions = session_factory(engine)
        total = count_in_scope(sessions, include_closed=include_closed)
        with tqdm(
            total=total,
            unit="rows",
            desc="deadlines",
            disable=quiet or not sys.stderr.isatty(),
        ) as bar:
            result = recompute(sessions, config, include_closed=include_closed, on_batch=bar.update)
    finally:
        engine.dispose()
    scope = "discharges" if include_closed else "open discharges"
    click.echo(f"{result.rows} {scope}: {result.changed} changed, {result.unchanged} unchanged")


@sla_group.command("worklist")
@click.option("--department", help="Only this department (SKS code).")
@click.option("--hospital", help="Only this hospital.")
@click.option("--limit", type=int, default=500, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="table")
@click.option(
    "--now",
    "now_text",
    help="Evaluate at this instant (ISO; naive = Copenhagen local); default: the current time.",
)
def worklist_command(
    department: str | None, hospital: str | None, limit: int, fmt: str, now_text: str | None
) -> None:
    """Discharged patients still without a delivered letter, most urgent deadline first."""
    from gateway.db import session_factory
    from gateway.sla.deadlines import as_local
    from gateway.sla.worklist import render_worklist_table, worklist

    config = _config()
    now = as_local(datetime.fromisoformat(now_text)) if now_text else datetime.now(UTC)
    engine = _engine_with_schema(_database_url())
    with session_factory(engine)() as session:
        items = worklist(
            session, now, config, department=department, hospital=hospital, limit=limit
        )
    engine.dispose()
    if fmt == "json":
        click.echo(json.dumps([item.as_dict() for item in items], indent=2))
    else:
        click.echo(render_worklist_table(items), nl=False)


__all__ = ["sla_group"]
