"""``medbro convert FILE --to oioxml|edifact``: the format of FILE is detected."""

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
def convert_command(file: Path, target: str, output: Path | None) -> None:
    """Convert a MedCom letter or receipt between EDIFACT and OIOXML (through the model)."""
    configure_logging()  # logs to stderr: stdout carries the converted message
    try:
        result = convert(file.read_bytes(), target)
    except (RemoteMessageError, LocalUsageError) as exc:
        click.echo(f"medbro convert: {file}: {exc}", err=True)
        sys.exit(1)
    if output is None:
        sys.stdout.buffer.write(result)
        sys.stdout.buffer.flush()
    else:
        output.write_bytes(result)
