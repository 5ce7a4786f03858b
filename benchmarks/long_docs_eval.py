"""Issue 19: search quality on long real documents, judged at page level.

The set is ``benchmarks/long_docs_set.py`` (R, gnuplot and Octave manuals from Debian 12, about
2,000 pages, and the 47 e-mail messages of Python's email tests); the queries and their answer
pages, judged by reading the pages, are ``benchmarks/long_docs_queries.py`` (three types:
``keyword``, ``question``, ``paraphrase``).

Each run indexes the set into a fresh library home with the int8 all-MiniLM-L6-v2 (as
``retrieval_eval.py`` does; no CLIP model: these are documents) and runs every query in the three
modes with a limit of 10, through ``Library.search`` (what ``desktop-search search --json
--limit 10 --mode M`` calls; ``--cli`` runs that command instead, one process per query). A
result is a file with the locator of its best passage, so a result is right at page level when
its file and page are among the query's answers (an e-mail answer counts by file).

A hit may carry more places of its file (``Hit.places``: "also on pages 37, 112"). Every number
is given for two views of the same results: ``first``, each file at its best place only (what
search showed before issue 19), and ``shown``, the places in the order a person reads them (a
file's places one after the other, then the next file's), cut at 10 places: a file with three
places takes three of the ten.

Per mode, view and query type it reports:
- file@10: share of queries with an answer file in the top 10;
- page@10: share of queries with an answer page in the top 10;
- MRR: mean of 1 / rank of the first right page (0 when none is in the top 10);
- nDCG@10 at page level: binary gain for a right page, each file counted at its first place;
  the ideal list holds one answer page per answer file, since search shows one result per file.

    .venv/bin/python -m benchmarks.long_docs_eval [--verbose] [--json] [--cli] [--reuse]
        [--failures N] [--models-cache DIR]

``--reuse`` keeps and reuses the indexed home in ``benchmarks/.cache/long-docs/home`` (for
looking at results again; the index time reported is then the one of the run that made it).
Goals (issue 19): hybrid at least as good as the best single mode on every query type and
metric; page@10 >= 0.85; MRR >= 0.70.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python benchmarks/long_docs_eval.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import CACHE, index_with_text_model  # noqa: E402
from benchmarks.long_docs_queries import QUERIES, QUERY_TYPES, check_queries  # noqa: E402
from benchmarks.long_docs_set import ROOT, SET, build, description  # noqa: E402

MODES = ("keyword", "semantic", "hybrid")
K = 10
HOME = ROOT / "home"
METRICS = (("file", "file@10"), ("page", "page@10"), ("mrr", "MRR"), ("ndcg", "nDCG@10"))


# -- the library -------------------------------------------------------------------------------


def build_library(home: Path, models_cache: Path, reuse: bool) -> dict:
    """Index the set into ``home`` (new unless ``reuse`` and complete); returns index facts."""
    facts_file = home / "benchmark-index.json"
    if reuse and facts_file.exists():
        return json.loads(facts_file.read_text(encoding="utf-8"))
    shutil.rmtree(home, ignore_errors=True)
    facts = index_with_text_model(home, [SET], models_cache)
    facts_file.write_text(json.dumps(facts, indent=1), encoding="utf-8")
    return facts


def _places(path: str, locator: dict | None, places: list[dict] | None) -> list:
    """One hit as its places: [(file relative to the set, page or None), ...], best first."""
    if not places:
        return [_result(path, locator)]
    return [_result(path, place.get("locator")) for place in places]


def _result(path: str, locator: dict | None) -> tuple[str, int | None]:
    """(file relative to the set, page or None) of one place."""
    try:
        name = Path(path).resolve().relative_to(SET.resolve()).as_posix()
    except ValueError:
        name = str(path)
    page = (locator or {}).get("page")
    return name, int(page) if page is not None else None


def run_queries(home: Path) -> tuple[dict, dict]:
    """Every query in every mode through the Library: ({mode: {id: [(file, page)]}}, ms)."""
    from desktop_search.app.library import Library
    from desktop_search.search.searcher import Query

    ranked: dict[str, dict[str, list]] = {mode: {} for mode in MODES}
    timings: dict[str, list[float]] = {mode: [] for mode in MODES}
    with Library.open(home) as library:
        library.search(Query(text="warm up", limit=K, mode="hybrid"))  # loads model and index
        for mode in MODES:
            for case in QUERIES:
                started = time.perf_counter()
                hits = library.search(Query(text=case.text, limit=K, mode=mode))
                timings[mode].append((time.perf_counter() - started) * 1000)
                ranked[mode][case.id] = [
                    _places(hit.path, hit.locator, [p.place_json() for p in hit.places])
                    for hit in hits
                ]
    return ranked, timings


def run_queries_cli(home: Path) -> tuple[dict, dict]:
    """The same through ``desktop-search search --json --limit 10 --mode M`` (a process each)."""
    command = [str(Path(sys.executable).with_name("desktop-search")), "--home", str(home),
               "search", "--json", "--limit", str(K)]  # fmt: skip
    ranked: dict[str, dict[str, list]] = {mode: {} for mode in MODES}
    timings: dict[str, list[float]] = {mode: [] for mode in MODES}
    for mode in MODES:
        for case in QUERIES:
            started = time.perf_counter()
            done = subprocess.run([*command, "--mode", mode, "--", case.text],
                                  check=True, capture_output=True, text=True)  # fmt: skip
            timings[mode].append((time.perf_counter() - started) * 1000)
            hits = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
            ranked[mode][case.id] = [
                _places(hit["path"], hit.get("locator"), hit.get("places")) for hit in hits
            ]
    return ranked, timings


# -- scoring -----------------------------------------------------------------------------------


def is_right_page(result: tuple[str, int | None], answers: dict) -> bool:
    name, page = result
    if name not in answers:
        return False
    pages = answers[name]
    return pages is None or page in pages  # None: an e-mail, right wherever in the file


def view(results: list, name: str) -> list:
    """The places of a query's results as a person reads them: ``first`` each file's best place,
    ``shown`` every place of each file in turn; cut at K."""
    if name == "first":
        return [places[0] for places in results][:K]
    return [place for places in results for place in places][:K]


VIEWS = ("first", "shown")


def score_query(results: list, answers: dict) -> dict:
    """``results``: places, best first (``view``)."""
    top = results[:K]
    first_page = next((rank for rank, r in enumerate(top, 1) if is_right_page(r, answers)), None)
    first_file = next((rank for rank, r in enumerate(top, 1) if r[0] in answers), None)
    # A file gains once, at its first right place: its other places gain nothing.
    gained: set[str] = set()
    dcg = 0.0
    for rank, result in enumerate(top, 1):
        if result[0] in gained or not is_right_page(result, answers):
            continue
        gained.add(result[0])
        dcg += 1 / math.log2(rank + 1)
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(len(answers), K) + 1))
    return {
        "file": float(first_file is not None),
        "page": float(first_page is not None),
        "mrr": 1 / first_page if first_page else 0.0,
        "ndcg": dcg / ideal,
        "first_page_rank": first_page,
        "first_file_rank": first_file,
    }


def score(ranked: dict, view_name: str = "first") -> dict:
    per_query = {
        mode: {
            case.id: score_query(view(ranked[mode][case.id], view_name), case.answers)
            for case in QUERIES
        }
        for mode in MODES
    }
    groups = {"all": list(QUERIES)} | {
        kind: [case for case in QUERIES if case.type == kind] for kind in QUERY_TYPES
    }
    summary = {
        mode: {
            group: {"queries": len(cases)} | {
                metric: statistics.fmean(per_query[mode][c.id][metric] for c in cases)
                for metric, _ in METRICS
            }
            for group, cases in groups.items()
        }
        for mode in MODES
    }
    return {"summary": summary, "per_query": per_query}


def goals(summary: dict) -> dict[str, bool]:
    """Issue 19's three goals, each true or false."""
    hybrid_best = all(
        summary["hybrid"][group][metric]
        >= max(summary["keyword"][group][metric], summary["semantic"][group][metric]) - 1e-9
        for group in ("all", *QUERY_TYPES)
        for metric, _ in METRICS
    )
    return {
        "hybrid >= best single mode, every type and metric": hybrid_best,
        "hybrid page@10 >= 0.85": summary["hybrid"]["all"]["page"] >= 0.85,
        "hybrid MRR >= 0.70": summary["hybrid"]["all"]["mrr"] >= 0.70,
    }


