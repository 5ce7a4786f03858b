"""Command line interface: thin commands over ``Library``.

The root group is lazy: each command's module is imported when that command runs (or when help
lists the commands), so ``search`` never imports the indexer, PDFs, OCR, the doctor or Qt.
Errors the user can act on print one line on stderr and exit non-zero; tracebacks only with
``--debug``.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import traceback
from collections.abc import Mapping

import click

from desktop_search import __version__
from desktop_search.cli.common import TerminalLogFormatter, printable
from desktop_search.errors import DesktopSearchError

log = logging.getLogger(__name__)


# Command name -> "module:attribute" of its click command, imported on first use.
COMMANDS: dict[str, str] = {
    "doctor": "desktop_search.cli.doctor:doctor",
    "forget": "desktop_search.cli.forget:forget",
    "gui": "desktop_search.cli.gui:gui",
    "index": "desktop_search.cli.index:index",
    "install-desktop-entry": "desktop_search.cli.desktop_entry:install_desktop_entry",
    "models": "desktop_search.cli.models:models",
    "objects": "desktop_search.cli.search:objects",
    "search": "desktop_search.cli.search:search",
    "status": "desktop_search.cli.status:status",
    "watch": "desktop_search.cli.watch:watch",
}


class LazyGroup(click.Group):
    """A click group whose commands are imported when used (click's documented LazyGroup).

    ``lazy_commands`` maps a command name to ``"module:attribute"``; commands added with
    ``add_command`` work as in any group.
    """

    def __init__(self, *args: object, lazy_commands: Mapping[str, str] | None = None,
                 **kwargs: object) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands and cmd_name not in self.commands:
            self.add_command(self._load(cmd_name), cmd_name)  # imported once per process
        return super().get_command(ctx, cmd_name)

    def _load(self, cmd_name: str) -> click.Command:
        module_name, _, attribute = self.lazy_commands[cmd_name].partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.lazy_commands[cmd_name]} is not a click command")
        return command


class Group(LazyGroup):
    """The root group: lazy commands, and every failure turned into one actionable line."""

    def main(self, args=None, prog_name=None, **extra):  # noqa: ANN001 - click's signature
        arguments = list(sys.argv[1:] if args is None else args)
        if not arguments and _display_available():
            arguments = ["gui"]  # plain `desktop-search` on a desktop opens the app
        debug = "--debug" in arguments
        try:
            result = super().main(arguments, prog_name, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as error:  # plain `desktop-search`
            click.echo(error.ctx.get_help())
            sys.exit(0)
        except click.UsageError as error:
            command = error.ctx.command_path if error.ctx else "desktop-search"
            _fail(f"{error.format_message()} (see '{command} --help')", 2)
        except click.Abort:
            _fail("interrupted", 130)
        except DesktopSearchError as error:
            if debug:
                _print_traceback()
            _fail(str(error), error.exit_code)
        except click.ClickException as error:
            _fail(error.format_message(), error.exit_code)
        except Exception as error:  # noqa: BLE001 - the last line of defence for the user
            if debug:
                _print_traceback()
            _fail(f"unexpected {type(error).__name__}: {error} (run with --debug for details)", 1)
        sys.exit(result if isinstance(result, int) else 0)


def _display_available() -> bool:
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _print_traceback() -> None:
    """The exception being handled (--debug), each line made printable: its message may quote
    a file name or what was typed."""
    for line in traceback.format_exc().splitlines():
        click.echo(printable(line), err=True)


def _fail(message: str, code: int) -> None:
    # Messages quote what was typed, file names and reasons read from files: one line, no controls.
    click.echo(f"error: {printable(message)}", err=True)
    sys.exit(code)


@click.group(cls=Group, lazy_commands=COMMANDS)
@click.option(
    "--home",
    type=click.Path(file_okay=False),
    envvar="DESKTOP_SEARCH_HOME",
    help="Library folder (default: the platform's user data folder).",
)
@click.option("--debug", is_flag=True, help="Log details and show tracebacks on errors.")
@click.option("-v", "--verbose", is_flag=True, help="Log what happens.")
@click.version_option(__version__, prog_name="desktop-search")
@click.pass_context
def cli(ctx: click.Context, home: str | None, debug: bool, verbose: bool) -> None:
    """Search your photos by what is in them, on your own machine."""
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    handler = logging.StreamHandler()  # stderr
    handler.setFormatter(TerminalLogFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    ctx.obj = {"home": home}


def main() -> None:
    cli()
