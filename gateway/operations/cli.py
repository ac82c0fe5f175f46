"""``medbro users|messages|tasks|endpoints|audit``: the operations API's decisions on the
command line of a server (MEDBRO_* settings), as a readable table or ``--json``.

The command line acts as ``cli:<login name>`` with the admin role and sees every message: whoever
can run it holds the database settings already. Every act and every read of patient data is
audited like the API's.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import click

from gateway.errors import ConfigError, MedbroError
from gateway.operations.roles import Role


def _now() -> datetime:
    return datetime.now(UTC)


def _who() -> Any:
    from gateway.operations.principal import system

    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        user = "unknown"
    return system(f"cli:{user}")


@contextmanager
def _store() -> Iterator[tuple[Any, Any]]:
    """The migrated store and the partner registry of this server's settings."""
    from gateway.registry import Registry
    from gateway.settings import Settings
    from gateway.store import Store

    try:
        settings = Settings.load()
        registry = Registry.load(settings.config)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    store = Store(settings.database_url)
    try:
        store.migrate()
        yield store, registry
    finally:
        store.dispose()


def _run_with_hub(fn: Callable[[Any], Any]) -> Any:
    from gateway.pipeline.hub import Hub
    from gateway.settings import Settings

    async def main() -> Any:
        hub = Hub.from_settings(Settings.load())
        await hub.start()
        try:
            return await fn(hub)
        finally:
            await hub.stop()

    try:
        return asyncio.run(main())
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """A plain text table: one header line, one line per row, columns padded."""
    cells = [[("" if r.get(c) is None else str(r.get(c))) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
              for row in cells]
    return "\n".join(lines)


def _emit(data: Any, as_json: bool, rows: Sequence[dict[str, Any]] | None = None,
          columns: Sequence[str] = ()) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    elif rows is not None:
        click.echo(table(rows, columns) if rows else "(none)")
    else:
        for key, value in data.items():
            click.echo(f"{key}: {value}")


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON, not a table.")


# -- users ---------------------------------------------------------------------------------


@click.group("users")
def users_group() -> None:
    """Persons: add, change, list; personal API tokens."""


def _password(prompt: bool) -> str:
    if sys.stdin.isatty() and prompt:
        return click.prompt("password", hide_input=True, confirmation_prompt=True)
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise click.ClickException("no password on stdin (one line)")
    return line


def _check_organisations(registry: Any, names: Sequence[str]) -> None:
    known = {org.name for org in registry.organisations}
    if known:
        unknown = [n for n in names if n not in known]
        if unknown:
            raise click.ClickException(
                f"organisation {unknown[0]!r} is not in the partner file (known: "
                f"{', '.join(sorted(known))})")


@users_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--organisation", "organisations", multiple=True, required=True,
              help="An organisation of the partner file (repeat for several).")
def users_add(name: str, role: str, organisations: tuple[str, ...]) -> None:
    """Add a person; the password is read from stdin (one line)."""
    from gateway.operations import audit, persons

    password = _password(prompt=True)
    with _store() as (store, registry):
        _check_organisations(registry, organisations)
        try:
            with store.transaction() as session:
                person = persons.add(session, name, role=role, organisations=list(organisations),
                                     password=password, now=_now())
                audit.record(session, _who(), "person.add", target=f"person:{name}", at=_now(),
                             role=role, organisations=list(organisations))
        except MedbroError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"added {person.name} ({person.role.value}) in {', '.join(person.organisations)}")


@users_group.command("set")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]))
@click.option("--organisation", "organisations", multiple=True)
@click.option("--password-stdin", is_flag=True, help="Read a new password from stdin.")
@click.option("--disable/--enable", default=None)
def users_set(name: str, role: str | None, organisations: tuple[str, ...],
              password_stdin: bool, disable: bool | None) -> None:
    """Change a person's role, organisations, password or whether they may log in."""
    from gateway.operations import audit, persons

    password = _password(prompt=False) if password_stdin else None
    with _store() as (store, registry):
        if organisations:
            _check_organisations(registry, organisations)
        try:
            with store.transaction() as session:
                person = persons.update(session, name, role=role,
                                        organisations=list(organisations) or None,
                                        password=password, disabled=disable)
                audit.record(session, _who(), "person.update", target=f"person:{name}",
                             at=_now(), role=role, organisations=list(organisations) or None,
                             password_changed=password is not None, disabled=disable)
        except MedbroError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"updated {person.name} ({person.role.value}) in "
               f"{', '.join(person.organisations)}")


