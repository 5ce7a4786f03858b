"""The judged queries of issue 19's long-documents set (``benchmarks/long_docs_set.py``).

Each query names its answers: per file of the set, the pages (1-based, as the app's ``{"page":
N}`` locators count them: the PDF's own page order, not the printed page numbers) that answer
it, or ``None`` for an e-mail (a message is one place). ``note`` says what the answer pages say.

How they were judged: the queries were written first, from the manuals' tables of contents and
their text, before any search ran on the set. For each one the pages' text (``pages/*.json``,
what the app indexes) was searched for every place the topic is treated (the section's title,
its function names and two or three of its words), and the candidate pages were read; a page is
an answer when a reader who asked the query would be satisfied there: it explains or shows the
thing asked, not merely names it (an index entry, a table of contents line or a passing mention
is not an answer). Where the same answer is given in two manuals, or continues over two pages,
all those pages are answers. After the first run, one query's answers were widened by searching
the text again (q19: the profiler and ``cputime`` pages); no answer was taken from search hits.

Types:
- ``keyword``: the exact terms a user who knows the vocabulary types (a function, an option);
- ``question``: a question in plain words, sharing some words with the answer;
- ``paraphrase``: says it in other words. ``check_queries`` checks mechanically that no word of
  5 or more letters in the query that is rare in the set (on fewer than ``RARE_SHARE`` of all
  pages; compared after a light stemming) occurs on any of its answer pages.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

QUERY_TYPES = ("keyword", "question", "paraphrase")
RARE_SHARE = 0.05  # a word on fewer than 5% of the set's pages is rare

R_INTRO, R_DATA, R_LANG = "manuals/R-intro.pdf", "manuals/R-data.pdf", "manuals/R-lang.pdf"
R_EXTS, R_ADMIN, R_FAQ = "manuals/R-exts.pdf", "manuals/R-admin.pdf", "manuals/R-FAQ.pdf"
GNUPLOT, OCTAVE, LIBOCTAVE = "manuals/gnuplot.pdf", "manuals/octave.pdf", "manuals/liboctave.pdf"


def mail(name: str) -> str:
    return f"mail/python-email-{name}.eml"


@dataclass(frozen=True)
class Case:
    id: str
    type: str
    text: str
    answers: dict[str, tuple[int, ...] | None]
    note: str


BOUNCES = {mail(m): None for m in ("msg_05", "msg_16", "msg_25", "msg_42", "msg_43")}

# fmt: off
QUERIES: tuple[Case, ...] = (
    # -- R: An Introduction to R --------------------------------------------------------------
    Case("k01", "keyword", "tapply ragged arrays", {R_INTRO: (23, 24)},
          "4.2 The function tapply() and ragged arrays, over two pages"),
    Case("q01", "question", "How do I compute the mean of a variable for each level of a factor?",
          {R_INTRO: (23, 24)}, "tapply(incomes, statef, mean): means per state"),
    Case("p01", "paraphrase", "In R summarise a measurement separately within every category",
          {R_INTRO: (23, 24)}, "tapply applies a function to each group of a factor"),
    Case("k02", "keyword", "attach detach data frame search path", {R_INTRO: (37, 38)},
          "6.3.2 attach() and detach(); 6.3.3/6.3.4 working with and attaching lists"),
    Case("p02", "paraphrase", "use the columns of a table by their bare names without a prefix",
          {R_INTRO: (37, 38)}, "attach() makes data frame components visible as variables"),
    Case("q02", "question", "In R, what happens when I add two vectors of different lengths?",
          {R_INTRO: (15, 29), R_LANG: (21,)},
          "shorter vectors are recycled: R-intro 2.2 and 5.4.1, R-lang 3.3.1 Recycling rules"),
    Case("k03", "keyword", "outer product %o%", {R_INTRO: (29,)},
          "5.5 The outer product of two arrays"),
    Case("p03", "paraphrase",
          "every pairwise result of multiplying the entries of two vectors, laid out as a grid",
          {R_INTRO: (29,)}, "the outer product a %o% b"),
    Case("q03", "question", "How do I solve a system of linear equations in R?",
          {R_INTRO: (31,)}, "5.7.4 Linear equations and inversion: solve(A, b)"),
    Case("p04", "paraphrase", "In R find the vector x so that a square table times x gives a "
          "known right-hand side", {R_INTRO: (31,)}, "solve(A, b)"),
    Case("p05", "paraphrase", "several small graphs arranged in a grid of rows and columns on "
          "one page", {R_INTRO: (85, 86), GNUPLOT: (172, 173, 174), OCTAVE: (414,)},
          "par(mfrow=...) in R; set multiplot layout in gnuplot; subplot in Octave"),
    # -- R Data Import/Export -----------------------------------------------------------------
    Case("k04", "keyword", "read.fwf fixed width format", {R_DATA: (15,)},
          "2.2 Fixed-width-format files"),
    Case("p06", "paraphrase", "load a text file whose values sit in set character positions "
          "with nothing between them", {R_DATA: (15,)}, "read.fwf for fixed-width files"),
    Case("q04", "question", "How can I read an Excel spreadsheet into R?", {R_DATA: (27, 36)},
          "9 Reading Excel spreadsheets; 4.3.2 RODBC reading a spreadsheet"),
    Case("q05", "question", "How do I get data from a MySQL database into R?",
          {R_DATA: (24, 25)}, "4.3 R interface packages: RMySQL/DBI and an RMySQL session"),
    # -- R Language Definition ----------------------------------------------------------------
    Case("k05", "keyword", "promise objects lazy evaluation", {R_LANG: (10, 11, 32, 33)},
          "2.1.8 Promise objects; 4.3.3 Argument evaluation"),
    Case("p07", "paraphrase", "arguments given to a function are only worked out at the moment "
          "the body first needs them", {R_LANG: (10, 32, 33)},
          "lazy evaluation of arguments (promises)"),
    Case("k06", "keyword", "UseMethod NextMethod dispatch",
          {R_LANG: (36, 37, 38, 39), R_INTRO: (59,)},
          "R-lang 5.4-5.5 UseMethod and NextMethod; R-intro 10.9 Object orientation"),
    Case("q06", "question", "How does R decide which method a generic function calls?",
          {R_LANG: (36, 37, 38), R_INTRO: (59,)},
          "UseMethod dispatches on the class attribute (R-lang 5.4; R-intro 10.9)"),
    # -- Writing R Extensions -----------------------------------------------------------------
    Case("k07", "keyword", "R_registerRoutines", {R_EXTS: (146, 147, 148)},
          "5.4 Registering native routines"),
    Case("p08", "paraphrase", "tell R up front which compiled entry points a package offers",
          {R_EXTS: (146, 147)}, "registering native routines"),
    Case("k08", "keyword", "PROTECT UNPROTECT garbage collection", {R_EXTS: (163, 164, 165)},
          "5.9.1 Handling the effects of garbage collection"),
    Case("p09", "paraphrase", "keep the memory manager from freeing my objects while my C "
          "function runs", {R_EXTS: (163, 164, 165)}, "PROTECT, R_PreserveObject"),
    Case("k09", "keyword", "Makevars PKG_LIBS", {R_EXTS: (34, 35)}, "1.2.1 Using Makevars"),
    Case("q07", "question", "How do I link a package's C code against an extra library?",
          {R_EXTS: (34, 35)}, "PKG_LIBS in src/Makevars"),
    Case("q08", "question", "What fields go in the DESCRIPTION file of an R package?",
          {R_EXTS: (11, 12, 13, 14, 15, 16)}, "1.1.1 The DESCRIPTION file"),
    # -- R Installation and Administration ----------------------------------------------------
    Case("k10", "keyword", "BLAS LAPACK linear algebra library", {R_ADMIN: tuple(range(52, 59))},
          "A.3 Linear algebra: BLAS, ATLAS, OpenBLAS, MKL, LAPACK"),
    Case("k11", "keyword", "R_LIBS_USER", {R_ADMIN: (29,)}, "6 Add-on packages, 6.1 libraries"),
    Case("q09", "question", "How do I install add-on packages into my own library directory?",
          {R_ADMIN: (29, 30), R_FAQ: (26, 27)},
          "R-admin: libraries, R_LIBS_USER, 6.3 Installing packages; R-FAQ 5.2: R CMD INSTALL -l"),
    Case("p10", "paraphrase", "pick the closest place to get add-ons from, then bring them in "
          "from inside the program", {R_ADMIN: (30,)},
          "chooseCRANmirror() then install.packages()"),
    # -- R FAQ --------------------------------------------------------------------------------
    Case("q10", "question", "Why doesn't R think these numbers are equal?", {R_FAQ: (41,)},
          "FAQ 7.31"),
    Case("p11", "paraphrase", "adding one tenth and two tenths does not give exactly three "
          "tenths", {R_FAQ: (41,)}, "FAQ 7.31: floating point, all.equal"),
    Case("q11", "question", "Why do lattice graphics not show up?", {R_FAQ: (39,)}, "FAQ 7.22"),
    Case("p12", "paraphrase", "In R my charts come out blank when drawn inside a loop or a script",
          {R_FAQ: (39,)}, "FAQ 7.22: lattice plots must be print()ed"),
    Case("k12", "keyword", "citing R in publications", {R_FAQ: (12,)}, "2.8 Citing R"),
    Case("p13", "paraphrase", "how to give credit to this software in a scientific article",
          {R_FAQ: (12,)}, "2.8 Citing R: citation()"),
    # -- gnuplot ------------------------------------------------------------------------------
    Case("k13", "keyword", "set logscale", {GNUPLOT: (167,)}, "Logscale"),
    Case("q12", "question", "How do I fit a curve to my data points in gnuplot?",
          {GNUPLOT: (91, 92, 93)}, "Fit: nonlinear least squares (Marquardt-Levenberg)"),
    Case("k14", "keyword", "set datafile separator comma", {GNUPLOT: (109, 144)},
          "Csv files; Set datafile separator"),
    Case("q13", "question", "How can I save a gnuplot plot as a PNG image?",
          {GNUPLOT: (275, 276)}, "the png and pngcairo terminals"),
    Case("p14", "paraphrase", "show days and times of day along the bottom axis",
          {GNUPLOT: (61, 209, 214, 221), OCTAVE: (968,)},
          "Time/Date data, set xdata time, set timefmt, xtics timedata; Octave's datetick"),
    Case("k15", "keyword", "set palette rgbformulae", {GNUPLOT: (181, 182, 183)},
          "set palette"),
    Case("q14", "question", "How do I plot only every tenth line of a data file?",
          {GNUPLOT: (109, 110)}, "the every keyword"),
    # -- Octave -------------------------------------------------------------------------------
    Case("k16", "keyword", "unwind_protect_cleanup", {OCTAVE: (204,)},
          "10.8 The unwind_protect Statement"),
    Case("p15", "paraphrase", "In Octave run tidy-up code whether or not the block raised an "
          "error", {OCTAVE: (204, 261)}, "unwind_protect; onCleanup"),
    Case("q15", "question", "How do I apply a function to each element of a cell array?",
          {OCTAVE: (150, 649, 650)}, "cellfun"),
    Case("k17", "keyword", "ode45", {OCTAVE: (747,)}, "ode45: non-stiff ODEs"),
    Case("q16", "question", "How do I solve an ordinary differential equation in Octave?",
          {OCTAVE: (26, 735, 736, 737, 747, 748)},
          "24.1: lsode (and its example in the introduction), ode45, ode23"),
    Case("k18", "keyword", "fzero", {OCTAVE: (660, 661)}, "fzero: zero of a univariate function"),
    Case("p16", "paraphrase", "In Octave locate the point where a function of one variable "
          "becomes zero", {OCTAVE: (660, 661)}, "fzero"),
    Case("k19", "keyword", "containers.Map", {OCTAVE: (140,)}, "6.1.x containers.Map"),
    Case("p17", "paraphrase", "In Octave keep values looked up by a text key, like a "
          "dictionary", {OCTAVE: (140,)}, "containers.Map holds key/value pairs"),
    Case("q17", "question", "How do I fit a polynomial to data in Octave?",
          {OCTAVE: (819, 820)}, "polyfit"),
    Case("k20", "keyword", "inputParser addParameter", {OCTAVE: (224, 225, 226)}, "inputParser"),
    Case("q18", "question", "How do I interpolate between data points in Octave?",
          {OCTAVE: (831, 832)}, "29.1 One-dimensional Interpolation: interp1"),
    Case("p18", "paraphrase", "In Octave estimate values in between measured points",
          {OCTAVE: (831, 832)}, "interp1"),
    Case("q19", "question", "How do I measure how long my Octave code takes to run?",
          {OCTAVE: (280, 281, 282, 283, 284, 285, 962, 963)},
          "tic and toc, cputime; 13.6-13.7 the profiler (time per function)"),
    Case("p19", "paraphrase", "In Octave make a variable inside a function keep its value from "
          "one call to the next", {OCTAVE: (156, 157, 158)}, "7.2 Persistent Variables"),
    Case("q20", "question", "What escape sequences can I use in double-quoted strings in "
          "Octave?", {OCTAVE: (87, 88)}, "5.1 Escape Sequences in String Constants"),
    Case("p20", "paraphrase", "In Octave put a line break or a tab character inside quoted text",
          {OCTAVE: (87, 88)}, "escape sequences in double-quoted strings"),
    Case("p22", "paraphrase", "In gnuplot tune the parameters of a formula until it matches "
          "observed points as closely as possible", {GNUPLOT: (91, 92, 93)},
          "fit: least-squares parameter search"),
    Case("p23", "paraphrase", "In Octave work out how a quantity changes over time given its "
          "rate of change", {OCTAVE: (26, 735, 736, 737, 747, 748)},
          "ordinary differential equations: lsode, ode45, ode23"),
    # -- e-mail -------------------------------------------------------------------------------
    Case("k21", "keyword", "Ppp digest", {mail("msg_02"): None}, "Ppp digest, Vol 1 #2"),
    Case("k22", "keyword", "Limiting Perl CPU Utilization",
          {mail("msg_32"): None, mail("msg_33"): None}, "the freebsd-isp thread"),
    Case("p21", "paraphrase", "the post office could not hand over my letter", BOUNCES,
          "delivery failure reports"),
    Case("q21", "question", "Which messages bounced back as undeliverable?", BOUNCES,
          "delivery failure reports"),
)
# fmt: on


# -- checks ------------------------------------------------------------------------------------

_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ied", "ers", "er", "es", "ed", "ly", "s")


def stem(word: str) -> str:
    """A light stem, so that "plotting" and "plots" meet "plot": strict for the check."""
    word = word.lower()
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def words(text: str) -> set[str]:
    return {stem(w) for w in re.findall(r"[A-Za-z]+", text)}


@lru_cache(maxsize=1)
def _pages() -> dict[str, list[set[str]]]:
    from benchmarks.long_docs_set import PDFS, load_pages

    return {name: [words(text) for text in load_pages(name)] for name in PDFS}


@lru_cache(maxsize=1)
def document_frequency() -> tuple[Counter, int]:
    """How many of the set's PDF pages hold each stem, and how many pages there are."""
    counts: Counter = Counter()
    total = 0
    for pages in _pages().values():
        for page in pages:
            counts.update(page)
            total += 1
    return counts, total


