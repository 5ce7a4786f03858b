"""The documentation says what the code does (in the manner of sqlite-utils' docs tests).

- README.md's command table names every command of ``desktop-search``, and only those, with
  options they have;
- the query syntax, written in three places (README.md, ``search --help``, the docstring of
  ``search/query.py``), names the filter keys the parser accepts, and only those.

When one of these fails, the doc is out of date: fix the doc.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from itertools import takewhile
from pathlib import Path

import click
import pytest

from desktop_search.errors import QueryError
from desktop_search.search import query
from desktop_search.search.query import FILTER_KEYS, TYPES, parse_query

try:  # the package exports the root group once it is lazy; before that only its module does
    from desktop_search.cli import cli
except ImportError:
    from desktop_search.cli.root import cli

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
PROGRAM = "desktop-search"
# An option as written in a doc: -v, --json, --retry-failed (not the "--" before a text).
OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")
# A filter as written in a doc: type:pdf, in:~/Mail, has:"teddy bear" (not http://x or 10:30).
FILTER = re.compile(r"(?<![\w:/])([A-Za-z]+):(?=[^\s/])")


@dataclass(frozen=True)
class Row:
    """One row of the command table: the commands its first cell names, each with the options
    written after it (``--manifest FILE`` after a `` / `` belongs to the command before)."""

    line: int
    commands: dict[tuple[str, ...], set[str]]


def section(markdown: str, heading: str) -> list[tuple[int, str]]:
    """The numbered lines under ``heading`` up to the next heading of the same or a higher level."""
    lines = markdown.splitlines()
    level = heading.split(" ")[0]
    start = lines.index(heading)
    found = []
    for number, line in enumerate(lines[start + 1 :], start + 2):
        if line.startswith("#") and line.split(" ")[0] <= level:
            break
        found.append((number, line))
    return found


def cells(row: str) -> list[str]:
    """The cells of a Markdown table row (``\\|`` is a pipe inside a cell)."""
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", row.strip().strip("|"))]


def context(command: click.Command, name: str, parent: click.Context | None) -> click.Context:
    return click.Context(command, info_name=name, parent=parent)


@cache
def commands() -> dict[tuple[str, ...], click.Command]:
    """Every command that runs something, by its path: ``("index",)``, ``("models", "fetch")``.

    Read through click's public API, so a lazy group (commands imported on use) works too."""
    found: dict[tuple[str, ...], click.Command] = {}

    def walk(group: click.Group, path: tuple[str, ...], ctx: click.Context) -> None:
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            assert command is not None, f"{' '.join(path + (name,))} is listed but cannot load"
            if command.hidden:
                continue
            if isinstance(command, click.Group):
                walk(command, path + (name,), context(command, name, ctx))
            else:
                found[path + (name,)] = command

    walk(cli, (), context(cli, PROGRAM, None))
    return found


def options_of(command: click.Command) -> set[str]:
    return {
        name
        for param in command.params
        if isinstance(param, click.Option)
        for name in (*param.opts, *param.secondary_opts)
    } | {"--help"}


def command_words(words: list[str]) -> tuple[str, ...]:
    """The command a span of the table names: its leading lower-case words (``models fetch`` of
    ``models fetch ID [--commit SHA]``); arguments are upper-case or in brackets."""
    return tuple(takewhile(lambda word: re.fullmatch(r"[a-z][\w-]*", word), words))


def command_table() -> list[Row]:
    rows = []
    for number, line in section(README.read_text(encoding="utf-8"), "## Commands"):
        if not line.startswith(f"| `{PROGRAM}"):
            continue
        named: dict[tuple[str, ...], set[str]] = {}
        last: tuple[str, ...] | None = None
        for span in re.findall(r"`([^`]+)`", cells(line)[0]):
            words = span.split()
            if words[0] == PROGRAM:
                words = words[1:]
            if not span.startswith("-"):  # `models remove ID`: a command of its own
                last = command_words(words)
                named.setdefault(last, set())
            assert last is not None, f"README.md:{number}: {span!r} follows no command"
            named[last] |= set(OPTION.findall(span))
        rows.append(Row(number, named))
    return rows


def test_the_command_table_can_be_read():
    rows = command_table()
    assert len(rows) >= 10
    named = {path: options for row in rows for path, options in row.commands.items()}
    assert {"--commit", "--json", "--manifest"} <= named[("models", "fetch")]  # after " / " too
    assert ("models", "use") in named and ("models", "remove") in named  # two in one row


