"""``medbro demo``: the whole pipeline embedded (SQLite + in-process transport), step by step.

A hospital writes DIS01 discharge letters (Latin-1 names, fictitious test CPR numbers) into its
EDI mailbox inbox; the hub ingests, stores, routes and delivers them into the GPs' outboxes; one
letter goes to a GLN nobody registered and comes back to the hospital as a CTL01 (LOK); each GP
answers with a CTL03 through its own inbox, which medbro correlates with the letter and
forwards to the hospital. Then one rehabilitation case runs from LÆ 261 to the recommendation
reaching the GP (gateway.caseflow.demo, on a simulated clock over the following weeks), each of
its DIS91 documents routed by the same hub into the receivers' outboxes. Summary tables close the
run. Everything happens under ``--dir`` (default ``var/demo``), so the mailboxes and the database
can be inspected afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click

from gateway.model import (
    Address,
    Diagnosis,
    Envelope,
    FreeText,
    Letter,
    LetterStatus,
    Party,
    Patient,
)

HOSPITAL = ("5790000120420", "Hillerød Hospital, Kirurgisk afd. A")
GPS = (("5790000128686", "Lægehuset Vandværksvej"), ("5790000181872", "Lægerne i Ølstykke"))
UNKNOWN_GP = "5790000999990"  # registered nowhere: the network hop answers CTL01 LOK

# Fictitious test persons (not real CPR numbers): birth date + a 9xxx test serial.
PATIENTS = (
    ("0101509991", "Ærøboe", "Søren"),
    ("1203629992", "Østergård", "Åse Marie"),
    ("2307759993", "Bæk-Møller", "Jørgen"),
    ("0511889994", "Læssøe", "Birthe Ørsted"),
)


@dataclass(frozen=True)
class DemoLetter:
    control_ref: str
    receiver: str
    patient_name: str
    data: bytes


def discharge_letter(
    seq: int,
    *,
    sender: str,
    receiver: str,
    patient: tuple[str, str, str],
    prepared_at: datetime,
    ack_requested: bool = True,
) -> bytes:
    """A DIS01 epikrise interchange from the canonical model, rendered by the codec."""
    from gateway.edifact.letters import render_letter

    cpr, surname, given = patient
    ref = f"DEMO{seq:06d}"
    envelope = Envelope(sender=sender, recipient=receiver, control_ref=f"K{ref}",
                        prepared_at=prepared_at, ack_requested=ack_requested)
    letter = Letter(
        type="DIS01", version="D0133L", ref=f"B{ref}", letter_id=f"B{ref}",
        status=LetterStatus.NEW, authorised_at=prepared_at, sent_at=prepared_at,
        sender=Party(role="SSP", id="2001060", scheme="SKS", agency="SST",
                     names=("HILLERØD HOSPITAL", "KIRURGISK AFD. A"), speciality="30"),
        receiver=Party(role="PO", id="291714", scheme="YNR", agency="SFU",
                       names=("Lægehuset",),
                       address=Address("Vandværksvej 99", "Hillerød", "3400")),
        patient=Patient(cpr=cpr, surname=surname, given_names=given,
                        address=Address("Grusgraven 3", "Hillerød", "3400"),
                        episode_status="HS"),
        admitted_at=prepared_at - timedelta(days=4, hours=3),
        discharged_at=prepared_at - timedelta(hours=20),
        diagnoses=(Diagnosis(kind="A", code="DK802", text="Galdesten med akut kolecystitis"),),
        texts=(FreeText(qualifier="NC", text=(
            f"Indlagt med smerter i højre side. Laparoskopisk kolecystektomi.\n"
            f"Forløb uden komplikationer. Kontrol hos egen læge om 14 dage ({surname}).")),),
    )
    return render_letter(envelope, letter)


def gp_receipt(data: bytes, now: datetime) -> bytes | None:
    """The CTL03 a GP system owes for a letter that asked for one (the codec's builder)."""
    from gateway.edifact import receipts

    return receipts.receipt_owed(data, now=now)


def _partners_toml(root: Path) -> str:
    """The demo's partner file: every party on an EDI mailbox under ``root/mailboxes``."""
    from gateway.caseflow.demo import DEMO_ENDPOINTS, GP_GLN

    def mailbox(gln: str, name: str, kind: str, accepts: str) -> str:
        return (
            f'[[endpoints]]\ngln = "{gln}"\nname = "{name}"\nkind = "{kind}"\n{accepts}'
            f'channel = {{ kind = "edi_mailbox", directory = "{root / "mailboxes" / gln}", '
            f"poll_interval = 0.1 }}\n\n"
        )

    def accepts(types: list[dict[str, Any]]) -> str:
        items = []
        for t in types:
            versions = ", ".join(f'"{v}"' for v in t.get("versions", ()))
            items.append(f'{{ type = "{t["type"]}"' + (f", versions = [{versions}]" if versions
                                                      else "") + " }")
        return f"accepts = [{', '.join(items)}]\n"

    text = mailbox(HOSPITAL[0], HOSPITAL[1], "hospital", "")
    for gln, name in GPS:
        # the case's GP also takes the DIS91 letters of the rehabilitation case
        types = [{"type": "DIS01", "versions": ["D0133L"]}]
        if gln == GP_GLN:
            types.append({"type": "DIS91"})
        text += mailbox(gln, name, "gp", accepts(types))
    for ep in DEMO_ENDPOINTS:
        text += mailbox(ep["gln"], ep["name"], ep["kind"], accepts(ep["accepts"]))
    from gateway.console.demo import organisation_toml

    return text + organisation_toml(HOSPITAL[0])  # the console's demo person belongs to it


def demo_settings(root: Path) -> Any:
    """The demo's settings: SQLite and the partner file under ``root``, in-process transport."""
    from gateway.settings import Settings

    return Settings.load(database_url=f"sqlite:///{root / 'medbro.db'}", broker_url="memory://",
                         config=root / "partners.toml", broker_prefix="demo",
                         scan_interval_seconds=0.2)


class Step:
    """Prints numbered steps with the time since the demo started."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.n = 0

    def __call__(self, text: str) -> None:
        self.n += 1
        click.echo(f"[{time.monotonic() - self.started:5.2f}s] {self.n}. {text}")

    def detail(self, text: str) -> None:
        click.echo(f"           {text}")


async def _until(what: str, check: Callable[[], Awaitable[bool] | bool],
                 timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.05)
    raise click.ClickException(f"demo stalled: {what} did not happen within {timeout:.0f} s")


async def run_demo(root: Path, *, letters_per_gp: int = 2, echo_logs: bool = False) -> int:
    """Run the scenario under ``root``; returns the exit code (0 when everything arrived)."""
    from gateway.channels import load_channel
    from gateway.pipeline.hub import Hub

    step = Step()
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    config = root / "partners.toml"
    config.write_text(_partners_toml(root), encoding="utf-8")
    settings = demo_settings(root)
    hub = Hub.from_settings(settings)
    await hub.start()
    step(f"hub started: SQLite {root / 'medbro.db'}, in-process transport, "
         f"{len(hub.registry.endpoints)} endpoints from {config}")

    ingested: list[Any] = []

    async def ingest(data: bytes, **kwargs: Any) -> Any:
        result = await hub.ingest(data, **kwargs)
        ingested.append(result)
        return result

    channels = {ep.gln: load_channel(ep, settings) for ep in hub.registry.endpoints}
    for ch in channels.values():
        ch.client.ensure_dirs()
    stop = asyncio.Event()
    tasks = [asyncio.create_task(hub.run_worker(stop))]
    tasks += [asyncio.create_task(ch.watch(ingest, stop)) for ch in channels.values()]
    try:
        code = await _scenario(step, hub, channels, ingested, letters_per_gp)
        from gateway.console.demo import add_demo_person

        add_demo_person(hub)
        return code
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await hub.stop()


async def _scenario(step: Step, hub: Any, channels: dict[str, Any], ingested: list[Any],
                    letters_per_gp: int) -> int:
    hospital = channels[HOSPITAL[0]].client
    now = datetime.now().replace(microsecond=0)
    letters: list[DemoLetter] = []
    receivers = [gln for gln, _ in GPS for _ in range(letters_per_gp)] + [UNKNOWN_GP]
    for seq, receiver in enumerate(receivers, start=1):
        patient = PATIENTS[(seq - 1) % len(PATIENTS)]
        data = discharge_letter(seq, sender=HOSPITAL[0], receiver=receiver, patient=patient,
                                prepared_at=now)
        letters.append(DemoLetter(f"KDEMO{seq:06d}", receiver, f"{patient[2]} {patient[1]}",
                                  data))
    step(f"{HOSPITAL[1]} writes {len(letters)} DIS01 discharge letters into its inbox "
         f"{hospital.config.inbox}")
    for letter in letters:
        hospital.drop(f"{letter.control_ref}.edi", letter.data)
        step.detail(f"{letter.control_ref}.edi -> {letter.receiver}  patient {letter.patient_name}"
                    f"  ({len(letter.data)} bytes, ISO-8859-1)")

    await _until("ingest of the hospital's letters", lambda: len(ingested) >= len(letters))
    step(f"medbro stored and routed them ({len(ingested)} ingests)")
    for result in ingested:
        view = hub.message_view(result.message_ids[0])
        step.detail(f"{view['control_ref']}: {view['state']}  -> {view['receiver_gln']}")

    routable = [x for x in letters if x.receiver != UNKNOWN_GP]

    def delivered() -> bool:
        names = {n for gln, _ in GPS for n in channels[gln].client.outbox_names()}
        return all(f"{HOSPITAL[0]}_{x.control_ref}.edi" in names for x in routable)

    await _until("delivery into the GPs' outboxes", delivered)
    step("the worker delivered each letter into its GP's outbox, byte for byte")
    for gln, name in GPS:
        client = channels[gln].client
        for file in client.outbox_names():
            same = any(client.read_outbox(file) == x.data for x in letters)
            step.detail(f"{name} ({gln}): {client.config.outbox / file}  identical={same}")

    await _until("the CTL01 for the unknown receiver",
                 lambda: any("KDEMO" not in n for n in hospital.outbox_names()))
    step(f"letter to {UNKNOWN_GP} (no such endpoint) is parked; the hospital gets a CTL01 "
         "(refusal LOK) in its outbox")
    for file in hospital.outbox_names():
        step.detail(f"{hospital.config.outbox / file}: {_describe(hospital.read_outbox(file))}")

    answered = 0
    for gln, _name in GPS:
        client = channels[gln].client
        for file in client.outbox_names():
            receipt = gp_receipt(client.read_outbox(file), datetime.now().replace(microsecond=0))
            if receipt is not None:
                client.drop(f"CTL03_{file}", receipt)
                answered += 1
    step(f"the GPs' systems answer {answered} positive receipts (CTL03) through their inboxes")

    ids = [r.message_ids[0] for r in ingested[: len(letters)]]

    def acknowledged() -> bool:
        states = [hub.message_view(i)["state"] for i in ids]
        return states.count("acknowledged") == len(routable)

    await _until("correlation of the CTL03s", acknowledged)
    await _until("forwarding of the CTL03s to the hospital",
                 lambda: len(hospital.outbox_names()) >= 1 + len(routable))
    step("medbro correlated each CTL03 with its letter and forwarded it to the hospital's outbox")
    for file in hospital.outbox_names():
        step.detail(f"{file}: {_describe(hospital.read_outbox(file))}")

    case_rows = await _rehabilitation_case(step, hub, channels)

    rows = [hub.message_view(i) for i in ids]
    _summary(rows)
    _case_summary(case_rows)
    ok = sum(r["state"] == "acknowledged" for r in rows) == len(routable)
    case_ok = bool(case_rows) and all(r["file"] for r in case_rows)
    return 0 if ok and case_ok else 1


_ROUTED = re.compile(r"^\s+(\S+) -> (.+): routed as DIS91, message (\S+)$")


async def _rehabilitation_case(step: Step, hub: Any, channels: dict[str, Any]
                               ) -> list[dict[str, str]]:
    """One case from LÆ 261 to the recommendation at the GP; its documents' delivery rows."""
    from gateway.caseflow import demo_case
    from gateway.caseflow.demo import GP_GLN, MUNICIPALITY_GLN

    start = datetime.now().replace(second=0, microsecond=0)
    step(f"a rehabilitation case (Københavns Kommune) runs from LÆ 261 to the recommendation "
         f"at the GP, on a simulated clock from {start:%d.%m.%Y}:")
    lines = await demo_case(hub, start, echo=step.detail)
    routed = [m.groups() for m in map(_ROUTED.match, lines) if m]
    refused = [line.strip() for line in lines if "REFUSED" in line]

    def delivered() -> bool:
        return all(hub.message_view(i)["state"] in ("delivered", "acknowledged")
                   for _, _, i in routed)

    await _until("delivery of the case's DIS91 letters", delivered)
    step(f"the hub routed the case's {len(routed)} DIS91 letters into the receivers' outboxes"
         + (f"; {len(refused)} REFUSED" if refused else ""))
    rows = []
    for kind, recipient, message_id in routed:
        view = hub.message_view(message_id)
        client = channels[view["receiver_gln"]].client
        name = f"{MUNICIPALITY_GLN}_{view['control_ref']}.edi"
        rows.append({"document": kind, "recipient": recipient, "id": message_id[:8],
                     "receiver": view["receiver_gln"], "state": view["state"],
                     "file": name if name in client.outbox_names() else ""})
    gp = channels[GP_GLN].client
    recommendation = next((r["file"] for r in rows
                           if r["document"] == "recommendation" and r["receiver"] == GP_GLN
                           and r["file"]), None)
    if recommendation is not None:
        from gateway.edifact import parse

        letter = parse(gp.read_outbox(recommendation)).messages[0].letter
        text = " ".join(t.text for t in letter.texts[1:])
        step.detail(f"the GP's system reads {gp.config.outbox / recommendation}: {text[:90]!r}")
    return rows + [{"document": "REFUSED", "recipient": line, "id": "", "receiver": "",
                    "state": "refused", "file": ""} for line in refused]


def _describe(data: bytes) -> str:
    """One line about a CONTRL interchange: type, what it answers, refusal and text."""
    from gateway.edifact import parse

    receipt = parse(data).messages[0].letter
    text = f"{receipt.type} for {receipt.original_control_ref} from {receipt.original_recipient}"
    if receipt.refusal:
        text += f", refusal {receipt.refusal}: {receipt.text[:60]!r}"
    return text


def _summary(rows: list[dict[str, Any]]) -> None:
    head = ("message id", "control ref", "sender", "receiver", "state", "attempts", "receipt")
    table = []
    for r in rows:
        kinds = ", ".join(f"{x['kind']} {'in' if x['direction'] == 'in' else 'out'}"
                          for x in r["receipts"]) or "-"
        table.append((r["id"][:8], r["control_ref"] or "", r["sender_gln"] or "",
                      r["receiver_gln"] or "", r["state"], str(len(r["attempts"])), kinds))
    _table("Summary: discharge letters", head, table)


def _case_summary(rows: list[dict[str, str]]) -> None:
    head = ("document", "to", "message id", "receiver", "state", "outbox file")
    _table("Summary: rehabilitation case (DIS91)", head,
           [(r["document"], r["recipient"], r["id"], r["receiver"], r["state"],
             r["file"] or "MISSING") for r in rows])


def _table(title: str, head: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    table = [head, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    click.echo(f"\n{title}")
    for n, row in enumerate(table):
        click.echo(("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
                   .rstrip())
        if n == 0:
            click.echo("  " + "  ".join("-" * w for w in widths))


@click.command("demo")
@click.option("--dir", "directory", type=click.Path(path_type=Path), default=Path("var/demo"),
              show_default=True, help="working directory (wiped first): mailboxes + SQLite")
@click.option("--letters", default=2, show_default=True, help="letters per GP")
@click.option("--logs", is_flag=True, help="show the pipeline's log lines too")
@click.option("--serve", is_flag=True,
              help="then keep the console (and the API) running on the demo's data")
@click.option("--port", default=8000, show_default=True, help="port of the console (--serve)")
def demo_command(directory: Path, letters: int, logs: bool, serve: bool, port: int) -> None:
    """Embedded end-to-end demo: hospital -> medbro -> GPs, CTL03 back, one rehab case."""
    import logging

    from gateway.console.demo import DEMO_PERSON, console_address
    from gateway.console.demo import serve as serve_console
    from gateway.logging import configure

    configure(json=False, level=logging.INFO if logs else logging.ERROR)
    root = directory.resolve()
    code = asyncio.run(run_demo(root, letters_per_gp=letters))
    name, password = DEMO_PERSON
    click.echo(f"\nConsole: {console_address('127.0.0.1', port)}  log in as {name!r}, "
               f"password {password!r}")
    if not serve:
        click.echo("         run `medbro demo --serve` to keep it running on the demo's data")
        sys.exit(code)
    click.echo("         serving the demo's data; Ctrl-C stops")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_console(demo_settings(root), host="127.0.0.1", port=port))
    sys.exit(code)
