"""``desktop-search search``: photos, documents and messages by meaning and keywords."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from desktop_search.core.items import Hit
from desktop_search.core.locators import describe_locator
from desktop_search.core.pathnames import readable_path
from desktop_search.core.query import TYPES, parse_query
from desktop_search.core.search import MODES, Query
from desktop_search.errors import QueryError
from desktop_search.library import Library

QUERY_HELP = """Search by TEXT, by an example --image, or both.

\b
TEXT may hold filters and exact phrases:
  "exact phrase"        the words in this order
  type:photo|pdf|mail|chat|text
  after:2023-05  before:2024-01-15   (YYYY, YYYY-MM or YYYY-MM-DD)
  in:Documents  in:~/Mail            a folder name, or a full path
  from:alice                         the sender of an e-mail or chat message
  has:dog  has:"teddy bear"          photos in which this kind of object was detected

\b
With --image, search with one object of it (--object N, numbered by
'desktop-search objects IMAGE') or a part of it (--region x,y,w,h in pixels).

\b
JSON: "path" is readable; a file name that is not valid UTF-8 shows its
other bytes as \\xNN there, and "path_base64" holds the exact bytes
(standard base64) to open it by.
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
        click.echo("no results (is anything indexed? see 'desktop-search status')", err=True)
    else:
        print_hits(hits, color=sys.stdout.isatty())


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
    """Rank, score, kind and path; then where in the file and the matching words."""
    click.echo(f"{'#':>3}  {'score':>6}  {'kind':<6} path")
    for rank, hit in enumerate(hits, 1):
        click.echo(f"{rank:>3}  {hit.score:>6.3f}  {hit.kind:<6} {readable_path(hit.path)}")
        place = describe_locator(hit)
        if place:
            click.echo(f"{'':>17} {place}")
        if hit.snippet is not None:
            opening, closing = ("\x1b[1m", "\x1b[0m") if color else ("[", "]")
            click.echo(f"{'':>17} {hit.snippet.marked(opening, closing)}")
