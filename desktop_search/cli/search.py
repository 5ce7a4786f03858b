"""``desktop-search search``: photos, documents and messages by meaning and keywords."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from desktop_search.app.library import Library
from desktop_search.cli.common import printable, shown_path
from desktop_search.errors import QueryError
from desktop_search.search.hits import Hit
from desktop_search.search.locators import describe_locator, describe_other_places
from desktop_search.search.query import TYPES, Filters, describe_filters, parse_query
from desktop_search.search.searcher import MAX_LIMIT, MODES, Query
from desktop_search.search.snippets import Snippet

log = logging.getLogger(__name__)

QUERY_HELP = """Search by TEXT, by an example --image, or both.

\b
TEXT may hold filters and exact phrases:
  "exact phrase"        the words in this order
  type:photo|pdf|mail|chat|text
  after:2023-05  before:2024-01-15   (YYYY, YYYY-MM or YYYY-MM-DD)
  in:Documents  in:~/Mail            a folder name, or a full path
  from:alice                         the sender of an e-mail or chat message
  has:dog  has:"teddy bear"          photos in which this kind of object was detected
At most 256 words and 64 in:/from:/has: values in one search.

\b
TEXT is one argument: quote it when it has spaces. Text that starts with
"-" would be taken for an option: put -- before it (options go first):
  desktop-search search -- -42
  desktop-search search --limit 5 -- "-42 invoice"

\b
With --image, search with one object of it (--object N, numbered by
'desktop-search objects IMAGE') or a part of it (--region x,y,w,h in pixels).

\b
JSON: "path" is readable; a file name that is not valid UTF-8 shows its
other bytes as \\xNN there, and "path_base64" holds the exact bytes
(standard base64) to open it by.
"""


class _SearchCommand(click.Command):
    """``search``, saying how to search for a word that starts with "-" when one was taken for
    an unknown option (``search -draft`` is click's "No such option: -d")."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        typed_args = list(args)  # click's parser consumes the list it is given
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as error:
            known = {name for param in self.params for name in param.opts + param.secondary_opts}
            typed = next((arg for arg in typed_args if arg.startswith("-") and arg != "--"
                          and arg.split("=", 1)[0] not in known), error.option_name)  # fmt: skip
            raise click.UsageError(
                f"no option {typed}: to search for a word that starts with '-', put -- before "
                f"the text: desktop-search search -- {typed}",
                ctx,
            ) from None


@click.command(cls=_SearchCommand, help=QUERY_HELP)
@click.argument("text", required=False)
@click.option("--image", type=click.Path(path_type=Path, dir_okay=False),
              help="Find photos that look like this image.")  # fmt: skip
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, MAX_LIMIT),
              help="How many results.")  # fmt: skip
@click.option("--type", "types", multiple=True, type=click.Choice(TYPES),
              help="Only this kind of file (repeatable).")  # fmt: skip
@click.option("--after", help="On or after this date (YYYY[-MM[-DD]]).")
@click.option("--before", help="Before this date (YYYY[-MM[-DD]]).")
@click.option("--in", "folders", multiple=True, help="Only inside this folder (repeatable).")
@click.option("--from", "senders", multiple=True, help="Only from this sender (repeatable).")
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True,
              help="keyword: words only; semantic: meaning only; hybrid: both.")  # fmt: skip
@click.option("--object", "object_number", type=click.IntRange(min=1),
              help="Search with object N of the --image ('desktop-search objects').")  # fmt: skip
@click.option("--region", callback=lambda _c, _p, value: _parse_region(value),
              help="Search with this part of the --image: x,y,w,h in its pixels.")  # fmt: skip
@click.option("--has", "objects", multiple=True, help="Only photos with this object (repeatable).")
@click.option("--json", "as_json", is_flag=True,
              help="One JSON object per result (see JSON below).")  # fmt: skip
@click.pass_context
def search(ctx: click.Context, text: str | None, image: Path | None, limit: int,
           types: tuple[str, ...], after: str | None, before: str | None,
           folders: tuple[str, ...], senders: tuple[str, ...], mode: str,
           object_number: int | None, region: tuple | None, objects: tuple[str, ...],
           as_json: bool) -> None:  # fmt: skip
    options = [f"type:{kind}" for kind in types]
    options += [f"after:{after}"] if after else []
    options += [f"before:{before}"] if before else []
    options += [f"in:{_quoted(folder)}" for folder in folders]
    options += [f"from:{_quoted(sender)}" for sender in senders]
    options += [f"has:{_quoted(name)}" for name in objects]
    filters = parse_query(" ".join(options)).filters
    library = Library.open(ctx.obj["home"])
    ctx.call_on_close(library.close)
    if object_number is not None:
        region = _object_box(library, image, object_number, region)
    query = Query(text=text, image=image, limit=limit, filters=filters, mode=mode, region=region)
    hits = library.search(query)
    if as_json:
        for hit in hits:
            click.echo(json.dumps(hit.to_json()))
    elif not hits:
        click.echo(_no_results(library, query.all_filters), err=True)
    else:
        print_hits(hits, color=sys.stdout.isatty())


