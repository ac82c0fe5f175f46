"""The ``medbro`` command line.

Subcommands are plugins (entry point group ``medbro.commands``) loaded only when invoked, so
``medbro parse`` does not import the broker or the web stack.

This is the one place that turns a ``ConfigError`` into what an operator sees: every process
(``api``, ``worker``, ``mailbox-watch``, ``case``, ``sla``, ...) states a configuration error as
one line on stderr naming the file (or the environment), the entry and the field, and exits
with code 2 (``CONFIG_ERROR_EXIT``), never with a traceback.
"""

from __future__ import annotations

import click

from gateway import plugins
from gateway.errors import ConfigError

CONFIG_ERROR_EXIT = 2  # as click's usage errors: the process was started wrongly


def config_error_line(command: str | None, exc: ConfigError) -> str:
    """``medbro api: configuration error: partners.toml: endpoints[1] (579...).gln: ...``."""
    text = " ".join(str(exc).split()) or type(exc).__name__  # one line, whatever the message
    return f"medbro {command or ''}".rstrip() + f": configuration error: {text}"


class PluginGroup(click.Group):
    """A click group whose commands come from the ``medbro.commands`` entry points."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(plugins.available("medbro.commands"))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in plugins.available("medbro.commands"):
            return None
        return plugins.load("medbro.commands", cmd_name)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            click.echo(config_error_line(ctx.invoked_subcommand, exc), err=True)
            ctx.exit(CONFIG_ERROR_EXIT)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Listing must not die on one broken plugin: name it and show why.
        rows = []
        for name in self.list_commands(ctx):
            try:
                cmd = self.get_command(ctx, name)
                text = cmd.get_short_help_str(formatter.width - 6 - len(name)) if cmd else ""
            except Exception as exc:  # noqa: BLE001 - shown to the user instead of a traceback
                text = f"(unavailable: {exc})"
            rows.append((name, text))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=PluginGroup)
@click.version_option(package_name="medbro")
def main() -> None:
    """medbro: MedCom message hub for hospitals, GPs and municipalities."""


if __name__ == "__main__":  # pragma: no cover
    main()
