# Over 400 lines: one job: the search box's language, parsed, and the FTS5 expression it makes.
"""The search box's syntax: free words, "quoted phrases" and filters such as ``type:pdf``.

    invoice "acme corp" type:pdf,mail after:2023-05 before:2024 in:"My Documents" from:anna
    beach has:dog has:"teddy bear"

Filter keys are case-insensitive; an unknown ``key:value`` ("10:30", "http://x") stays a word.
Dates are ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` and name a period: ``after:X`` keeps what is on
or after the start of X, ``before:X`` what is strictly before the start of X (so ``after:2023
before:2024`` is the year 2023). Folders and senders are kept as typed (``~`` is expanded by the
caller). Repeating a filter accumulates: types, folders and senders become alternatives, dates
narrow the range, and every ``has:`` object class must be in the photo (``has:dog has:person``).

A query holds at most ``MAX_WORDS`` words, ``MAX_FILTERS`` folders, senders and object classes,
and no word or value longer than ``MAX_VALUE_CHARS``: beyond those SQLite refuses the statement.
Text from a command line that is not UTF-8 (bytes held as surrogates U+DC80..U+DCFF) is searched
for with U+FFFD in their place, except in ``in:``, where the bytes name a real folder.

:func:`fts_match` turns a parsed query into an SQLite FTS5 MATCH expression that can never be a
syntax error, whatever the user typed.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from desktop_search.errors import QueryError
from desktop_search.models.runtime.coco import CLASS_ALIASES, COCO_CLASSES

# How a query is searched (searcher.py): by keywords, by meaning, or both fused.
HYBRID, KEYWORD, SEMANTIC = "hybrid", "keyword", "semantic"
MODES = (HYBRID, KEYWORD, SEMANTIC)
# Results of one search at most: SQLite takes a LIMIT up to 2**63 - 1 (a larger one is an
# OverflowError), and candidates are fetched up to 250 times the limit; nobody reads more.
MAX_LIMIT = 10_000

log = logging.getLogger(__name__)

TYPES = ("photo", "pdf", "mail", "chat", "text")
# "document" means the files people call documents: PDFs and plain-text notes (not mail or chats,
# which have their own types; Word files are not indexed, so "doc" cannot mean them).
TYPE_ALIASES: dict[str, tuple[str, ...]] = {
    **{name: (name,) for name in TYPES},
    **dict.fromkeys(("photos", "image", "images", "picture", "pictures"), ("photo",)),
    **dict.fromkeys(("pdfs",), ("pdf",)),
    **dict.fromkeys(("mails", "email", "emails", "e-mail", "e-mails"), ("mail",)),
    **dict.fromkeys(("chats", "message", "messages", "whatsapp", "telegram"), ("chat",)),
    **dict.fromkeys(("texts", "txt", "md", "note", "notes"), ("text",)),
    **dict.fromkeys(("document", "documents", "doc", "docs"), ("pdf", "text")),
}
FILTER_KEYS = ("type", "after", "before", "in", "from", "has")
FILTER_EXAMPLES = {
    "type": "type:pdf",
    "after": "after:2023-05",
    "before": "before:2024",
    "in": 'in:"My Documents"',
    "from": "from:anna",
    "has": "has:dog",
}
DATE_FORMATS_HINT = "write dates as YYYY, YYYY-MM or YYYY-MM-DD, e.g. after:2023-05 or before:2024"

# Caps that keep every query inside SQLite's limits with a wide margin (nobody types 64 folders
# or 256 words into a search box). Measured on SQLite 3.40.1 with its default
# SQLITE_MAX_EXPR_DEPTH of 1000: "Expression tree is too large" from 995 in: or from:
# alternatives (each adds one OR to one condition), and from 997 words without a model (file
# names must hold every word: one LIKE each, ANDed). FTS5 took 20,000 words without complaint.
MAX_FILTERS = 64  # in:, from: and has: values together, after duplicates are dropped
MAX_WORDS = 256  # words, the words of phrases included
# One word, phrase or filter value. A LIKE pattern over 50,000 bytes is "too complex" for SQLite
# (measured: 49,999 ASCII characters pass, 12,500 four-byte ones or 7,143 bytes of a folder name
# that is not UTF-8 do not; such a byte is 7 bytes in the database spelling, U+FFFF and four
# hex digits). 4,096 characters (Linux's PATH_MAX) stay under 28,700 bytes in any case.
MAX_VALUE_CHARS = 4096
# The whole text, checked before it is split: a pasted file is refused at once, not cut into a
# million pieces first. Roomier than any query within the caps above needs in practice.
MAX_QUERY_CHARS = 1 << 20

_SURROGATES = re.compile("[\ud800-\udfff]")
REPLACEMENT_CHARACTER = "\ufffd"
# One piece of the query: key:"quoted value", a "phrase" (an unclosed quote runs to the end),
# or a run of anything but whitespace and quotes.
_PIECE = re.compile(r'\s*(?:([A-Za-z]+):"([^"]*)"?|"([^"]*)"?|([^\s"]+))')
_FILTER = re.compile(r"([A-Za-z]+):(.*)", re.DOTALL)
_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


@dataclass(frozen=True)
class Filters:
    """Which files a search may return; empty fields do not filter."""

    types: frozenset[str] = frozenset()  # subset of TYPES; a hit has any of them
    after: date | None = None  # on or after this day
    before: date | None = None  # strictly before this day
    folders: tuple[str, ...] = ()  # a hit is inside any of them
    senders: tuple[str, ...] = ()  # a hit is from any of them
    objects: frozenset[str] = frozenset()  # detected object classes a photo holds, all of them

    def __post_init__(self) -> None:
        # Accept any iterables (a window's checkboxes hand over lists); keep first occurrences.
        object.__setattr__(self, "types", frozenset(self.types))
        object.__setattr__(self, "objects", frozenset(map(object_class, self.objects)))
        object.__setattr__(self, "folders", tuple(dict.fromkeys(self.folders)))
        object.__setattr__(self, "senders", tuple(dict.fromkeys(self.senders)))
        unknown = sorted(self.types - set(TYPES))
        if unknown:
            raise QueryError(f"unknown type '{unknown[0]}'", hint=_types_hint())
        alternatives = len(self.folders) + len(self.senders) + len(self.objects)
        if alternatives > MAX_FILTERS:  # each one more term in one SQL condition
            raise QueryError(
                f"too many filters: {alternatives} in:, from: and has: values "
                f"(at most {MAX_FILTERS})",
                hint="search in a folder above those folders, or with fewer senders or objects",
            )
        if self.after and self.before and self.after >= self.before:
            raise QueryError(
                f"no date is both on or after {self.after} and before {self.before}",
                hint="after:X keeps what is on or after the start of X, before:Y what is before "
                "the start of Y; make X earlier than Y",
            )

    @property
    def is_empty(self) -> bool:
        return not (
            self.types or self.after or self.before or self.folders or self.senders or self.objects
        )

    def merged(self, other: Filters) -> Filters:
        """Both filters at once, e.g. the window's controls and the filters typed in the query.

        Types and dates narrow (a hit must satisfy both sides); folders and senders add up as
        alternatives, like repeating ``in:`` or ``from:`` in one query. Types that exclude each
        other or a date range that becomes empty raise :class:`QueryError`.
        """
        both = bool(self.types and other.types)
        types = self.types & other.types if both else self.types | other.types
        if both and not types:
            raise QueryError(
                f"the type filters exclude each other ({_listed(self.types)} and "
                f"{_listed(other.types)})",
                hint="remove one of them",
            )
        return Filters(
            types=types,
            after=_latest(self.after, other.after),
            before=_earliest(self.before, other.before),
            folders=self.folders + other.folders,
            senders=self.senders + other.senders,
            objects=self.objects | other.objects,
        )

    def time_bounds(self) -> tuple[str | None, str | None]:
        """ISO 8601 strings to compare item times with: ``low <= time < high``.

        String comparison works for ISO times with or without a time of day or an offset:
        "2023-12-31T23:00:00+01:00" < "2024-01-01" <= "2024-01-01T00:00:00".
        """
        low = self.after.isoformat() if self.after else None
        high = self.before.isoformat() if self.before else None
        return low, high


@dataclass(frozen=True)
class ParsedQuery:
    """A search box's text, split into what is searched for and how results are filtered."""

    words: tuple[str, ...] = ()  # free words as typed, in order
    phrases: tuple[str, ...] = ()  # the text of each quoted phrase
    filters: Filters = field(default_factory=Filters)
    # Words and phrases interleaved as the user typed them; empty means words, then phrases.
    in_order: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.in_order:
            object.__setattr__(self, "in_order", self.words + self.phrases)

    @property
    def text(self) -> str:
        """What the semantic models embed: the words and phrases in the user's order."""
        return " ".join(self.in_order)

    @property
    def terms(self) -> tuple[str, ...]:
        """The distinct lower-cased words to mark in snippets and previews, in the user's order:
        every word inside a phrase, and the free words but function words ("in", "the": marked,
        they lit up every other word of a passage), unless the query has nothing else."""
        phrases = set(self.phrases)
        found = [
            (token.lower(), piece in phrases)
            for piece in self.in_order
            for token in split_words(piece)
        ]
        kept = [word for word, phrased in found if phrased or word not in STOPWORDS]
        return tuple(dict.fromkeys(kept or [word for word, _ in found]))

    @property
    def is_empty(self) -> bool:
        return not (self.words or self.phrases)

    @property
    def content_terms(self) -> tuple[str, ...]:
        """The lower-cased words that carry meaning: function words ("the", "my") left out,
        unless there is nothing else; words inside phrases always count."""
        words = [token.lower() for word in self.words for token in split_words(word)]
        content = [word for word in words if word not in STOPWORDS] or words
        phrased = [token.lower() for phrase in self.phrases for token in split_words(phrase)]
        return tuple(dict.fromkeys(content + phrased))


