"""What the CLI's command modules share: opening the library, progress on a terminal, reports."""

from __future__ import annotations

import sys

import click

from desktop_search.core.items import IndexReport
from desktop_search.core.pathnames import readable_path
from desktop_search.core.progress import TransferMeter
from desktop_search.library import Library


def open_library(ctx: click.Context) -> Library:
    """The library of ``--home``, closed when the command ends."""
    library = Library.open(ctx.obj["home"])
    ctx.call_on_close(library.close)
    return library


def print_report(report: IndexReport) -> None:
    click.echo(
        f"{report.new} new, {report.changed} changed, {report.unchanged} unchanged, "
        f"{report.removed} removed, {report.failed} failed ({report.seconds:.1f} s)"
    )
    if report.caught_up:
        click.echo(f"{report.caught_up} photo(s) indexed before caught up (encoded with the model "
                   "or looked at for objects)")  # fmt: skip
    if report.objects:
        click.echo(f"{report.objects} object(s) found in photos")
    if report.documents or report.passages or report.photo_texts:
        click.echo(
            f"{report.documents} document(s) read, {report.passages} passage(s) encoded for "
            f"search by meaning, text found in {report.photo_texts} photo(s)"
        )
    for path, reason in report.failures:
        click.echo(f"  failed: {readable_path(path)}: {reason}")
    if report.moved or report.copied:
        click.echo(f"{report.moved} moved and {report.copied} copied file(s) kept what was "
                   "indexed of them (not read again)")  # fmt: skip
    if report.retrying:
        click.echo(f"{report.retrying} file(s) failed for a passing reason and will be retried "
                   "by the next run")  # fmt: skip
    if report.still_failing:
        click.echo(
            f"{report.still_failing} unchanged file(s) failed before and were not retried "
            "(see 'desktop-search status')"
        )


class ProgressBar:
    """A progress callback that draws a bar on a terminal (and nothing when piped)."""

    def __init__(self, label: str = "Indexing") -> None:
        self._label = label
        self._bar = None
        self._shown = 0

    def __enter__(self) -> ProgressBar:
        return self

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            if not sys.stderr.isatty() or total == 0:
                return
            self._bar = click.progressbar(
                length=total, label="Indexing", file=sys.stderr, show_pos=True, show_eta=True
            )
            self._bar.__enter__()
        self._bar.update(done - self._shown)
        self._shown = done

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc_info)


class DownloadProgress:
    """A model download on the command line: one redrawn line with the file, bytes, speed and
    time left on a terminal; one line per file otherwise (logs, pipes); nothing with ``--json``."""

    def __init__(self, *, quiet: bool = False) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.meter = TransferMeter()
        self.file = ""
        self._width = 0

    def announce(self, path: str, size: int) -> None:
        self.file = path
        if not self.quiet and not self.tty:
            click.echo(f"downloading {path} ({size / 1e6:,.1f} MB)", err=True)

    def __call__(self, done: int, total: int) -> None:
        text = self.meter.update(done, total)
        if self.quiet or not self.tty:
            return
        line = f"{self.file}: {text}"
        click.echo("\r" + line.ljust(self._width), err=True, nl=False)
        self._width = len(line)

    def finish(self) -> None:
        if self.tty and self._width and not self.quiet:
            click.echo("", err=True)
