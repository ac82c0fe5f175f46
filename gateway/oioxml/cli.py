"""``medbro convert FILE --to oioxml|edifact|fhir``: the format of FILE is detected.

A CareCommunication converts to a DIS91 (EDIFACT or OIOXML) and a DIS91 to a
CareCommunication; FHIR names organisations by SOR code too, which a DIS91 lacks: give them
with ``--sor GLN=SOR`` (repeatable).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gateway.errors import LocalUsageError, RemoteMessageError
from gateway.logging import configure as configure_logging
from gateway.oioxml.convert import Format, convert


@click.command("convert")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--to",
    "target",
    type=click.Choice([f.value for f in Format]),
    required=True,
    help="The format to write.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write here instead of stdout.",
)
@click.option(
    "--sor",
    "sor",
    multiple=True,
    metavar="GLN=SOR",
    help="The SOR code of a GLN, for a CareCommunication written from a DIS91 (repeatable).",
)
def convert_command(file: Path, target: str, output: Path | None, sor: tuple[str, ...]) -> None:
    """Convert a MedCom letter or receipt between EDIFACT, OIOXML and FHIR (via the model)."""
    configure_logging()  # logs to stderr: stdout carries the converted message
    sor_by_gln = {}
    for pair in sor:
        gln, sep, code = pair.partition("=")
        if not sep or not gln or not code:
            raise click.BadParameter(f"{pair!r} is not GLN=SOR", param_hint="--sor")
        sor_by_gln[gln.strip()] = code.strip()
    try:
        result = convert(file.read_bytes(), target, sor_by_gln=sor_by_gln)
    except (RemoteMessageError, LocalUsageError) as exc:
        click.echo(f"medbro convert: {file}: {exc}", err=True)
        sys.exit(1)
    if output is None:
        sys.stdout.buffer.write(result)
        sys.stdout.buffer.flush()
    else:
        output.write_bytes(result)
