"""What `search` makes of odd input on a real library (issue 15, item 5): each case ends in one
actionable line and a non-zero exit, or in the right results; never in "unexpected ..." or a
traceback.

A library without a model searches file names with one LIKE per word (ANDed) and the keyword
index; the caps of search/query.py keep those statements inside SQLite's limits.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from desktop_search.cli.root import cli
from desktop_search.search.query import MAX_FILTERS, MAX_LIMIT, MAX_VALUE_CHARS, MAX_WORDS

LATIN1_FOLDER = b"caf\xe9"  # a folder name that is not UTF-8


def run(home: Path, *args: str, expect: int = 0):
    result = CliRunner().invoke(cli, ["--home", str(home), *args])
    assert result.exit_code == expect, result.output
    assert "Traceback" not in result.output and "unexpected" not in result.output
    return result


def fails(home: Path, *args: str, expect: int = 2) -> str:
    """The one line a failed search prints (on stderr), nothing on stdout."""
    result = run(home, *args, expect=expect)
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    return result.stderr


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home without a model, with notes in Tax/, in a Latin-1 folder and one saying -draft."""
    root = tmp_path_factory.mktemp("search_input")
    folder = root / "files"
    (folder / "Tax").mkdir(parents=True)
    (folder / "Tax" / "return.txt").write_text("tax return for the year", encoding="utf-8")
    (folder / "notes.txt").write_text("the -draft of an invoice", encoding="utf-8")
    latin1 = os.path.join(os.fsencode(folder), LATIN1_FOLDER)
    os.mkdir(latin1)
    with open(os.path.join(latin1, b"note.txt"), "w", encoding="utf-8") as note:
        note.write("a note in a folder named in Latin-1")
    home = root / "home"
    run(home, "index", str(folder))
    return home


def paths(result) -> list[str]:
    return [line.split(maxsplit=3)[3] for line in result.stdout.splitlines()[1:]
            if line[:3].strip().isdigit()]  # fmt: skip


# -- caps -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["in", "from"])
def test_1200_filters_are_refused_in_one_line(library, key):
    query = " ".join(f"{key}:f{i}" for i in range(1200))
    line = fails(library, "search", f"invoice {query}")
    assert f"too many filters: 1200 in:, from: and has: values (at most {MAX_FILTERS})" in line


def test_1200_filter_options_are_refused_in_one_line(library):
    options = [arg for i in range(1200) for arg in ("--in", f"f{i}")]
    assert "too many filters: 1200" in fails(library, "search", "invoice", *options)


def test_1200_words_without_a_model_are_refused_in_one_line(library):
    line = fails(library, "search", " ".join(f"w{i}" for i in range(1200)))
    assert f"too many words: 1200 (at most {MAX_WORDS})" in line


