"""``desktop-search index``: index folders once, with a progress bar and a summary."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click

from desktop_search.cli.common import ProgressBar, open_library, print_report
from desktop_search.cli.models import offer_default_model
from desktop_search.index.control import lower_process_priority

log = logging.getLogger(__name__)


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
