"""``desktop-search search``: photos, documents and messages by meaning and keywords."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from desktop_search.core.items import Hit
from desktop_search.core.locators import describe_locator
from desktop_search.core.query import TYPES, parse_query
from desktop_search.core.search import MODES, Query
from desktop_search.library import Library

QUERY_HELP = """Search by TEXT, by an example --image, or both.

\b
TEXT may hold filters and exact phrases:
  "exact phrase"        the words in this order
  type:photo|pdf|mail|chat|text
  after:2023-05  before:2024-01-15   (YYYY, YYYY-MM or YYYY-MM-DD)
  in:Documents  in:~/Mail            a folder name, or a full path
  from:alice                         the sender of an e-mail or chat message
"""


@click.command(help=QUERY_HELP)
@click.argument("text", required=False)
@click.option("--image", type=click.Path(path_type=Path, dir_okay=False),
              help="Find photos that look like this image.")  # fmt: skip
@click.option("--limit", default=20, show_default=True, type=int, help="How many results.")
@click.option("--type", "types", multiple=True, type=click.Choice(TYPES),
              help="Only this kind of file (repeatable).")  # fmt: skip
@click.option("--after", help="On or after this date (YYYY[-MM[-DD]]).")
@click.option("--before", help="Before this date (YYYY[-MM[-DD]]).")
@click.option("--in", "folders", multiple=True, help="Only inside this folder (repeatable).")
@click.option("--from", "senders", multiple=True, help="Only from this sender (repeatable).")
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True,
              help="keyword: words only; semantic: meaning only; hybrid: both.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="One JSON object per result.")
@click.pass_context
def search(ctx: click.Context, text: str | None, image: Path | None, limit: int,
           types: tuple[str, ...], after: str | None, before: str | None,
           folders: tuple[str, ...], senders: tuple[str, ...], mode: str,
           as_json: bool) -> None:  # fmt: skip
    options = [f"type:{kind}" for kind in types]
    options += [f"after:{after}"] if after else []
    options += [f"before:{before}"] if before else []
    options += [f"in:{_quoted(folder)}" for folder in folders]
    options += [f"from:{_quoted(sender)}" for sender in senders]
    filters = parse_query(" ".join(options)).filters
    query = Query(text=text, image=image, limit=limit, filters=filters, mode=mode)
    library = Library.open(ctx.obj["home"])
    ctx.call_on_close(library.close)
    hits = library.search(query)
    if as_json:
        for hit in hits:
            click.echo(json.dumps(hit.to_json()))
    elif not hits:
        click.echo("no results (is anything indexed? see 'desktop-search status')", err=True)
    else:
        print_hits(hits, color=sys.stdout.isatty())


def _quoted(value: str) -> str:
    return '"' + value.replace('"', "") + '"'


def print_hits(hits: list[Hit], *, color: bool = False) -> None:
    """Rank, score, kind and path; then where in the file and the matching words."""
    click.echo(f"{'#':>3}  {'score':>6}  {'kind':<6} path")
    for rank, hit in enumerate(hits, 1):
        click.echo(f"{rank:>3}  {hit.score:>6.3f}  {hit.kind:<6} {hit.path}")
        place = describe_locator(hit)
        if place:
            click.echo(f"{'':>17} {place}")
        if hit.snippet is not None:
            opening, closing = ("\x1b[1m", "\x1b[0m") if color else ("[", "]")
            click.echo(f"{'':>17} {hit.snippet.marked(opening, closing)}")