def test_queries_at_the_caps_run(library):
    """The caps are inside SQLite's limits, with the longest values there can be: the most
    words (one LIKE each on file names), the most folders and senders (ORs), and a folder name
    of the longest length in bytes that are not UTF-8 (7 bytes each in the database's LIKE)."""
    words = " ".join(["return"] + [f"w{i}" for i in range(MAX_WORDS - 1)])
    run(library, "search", words)
    folders = " ".join(f"in:f{i}" for i in range(MAX_FILTERS // 2 - 1))
    senders = " ".join(f"from:s{i}" for i in range(MAX_FILTERS // 2))
    longest = os.fsdecode(b"\xff" * MAX_VALUE_CHARS)
    result = run(library, "search", f"return {folders} {senders} in:{longest}")
    assert "no results for these filters" in result.stderr
    run(library, "search", "w" * MAX_VALUE_CHARS)


def test_an_overlong_word_is_refused_in_one_line(library):
    line = fails(library, "search", "x" * 60_000)
    assert "a word or phrase is too long (60,000 characters, at most 4,096)" in line


@pytest.mark.parametrize("limit", ["99999999999999999999", str(MAX_LIMIT + 1), "0", "-5"])
def test_limit_out_of_range_is_refused_in_one_line(library, limit):
    line = fails(library, "search", "invoice", "--limit", limit)
    assert "'--limit'" in line and f"1<=x<={MAX_LIMIT}" in line


def test_the_largest_limit_runs(library):
    assert paths(run(library, "search", "invoice", "--limit", str(MAX_LIMIT)))


# -- command-line text that is not UTF-8 ----------------------------------------------------------


def test_an_argument_that_is_not_utf8_is_searched_with_replacement(library):
    # $'\xff' as Python hands it over: a surrogate escape of the byte.
    result = run(library, "search", os.fsdecode(b"\xff"))
    # U+FFFD finds nothing but a name that is not UTF-8: SQLite reads the U+FFFF of its
    # database spelling as U+FFFD when it compares.
    assert all("caf\\xe9" in path for path in paths(result))
    result = run(library, "search", os.fsdecode(b"invoice from:\xff"))
    assert "no results for these filters" in result.stderr and 'from:"\ufffd"' in result.stderr


def test_a_folder_name_that_is_not_utf8_filters_by_its_bytes(library):
    by_name = run(library, "search", os.fsdecode(b"note in:" + LATIN1_FOLDER))
    assert paths(by_name) and all("caf\\xe9" in path for path in paths(by_name))
    by_option = run(library, "search", "note", "--in", os.fsdecode(LATIN1_FOLDER))
    assert paths(by_option) == paths(by_name)


def test_an_argument_that_is_not_utf8_reaches_the_clip_model(model_home, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    from PIL import Image
    from skimage import data

    Image.fromarray(data.astronaut()).save(folder / "astronaut.jpg")
    run(model_home, "index", str(folder))
    result = run(model_home, "search", os.fsdecode(b"caf\xe9 \xff"))
    assert paths(result) == [str(folder / "astronaut.jpg")]


# -- words that look like options -----------------------------------------------------------------


def test_a_word_starting_with_a_dash_is_refused_with_the_way_to_search_for_it(library):
    line = fails(library, "search", "-draft")
    assert "no option -draft" in line
    assert "put -- before the text: desktop-search search -- -draft" in line


def test_double_dash_searches_for_a_word_starting_with_a_dash(library):
    found = paths(run(library, "search", "--", "-draft"))
    assert found and found[0].endswith("notes.txt")
    assert paths(run(library, "search", "--limit", "1", "--", "-draft invoice")) == found[:1]


def test_the_help_says_how_to_search_for_a_word_starting_with_a_dash(library):
    assert "desktop-search search -- -42" in run(library, "search", "--help").stdout


# -- filters without a value, and searches that find nothing --------------------------------------


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["invoice type:"], "type: needs a value"),
        (["invoice type:,"], "type:, names no type"),
        (["invoice in:"], "in: needs a value"),
        (['invoice in:""'], "in: needs a value"),
        (["invoice from:"], "from: needs a value"),
        (["invoice", "--in", ""], "in: needs a value"),
        (["invoice", "--from", ""], "from: needs a value"),
    ],
)
def test_an_empty_filter_is_refused_naming_it(library, args, named):
    assert named in fails(library, "search", *args)


def test_no_results_for_filters_names_them(library):
    result = run(library, "search", "invoice in:Tax type:text")
    assert result.stdout == ""
    assert result.stderr == (
        'no results for these filters among 3 indexed file(s): type:text in:"Tax" '
        "(remove or widen one of them)\n"
    )
    assert paths(run(library, "search", "return in:Tax type:text"))  # the filters do work


def test_no_results_without_filters_says_the_library_is_not_empty(library):
    result = run(library, "search", "zeppelin")
    assert result.stderr == "no results among 3 indexed file(s)\n"


def test_no_results_in_an_empty_library_asks_whether_anything_is_indexed(tmp_path):
    result = run(tmp_path / "home", "search", "invoice type:pdf")
    assert "is anything indexed?" in result.stderr


def test_a_phrase_without_letters_or_digits_requires_nothing(library):
    # It has nothing the keyword index could match: no FTS5 syntax error, results as without it.
    with_phrase = paths(run(library, "search", 'invoice "!!!"'))
    assert with_phrase == paths(run(library, "search", "invoice"))