def _no_results(library: Library, filters: Filters) -> str:
    """Why a search found nothing: an empty library, or the filters (named) when there are any."""
    counts = library.store.reads.counts()
    indexed = sum(row["count"] for row in counts if row["status"] == "indexed")
    if not indexed:
        return "no results (is anything indexed? see 'desktop-search status')"
    among = f"among {indexed:,} indexed file(s)"
    if filters.is_empty:
        return f"no results {among}"
    return (f"no results for these filters {among}: {printable(describe_filters(filters))} "
            "(remove or widen one of them)")  # fmt: skip


@click.command()
@click.argument("image", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per object.")
@click.pass_context
def objects(ctx: click.Context, image: Path, as_json: bool) -> None:
    """List the objects detected in IMAGE, numbered for 'search --image IMAGE --object N'."""
    library = Library.open(ctx.obj["home"])
    ctx.call_on_close(library.close)
    found = library.query_objects(image)
    if as_json:
        for number, thing in enumerate(found, 1):
            click.echo(json.dumps({"object": number, **thing.to_json()}))
        return
    if not found:
        click.echo("no objects found (search with the whole image, or give --region)", err=True)
        return
    click.echo(f"{'#':>3}  {'score':>5}  {'object':<14} box (x,y,w,h)")
    for number, thing in enumerate(found, 1):  # numbered from 1, like the window's boxes
        x, y, w, h = (round(v) for v in thing.box)
        click.echo(f"{number:>3}  {thing.score:>5.2f}  {thing.label:<14} {x},{y},{w},{h}")


def _object_box(library: Library, image: Path | None, number: int, region: tuple | None):
    if image is None:
        raise QueryError("--object needs --image", hint="give the image the object is in")
    if region is not None:
        raise QueryError("give either --object or --region, not both")
    found = library.query_objects(image)
    if number > len(found):
        listed = ", ".join(f"{n} {thing.label}" for n, thing in enumerate(found, 1)) or "none"
        raise QueryError(f"{image.name} has no object {number} (objects: {listed})",
                         hint=f"see 'desktop-search objects {image}'")  # fmt: skip
    return found[number - 1].box


def _parse_region(value: str | None) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    try:
        x, y, w, h = (float(part) for part in value.split(","))
    except ValueError:
        raise click.BadParameter("give four numbers x,y,w,h, e.g. 120,40,300,200") from None
    if w <= 0 or h <= 0:
        raise click.BadParameter("width and height must be more than 0")
    return x, y, w, h


def _quoted(value: str) -> str:
    return '"' + value.replace('"', "") + '"'


def print_hits(hits: list[Hit], *, color: bool = False) -> None:
    """Rank, score, kind and path; then where in the file and the matching words.

    Everything taken from the files goes through ``printable``: the only escape sequences are
    the bold marks of matching words on a terminal (``color``).
    """
    click.echo(f"{'#':>3}  {'score':>6}  {'kind':<6} path")
    for rank, hit in enumerate(hits, 1):
        click.echo(f"{rank:>3}  {hit.score:>6.3f}  {printable(hit.kind):<6} {shown_path(hit.path)}")
        place = ", ".join(filter(None, (describe_locator(hit), describe_other_places(hit))))
        if place:
            click.echo(f"{'':>17} {printable(place)}")
        if hit.snippet is not None:
            opening, closing = ("\x1b[1m", "\x1b[0m") if color else ("[", "]")
            click.echo(f"{'':>17} {_marked(hit.snippet, opening, closing)}")


def _marked(snippet: Snippet, opening: str, closing: str) -> str:
    """Like ``Snippet.marked``, the marks added after the text between them was made printable
    (escaping first would move the spans; escaping after would escape the marks)."""
    parts, position = [], 0
    for start, end in snippet.spans:
        parts += [printable(snippet.text[position:start]), opening,
                  printable(snippet.text[start:end]), closing]  # fmt: skip
        position = end
    parts.append(printable(snippet.text[position:]))
    return "".join(parts)
