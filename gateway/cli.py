"""The ``medbro`` command line.

Subcommands are plugins (entry point group ``medbro.commands``) loaded only when invoked, so
``medbro parse`` does not import the broker or the web stack.
"""

from __future__ import annotations

import click

from gateway import plugins


class PluginGroup(click.Group):
    """A click group whose commands come from the ``medbro.commands`` entry points."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(plugins.available("medbro.commands"))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in plugins.available("medbro.commands"):
            return None
        return plugins.load("medbro.commands", cmd_name)

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
