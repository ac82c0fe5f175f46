"""``medbro prune`` and ``medbro hold``: retention of message bodies, and legal holds.

Both read ``MEDBRO_DATABASE_URL`` (the schema is migrated first, under the store's lock);
``prune`` reads ``MEDBRO_RETENTION_DAYS``. Results go to stdout, logs to stderr; a bad option
or setting exits with 2.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime

import click

from gateway.errors import MedbroError

DEFAULT_DATABASE_URL = "sqlite:///./var/medbro.db"


def _store():  # type: ignore[no-untyped-def]
    from gateway.store import Store

    store = Store(os.environ.get("MEDBRO_DATABASE_URL", DEFAULT_DATABASE_URL))
    store.migrate()
    return store


def _sessions(store):  # type: ignore[no-untyped-def]
    from gateway.db import session_factory

    return session_factory(store.engine)


@click.command("prune")
@click.option("--dry-run", is_flag=True, help="Decide and count, remove nothing.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def prune_command(dry_run: bool, quiet: bool) -> None:
    """Remove message bodies older than their class's retention period (MEDBRO_RETENTION_DAYS).

    Metadata, states, receipts' text and the audit log stay; legal holds (medbro hold) and
    messages that may still be delivered keep their bodies."""
    from tqdm import tqdm

    from gateway.logging import configure
    from gateway.retention.policy import RetentionPolicy
    from gateway.retention.prune import count_candidates, prune

    configure()
    try:
        policy = RetentionPolicy.from_text(os.environ.get("MEDBRO_RETENTION_DAYS"))
    except MedbroError as exc:
        raise click.UsageError(str(exc)) from None
    store = _store()
    try:
        sessions = _sessions(store)
        now = datetime.now(UTC)
        total = count_candidates(sessions, policy, now)
        with tqdm(total=total, unit="bodies", desc="prune" + (" (dry run)" if dry_run else ""),
                  disable=quiet or not sys.stderr.isatty()) as bar:
            result = prune(sessions, policy, now=now, dry_run=dry_run, on_batch=bar.update)
    finally:
        store.dispose()
    click.echo(result.summary(dry_run))


@click.group("hold")
def hold_group() -> None:
    """Legal holds: a held message or patient keeps its message bodies (medbro prune)."""
    from gateway.logging import configure

    configure()


def _subject(message: str | None, patient: str | None) -> tuple[str, str]:
    if bool(message) == bool(patient):
        raise click.UsageError("give exactly one of --message ID or --patient CPR")
    return ("message", message) if message else ("patient", patient)  # type: ignore[return-value]


_MESSAGE = click.option("--message", help="A message id or an interchange id.")
_PATIENT = click.option("--patient", help="A CPR number (DDMMYYXXXX or DDMMYY-XXXX).")
_BY = click.option("--by", default=lambda: os.environ.get("USER", ""),
                   help="Who places or clears the hold (audited); default: $USER.")


@hold_group.command("add")
@_MESSAGE
@_PATIENT
@click.option("--reason", required=True, help="Why (a case number, a court order).")
@_BY
def hold_add(message: str | None, patient: str | None, reason: str, by: str) -> None:
    """Place a legal hold on a message or a patient."""
    from gateway.retention.holds import add_hold, masked

    kind, subject = _subject(message, patient)
    store = _store()
    try:
        with store.transaction() as session:
            row = add_hold(session, kind, subject, reason=reason, by=by,
                           at=datetime.now(UTC))
            shown = f"hold {row.id}: {kind} {masked(kind, row.subject)}"
    except MedbroError as exc:
        raise click.UsageError(str(exc)) from None
    finally:
        store.dispose()
    click.echo(shown)


@hold_group.command("remove")
@_MESSAGE
@_PATIENT
@_BY
def hold_remove(message: str | None, patient: str | None, by: str) -> None:
    """Clear the legal hold on a message or a patient."""
    from gateway.retention.holds import remove_hold

    kind, subject = _subject(message, patient)
    store = _store()
    try:
        with store.transaction() as session:
            removed = remove_hold(session, kind, subject, by=by, at=datetime.now(UTC))
    except MedbroError as exc:
        raise click.UsageError(str(exc)) from None
    finally:
        store.dispose()
    if not removed:
        raise click.ClickException(f"no hold on that {kind}")
    click.echo(f"hold on {kind} removed")


@hold_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
def hold_list(fmt: str) -> None:
    """The legal holds (patients shown as masked CPR numbers)."""
    from gateway.retention.holds import list_holds

    store = _store()
    try:
        with store.transaction() as session:
            holds = list_holds(session)
    finally:
        store.dispose()
    if fmt == "json":
        click.echo(json.dumps(holds, indent=2))
        return
    for h in holds:
        click.echo(f"{h['id']:>5}  {h['kind']:<8} {h['subject']:<38} {h['created_at'][:19]}  "
                   f"{h['created_by']}: {h['reason']}")


__all__ = ["hold_group", "prune_command"]
