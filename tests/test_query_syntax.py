"""The search box syntax: words, phrases, filters, errors, and the FTS5 MATCH expressions built
from it, run against a real SQLite FTS5 table."""

import os
import random
import sqlite3
from datetime import date

import pytest

from desktop_search.errors import QueryError
from desktop_search.search.query import (
    MAX_FILTERS,
    MAX_QUERY_CHARS,
    MAX_VALUE_CHARS,
    MAX_WORDS,
    Filters,
    ParsedQuery,
    describe_filters,
    fts_match,
    parse_query,
    split_words,
)


def test_words_phrases_and_filters():
    parsed = parse_query(
        'invoice "acme corp" TYPE:pdf,Mail after:2023-05 before:2024 in:"My Documents" from:anna'
    )
    assert parsed.words == ("invoice",)
    assert parsed.phrases == ("acme corp",)
    assert parsed.filters == Filters(
        types=frozenset({"pdf", "mail"}),
        after=date(2023, 5, 1),
        before=date(2024, 1, 1),
        folders=("My Documents",),
        senders=("anna",),
    )
    assert parsed.text == "invoice acme corp"
    assert parsed.terms == ("invoice", "acme", "corp")
    assert not parsed.is_empty


def test_text_keeps_the_users_order_and_terms_split_like_the_index():
    parsed = parse_query('"Annual  Report" for E-Mail "Café"')
    assert parsed.words == ("for", "E-Mail")
    assert parsed.phrases == ("Annual Report", "Café")
    assert parsed.text == "Annual Report for E-Mail Café"
    # Marked in snippets: a function word ("for") only inside a phrase, or when it is all there is.
    assert parsed.terms == ("annual", "report", "e", "mail", "café")
    assert parse_query('"in the" box').terms == ("in", "the", "box")
    assert parse_query("the who").terms == ("the", "who")


def test_an_unclosed_quote_runs_to_the_end():
    parsed = parse_query('receipt "hotel in  rome')
    assert parsed.words == ("receipt",)
    assert parsed.phrases == ("hotel in rome",)


def test_empty_phrases_and_whitespace_are_nothing():
    parsed = parse_query('  ""   "  " \t')
    assert parsed == ParsedQuery()
    assert parsed.is_empty
    assert parsed.text == ""
    assert parse_query("type:pdf").is_empty


def test_unknown_key_value_pairs_stay_words():
    parsed = parse_query('meeting 10:30 http://example.com note:"call bob" Re:hello')
    assert parsed.words == ("meeting", "10:30", "http://example.com", "note:", "Re:hello")
    assert parsed.phrases == ("call bob",)
    assert parsed.filters.is_empty


def test_repeated_filters_accumulate():
    parsed = parse_query(
        "type:pdf type:photos,E-MAIL in:~/Docs in:/tmp from:anna FROM:bob "
        "after:2020 after:2021-06 before:2023 before:2022-02-15"
    )
    assert parsed.filters.types == frozenset({"pdf", "photo", "mail"})
    assert parsed.filters.folders == ("~/Docs", "/tmp")
    assert parsed.filters.senders == ("anna", "bob")
    assert parsed.filters.after == date(2021, 6, 1)  # the later start
    assert parsed.filters.before == date(2022, 2, 15)  # the earlier end
    assert parsed.words == ()


@pytest.mark.parametrize(
    ("typed", "types"),
    [
        ("image", {"photo"}),
        ("photos", {"photo"}),
        ("email", {"mail"}),
        ("e-mail", {"mail"}),
        ("whatsapp", {"chat"}),
        ("telegram,messages", {"chat"}),
        ("md", {"text"}),
        ("txt,note", {"text"}),
        ("document", {"pdf", "text"}),
        ("doc", {"pdf", "text"}),
        ("pdf,,chat,", {"pdf", "chat"}),
    ],
)
def test_type_aliases(typed, types):
    assert parse_query(f"type:{typed}").filters.types == frozenset(types)


def test_quoted_folder_and_sender_keep_spaces_and_case():
    parsed = parse_query('in:"~/My Documents/Tax 2023" from:"Anna Smith" budget')
    assert parsed.filters.folders == ("~/My Documents/Tax 2023",)
    assert parsed.filters.senders == ("Anna Smith",)
    assert parsed.words == ("budget",)


@pytest.mark.parametrize(
    ("typed", "after"),
    [("2023", date(2023, 1, 1)), ("2023-05", date(2023, 5, 1)), ("2023-5-7", date(2023, 5, 7))],
)
def test_date_formats(typed, after):
    assert parse_query(f"after:{typed}").filters.after == after
    assert parse_query(f"before:{typed}").filters.before == after