def parse_query(text: str) -> ParsedQuery:
    """Split a query into words, phrases and filters; bad filter values raise QueryError."""
    text = unicodedata.normalize("NFC", text)
    _check_length(text)  # before the pieces: a huge query is not split into a million words
    words: list[str] = []
    phrases: list[str] = []
    in_order: list[str] = []
    found: dict[str, list] = {key: [] for key in FILTER_KEYS}
    position = 0
    while match := _PIECE.match(text, position):
        position = match.end()
        key, quoted_value, phrase, word = match.groups()
        if key is not None and key.lower() in found:
            _add_filter(found, key.lower(), quoted_value)
            continue
        if key is not None:  # unknown key before a quote: a word, then a phrase
            word, phrase = f"{key}:", quoted_value
        if word is not None:
            if (filter_match := _FILTER.fullmatch(word)) and filter_match[1].lower() in found:
                _add_filter(found, filter_match[1].lower(), filter_match[2])
                continue
            word = _replace_undecodable(_checked_value(word))
            words.append(word)
            in_order.append(word)
        if phrase is not None and phrase.strip():
            phrase = _replace_undecodable(" ".join(_checked_value(phrase).split()))
            phrases.append(phrase)
            in_order.append(phrase)
    count = sum(len(piece.split()) for piece in in_order)
    if count > MAX_WORDS:
        raise QueryError(
            f"too many words: {count} (at most {MAX_WORDS})",
            hint="a few words that say what you are looking for find it best",
        )
    filters = Filters(
        types=frozenset(found["type"]),
        after=max(found["after"], default=None),
        before=min(found["before"], default=None),
        folders=tuple(found["in"]),
        senders=tuple(found["from"]),
        objects=frozenset(found["has"]),
    )
    return ParsedQuery(tuple(words), tuple(phrases), filters, tuple(in_order))


