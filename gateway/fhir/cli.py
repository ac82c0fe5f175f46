"""What ``medbro parse`` and ``medbro receipt`` do with a FHIR Bundle.

The commands live with the codec (gateway/edifact/cli.py) and hand a file over here when
``gateway.wire_format`` says it is FHIR. IO only: reading, the clock, stdout/stderr.

* ``parse``: JSON on stdout: ``{"format": "fhir", "media_type", "routing": RoutingFacts,
  "bundle": the Bundle as FHIR JSON}``; a broken rule exits 1 naming path and problem.
* ``receipt``: the Acknowledgement medbro owes as the final receiver, on stdout (in the
  Bundle's own media type), or on stderr why none is owed; exit 0.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from gateway.fhir import FhirError, media_type, read, routing_facts
from gateway.fhir.acknowledgement import answer

ZONE = ZoneInfo("Europe/Copenhagen")


def parse_file(file: Path, data: bytes) -> None:
    try:
        message = read(data)
    except FhirError as err:
        click.echo(f"{file}: {err}", err=True)
        sys.exit(1)
    doc = {
        "format": "fhir",
        "media_type": media_type(data),
        "routing": dataclasses.asdict(routing_facts(message)),
        "bundle": json.loads(message.bundle.model_dump_json()),
    }
    _stdout(json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8") + b"\n")


def receipt_file(file: Path, data: bytes) -> None:
    out, why = answer(data, now=datetime.now(ZONE).replace(microsecond=0))
    if out is None:
        click.echo(f"no Acknowledgement is owed for {file}: {why}", err=True)
        return
    _stdout(out)


def _stdout(data: bytes) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