def test_time_bounds_compare_with_iso_times():
    low, high = parse_query("after:2023 before:2024").filters.time_bounds()
    assert (low, high) == ("2023-01-01", "2024-01-01")
    inside = ["2023-01-01T00:00:00", "2023-12-31T23:59:59+05:00", "2023-06-01"]
    outside = ["2022-12-31T23:59:59", "2024-01-01T00:00:00", "2024-01-01"]
    assert all(low <= time < high for time in inside)
    assert not any(low <= time < high for time in outside)
    assert Filters().time_bounds() == (None, None)


@pytest.mark.parametrize(
    ("query", "message", "hint_part"),
    [
        ("type:pdff", "unknown type 'pdff'", "photo, pdf, mail, chat, text"),
        ("type:pdf,vid", "unknown type 'vid'", "type:pdf,mail"),
        ("after:2023-13-01", "bad date in 'after:2023-13-01'", "YYYY, YYYY-MM or YYYY-MM-DD"),
        ("before:2023-02-30", "bad date in 'before:2023-02-30'", "YYYY-MM-DD"),
        ("after:23-01-01", "bad date in 'after:23-01-01'", "YYYY-MM-DD"),
        ("after:yesterday", "bad date in 'after:yesterday'", "YYYY-MM-DD"),
        ("after:2024 before:2023-06", "no date is both on or after 2024-01-01 and before "
         "2023-06-01", "make X earlier than Y"),
        ("after:2024 before:2024", "no date is both on or after 2024-01-01 and before "
         "2024-01-01", "earlier"),
        ("type:", "type: needs a value", "e.g. type:pdf"),
        ("cats from: bob", "from: needs a value", "right after the colon"),
        ('in:""', "in: needs a value", 'in:"My Documents"'),
        ("in:", "in: needs a value", 'in:"My Documents"'),
        ("from:", "from: needs a value", "e.g. from:anna"),
        ("has:", "has: needs a value", "e.g. has:dog"),
        ("beach type:,", "type:, names no type", "types are photo, pdf"),
        ("type:, ,", "type:, names no type", "e.g. type:pdf"),
    ],
)  # fmt: skip
def test_bad_filters_raise_query_errors_with_hints(query, message, hint_part):
    with pytest.raises(QueryError) as caught:
        parse_query(query)
    assert caught.value.message == message
    assert hint_part in caught.value.hint


def test_merged_filters_narrow_types_and_dates_and_add_places():
    window = Filters(types={"pdf", "mail"}, after=date(2020, 1, 1), folders=("/a",))
    typed = parse_query("type:mail,chat before:2022 after:2021 in:/b from:anna").filters
    assert window.merged(typed) == Filters(
        types=frozenset({"mail"}),
        after=date(2021, 1, 1),
        before=date(2022, 1, 1),
        folders=("/a", "/b"),
        senders=("anna",),
    )
    assert Filters().merged(typed) == typed
    assert typed.merged(Filters()) == typed
    assert Filters().merged(Filters()).is_empty


def test_merged_filters_that_exclude_each_other_raise():
    with pytest.raises(QueryError, match="exclude each other"):
        Filters(types={"photo"}).merged(Filters(types={"pdf"}))
    with pytest.raises(QueryError, match="no date is both"):
        Filters(after=date(2024, 1, 1)).merged(Filters(before=date(2023, 1, 1)))


def test_filters_reject_unknown_types():
    with pytest.raises(QueryError, match="unknown type 'video'"):
        Filters(types={"video"})


def test_split_words_like_unicode61():
    assert split_words("e-mail C++ 10:30 O'Brien naïve cafe\u0301 under_score 😀x") == [
        "e",
        "mail",
        "C",
        "10",
        "30",
        "O",
        "Brien",
        "naïve",
        "cafe\u0301",
        "under",
        "score",
        "x",
    ]


