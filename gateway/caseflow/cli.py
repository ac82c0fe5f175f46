"""``medbro case``: look at rehabilitation cases from the command line (the database named by
MEDBRO_DATABASE_URL), and print the flow's diagram."""

from __future__ import annotations

import json

import click

from gateway.errors import MedbroError


def _service():  # type: ignore[no-untyped-def]
    from gateway.caseflow.service import CaseService
    from gateway.db import create_engine, session_factory
    from gateway.settings import Settings

    return CaseService(session_factory(create_engine(Settings.load().database_url)))


@click.group("case")
def case_group() -> None:
    """Rehabilitation cases: list, show, at-risk, diagram."""


@case_group.command("list")
@click.option("--municipality", help="only this municipality's cases (3-digit number)")
def list_command(municipality: str | None) -> None:
    """One line per case: reference, state, municipality, region."""
    service = _service()  # a ConfigError: one line, exit 2 (gateway/cli.py)
    try:
        for case in service.list_cases(municipality=municipality):
            click.echo(f"{case['case_ref']}\t{case['state']}\t{case['municipality']}\t"
                       f"{case['region']}")
    except MedbroError as exc:
        raise click.ClickException(str(exc)) from None


@case_group.command("show")
@click.argument("case_ref")
def show_command(case_ref: str) -> None:
    """The case as JSON: state, deadlines with their status now, timeline, documents."""
    from gateway.caseflow.config import local_now

    service = _service()
    try:
        view = service.view(case_ref, now=local_now())
    except MedbroError as exc:
        raise click.ClickException(str(exc)) from None
    _audit_read(view)
    view["citizen"]["cpr"] = view["citizen"]["cpr"][:6] + "-****"  # a terminal is a log
    click.echo(json.dumps(view, indent=2, ensure_ascii=False))


def _audit_read(view: dict) -> None:  # type: ignore[type-arg]
    """``case.read`` in the access audit (the case names its citizen), as the API does."""
    from datetime import UTC, datetime

    from gateway.operations import audit
    from gateway.operations.cli import _who
    from gateway.settings import Settings
    from gateway.store import Store

    store = Store(Settings.load().database_url)
    try:
        with store.transaction() as session:
            audit.record(session, _who(), "case.read", target=f"case:{view['case_ref']}",
                         at=datetime.now(UTC), municipality=view["municipality"])
    finally:
        store.dispose()


@case_group.command("at-risk")
@click.argument("municipality")
def at_risk_command(municipality: str) -> None:
    """Open cases of MUNICIPALITY with a deadline due soon or missed, or advice to postpone."""
    from gateway.caseflow.config import local_now

    click.echo(json.dumps(_service().at_risk(municipality, now=local_now()), indent=2,
                          ensure_ascii=False))


@case_group.command("alert")
def alert_command() -> None:
    """Log a warning for every deadline due soon or missed (all municipalities); run it
    from a timer. Prints the cases at risk; exit 0."""
    from gateway.caseflow.config import local_now
    from gateway.logging import configure

    configure()
    cases = _service().alert(now=local_now())
    click.echo(f"{len(cases)} case(s) at risk")


@case_group.command("diagram")
def diagram_command() -> None:
    """The state machine as a Mermaid diagram (drawn from the transition table)."""
    from gateway.caseflow.states import mermaid

    click.echo(mermaid())