@users_group.command("list")
@json_option
def users_list(as_json: bool) -> None:
    """Every person, their role and organisations."""
    from gateway.operations import persons

    with _store() as (store, _registry), store.transaction() as session:
        rows = persons.listing(session)
    shown = [{**r, "organisations": ", ".join(r["organisations"])} for r in rows]
    _emit(rows, as_json, shown, ("name", "role", "organisations", "disabled", "created_at"))


@users_group.command("token")
@click.argument("name")
@click.option("--label", default="", help="What the token is for (a script's name).")
def users_token(name: str, label: str) -> None:
    """Issue a personal API token (Authorization: Bearer ...); shown once."""
    from gateway.operations import audit, persons

    with _store() as (store, _registry):
        try:
            with store.transaction() as session:
                token = persons.issue_token(session, name, label=label, now=_now())
                audit.record(session, _who(), "person.token", target=f"person:{name}",
                             at=_now(), label=label)
        except MedbroError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(token)


@users_group.command("revoke-tokens")
@click.argument("name")
def users_revoke(name: str) -> None:
    """Revoke every personal API token of a person."""
    from gateway.operations import audit, persons

    with _store() as (store, _registry):
        try:
            with store.transaction() as session:
                n = persons.revoke_tokens(session, name, now=_now())
                audit.record(session, _who(), "person.revoke_tokens", target=f"person:{name}",
                             at=_now(), revoked=n)
        except MedbroError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"revoked {n} token(s) of {name}")


# -- messages ------------------------------------------------------------------------------

MESSAGE_COLUMNS = ("id", "state", "type", "sender", "receiver", "letter_id", "received_at")


def _filter_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    for name in reversed(("state", "type", "sender", "receiver", "endpoint", "letter-id",
                          "unb-ref", "patient", "since", "until")):
        fn = click.option(f"--{name}", default=None)(fn)
    return fn


@click.group("messages")
def messages_group() -> None:
    """Find messages and release, replay or close them."""


@messages_group.command("list")
@_filter_options
@click.option("--limit", default=50, show_default=True, type=int)
@click.option("--cursor", default=None, help="The 'next' of the previous page.")
@json_option
def messages_list(limit: int, cursor: str | None, as_json: bool, **filters: str | None) -> None:
    """Search messages, newest first (the filters of GET /v1/messages)."""
    from gateway.logging import mask_cpr
    from gateway.operations import audit, search

    try:
        flt = search.Filter.parse(filters)
    except search.FilterError as exc:
        raise click.BadParameter(str(exc)) from None
    with _store() as (store, registry), store.transaction() as session:
        if flt.patient:
            audit.record(session, _who(), "message.search_patient",
                         target=f"patient:{mask_cpr(flt.patient)}", at=_now())
        endpoint = None
        if flt.endpoint:
            endpoint = next((ep.gln for ep in registry.endpoints
                             if flt.endpoint in (ep.gln, ep.name)), flt.endpoint)
        try:
            page = search.search(session, flt, glns=None, limit=limit, cursor=cursor,
                                 endpoint_gln=endpoint)
        except search.FilterError as exc:
            raise click.BadParameter(str(exc)) from None
    _emit(page, as_json, page["items"], MESSAGE_COLUMNS)
    if not as_json and page["next"]:
        click.echo(f"more: --cursor {page['next']}")


