"""Document search quality: recall@10 and nDCG@10 of keyword, semantic and hybrid search.

The corpus is ``benchmarks/retrieval_corpus.py``: about sixty invented personal documents (PDFs,
text and Markdown notes, e-mails, two WhatsApp chats) and 45 queries with known answers, fifteen
of each type: ``keyword`` (a rare exact token: a booking reference, a surname, a model number),
``semantic`` (no content word in common with the answer) and ``mixed``. Relevance is graded:
2 for the answer, 1 for a file that is also useful.

Each run writes the corpus to a scratch folder, makes a library home with the real
all-MiniLM-L6-v2 (converted to int8 ONNX once and cached under ``--models-cache``; no CLIP
model), indexes the corpus with ``Library.index`` and runs every query in every mode with
``limit=10``. A hit is a file. Nothing is written into the repository besides the model cache.

The goal (issue 6): hybrid beats both keyword-only and semantic-only. ``--check`` exits 1
unless hybrid's nDCG@10 over all queries is higher than both others' and its recall@10 is not
lower than either.

    .venv/bin/python -m benchmarks.retrieval_eval [--verbose] [--json] [--markdown] [--check]
        [--keep DIR] [--models-cache DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import textwrap
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python benchmarks/retrieval_eval.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import CACHE, index_with_text_model  # noqa: E402
from benchmarks.retrieval_corpus import DOCUMENTS, QUERIES, QUERY_TYPES, write_corpus  # noqa: E402
from benchmarks.retrieval_metrics import (  # noqa: E402
    first_relevant_rank,
    mean,
    ndcg_at_k,
    recall_at_k,
)
from benchmarks.retrieval_records import MailFile, PdfFile  # noqa: E402

MODES = ("keyword", "semantic", "hybrid")
K = 10
TYPE_LABELS = {"keyword": "keyword-friendly", "semantic": "paraphrase", "mixed": "mixed"}


# -- the library -------------------------------------------------------------------------------


def build_library(workdir: Path, models_cache: Path) -> tuple[Path, Path, dict]:
    """Write the corpus and index it into a new library home; returns (corpus, home, facts)."""
    corpus, home = workdir / "corpus", workdir / "home"
    write_corpus(corpus)
    return corpus, home, index_with_text_model(home, [corpus], models_cache)


def run_queries(home: Path, corpus: Path) -> tuple[dict, dict]:
    """Every query in every mode: ({mode: {query id: [relative path, ...]}}, {mode: [ms]})."""
    from desktop_search.app.library import Library
    from desktop_search.search.searcher import Query

    ranked: dict[str, dict[str, list[str]]] = {mode: {} for mode in MODES}
    timings: dict[str, list[float]] = {mode: [] for mode in MODES}
    with Library.open(home) as library:
        library.search(Query(text="warm up", limit=K, mode="hybrid"))  # loads the model
        for mode in MODES:
            for case in QUERIES:
                started = time.perf_counter()
                hits = library.search(Query(text=case.text, limit=K, mode=mode))
                timings[mode].append((time.perf_counter() - started) * 1000)
                ranked[mode][case.id] = [_relative(hit.path, corpus) for hit in hits]
    return ranked, timings


def _relative(path: str, corpus: Path) -> str:
    try:
        return Path(path).resolve().relative_to(corpus.resolve()).as_posix()
    except ValueError:
        return str(path)


# -- scoring -----------------------------------------------------------------------------------


def score(ranked: dict[str, dict[str, list[str]]]) -> dict:
    """Per query and per mode: recall@K, nDCG@K, rank of the first relevant file; and means."""
    per_query = {
        mode: {
            case.id: {
                "type": case.type,
                "query": case.text,
                "recall": recall_at_k(ranked[mode][case.id], case.relevant, K),
                "ndcg": ndcg_at_k(ranked[mode][case.id], case.relevant, K),
                "first_relevant_rank": first_relevant_rank(ranked[mode][case.id], case.relevant),
                "hits": ranked[mode][case.id],
            }
            for case in QUERIES
        }
        for mode in MODES
    }
    groups = {"all": QUERIES} | {
        kind: tuple(case for case in QUERIES if case.type == kind) for kind in QUERY_TYPES
    }
    summary = {
        mode: {
            group: {
                "queries": len(cases),
                "recall": mean(per_query[mode][case.id]["recall"] for case in cases),
                "ndcg": mean(per_query[mode][case.id]["ndcg"] for case in cases),
            }
            for group, cases in groups.items()
        }
        for mode in MODES
    }
    return {"summary": summary, "per_query": per_query}


def hybrid_beats_both(summary: dict) -> bool:
    hybrid, others = summary["hybrid"]["all"], [summary[m]["all"] for m in ("keyword", "semantic")]
    return all(hybrid["ndcg"] > o["ndcg"] and hybrid["recall"] >= o["recall"] for o in others)


def corpus_facts() -> dict:
    kinds = Counter(_kind(doc) for doc in DOCUMENTS)
    return {
        "documents": len(DOCUMENTS),
        "kinds": dict(kinds.most_common()),
        "pdfs_with_several_pages": sum(
            isinstance(doc, PdfFile) and len(doc.pages) > 1 for doc in DOCUMENTS
        ),
        "queries": dict(Counter(case.type for case in QUERIES)),
    }


def _kind(doc: object) -> str:
    if isinstance(doc, MailFile):
        return "e-mails (.eml)"
    if isinstance(doc, PdfFile):
        return "PDFs"
    if "WhatsApp" in doc.path:
        return "WhatsApp chats"
    return f"{Path(doc.path).suffix} notes"


# -- output ------------------------------------------------------------------------------------


def results_table(summary: dict, timings: dict | None = None) -> list[str]:
    """Markdown: one row per query group and metric, one column per mode; the best in bold."""
    lines = ["| queries | metric | " + " | ".join(MODES) + " |", "|---|---|---|---|---|"]
    for group in ("all", *QUERY_TYPES):
        label = f"{TYPE_LABELS.get(group, group)} ({summary['hybrid'][group]['queries']})"
        for metric, name in (("recall", f"recall@{K}"), ("ndcg", f"nDCG@{K}")):
            values = [summary[mode][group][metric] for mode in MODES]
            best = max(values)
            cells = [f"**{v:.3f}**" if v == best else f"{v:.3f}" for v in values]
            lines.append(f"| {label} | {name} | " + " | ".join(cells) + " |")
    if timings:
        cells = [f"{statistics.median(timings[mode]):.1f}" for mode in MODES]
        lines.append("| all | median ms per query | " + " | ".join(cells) + " |")
    return lines


def per_query_table(per_query: dict) -> list[str]:
    """Markdown: the rank of the first relevant file per query and mode ("-": not in the top K)."""
    lines = ["| id | type | query | " + " | ".join(MODES) + " |", "|---|---|---|---|---|---|"]
    for case in QUERIES:
        ranks = [per_query[mode][case.id]["first_relevant_rank"] for mode in MODES]
        cells = ["-" if rank is None else str(rank) for rank in ranks]
        kind = TYPE_LABELS[case.type]
        lines.append(f"| {case.id} | {kind} | {case.text} | " + " | ".join(cells) + " |")
    return lines


def corpus_sentence(facts: dict) -> str:
    kinds = ", ".join(f"{count} {kind}" for kind, count in facts["kinds"].items())
    queries = ", ".join(f"{n} {TYPE_LABELS[kind]}" for kind, n in facts["queries"].items())
    return (
        f"{facts['documents']} documents ({kinds}; {facts['pdfs_with_several_pages']} PDFs have "
        f"several pages) and {sum(facts['queries'].values())} queries ({queries})"
    )


def readme_section(results: dict) -> list[str]:
    verdict = "met" if results["hybrid_beats_both"] else "MISSED"
    about = (
        f"`retrieval_eval`: {corpus_sentence(results['corpus'])}, written for the benchmark "
        "(`retrieval_corpus.py`): one household's invoices, insurance, medical and school "
        "letters, trips, recipes, work files and chats, with look-alikes (three invoices, two "
        "years of one policy, five documents about one car). Keyword-friendly queries name a "
        "rare token (a booking reference, a surname); paraphrase queries share no content word "
        "with their answer; mixed ones share some. all-MiniLM-L6-v2 int8, top 10 files per "
        "query, graded relevance (2 the answer, 1 also useful)."
    )
    return [
        "## Document retrieval quality (issue 6 goal: hybrid beats keyword-only and semantic-only)",
        "",
        *textwrap.wrap(about, width=100, break_on_hyphens=False),
        "",
        *results_table(results["summary"], results.get("query_ms")),
        "",
        f"Goal {verdict}: hybrid nDCG@{K} {results['summary']['hybrid']['all']['ndcg']:.3f} vs "
        f"keyword {results['summary']['keyword']['all']['ndcg']:.3f} and semantic "
        f"{results['summary']['semantic']['all']['ndcg']:.3f}.",
    ]


# -- main --------------------------------------------------------------------------------------


def evaluate(workdir: Path, models_cache: Path) -> dict:
    """Build the library in ``workdir``, run the queries, return every number."""
    corpus, home, facts = build_library(workdir, models_cache)
    ranked, timings = run_queries(home, corpus)
    results = score(ranked)
    results["hybrid_beats_both"] = hybrid_beats_both(results["summary"])
    results["corpus"] = corpus_facts()
    results["index"] = facts
    results["query_ms"] = timings
    results["k"] = K
    return results


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="build the corpus and library home in DIR (new or empty) and keep it",
    )
    parser.add_argument(
        "--models-cache",
        type=Path,
        default=CACHE / "models",
        metavar="DIR",
        help="where the converted text model is kept (default: %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="print every number as JSON")
    parser.add_argument(
        "--markdown", action="store_true", help="print a section for benchmarks/README.md"
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="also print the rank of the first relevant file per query",
    )
    parser.add_argument("--check", action="store_true",
                        help="exit 1 unless hybrid beats keyword and semantic")  # fmt: skip
    args = parser.parse_args(argv)
    if args.keep is not None:
        if args.keep.exists() and any(args.keep.iterdir()):
            parser.error(f"--keep {args.keep}: the folder is not empty")
        args.keep.mkdir(parents=True, exist_ok=True)
        results = evaluate(args.keep.resolve(), args.models_cache)
    else:
        with tempfile.TemporaryDirectory(prefix="retrieval-eval-") as scratch:
            results = evaluate(Path(scratch), args.models_cache)
    print_results(results, args)
    if args.check and not results["hybrid_beats_both"]:
        raise SystemExit(1)
    return results


def print_results(results: dict, args: argparse.Namespace) -> None:
    if args.json:
        print(json.dumps(results, indent=2))
        return
    if args.markdown:
        print("\n".join(readme_section(results)))
    else:
        index = results["index"]
        print(f"{corpus_sentence(results['corpus'])}; indexed in {index['index_seconds']:.1f} s "
              f"({index['passages']} passages, {len(index['failures'])} failures)")  # fmt: skip
        print()
        print("\n".join(results_table(results["summary"], results["query_ms"])))
        print()
        verdict = "yes" if results["hybrid_beats_both"] else "NO"
        print(f"hybrid beats keyword and semantic (nDCG@{K} higher, recall@{K} not lower): "
              f"{verdict}")  # fmt: skip
    if args.verbose:
        print()
        print(f"rank of the first relevant file (- = not in the top {K}):")
        print()
        print("\n".join(per_query_table(results["per_query"])))


if __name__ == "__main__":
    main()