@pytest.mark.parametrize(
    ("query", "require_all", "expected"),
    [
        ("invoice", False, '"invoice"'),
        ("Invoice March", False, '"invoice" OR "march"'),
        ("Invoice March", True, '"invoice" AND "march"'),
        ('"acme corp"', False, '"acme corp"'),
        ('"acme corp" march', False, '"acme corp" AND "march"'),
        ('"acme corp" march invoice', False, '"acme corp" AND ("march" OR "invoice")'),
        ('"acme corp" march invoice', True, '"acme corp" AND "march" AND "invoice"'),
        ('"a b" "c"', False, '"a b" AND "c"'),
        ("e-mail", False, '"e mail"'),
        ("10:30", False, '"10 30"'),
        ("invoice INVOICE Invoice", False, '"invoice"'),
        ('"invoice" invoice', False, '"invoice"'),
        ("-invoice NOT AND OR NEAR", False, '"invoice" OR "near"'),
        ("col:x NEAR(a b) ^start x*", False, '"col x" OR "near a" OR "b" OR "start" OR "x"'),
        ("type:pdf", False, None),
        ("", False, None),
        ('- * ( ) ^ : "" 😀 +', False, None),
        ('- * ( ) ^ : "" 😀 +', True, None),
    ],
)
def test_fts_match_expressions(query, require_all, expected):
    assert fts_match(parse_query(query), require_all=require_all) == expected


ROWS = {
    1: "Invoice from ACME Corp for March",
    2: "Send me an e-mail about the invoice",
    3: "Receipt from the Café de Flore",
    4: "C++ templates and (parentheses) NEAR the operators",
    5: "Meeting at 10:30 in room 5",
    6: "ACME corporate retreat in May",
    7: "Ŝtupoj kaj naïve ÜBER straße",
}


@pytest.fixture(scope="module")
def fts():
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE VIRTUAL TABLE t USING fts5(body, tokenize = 'unicode61 remove_diacritics 2')"
    )
    db.executemany("INSERT INTO t(rowid, body) VALUES (?, ?)", ROWS.items())
    yield db
    db.close()


def matching(db, query: str, *, require_all: bool = False) -> list[int]:
    expression = fts_match(parse_query(query), require_all=require_all)
    if expression is None:
        return []
    return [row for (row,) in db.execute("SELECT rowid FROM t WHERE t MATCH ?", (expression,))]


@pytest.mark.parametrize(
    ("query", "require_all", "rows"),
    [
        ("invoice", False, [1, 2]),
        ("e-mail", False, [2]),
        ("email", False, []),
        ("cafe", False, [3]),
        ("CAFÉ", False, [3]),
        ("naive uber", True, [7]),
        ("stupoj", False, [7]),
        ('"acme corp"', False, [1]),
        ("acme corp", False, [1, 6]),
        ("invoice march", True, [1]),
        ('"acme corp" march invoice', False, [1]),
        ('"the invoice" acme', False, []),
        ('"the invoice" e-mail', False, [2]),
        ("10:30", False, [5]),
        ("10:31", False, []),
        ("C++", False, [4]),
        ("NEAR", False, [4]),
        ("AND", False, [4]),
        ("-invoice", False, [1, 2]),
        ("(parentheses)", False, [4]),
        ("body:invoice", False, []),
        ("rowid:1 invoice", True, []),
        ("room* templates", False, [4, 5]),
    ],
)
def test_fts_match_on_a_real_fts5_table(fts, query, require_all, rows):
    assert sorted(matching(fts, query, require_all=require_all)) == rows


NASTY = [
    '"', "'", "(", ")", "-", "*", "^", ":", "+", "{", "}", "\\", "AND", "OR", "NOT", "NEAR",
    "NEAR(", "body:", "rowid:", "a:b", "x*", "-x", "^x", "{body}:x", "'x'", '"x', 'x"', "\x00",
    "😀", "Ω", "ç", "e\u0301", "ﬁ", "İ", "ß", "\u200b", "\t", "\n", "in:", "type:", "10:30",
]  # fmt: skip


def test_nasty_queries_never_break_fts5(fts):
    generator = random.Random(6)
    queries = [*NASTY, *(" ".join(pair) for pair in zip(NASTY, reversed(NASTY), strict=True))]
    queries += [
        "".join(generator.choice(NASTY) for _ in range(generator.randint(1, 8)))
        for _ in range(2000)
    ]
    for query in queries:
        try:
            parsed = parse_query(query)
        except QueryError:
            continue  # e.g. "type:" without a value: the user gets a hint, not an FTS5 error
        for require_all in (False, True):
            matching(fts, query, require_all=require_all)  # raises on an FTS5 syntax error
        assert parsed.terms == tuple(t.lower() for t in parsed.terms)


def test_function_words_are_dropped_from_keyword_matches_unless_alone():
    assert fts_match(parse_query("letter from the doctor")) == '"letter" OR "doctor"'
    assert fts_match(parse_query("the who")) == '"the" OR "who"'  # nothing else to match
    assert fts_match(parse_query('"the who" live')) == '"the who" AND "live"'
    assert fts_match(parse_query("the doctor"), require_all=True) == '"the" AND "doctor"'