@messages_group.command("show")
@click.argument("message_id")
@json_option
def messages_show(message_id: str, as_json: bool) -> None:
    """State, attempts, receipts, events and tasks of one message (patient masked)."""
    from gateway.store import repository as repo

    with _store() as (store, _registry), store.transaction() as session:
        view = repo.message_view(session, message_id)
    if view is None:
        raise click.ClickException(f"no message {message_id!r}")
    if as_json:
        _emit(view, True)
        return
    for key in ("id", "state", "type", "version", "sender_gln", "receiver_gln", "letter_id",
                "control_ref", "received_via", "created_at", "updated_at", "delivered_at"):
        click.echo(f"{key}: {view.get(key)}")
    patient = ((view.get("summary") or {}).get("letter") or {}).get("patient")
    if patient:
        click.echo(f"patient: {patient}")
    click.echo("\nattempts:")
    click.echo(table(view["attempts"], ("attempt_no", "endpoint_gln", "channel", "finished_at",
                                        "outcome", "error")) if view["attempts"] else "(none)")
    click.echo("\ntasks:")
    click.echo(table(view["tasks"], ("kind", "status", "created_at", "reason"))
               if view["tasks"] else "(none)")
    click.echo("\nevents:")
    for event in view["events"]:
        detail = {k: v for k, v in (event.get("detail") or {}).items() if k != "sha256"}
        click.echo(f"  {event['at']}  {event['event']}  {json.dumps(detail, default=str)}")


def _act_command(action: str) -> click.Command:
    @click.command(action)
    @click.argument("message_id")
    @click.option("--reason", required=True, help="Why: kept in the audit.")
    @json_option
    def command(message_id: str, reason: str, as_json: bool) -> None:
        from gateway.operations import actions

        async def run(hub: Any) -> Any:
            return await actions.act(hub, message_id, action, who=_who(), reason=reason,
                                     now=_now())

        try:
            outcome = _run_with_hub(run)
        except (actions.NotFound, actions.Refused) as exc:
            raise click.ClickException(str(exc)) from None
        _emit(outcome.as_dict(), as_json)

    command.help = {"release": "Route a parked or failed message again.",
                    "replay": "Deliver a delivered message again (the receiver lost it).",
                    "close": "Give up on a message for good."}[action]
    return command


for _action in ("release", "replay", "close"):
    messages_group.add_command(_act_command(_action))


# -- tasks, endpoints, audit ---------------------------------------------------------------


@click.group("tasks")
def tasks_group() -> None:
    """Operator and SLA tasks."""


@tasks_group.command("list")
@click.option("--state", type=click.Choice(["open", "resolved"]), default=None)
@click.option("--kind", default=None)
@click.option("--limit", default=100, show_default=True, type=int)
@json_option
def tasks_list(state: str | None, kind: str | None, limit: int, as_json: bool) -> None:
    """Tasks, newest first."""
    from gateway.operations import tasks

    with _store() as (store, _registry), store.transaction() as session:
        items = tasks.listing(session, _who(), state=state, kind=kind, limit=limit)
    _emit({"items": items}, as_json, items,
          ("id", "kind", "state", "message_id", "hospital", "created_at", "reason"))


@tasks_group.command("resolve")
@click.argument("task_id")
@click.option("--note", required=True)
@json_option
def tasks_resolve(task_id: str, note: str, as_json: bool) -> None:
    """Resolve a task (msg-12, sla-5) with a note."""
    from gateway.operations import tasks

    with _store() as (store, _registry):
        try:
            with store.transaction() as session:
                task = tasks.resolve(session, task_id, who=_who(), note=note, now=_now())
        except tasks.TaskNotFound as exc:
            raise click.ClickException(str(exc)) from None
    _emit(task, as_json)


@click.command("endpoints")
@json_option
def endpoints_command(as_json: bool) -> None:
    """Endpoint health: queue depth, oldest waiting, last delivery, failing since, parked."""
    from gateway.operations import endpoints

    with _store() as (store, registry), store.transaction() as session:
        items = endpoints.health(session, registry, _now())
    _emit({"items": items}, as_json, items,
          ("gln", "name", "channel", "queue_depth", "oldest_age_seconds", "last_delivery",
           "failing_since", "parked"))


@click.command("audit")
@click.option("--actor", default=None)
@click.option("--action", default=None)
@click.option("--target", default=None)
@click.option("--limit", default=100, show_default=True, type=int)
@json_option
def audit_command(actor: str | None, action: str | None, target: str | None, limit: int,
                  as_json: bool) -> None:
    """The access audit: who read or did what, when, from where (newest first)."""
    from gateway.operations import audit

    with _store() as (store, _registry), store.transaction() as session:
        page = audit.listing(session, actor=actor, action=action, target=target, limit=limit)
    rows = [{**r, "detail": json.dumps(r["detail"], default=str)} for r in page["items"]]
    _emit(page, as_json, rows, ("at", "actor", "action", "target", "remote", "detail"))