# -- output ------------------------------------------------------------------------------------


def results_table(summary: dict, timings: dict | None = None) -> list[str]:
    """Markdown: a row per query type and metric, a column per mode; the best in bold."""
    lines = ["| queries | metric | " + " | ".join(MODES) + " |", "|---|---|---|---|---|"]
    for group in ("all", *QUERY_TYPES):
        label = f"{group} ({summary['hybrid'][group]['queries']})"
        for metric, name in METRICS:
            values = [summary[mode][group][metric] for mode in MODES]
            cells = [f"**{v:.3f}**" if v == max(values) else f"{v:.3f}" for v in values]
            lines.append(f"| {label} | {name} | " + " | ".join(cells) + " |")
    if timings:
        cells = [f"{statistics.median(timings[mode]):.0f}" for mode in MODES]
        lines.append("| all | median ms per query | " + " | ".join(cells) + " |")
    return lines


def per_query_table(results: dict, ranked: dict) -> list[str]:
    """Markdown: per query and mode, the rank of the first right page (file rank in brackets
    when the file was found on a wrong page) and hybrid's first result."""
    lines = ["| id | type | query | " + " | ".join(MODES) + " | hybrid's first result |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for case in QUERIES:
        cells = []
        for mode in MODES:
            q = results["per_query"][mode][case.id]
            if q["first_page_rank"]:
                cells.append(str(q["first_page_rank"]))
            else:
                cells.append(f"- (file {q['first_file_rank']})" if q["first_file_rank"] else "-")
        top = ranked["hybrid"][case.id][:1]
        first = f"{Path(top[0][0][0]).name} p.{top[0][0][1]}" if top else ""
        lines.append(f"| {case.id} | {case.type} | {case.text} | " + " | ".join(cells)
                     + f" | {first} |")  # fmt: skip
    return lines


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models-cache", type=Path, default=CACHE / "models", metavar="DIR",
                        help="where the converted text model is kept (default: %(default)s)")
    parser.add_argument("--reuse", action="store_true",
                        help=f"reuse the home in {HOME} if a run left it complete")
    parser.add_argument("--cli", action="store_true",
                        help="run each query as a `desktop-search search` process")
    parser.add_argument("--json", action="store_true", help="print every number as JSON")
    parser.add_argument("--verbose", action="store_true", help="a row per query too")
    parser.add_argument("--failures", type=int, default=0, metavar="N",
                        help="print hybrid's top N results for each query it missed at page level")
    args = parser.parse_args(argv)  # fmt: skip
    manifest = build()  # before the checks: they read the pages' text
    problems = check_queries()
    if problems:
        raise SystemExit("the query set fails its checks:\n" + "\n".join(problems))
    index = build_library(HOME, args.models_cache, args.reuse)
    ranked, timings = (run_queries_cli if args.cli else run_queries)(HOME)
    views = {name: score(ranked, name) for name in VIEWS}
    results = {"views": views} | {"index": index, "query_ms": timings,
               "goals": {name: goals(views[name]["summary"]) for name in VIEWS},
                "set": {k: manifest[k] for k in ("pdfs", "pdf_pages", "mail_messages")},
                "ranked": ranked, "through": "cli" if args.cli else "Library.search"}  # fmt: skip
    (ROOT / "last-results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    if args.json:
        print(json.dumps(results, indent=1))
        return results
    counts = {kind: sum(c.type == kind for c in QUERIES) for kind in QUERY_TYPES}
    print(f"{manifest['pdfs']} PDFs ({manifest['pdf_pages']:,} pages) and "
          f"{manifest['mail_messages']} e-mails; {len(QUERIES)} queries "
          f"({', '.join(f'{n} {kind}' for kind, n in counts.items())}); through "
          f"{results['through']}")  # fmt: skip
    print(f"indexed in {index['index_seconds']:.0f} s: {index['documents_read']} documents, "
          f"{index['passages']:,} passages, {len(index['failures'])} failures")  # fmt: skip
    print()
    print("\n".join(description(manifest)))
    print()
    for name in VIEWS:
        print(f"**{name}**: " + ("each file at its best place" if name == "first" else
              "every place shown (up to 3 a file), in reading order, the first 10"))  # fmt: skip
        print()
        print("\n".join(results_table(views[name]["summary"], timings)))
        print()
        for goal, met in results["goals"][name].items():
            print(f"- {goal}: {'met' if met else 'MISSED'}")
        print()
    if args.verbose:
        print("\n".join(per_query_table(views["shown"], ranked)))
    if args.failures:
        print_failures(ranked, views["shown"], args.failures)
    return results


def print_failures(ranked: dict, results: dict, n: int) -> None:
    """For each query hybrid missed at page level: its answers and hybrid's top ``n``."""
    for case in QUERIES:
        if results["per_query"]["hybrid"][case.id]["first_page_rank"]:
            continue
        answers = "; ".join(f"{Path(f).name} {sorted(p) if p else 'any'}"
                            for f, p in case.answers.items())  # fmt: skip
        print(f"\n{case.id} ({case.type}) {case.text!r}\n  answers: {answers}")
        for rank, places in enumerate(ranked["hybrid"][case.id][:n], 1):
            pages = ", ".join(f"p.{page}" for _, page in places)
            print(f"  {rank}. {Path(places[0][0]).name} {pages}")


if __name__ == "__main__":
    main()
