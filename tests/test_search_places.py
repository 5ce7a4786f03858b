"""A long PDF in search (issue 19): the right page, not the contents page, and the file's other
matching pages ("also on pages ...") in the hit, its JSON and the CLI's lines.

Real parts: a PDF made with fpdf2 (text layer, one topic a page, a contents page with dot
leaders as LaTeX and Texinfo print them), indexed with the real int8 all-MiniLM-L6-v2.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from desktop_search.app.library import Library
from desktop_search.cli.root import cli
from desktop_search.search import searcher as searcher_module
from desktop_search.search.hits import Hit
from desktop_search.search.listings import looks_like_listing
from desktop_search.search.locators import describe_other_places
from desktop_search.search.searcher import Query
from tests.conftest_models import MINILM_NAME
from tests.make_pdfs import text_pdf

CONTENTS = (
    "Contents\n"
    "1 Keeping bees and harvesting honey . . . . . . . . . . . . . . . . 2\n"
    "2 Repairing a bicycle tyre puncture . . . . . . . . . . . . . . . . 3\n"
    "3 Baking sourdough bread . . . . . . . . . . . . . . . . . . . . . . 4\n"
    "4 More about bicycle tyre puncture repair . . . . . . . . . . . . . 5\n"
    "5 Pruning fruit trees in winter . . . . . . . . . . . . . . . . . . 6\n"
)
PAGES = [
    CONTENTS,
    "Keeping bees and harvesting honey. A hive needs a sunny spot sheltered from wind; the "
    "honey is taken off in late summer when the frames are capped with wax.",
    "Repairing a bicycle tyre puncture. Take the wheel out, lever the tyre off the rim and pull "
    "out the inner tube. Pump it up and listen for the hiss of the hole, roughen the rubber "
    "around it, spread the glue, wait a minute and press the patch on firmly.",
    "Baking sourdough bread. Feed the starter the evening before; mix flour, water and salt, "
    "fold the dough every half hour and bake it in a hot covered pot.",
    "More about bicycle tyre puncture repair. If the tube has a long split a patch will not "
    "hold: fit a new inner tube. Check the inside of the tyre for the thorn or glass that made "
    "the hole, or the new tube will go flat again.",
    "Pruning fruit trees in winter. Cut out dead and crossing branches of apple and pear "
    "trees while they are dormant, above an outward facing bud.",
]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, minilm_dir: Path) -> Path:
    home = tmp_path_factory.mktemp("home")
    shutil.copytree(minilm_dir, home / "models" / MINILM_NAME)
    folder = tmp_path_factory.mktemp("docs")
    (folder / "handbook.pdf").write_bytes(text_pdf(PAGES, title="Household handbook"))
    (folder / "notes.txt").write_text("Bought a new bicycle pump and tyre levers at the market.")
    with Library.open(home) as library:
        report = library.index([folder])
    assert (report.documents, report.failed) == (2, 0)
    return home


def search(home: Path, text: str, **options) -> list[Hit]:
    with Library.open(home) as library:
        return library.search(Query(text=text, **options))


def handbook(hits: list[Hit]) -> Hit:
    return next(hit for hit in hits if hit.path.endswith("handbook.pdf"))


def test_contents_and_index_passages_are_recognised_and_prices_are_not():
    assert looks_like_listing(CONTENTS.replace("\n", " "))  # lines joined, as passages are
    index = "fzero . . . . . . 656 fzeros . . . . . . . 657 gallery . . . . . . 1102 gamma"
    assert looks_like_listing(index)
    receipt = "Milk ........ 1.20 Bread ........ 2.35 Eggs ........ 3.10 Total ........ 6.65"
    assert not looks_like_listing(receipt)
    assert not looks_like_listing("See section 4.2 ... and then . . . 12 more")


@pytest.mark.parametrize("mode", ["hybrid", "keyword", "semantic"])
def test_the_page_that_answers_comes_before_the_contents_line_that_names_it(home, mode):
    hit = handbook(search(home, "repairing a bicycle tyre puncture", mode=mode))
    assert hit.locator == {"page": 3}


def test_without_the_demotion_the_contents_page_would_win(home, monkeypatch):
    # The test above can fail: counted fully, the contents line takes the keyword list's first
    # place (it holds every word of the query, in a short passage).
    monkeypatch.setattr(searcher_module, "LISTING_WEIGHT", 1.0)
    assert handbook(search(home, "repairing a bicycle tyre puncture", mode="keyword")).locator == {
        "page": 1
    }


def test_a_long_file_shows_its_other_matching_pages(home):
    hit = handbook(search(home, "fix a flat bicycle tyre with a patch or a new inner tube"))
    pages = [place.locator["page"] for place in hit.places]
    assert pages[0] == hit.locator["page"] and set(pages[:2]) == {3, 5}, pages
    assert 1 not in pages  # the contents page is no place to show
    assert [place.score for place in hit.places] == sorted(
        (place.score for place in hit.places), reverse=True
    )
    assert hit.places[0].score == hit.score and all(not p.places for p in hit.places)
    assert describe_other_places(hit).startswith("also on page")
    # Shown at its second place, the hit keeps its places and knows where it is.
    second = hit.place(1)
    assert (second.locator, second.place_index(), second.places) == (
        hit.places[1].locator, 1, hit.places
    )
    assert second.snippet is not None and second.snippet.text != hit.snippet.text
    others = describe_other_places(second)  # "also on page 3" / "also on pages 3, 6"
    assert others.startswith("also on page") and str(pages[0]) in others
    assert str(pages[1]) not in others.removeprefix("also on pages").removeprefix("also on page")


def test_a_file_with_one_matching_place_has_no_places(home):
    notes = [h for h in search(home, "bicycle pump market") if h.path.endswith("notes.txt")]
    assert notes and notes[0].places == [] and describe_other_places(notes[0]) == ""
    assert "places" not in notes[0].to_json()
    assert notes[0].place(0) is notes[0]
    with pytest.raises(IndexError):
        notes[0].place(1)


def test_the_cli_lists_every_place_in_json_and_in_words(home):
    runner = CliRunner()
    query = "fix a flat bicycle tyre with a patch or a new inner tube"
    done = runner.invoke(cli, ["--home", str(home), "search", "--json", "--", query])
    assert done.exit_code == 0, done.output
    hits = [json.loads(line) for line in done.stdout.splitlines()]
    found = next(h for h in hits if h["path"].endswith("handbook.pdf"))
    places = found["places"]
    assert places[0]["locator"] == found["locator"] and places[0]["score"] == found["score"]
    assert {place["locator"]["page"] for place in places[:2]} == {3, 5}
    for place in places:
        assert set(place) >= {"item_id", "score", "locator", "snippet"}
        assert place["snippet"]["text"]
    shown = runner.invoke(cli, ["--home", str(home), "search", "--", query])
    assert shown.exit_code == 0, shown.output
    pages = [str(place["locator"]["page"]) for place in places[1:]]
    assert f"page {places[0]['locator']['page']}, also on page" in shown.stdout
    assert ", ".join(pages) in shown.stdout
