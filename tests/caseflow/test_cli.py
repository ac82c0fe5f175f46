"""``medbro case``: list, show (CPR masked), diagram, and a clear error for unknown cases."""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa
from click.testing import CliRunner

from gateway.caseflow.states import mermaid
from gateway.cli import main
from gateway.operations.tables import AccessAuditRow
from gateway.store import Store

from .scenario import create, new_ref


def test_case_commands(service, database_url, monkeypatch) -> None:
    monkeypatch.setenv("MEDBRO_DATABASE_URL", database_url)
    ref = new_ref()
    create(service, ref, datetime(2026, 3, 2, 9))
    runner = CliRunner()
    result = runner.invoke(main, ["case", "list", "--municipality", "101"])
    assert result.exit_code == 0, result.output
    assert f"{ref}\tcreated\t101\thovedstaden" in result.output.splitlines()
    result = runner.invoke(main, ["case", "show", ref])
    assert result.exit_code == 0, result.output
    view = json.loads(result.output)
    assert view["state"] == "created" and view["citizen"]["cpr"] == "150282-****"
    assert "1502824933" not in result.output
    with Store(database_url).transaction() as session:  # the read is in the access audit
        actors = session.scalars(sa.select(AccessAuditRow.actor).where(
            AccessAuditRow.action == "case.read", AccessAuditRow.target == f"case:{ref}")).all()
    assert len(actors) == 1 and actors[0].startswith("cli:")
    result = runner.invoke(main, ["case", "show", "K-none"])
    assert result.exit_code == 1 and "no case 'K-none'" in result.output
    result = runner.invoke(main, ["case", "diagram"])
    assert result.output.strip() == mermaid()
