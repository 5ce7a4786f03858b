"""What the CLI's command modules share: opening the library, text safe for a terminal,
progress on a terminal, reports (``index``'s bars per phase are in cli/index.py: they need the
indexing side, which a ``search`` never loads)."""

from __future__ import annotations

import logging
import os
import re
import sys
from typing import TYPE_CHECKING

import click

from desktop_search.app.library import Library
from desktop_search.store.pathnames import readable_path

if TYPE_CHECKING:  # the indexing side loads only for the commands that index or fetch
    from desktop_search.index.report import IndexReport

log = logging.getLogger(__name__)

# What a terminal acts on instead of showing, in text that comes from files, the library, models
# or the command line: C0 controls but tab (ESC starts escape sequences that set the window's
# title, clear the screen or move the cursor; BEL rings; a newline or carriage return in a file
# name forges or overwrites output lines), DEL, C1 controls (U+009B is a one-character CSI to
# terminals that read 8-bit controls, U+009D an OSC), the line and paragraph separators, and the
# bidi embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069: "photo\u202egpj.exe"
# shows as "photoexe.jpg"; they reorder what is shown, so a name can pass for another one).
# Surrogates are not printable at all (an encoder refuses them): those os.fsdecode makes of bytes
# that are not UTF-8 are shown as those bytes, \xNN, like readable_path does.
_UNPRINTABLE = re.compile(
    r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r"}


def printable(text: object) -> str:
    """``text`` as one field of a line on a terminal: what a terminal would act on is written
    out as a visible backslash escape, the rest is left as it is.

    * newline and carriage return become ``\\n`` and ``\\r`` (a field never starts a new line);
    * the other C0 controls (tab excepted) and DEL become ``\\xNN`` (ESC is ``\\x1b``);
    * C1 controls (U+0080..U+009F), U+2028/U+2029 and the bidi embeddings, overrides and
      isolates (U+202A..U+202E, U+2066..U+2069) become ``\\uNNNN``: ``\\u009b``, not ``\\x9b``,
      which is how ``readable_path`` shows the byte 0x9B of a name that is not UTF-8;
    * a surrogate escape of such a byte (U+DC80..U+DCFF) becomes ``\\xNN`` too, any other lone
      surrogate ``\\uNNNN``, so the result always encodes to UTF-8.

    Backslashes are not doubled, so the display is not reversible (neither is readable_path's):
    ``--json`` gives the exact text. Give paths to :func:`shown_path`.
    """
    text = str(text)
    if _UNPRINTABLE.search(text) is None:  # the common case: nothing to copy
        return text
    return _UNPRINTABLE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[char]
    if code < 0x80:
        return f"\\x{code:02x}"
    if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's spelling of the byte code - 0xDC00
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


def shown_path(path: str | os.PathLike[str]) -> str:
    """A path on a terminal: ``readable_path`` (\\xNN for bytes that are not UTF-8), then
    :func:`printable` (controls in the name escaped)."""
    return printable(readable_path(path))


class TerminalLogFormatter(logging.Formatter):
    """Log lines on a terminal: the message (which may quote a file name or a reason read from a
    file) and each line of a traceback go through :func:`printable`."""

    def format(self, record: logging.LogRecord) -> str:
        safe = logging.makeLogRecord(record.__dict__)  # other handlers keep the original
        safe.msg, safe.args = printable(record.getMessage()), None
        safe.exc_text = None  # another handler may have cached the raw traceback
        return super().format(safe)

    def formatException(self, ei) -> str:  # noqa: ANN001, N802 - logging's signature
        return "\n".join(map(printable, super().formatException(ei).splitlines()))

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 - logging's name
        return "\n".join(map(printable, super().formatStack(stack_info).splitlines()))


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
        click.echo(f"  failed: {shown_path(path)}: {printable(reason)}")
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
        self._label = printable(label)
        self._bar = None
        self._shown = 0

    def __enter__(self) -> ProgressBar:
        return self

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            if not sys.stderr.isatty() or total == 0:
                return
            self._bar = click.progressbar(
                length=total, label=self._label, file=sys.stderr, show_pos=True, show_eta=True
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
        from desktop_search.index.progress import TransferMeter  # only downloads need it

        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.meter = TransferMeter()
        self.file = ""
        self._width = 0

    def announce(self, path: str, size: int) -> None:
        self.file = printable(path)  # a file name the hub or a manifest gave
        if not self.quiet and not self.tty:
            click.echo(f"downloading {self.file} ({size / 1e6:,.1f} MB)", err=True)

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