def rare_shared(case: Case) -> list[str]:
    """The query's rare words (5+ letters) that occur on one of its answer pages."""
    df, total = document_frequency()
    query = {stem(w) for w in re.findall(r"[A-Za-z]+", case.text) if len(w) >= 5}
    shared = set()
    for name, pages in case.answers.items():
        if pages is None:
            continue
        for page in pages:
            shared |= {w for w in query & _pages()[name][page - 1] if df[w] < RARE_SHARE * total}
    return sorted(shared)


def check_queries() -> list[str]:
    """What is wrong with the set of queries ([] when nothing is)."""
    from benchmarks.long_docs_set import MANIFEST

    files = json.loads(MANIFEST.read_text(encoding="utf-8"))["files"]
    problems = []
    ids = Counter(case.id for case in QUERIES)
    problems += [f"{i}: id used {n} times" for i, n in ids.items() if n > 1]
    if len(QUERIES) < 60:
        problems.append(f"{len(QUERIES)} queries: at least 60 wanted")
    paraphrases = sum(case.type == "paraphrase" for case in QUERIES)
    if paraphrases * 3 < len(QUERIES):
        problems.append(f"{paraphrases} paraphrases of {len(QUERIES)}: at least a third wanted")
    for case in QUERIES:
        if case.type not in QUERY_TYPES:
            problems.append(f"{case.id}: unknown type {case.type}")
        for name, pages in case.answers.items():
            if name not in files:
                problems.append(f"{case.id}: {name} is not in the set")
            elif pages is not None and not all(1 <= p <= files[name]["pages"] for p in pages):
                problems.append(f"{case.id}: {name} has no page among {pages}")
        if case.type == "paraphrase" and (shared := rare_shared(case)):
            problems.append(f"{case.id}: paraphrase shares rare words with its answer: {shared}")
    return problems