def test_every_command_is_in_the_readme_table():
    in_table = {path for row in command_table() for path in row.commands}
    missing = [" ".join(path) for path in commands() if path not in in_table]
    assert missing == [], "add a row to the table under '## Commands' in README.md"


def test_every_row_of_the_readme_table_names_a_command_with_its_options():
    problems = []
    for row in command_table():
        for path, options in row.commands.items():
            written = f"README.md:{row.line}: {' '.join((PROGRAM, *path))}"
            if path not in commands():
                problems.append(f"{written}: no such command")
                continue
            unknown = sorted(options - options_of(commands()[path]))
            if unknown:
                problems.append(f"{written}: no option {', '.join(unknown)}")
    assert problems == [], "\n".join(problems)


def test_the_global_options_in_the_readme_exist():
    lines = [line for _, line in section(README.read_text(encoding="utf-8"), "## Commands")]
    start = next(i for i, line in enumerate(lines) if line.startswith("Global options:"))
    paragraph = " ".join(lines[start : lines.index("", start)])
    written = {
        option for span in re.findall(r"`([^`]+)`", paragraph) for option in OPTION.findall(span)
    }
    assert {"--home", "--debug"} <= written
    assert sorted(written - options_of(cli)) == []


# --- the query syntax --------------------------------------------------------------------------


def accepted(key: str) -> bool:
    """Whether the parser takes ``key:`` for a filter (it then wants a value) rather than a word
    (an unknown ``key:value`` such as ``10:30`` stays a word)."""
    try:
        parse_query(f"{key}:")
    except QueryError as error:
        return "needs a value" in str(error)
    return False


def filter_keys(text: str) -> set[str]:
    return {key.lower() for key in FILTER.findall(text)}


def readme_query_syntax() -> str:
    """The first cells of the table after "**Query syntax**" in README.md."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("**Query syntax**"))
    table = []
    for line in lines[start + 1 :]:
        if table and not line.startswith("|"):
            break
        if line.startswith("|"):
            table.append(cells(line)[0])
    return "\n".join(table)


def search_help_syntax() -> str:
    """The example lines of ``desktop-search search --help`` that show what TEXT may hold."""
    ctx = context(cli, PROGRAM, None)
    search = cli.get_command(ctx, "search")
    assert search is not None and search.help
    block = search.help.split("TEXT may hold filters")[1].split("\n\n")[0]
    return "\n".join(line for line in block.splitlines() if line.startswith("  "))


def docstring_syntax() -> str:
    """The indented example of the search box's syntax in ``search/query.py``'s docstring."""
    assert query.__doc__
    return "\n".join(line for line in query.__doc__.splitlines() if line.startswith("    "))


DOCS = {
    "README.md (Query syntax)": readme_query_syntax,
    "search --help": search_help_syntax,
    "search/query.py docstring": docstring_syntax,
}


def test_the_parser_accepts_exactly_its_filter_keys():
    assert [key for key in FILTER_KEYS if not accepted(key)] == []
    assert not accepted("http") and not accepted("10")  # the probe can say no


@pytest.mark.parametrize("doc", DOCS)
def test_the_query_syntax_documents_every_filter_and_no_other(doc):
    documented = filter_keys(DOCS[doc]())
    assert sorted(set(FILTER_KEYS) - documented) == [], f"{doc} does not show these filters"
    assert sorted(key for key in documented if not accepted(key)) == [], f"{doc}: no such filter"


@pytest.mark.parametrize("doc", ["README.md (Query syntax)", "search --help"])
def test_the_query_syntax_names_every_type(doc):
    text = DOCS[doc]()
    written = set(re.findall(r"type:([\w|]+)", text))
    types = {name for value in written for name in value.split("|")}
    assert types == set(TYPES)


def test_every_filter_is_also_an_option_of_search():
    """README.md: the query syntax works "also as options of `search`"."""
    options = options_of(commands()[("search",)])
    assert [key for key in FILTER_KEYS if f"--{key}" not in options] == []


def test_every_file_the_architecture_names_for_a_newcomer_exists():
    """docs/ARCHITECTURE.md's "Where to look": each question answered by one file that exists."""
    text = (REPO / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    table = text.split("## Where to look", 1)[1]
    answers = re.findall(r"^\| Where [^|]+\| `([^`]+)` \|$", table, flags=re.M)
    assert len(answers) >= 3
    assert [path for path in answers if not (REPO / path).is_file()] == []
