"""Command line interface: thin commands over ``Library``.

Errors the user can act on print one line on stderr and exit non-zero; tracebacks only with
``--debug``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from pathlib import Path

import click

from desktop_search import __version__
from desktop_search.cli.common import (
    ProgressBar,
    TerminalLogFormatter,
    open_library,
    print_report,
    printable,
)
from desktop_search.cli.doctor import doctor
from desktop_search.cli.forget import forget
from desktop_search.cli.models import models, offer_default_model
from desktop_search.cli.search import objects, search
from desktop_search.cli.status import status
from desktop_search.cli.watch import watch
from desktop_search.errors import DesktopSearchError
from desktop_search.index.control import lower_process_priority

log = logging.getLogger(__name__)


class Group(click.Group):
    """A click group that turns every failure into one actionable line."""

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


@click.group(cls=Group)
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


@cli.command()
@click.argument("folders", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--exclude",
    multiple=True,
    metavar="PATTERN",
    help="Skip paths matching this glob (repeatable), e.g. '*/tmp/*'.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option(
    "--fetch-model",
    is_flag=True,
    help="Without a CLIP model, fetch the default one first (no question asked).",
)
@click.option(
    "--retry-failed",
    is_flag=True,
    help="Try again the files that could not be indexed (they wait until they change).",
)
@click.pass_context
def index(
    ctx: click.Context,
    folders: tuple[Path, ...],
    exclude: tuple[str, ...],
    as_json: bool,
    fetch_model: bool,
    retry_failed: bool,
) -> None:
    """Index photos in FOLDERS (default: the folders indexed before)."""
    library = open_library(ctx)
    if library.active_model_name is None:
        offer_default_model(library, fetch_model)
    lower_process_priority()
    with ProgressBar() as progress:
        report = library.index(list(folders), exclude=list(exclude), progress=progress,
                               retry_failed=retry_failed)  # fmt: skip
    if as_json:
        click.echo(json.dumps(report.to_json()))
    else:
        print_report(report)
    if library.active_model_name is None:
        click.echo(
            "note: no CLIP model installed: photos are catalogued (names, dates, thumbnails) and "
            "found by name; search by content switches on once a model is installed",
            err=True,
        )


@cli.command()
@click.pass_context
@click.option("--hidden", is_flag=True, help="Start in the system tray (used at login).")
def gui(ctx: click.Context, hidden: bool) -> None:
    """Open the desktop app (search window, indexing with progress)."""
    from desktop_search.gui.app import run  # Qt loads only for this command

    code = run(ctx.obj["home"], hidden=hidden)
    if code:
        sys.exit(code)


cli.add_command(doctor)
cli.add_command(forget)
cli.add_command(models)
cli.add_command(search)
cli.add_command(status)
cli.add_command(objects)
cli.add_command(watch)


def main() -> None:
    cli()
