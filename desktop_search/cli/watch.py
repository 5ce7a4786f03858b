"""``desktop-search watch``: keep the library current in the foreground, without a window."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path

import click

from desktop_search.app.library import Library
from desktop_search.app.live import LiveIndex, LiveStatus
from desktop_search.cli.common import printable, shown_path
from desktop_search.errors import DesktopSearchError
from desktop_search.index.control import lower_process_priority

log = logging.getLogger(__name__)


@click.command()
@click.argument("folders", nargs=-1, type=click.Path(path_type=Path, file_okay=False))
@click.pass_context
def watch(ctx: click.Context, folders: tuple[Path, ...]) -> None:
    """Index FOLDERS (default: those indexed before) and keep them indexed until stopped."""
    for folder in folders:
        if not folder.is_dir():
            raise DesktopSearchError(f"folder not found: {folder}", hint="check the path")
    library = Library.open(ctx.obj["home"])
    ctx.call_on_close(library.close)
    if not folders and not library.roots():
        raise DesktopSearchError(
            "no folders to watch yet", hint="give one: desktop-search watch ~/Pictures"
        )
    lower_process_priority()
    live = LiveIndex(library)
    printer = _StatusPrinter()
    live.subscribe(printer)
    live.start()  # WriterLockedError: another process indexes this library
    if folders:
        live.rescan(list(folders))
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    watched = set(library.roots()) | {os.path.abspath(folder) for folder in folders}
    click.echo(f"watching {len(watched)} folder(s); Ctrl+C stops", err=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        click.echo("stopping (finishing the file at hand)...", err=True)
        live.stop()


class _StatusPrinter:
    """One line per finished batch of work, and each folder that can only be rescanned."""

    def __init__(self) -> None:
        self._last_report = None
        self._told_unwatched: set[str] = set()

    def __call__(self, status: LiveStatus) -> None:
        for root, reason in status.unwatched.items():
            if root not in self._told_unwatched:
                self._told_unwatched.add(root)
                click.echo(f"note: not watching {shown_path(root)} live ({printable(reason)}); "
                           "rescanning it every 15 minutes instead", err=True)  # fmt: skip
        if status.error:
            click.echo(f"warning: {printable(status.error)}", err=True)
        report = status.last_report
        if report is None or report is self._last_report:
            return
        self._last_report = report
        stamp = time.strftime("%H:%M:%S")
        parts = [f"{report.new} new", f"{report.changed} changed", f"{report.moved} moved",
                 f"{report.copied} copied", f"{report.removed} removed",
                 f"{report.failed} failed"]  # fmt: skip
        click.echo(f"[{stamp}] " + ", ".join(parts) + f" ({report.seconds:.1f} s)")
        for path, reason in report.failures:
            click.echo(f"  failed: {shown_path(path)}: {printable(reason)}")
        if report.retrying:
            click.echo(f"  {report.retrying} file(s) will be retried shortly")