def fts_match(parsed: ParsedQuery, *, require_all: bool = False) -> str | None:
    """An FTS5 MATCH expression: every phrase required, and any word (every word if require_all).

    Each word or phrase becomes an FTS5 string of its tokens, so "e-mail" is the phrase "e mail"
    and operators or syntax characters typed by the user (- : * ( ) ^ AND OR NOT NEAR) are plain
    text. None when the query has no letters or digits to match.
    """
    phrases = _unique(map(_fts_string, parsed.phrases))
    words = [word for word in _unique(map(_fts_string, parsed.words)) if word not in phrases]
    if not require_all:
        # "letter from the doctor": any file with "the" in it is no keyword match. Words that
        # only say how a sentence hangs together are dropped, unless they are all there is.
        content = [word for word in words if word.strip('"').lower() not in STOPWORDS]
        words = content or words
    if require_all:
        return " AND ".join(phrases + words) or None
    if not phrases:
        return " OR ".join(words) or None
    if len(words) > 1:
        words = ["(" + " OR ".join(words) + ")"]
    return " AND ".join(phrases + words)


# Function words of English (the language of most queries here); not in "quotes" or require_all.
_STOPWORD_TEXT = """
    a about above after again all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further
    had has have having he her here hers him his how i if in into is it its just me more
    most my no nor not of off on once only or other our ours out over own same she should so
    some such than that the their them then there these they this those through to too under
    until up very was we were what when where which while who whom why will with would you
    your yours show find me photo photos picture pictures
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def split_words(text: str) -> list[str]:
    """The words of a text as FTS5's unicode61 tokenizer sees them: runs of letters and digits.

    Combining marks stay inside their word (like FTS5 does for accents written as separate
    characters); punctuation, symbols and emoji separate words.
    """
    return word_pattern().findall(text)


@cache
def word_pattern() -> re.Pattern[str]:
    """A letter or digit, then letters, digits and combining marks (built once, in ~10 ms)."""
    marks = _ranges(cp for cp in range(0x300, 0x10000) if unicodedata.category(chr(cp))[0] == "M")
    mark_class = "".join(f"\\u{low:04x}-\\u{high:04x}" for low, high in marks)
    return re.compile(rf"[^\W_](?:[^\W_]|[{mark_class}])*")


def describe_filters(filters: Filters) -> str:
    """``filters`` in the search box's syntax, e.g. ``type:pdf,text after:2023-05-01 in:"Tax"``
    (folders and senders quoted as typed; "" for no filter)."""
    parts = [f"type:{_listed(filters.types)}"] if filters.types else []
    parts += [f"after:{filters.after.isoformat()}"] if filters.after else []
    parts += [f"before:{filters.before.isoformat()}"] if filters.before else []
    parts += [f'in:"{folder}"' for folder in filters.folders]
    parts += [f'from:"{sender}"' for sender in filters.senders]
    parts += [f'has:"{name}"' if " " in name else f"has:{name}" for name in sorted(filters.objects)]
    return " ".join(parts)


def _check_length(text: str) -> None:
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(
            f"the query is too long ({len(text):,} characters, at most {MAX_QUERY_CHARS:,})",
            hint="a few words that say what you are looking for find it best",
        )


def _checked_value(value: str, key: str | None = None) -> str:
    """``value`` (a word, a phrase or a filter's value); QueryError when SQLite would refuse it."""
    if len(value) <= MAX_VALUE_CHARS:
        return value
    what = f"the value of {key}:" if key else "a word or phrase"
    raise QueryError(
        f"{what} is too long ({len(value):,} characters, at most {MAX_VALUE_CHARS:,})",
        hint="shorten it" if key else "a few words that say what you are looking for find it best",
    )


def _replace_undecodable(text: str) -> str:
    """``text`` with U+FFFD for each surrogate: bytes of a command-line argument that are not
    UTF-8 (no model, FTS5 or SQLite parameter takes a surrogate; sqlite3 raises)."""
    return _SURROGATES.sub(REPLACEMENT_CHARACTER, text) if _SURROGATES.search(text) else text


def _add_filter(found: dict[str, list], key: str, value: str) -> None:
    if not value.strip():
        raise QueryError(
            f"{key}: needs a value",
            hint=f"write it right after the colon, e.g. {FILTER_EXAMPLES[key]}",
        )
    value = _checked_value(value, key)
    if key != "in":  # a folder keeps its bytes: to_db spells them as the database does
        value = _replace_undecodable(value)
    if key == "type":
        found[key].extend(_parse_types(value))
    elif key in ("after", "before"):
        found[key].append(_parse_date(key, value))
    else:
        found[key].append(value)


def object_class(name: str) -> str:
    """A detector class from what the user typed: "dogs", "Teddy_Bear", "bike" are fine;
    QueryError for names the detector does not know."""
    typed = " ".join(name.replace("_", " ").replace("-", " ").lower().split())
    for candidate in (typed, typed[:-1] if typed.endswith("s") else None,
                      typed[:-2] if typed.endswith("es") else None):  # fmt: skip
        if candidate in COCO_CLASSES:
            return candidate
        if candidate in CLASS_ALIASES:
            return CLASS_ALIASES[candidate]
    raise QueryError(
        f"no object class '{name}'",
        hint="objects are COCO's 80 classes, e.g. has:person, has:dog, has:bicycle, has:car, "
        'has:cup, has:"teddy bear"',
    )


def _parse_types(value: str) -> list[str]:
    types = []
    for name in (part.strip().lower() for part in value.split(",")):
        if not name:
            continue
        if name not in TYPE_ALIASES:
            raise QueryError(f"unknown type '{name}'", hint=_types_hint())
        types.extend(TYPE_ALIASES[name])
    if not types:  # "type:," names no type: silently searching everything would be a lie
        raise QueryError(
            f"type:{value} names no type",
            hint=f"write one after the colon, e.g. {FILTER_EXAMPLES['type']}; {_types_hint()}",
        )
    return types


def _parse_date(key: str, value: str) -> date:
    match = _DATE.fullmatch(value.strip())
    try:
        if match is None:
            raise ValueError(value)
        year, month, day = match.groups()
        return date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        raise QueryError(f"bad date in '{key}:{value}'", hint=DATE_FORMATS_HINT) from None


def _fts_string(text: str) -> str | None:
    # Tokens are letters, digits and marks only, so they never hold a double quote to escape.
    tokens = split_words(text.lower())
    return '"' + " ".join(tokens) + '"' if tokens else None


def _unique(strings) -> list[str]:
    return [string for string in dict.fromkeys(strings) if string is not None]


def _ranges(codepoints) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for cp in codepoints:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    return ranges


def _types_hint() -> str:
    return f"types are {', '.join(TYPES)} (several: type:pdf,mail)"


def _listed(types: frozenset[str]) -> str:
    return ",".join(sorted(types))


def _latest(first: date | None, second: date | None) -> date | None:
    return max(first, second) if first and second else first or second


def _earliest(first: date | None, second: date | None) -> date | None:
    return min(first, second) if first and second else first or second