# -- caps and command-line text (issue 15, item 5) ------------------------------------------------


def test_words_up_to_the_cap_and_one_more_is_refused():
    assert len(parse_query(" ".join(f"w{i}" for i in range(MAX_WORDS))).words) == MAX_WORDS
    with pytest.raises(QueryError) as caught:
        parse_query(" ".join(f"w{i}" for i in range(1200)))
    assert caught.value.message == f"too many words: 1200 (at most {MAX_WORDS})"
    # The words of phrases count too: each one is a term of the search in file names.
    phrase = '"' + " ".join(f"p{i}" for i in range(MAX_WORDS)) + '"'
    with pytest.raises(QueryError, match="too many words: 257"):
        parse_query(f"{phrase} extra")


@pytest.mark.parametrize("key", ["in", "from"])
def test_filters_up_to_the_cap_and_one_more_is_refused(key):
    within = parse_query(" ".join(f"{key}:f{i}" for i in range(MAX_FILTERS))).filters
    assert len(within.folders) + len(within.senders) == MAX_FILTERS
    with pytest.raises(QueryError) as caught:
        parse_query(" ".join(f"{key}:f{i}" for i in range(1200)))
    assert caught.value.message == (
        f"too many filters: 1200 in:, from: and has: values (at most {MAX_FILTERS})"
    )
    # Repeating one value is one filter.
    assert parse_query(" ".join([f"{key}:same"] * 1200)).filters.is_empty is False


def test_filter_cap_counts_folders_senders_and_objects_together_also_when_merged():
    half = MAX_FILTERS // 2
    typed = parse_query(" ".join(f"in:f{i}" for i in range(half))).filters
    window = Filters(senders=[f"s{i}" for i in range(half)])
    assert len(typed.merged(window).folders) == half  # exactly at the cap
    with pytest.raises(QueryError, match="too many filters"):
        typed.merged(Filters(senders=[f"s{i}" for i in range(half)], objects=["dog"]))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("w" * (MAX_VALUE_CHARS + 1), "a word or phrase is too long (4,097 characters"),
        ('"' + "w" * (MAX_VALUE_CHARS + 1) + '"', "a word or phrase is too long"),
        ("in:" + "f" * (MAX_VALUE_CHARS + 1), "the value of in: is too long (4,097 characters"),
        ('from:"' + "s" * (MAX_VALUE_CHARS + 1) + '"', "the value of from: is too long"),
        ("x " * (MAX_QUERY_CHARS // 2 + 1), "the query is too long"),
    ],
)
def test_overlong_words_values_and_queries_are_refused(query, message):
    with pytest.raises(QueryError) as caught:
        parse_query(query)
    assert caught.value.message.startswith(message)
    assert "\n" not in str(caught.value)


def test_longest_values_are_accepted():
    parsed = parse_query("w" * MAX_VALUE_CHARS + " in:" + "f" * MAX_VALUE_CHARS)
    assert parsed.words == ("w" * MAX_VALUE_CHARS,)
    assert parsed.filters.folders == ("f" * MAX_VALUE_CHARS,)


def test_undecodable_command_line_bytes_become_replacement_characters_except_in_folders():
    # What Python makes of the argument $'caf\xe9 \xff': surrogate escapes of the bytes.
    raw = os.fsdecode(b"caf\xe9 \xff from:\xff has:dog in:caf\xe9 type:pdf")
    parsed = parse_query(raw)
    assert parsed.words == ("caf\ufffd", "\ufffd")
    assert parsed.text == "caf\ufffd \ufffd"
    assert parsed.filters.senders == ("\ufffd",)
    assert parsed.filters.folders == (os.fsdecode(b"caf\xe9"),)  # the folder's real name
    assert parse_query(os.fsdecode(b'"\xff phrase"')).phrases == ("\ufffd phrase",)
    with pytest.raises(QueryError, match="unknown type '\ufffd'"):
        parse_query(os.fsdecode(b"type:\xff"))


def test_describe_filters_writes_what_parses_back():
    typed = 'type:pdf,mail after:2023-05 before:2024 in:"My Documents" from:anna has:"teddy bear"'
    filters = parse_query(typed).filters
    described = describe_filters(filters)
    assert described == (
        'type:mail,pdf after:2023-05-01 before:2024-01-01 in:"My Documents" from:"anna" '
        'has:"teddy bear"'
    )
    assert parse_query(described).filters == filters
    assert describe_filters(Filters()) == ""
