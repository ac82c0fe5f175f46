"""``medbro parse``, ``medbro render`` and ``medbro receipt``: the codec at the command line.

The commands do the IO (files, stdout, the clock) and nothing else; the codec stays sans-IO.
Files are read as they are: the ``# SOURCE`` line of the shared samples is not stripped here.

* ``parse FILE``: JSON on stdout (shape: ``interchange.to_json``), exit 0; an invalid
  interchange exits 1 with ``str(EdifactError)`` on stderr, e.g.
  ``UNT segment 26: count 25 does not match 26 segments``.
* ``render FILE.json``: the EDIFACT bytes of a ``parse`` document on stdout (binary).
* ``receipt FILE``: the CONTRL interchange owed on stdout, or on stderr why none is owed; exit 0.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from gateway.edifact.encoder import encode
from gateway.edifact.errors import EdifactError
from gateway.edifact.interchange import from_json, to_json
from gateway.edifact.reader import parse, read_envelope_leniently
from gateway.errors import LocalUsageError

__all__ = ["parse_command", "receipt_command", "render_command"]

MEDCOM_ZONE = ZoneInfo("Europe/Copenhagen")  # MedCom writes naive Danish local time
_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _fail(text: str) -> None:
    click.echo(text, err=True)
    sys.exit(1)


def _write_stdout(data: bytes) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


@click.command("parse")
@click.argument("file", type=_FILE)
def parse_command(file: Path) -> None:
    """Parse and validate an EDIFACT interchange (or a FHIR Bundle); print it as JSON."""
    if _is_fhir(file):
        from gateway.fhir.cli import parse_file

        return parse_file(file, file.read_bytes())
    try:
        interchange = parse(file.read_bytes())
    except EdifactError as err:
        _fail(str(err))
        return
    doc = json.dumps(to_json(interchange), ensure_ascii=False, indent=2)
    _write_stdout(doc.encode("utf-8") + b"\n")


@click.command("render")
@click.argument("file", type=_FILE)
def render_command(file: Path) -> None:
    """Write the EDIFACT bytes of a JSON document printed by ``medbro parse``."""
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
        data = encode(from_json(doc))
    except json.JSONDecodeError as exc:
        _fail(f"{file}: not JSON: {exc}")
        return
    except (LocalUsageError, EdifactError) as err:
        _fail(f"{file}: {err}")
        return
    _write_stdout(data)


@click.command("receipt")
@click.argument("file", type=_FILE)
def receipt_command(file: Path) -> None:
    """Write the receipt owed (CONTRL, or a FHIR Acknowledgement), or say why none is owed."""
    from gateway.edifact.receipts import receipt_owed

    if _is_fhir(file):
        from gateway.fhir.cli import receipt_file

        return receipt_file(file, file.read_bytes())

    data = file.read_bytes()
    now = datetime.now(MEDCOM_ZONE).replace(tzinfo=None, second=0, microsecond=0)
    receipt = receipt_owed(data, now=now)
    if receipt is not None:
        _write_stdout(receipt)
        return
    click.echo(f"no receipt is owed for {file}: {_why_none(data)}", err=True)


def _is_fhir(file: Path) -> bool:
    """FHIR Bundles are read by gateway.fhir (gateway.wire_format decides)."""
    from gateway import wire_format

    with file.open("rb") as f:
        return wire_format.sniff(f.read(4096)) == wire_format.FHIR


def _why_none(data: bytes) -> str:
    """The reason no receipt is owed, for the operator (receipts.receipt_owed decides)."""
    from gateway.edifact.receipts import Original

    info = read_envelope_leniently(data)
    if info is None or not info.sender:
        return "no readable UNB sender, so nobody to answer"
    original = Original.of(info)
    if original.is_receipt:
        return "it is a CONTRL receipt, and receipts are never answered"
    if not original.answerable:
        return (
            "its UNB recipient or control reference cannot be read, and a receipt must quote "
            "both (UCI elements 1 and 3)"
        )
    return "it is valid and UNB element 9 does not request a positive receipt"
