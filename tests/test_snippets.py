"""Snippets: the passage around the query's words, with exact highlight offsets."""

import json
import time

from desktop_search.search.query import parse_query
from desktop_search.search.snippets import Snippet, make_snippet

STORY = (
    "Anna sent the invoice on Monday. "
    + "Nothing to see here at all. " * 5
    + "The invoice from the Café was paid in cash. "
    + "More filler words follow here. " * 5
)


def test_a_short_text_is_shown_whole_with_whole_words_highlighted():
    snippet = make_snippet("Paid at the Café de Flore.", ["cafe"])
    assert snippet == Snippet("Paid at the Café de Flore.", ((12, 16),))
    assert snippet.marked() == "Paid at the [Café] de Flore."


def test_whole_words_only_case_and_accent_insensitive():
    text = "Art party in Stuttgart: ART, art-deco and CAFÉ or cafe\u0301 (decomposed)"
    snippet = make_snippet(text, ["art", "Café"])
    assert snippet.text == "Art party in Stuttgart: ART, art-deco and CAFÉ or café (decomposed)"
    assert snippet.marked() == (
        "[Art] party in Stuttgart: [ART], [art]-deco and [CAFÉ] or [café] (decomposed)"
    )
    assert snippet.spans == ((0, 3), (24, 27), (29, 32), (42, 46), (50, 54))


def test_terms_of_four_letters_or_more_also_highlight_longer_words():
    snippet = make_snippet("Invoices, invoice and invoiced; inverse inv", ["invoice", "inv"])
    assert snippet.marked() == "[Invoices], [invoice] and [invoiced]; inverse [inv]"


def test_whitespace_is_collapsed():
    snippet = make_snippet("  Dear Anna,\n\n\tthe  invoice\r\nis   attached.  ", ["invoice"])
    assert snippet == Snippet("Dear Anna, the invoice is attached.", ((15, 22),))


def test_the_window_with_the_most_distinct_terms_wins():
    snippet = make_snippet(STORY, ["invoice", "cafe"], width=60)
    assert snippet.text == "…at all. The invoice from the Café was paid in cash. More…"
    assert snippet.spans == ((13, 20), (30, 34))
    assert snippet.marked("<b>", "</b>") == (
        "…at all. The <b>invoice</b> from the <b>Café</b> was paid in cash. More…"
    )


def test_ties_go_to_the_earliest_window():
    snippet = make_snippet(STORY, ["follow"], width=60)
    assert snippet.marked() == "…words [follow] here. More filler words [follow] here. More…"
    snippet = make_snippet(STORY, ["invoice"], width=60)
    assert snippet.marked() == "Anna sent the [invoice] on Monday. Nothing to see here at all.…"


def test_without_a_match_the_start_of_the_text():
    expected = "Anna sent the invoice on Monday. Nothing to see here at all.…"
    assert make_snippet(STORY, ["zebra"], width=60) == Snippet(expected)
    assert make_snippet(STORY, [], width=60) == Snippet(expected)
    assert make_snippet(STORY, ["", "--"], width=60) == Snippet(expected)
    assert make_snippet("", ["x"]) == Snippet("")
    assert make_snippet(" \n ", ["x"]) == Snippet("")


def test_cuts_fall_between_words():
    text = "one two three four five six seven eight nine ten eleven twelve"
    assert make_snippet(text, ["six"], width=20).marked() == "…five [six] seven eight…"
    assert make_snippet(text, ["two"], width=40).marked() == (
        "one [two] three four five six seven eight…"
    )
    # Near the end of the text the window shows more of what comes before.
    assert make_snippet(text, ["eleven"], width=40).marked() == (
        "…six seven eight nine ten [eleven] twelve"
    )
    assert make_snippet(text, ["twelve"], width=20).marked() == "…ten eleven [twelve]"


def test_a_word_glued_to_a_long_chunk_starts_the_snippet_itself():
    text = "see https://example.com/a/very/long/path/that/goes/on/and/on?invoice=1234 here"
    snippet = make_snippet(text, ["invoice"], width=30)
    assert snippet.marked() == "…[invoice]=1234 here"


def test_a_giant_word_is_cut():
    snippet = make_snippet("x" * 5000 + " tail", ["xxxx"], width=100)
    assert snippet.text == "x" * 224 + "…"  # twice the width and the slack of 100 // 8
    assert snippet.spans == ((0, 224),)


def test_phrase_and_punctuated_terms_from_a_parsed_query():
    parsed = parse_query('"annual report" e-mail')
    text = "Our Annual Report, sent by e-mail; the report is annual."
    assert make_snippet(text, parsed.terms).marked() == (
        "Our [Annual] [Report], sent by [e]-[mail]; the [report] is [annual]."
    )


def test_to_json():
    snippet = make_snippet("Paid at the Café.", ["cafe", "paid"])
    assert json.loads(json.dumps(snippet.to_json())) == {
        "text": "Paid at the Café.",
        "spans": [[0, 4], [12, 16]],
    }


def test_fifty_long_texts_take_well_under_a_second():
    texts = [(STORY * 4)[:4000] + f" document {number}" for number in range(50)]
    started = time.perf_counter()
    snippets = [make_snippet(text, ["invoice", "cafe", "document", "the"]) for text in texts]
    assert time.perf_counter() - started < 0.5
    assert all(len(snippet.text) <= 180 + 2 * 20 + 2 for snippet in snippets)
