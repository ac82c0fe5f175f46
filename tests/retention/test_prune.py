"""``medbro prune`` and legal holds over a real store, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from gateway.cli import main
from gateway.db import session_factory
from gateway.retention.holds import add_hold, remove_hold
from gateway.retention.policy import RetentionPolicy
from gateway.retention.prune import count_candidates, prune
from gateway.retention.tables import PrunedBody
from gateway.store import AuditEventRow, InterchangeRow, MessageRow, ReceiptRow, Store
from gateway.store.repository import add_interchange, add_message

NOW = datetime.now(UTC)
CPR = "0101011234"
POLICY = RetentionPolicy({"letter": 365, "receipt": 180, "rejected": 90})


def stored(session, name: str, *, age: int, state: str = "delivered", ack: bool = False,
           type_: str = "DIS01", status: str = "processed", body: bytes | None = None,
           messages: int = 1) -> str:
    at = NOW - timedelta(days=age)
    raw = body or f"UNB+UNOC:3+5790000120420:14+5790000128686:14+{name}'".encode()
    inter = add_interchange(session, raw=raw, received_via="test", source=name, at=at,
                            status=status)
    session.flush()
    for i in range(messages):
        row = add_message(session, inter, at=at, type=type_, family="MEDREP",
                          message_ref=f"{name}-{i}", sender_gln="5790000120420",
                          control_ref=name, ack_requested=ack)
        row.state = state
    if type_.startswith("CTL"):
        session.add(ReceiptRow(message_id=None, interchange_id=inter.id, direction="out",
                               kind=type_, text="ok", raw=raw, created_at=at))
    return inter.id


@pytest.fixture
def store(empty_database_url):
    store = Store(empty_database_url)
    store.migrate()
    yield store
    store.dispose()


def raw_of(store: Store, inter_id: str) -> bytes:
    with store.transaction() as s:
        return s.get(InterchangeRow, inter_id).raw


def test_prune_keeps_metadata_states_audit_and_held_bodies(store: Store) -> None:
    with store.transaction() as s:
        ids = {
            "old": stored(s, "OLD", age=400),
            "held_message": stored(s, "HELDM", age=400, state="acknowledged", ack=True),
            "held_patient": stored(s, "HELDP", age=400,
                                   body=b"UNH+1'PNA+PAT+010101-1234:01'UNT+2+1'"),
            "unsettled": stored(s, "ROUTED", age=900, state="routed"),
            "young": stored(s, "YOUNG", age=30),
            "rejected": stored(s, "REJ", age=100, state="rejected", status="rejected"),
            "receipt": stored(s, "CTL", age=200, type_="CTL03"),
        }
        held_message_id = s.scalar(sa.select(MessageRow.id).where(
            MessageRow.interchange_id == ids["held_message"]))
        add_hold(s, "message", held_message_id, reason="sag 2026-17", by="jurist", at=NOW)
        add_hold(s, "patient", "010101-1234", reason="klage", by="jurist", at=NOW)
    sessions = session_factory(store.engine)
    assert count_candidates(sessions, POLICY, NOW) == 6  # all but the 30-day-old one

    dry = prune(sessions, POLICY, now=NOW, dry_run=True)
    assert (dry.examined, dry.pruned) == (6, 3)
    assert dict(dry.kept) == {"held": 2, "unsettled": 1}
    assert all(raw_of(store, i) for i in ids.values())  # the dry run removed nothing

    batches: list[int] = []
    done = prune(sessions, POLICY, now=NOW, on_batch=batches.append)
    assert (done.pruned, done.bytes) == (3, dry.bytes) and sum(batches) == 6
    gone = {k for k, i in ids.items() if raw_of(store, i) == b""}
    assert gone == {"old", "rejected", "receipt"}
    with store.transaction() as s:
        # metadata, states and audit stay; the prune itself is recorded and audited
        old = s.get(InterchangeRow, ids["old"])
        assert old.sha256 and old.source == "OLD"
        assert s.scalar(sa.select(MessageRow.state).where(
            MessageRow.interchange_id == ids["old"])) == "delivered"
        events = s.scalars(sa.select(AuditEventRow.event).where(
            AuditEventRow.interchange_id == ids["old"]).order_by(AuditEventRow.id)).all()
        assert events == ["message_received", "body_pruned"]
        assert s.get(PrunedBody, ids["old"]).retention_days == 365
        assert s.scalar(sa.select(ReceiptRow.raw).where(
            ReceiptRow.interchange_id == ids["receipt"])) == b""

    again = prune(sessions, POLICY, now=NOW)
    assert again.pruned == 0  # idempotent: pruned bodies are not examined again

    with store.transaction() as s:
        assert remove_hold(s, "patient", CPR, by="jurist", at=NOW)
        assert not remove_hold(s, "patient", CPR, by="jurist", at=NOW)
    released = prune(sessions, POLICY, now=NOW)
    assert released.pruned == 1 and raw_of(store, ids["held_patient"]) == b""
    assert raw_of(store, ids["held_message"]) != b""


def test_hold_and_prune_commands(store: Store, monkeypatch) -> None:
    with store.transaction() as s:
        old = stored(s, "OLD", age=400, body=b"UNH+1'PNA+PAT+0101011234:01'UNT+2+1'")
        other = stored(s, "OTHER", age=400)
    runner = CliRunner(env={"MEDBRO_DATABASE_URL": store.url, "MEDBRO_RETENTION_DAYS":
                            '{"letter": 365}'})
    added = runner.invoke(main, ["hold", "add", "--patient", CPR, "--reason", "klage",
                                 "--by", "jurist"])
    assert added.exit_code == 0, added.output
    assert added.stdout == "hold 1: patient 010101-****\n"
    listed = json.loads(runner.invoke(main, ["hold", "list", "--format", "json"]).stdout)
    assert [(h["kind"], h["subject"], h["reason"]) for h in listed] == [
        ("patient", "010101-****", "klage")]
    assert CPR not in runner.invoke(main, ["hold", "list"]).stdout

    dry = runner.invoke(main, ["prune", "--dry-run", "--quiet"])
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.startswith("2 bodies examined: would prune 1 (")
    assert dry.stdout.rstrip().endswith("kept: 1 held")
    assert raw_of(store, other) != b""
    done = runner.invoke(main, ["prune", "--quiet"])
    assert done.stdout.startswith("2 bodies examined: pruned 1 (")
    assert raw_of(store, other) == b"" and raw_of(store, old) != b""

    assert runner.invoke(main, ["hold", "remove", "--patient", CPR]).exit_code == 0
    assert runner.invoke(main, ["hold", "remove", "--patient", CPR]).exit_code == 1
    bad = runner.invoke(main, ["hold", "add", "--patient", "12", "--reason", "x"])
    assert bad.exit_code == 2 and "10 digits" in bad.stderr
    unknown = runner.invoke(main, ["hold", "add", "--message", "nope", "--reason", "x"])
    assert unknown.exit_code == 2 and "no message or interchange 'nope'" in unknown.stderr
    setting = CliRunner(env={"MEDBRO_DATABASE_URL": store.url,
                             "MEDBRO_RETENTION_DAYS": "{"}).invoke(main, ["prune"])
    assert setting.exit_code == 2 and "MEDBRO_RETENTION_DAYS" in setting.stderr


def test_a_pruned_message_cannot_be_replayed_or_released(store: Store) -> None:
    """Release and replay send the stored bytes again: after a prune there are none."""
    from gateway.operations.actions import Refused, apply
    from gateway.operations.principal import system
    from gateway.operations.rules import Action

    with store.transaction() as s:
        delivered = stored(s, "DELIV", age=400)
        failed = stored(s, "FAIL", age=400, state="failed")
    prune(session_factory(store.engine), POLICY, now=NOW)
    for inter_id, action in ((delivered, Action.REPLAY), (failed, Action.RELEASE)):
        with store.transaction() as s:
            message_id = s.scalar(sa.select(MessageRow.id).where(
                MessageRow.interchange_id == inter_id))
            with pytest.raises(Refused, match=r"its body was pruned on \d{4}-\d\d-\d\d"):
                apply(s, None, message_id, action, who=system("test"), reason="lost",
                      now=NOW)
