"""The ``forget`` command: take folders out of the library, leaving no trace of their files."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import click

from desktop_search.cli.common import open_library, shown_path
from desktop_search.errors import DesktopSearchError
from desktop_search.store.pathnames import path_json

log = logging.getLogger(__name__)


@click.command()
@click.argument("folders", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print what was forgotten as JSON.")
@click.pass_context
def forget(ctx: click.Context, folders: tuple[Path, ...], as_json: bool) -> None:
    """Stop indexing FOLDERS and forget everything learnt from their files.

    Their rows, text, keyword-index words, embeddings, vectors, thumbnails (unless another file
    shares one), queue entries and failures are deleted, and overwritten in the database. The
    files themselves are not touched; 'desktop-search index FOLDER' adds a folder back.
    """
    library = open_library(ctx)
    indexed = library.roots()
    # Spelt as `index` records them: absolute, ".." resolved, links kept.
    wanted = list(dict.fromkeys(os.path.abspath(folder.expanduser()) for folder in folders))
    unknown = [folder for folder in wanted if folder not in indexed]
    if unknown:
        raise DesktopSearchError(
            f"not an indexed folder: {', '.join(map(shown_path, unknown))} (nothing was forgotten)",
            hint="'desktop-search status' lists the indexed folders",
        )
    forgotten = [(folder, library.remove_root(folder)) for folder in wanted]
    if as_json:
        for folder, files in forgotten:
            click.echo(json.dumps({**path_json(folder), "files": files}))
        return
    for folder, files in forgotten:
        click.echo(f"forgot {files} file(s) of {shown_path(folder)}")
