"""``desktop-search status``: what is indexed, what waits, objects found, and what failed."""

from __future__ import annotations

import json
import logging

import click

from desktop_search.app.library import Library
from desktop_search.app.status import IndexerHeartbeat, ObjectCounts, QueueCounts
from desktop_search.cli.common import printable
from desktop_search.store.pathnames import readable_path

log = logging.getLogger(__name__)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Show what is indexed, and every file that could not be indexed with the reason."""
    library = Library.open(ctx.obj["home"])
    ctx.call_on_close(library.close)
    report = library.status()
    if as_json:
        click.echo(json.dumps(report.to_json()))
        return
    # Paths are shown readable (readable_path), and every string goes through printable: file
    # names, failure reasons and model names may hold controls a terminal would act on.
    click.echo(f"library: {printable(report.home)}")
    model = report.model or "none (see desktop-search models --help)"
    click.echo(f"model:   {printable(model)}")
    for root in report.roots:
        click.echo(f"folder:  {printable(readable_path(root))}")
    for row in report.files:
        click.echo(f"  {printable(row.kind):<6} {printable(row.status):<8} {row.count:>8}")
    text_model = report.text_model or "no text model (documents: keywords only)"
    click.echo(f"text:    {printable(text_model)}")
    if report.pending:
        click.echo(f"{report.pending} photo(s) catalogued but not yet encoded by a CLIP model")
    if report.passages_pending:
        click.echo(f"{report.passages_pending} document passage(s) waiting for the text model")
    if report.photos_to_read:
        click.echo(f"{report.photos_to_read} photo(s) not yet read for text")
    _print_objects(report.objects)
    _print_queue(report.queue, report.indexer)
    _print_skipped_links(report.skipped_links)
    if report.failures:
        click.echo(f"{len(report.failures)} file(s) could not be indexed:")
        for failure in report.failures:
            path, reason = readable_path(failure.path), failure.reason
            click.echo(f"  {printable(path)}: {printable(reason)}")


_LINK_WORDS = {
    "outside": "to files outside the indexed folders (not indexed, on purpose)",
    "dangling": "pointing nowhere",
    "loop": "in a loop",
}


def _print_skipped_links(skipped: dict[str, int]) -> None:
    for why, count in sorted(skipped.items()):
        if count:
            click.echo(f"skipped: {count} symbolic link(s) {printable(_LINK_WORDS.get(why, why))}")


def _print_objects(objects: ObjectCounts) -> None:
    if not objects.detector:
        click.echo("objects: not detected (no detector installed, or switched off)")
    if objects.total:
        counts = objects.classes.items()
        classes = ", ".join(f"{printable(label)} {count}" for label, count in counts)
        click.echo(f"objects: {objects.total} in {objects.photos} photo(s): {classes}")
    if objects.pending:
        click.echo(f"{objects.pending} photo(s) not yet looked at for objects")


def _print_queue(queue: QueueCounts, indexer: IndexerHeartbeat | None) -> None:
    if indexer:
        line = f"indexer: {printable(indexer.state)} (process {indexer.pid})"
        if indexer.total:
            line += f", {indexer.done} of {indexer.total}"
        if indexer.rate:
            line += f", {indexer.rate:.1f} files/s"
        if indexer.eta_seconds is not None:
            line += f", about {_duration(indexer.eta_seconds)} left"
        click.echo(line)
        for root, reason in (indexer.unwatched or {}).items():
            shown = printable(readable_path(root))
            click.echo(f"  not watched live: {shown} ({printable(reason)})")
    if queue.waiting or queue.retrying:
        click.echo(f"queue:   {queue.waiting} waiting, {queue.retrying} to retry")


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
