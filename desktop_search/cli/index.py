"""``desktop-search index``: index folders once, with a progress bar per phase and a summary."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from desktop_search.cli.common import open_library, print_report
from desktop_search.cli.models import offer_default_model
from desktop_search.index.control import lower_process_priority
from desktop_search.index.progress import Phase, PhaseProgress

log = logging.getLogger(__name__)

# What each phase's bar is called, and what its line says once it ended.
BAR_LABELS = {
    Phase.PHOTOS: "photos",
    Phase.DOCUMENTS: "documents",
    Phase.PASSAGES: "passages",
    Phase.PHOTO_TEXT: "text in photos",
}
ENDED = {
    Phase.PHOTOS: "photos searchable",
    Phase.DOCUMENTS: "documents read",
    Phase.PASSAGES: "passages encoded",
    Phase.PHOTO_TEXT: "photos looked at for text",
}
CATALOGUED = "photos catalogued"  # no CLIP model: found by name and date, not by content


class PhaseBars:
    """An index run on the command line (a ``PhaseCallback``). On a terminal: one bar per phase
    with its count and time left, each finished before the next starts, and a line the moment
    photos are searchable. Otherwise (a log, a pipe): one line per phase as it ends, none with
    ``quiet`` (``--json``)."""

    def __init__(self, *, searchable: bool = True, quiet: bool = False) -> None:
        self.tty = sys.stderr.isatty()
        self.searchable = searchable  # a CLIP model: photos become searchable, not catalogued
        self.quiet = quiet
        self._bar = None
        self._phase: Phase | None = None
        self._shown = 0

    def __enter__(self) -> PhaseBars:
        return self

    def __call__(self, update: PhaseProgress) -> None:
        if update.phase is not self._phase:
            self._finish_bar()
            self._phase = update.phase
        ended = update.done >= update.total
        if self.tty and self._bar is None and not ended:
            self._bar = click.progressbar(
                length=update.total, label=BAR_LABELS[update.phase], file=sys.stderr,
                show_pos=True, show_eta=True,
            )  # fmt: skip
            self._bar.__enter__()
            self._shown = 0
        if self._bar is not None:
            self._bar.length = max(self._bar.length, update.total)
            self._bar.update(update.done - self._shown)
            self._shown = update.done
        if ended:
            self._finish_bar()
            self._phase_ended(update)

    def _phase_ended(self, update: PhaseProgress) -> None:
        """The line a phase ends with: always the photos' on a terminal, every phase's in a log."""
        if (self.tty and update.phase is not Phase.PHOTOS) or (not self.tty and self.quiet):
            return
        said = ENDED[update.phase]
        if update.phase is Phase.PHOTOS and not self.searchable:
            said = CATALOGUED
        failed = f" ({update.failed} failed)" if update.failed else ""
        click.echo(f"{said} after {update.seconds:.1f} s: {update.done - update.failed} of "
                   f"{update.total}{failed}", err=True)  # fmt: skip

    def _finish_bar(self) -> None:
        if self._bar is not None:
            bar, self._bar = self._bar, None
            bar.__exit__(None, None, None)

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            bar, self._bar = self._bar, None
            bar.__exit__(*exc_info)


@click.command()
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
    searchable = library.active_model_name is not None
    with PhaseBars(searchable=searchable, quiet=as_json) as phases:
        report = library.index(list(folders), exclude=list(exclude), phases=phases,
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
