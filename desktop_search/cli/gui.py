"""``desktop-search gui``: the desktop app (the only command that loads Qt)."""

from __future__ import annotations

import logging
import sys

import click

from desktop_search.platform.qt_platform import ensure_window_can_open

log = logging.getLogger(__name__)


@click.command()
@click.pass_context
@click.option("--hidden", is_flag=True, help="Start in the system tray (used at login).")
def gui(ctx: click.Context, hidden: bool) -> None:
    """Open the desktop app (search window, indexing with progress)."""
    # Before Qt loads: a missing system library would make Qt abort with its own message.
    ensure_window_can_open()
    from desktop_search.gui.app import run  # Qt loads only when the command runs, not for --help

    code = run(ctx.obj["home"], hidden=hidden)
    if code:
        sys.exit(code)
