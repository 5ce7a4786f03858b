"""Index a Pictures folder: rclip against ``desktop-search index`` with every feature on (issue 17).

    python -m benchmarks.photo_library                  # the 85-file set, one round
    python -m benchmarks.photo_library --count 1000     # the 1,000-file set: 100k projection
    python -m benchmarks.photo_library --rounds 3       # medians of 3 rounds, order alternating
    python -m benchmarks.photo_library --commit ed97796 # our side as committed there (git archive)

On the set of ``benchmarks/photo_set.py`` (made and cached on first use), in one run and in turn:
rclip 3.3.0 in its own venv (``rclip -t 3 QUERY`` in the folder: it indexes the folder, then
answers; ``benchmarks/rclip_baseline.py``), then ``desktop-search index FOLDER --json`` in a
fresh library home with (a) the defaults and the YOLOX-nano detector installed (objects and text
in photos), (b) the defaults without a detector (text in photos), (c) ``read_text_in_photos =
false`` and no detector. Both programs run the same ViT-B-32-256 random weights (rclip fp32 as
it ships, ours int8 as our converter gives users); our homes also hold the int8 all-MiniLM-L6-v2
text model that ``scripts/quickstart`` installs.

Measured per run, the process and all its descendants (our readers are child processes):
- wall seconds, from start to exit (models loaded inside: both programs pay for theirs);
- memory, sampled every 50 ms with psutil over the process tree: the peak of the tree's summed
  PSS (shared pages split between the processes that map them: what the tree costs the
  machine), the peak of its summed RSS (counts each reader's copy of shared libraries again),
  and the largest single process (``wait4``'s ``ru_maxrss``, the kernel's own peak). PSS is
  read (smaps_rollup, ~0.8 ms a process) only while the summed RSS is above the PSS peak so
  far: PSS <= RSS, so no other sample can raise it, and the sampler stays off the CPU it
  measures;
- "photos searchable": seconds from the process's start until every photo has its CLIP
  embedding committed, read from ``library.db`` (read-only, every 0.2 s: photo items with an
  embedding of the active model; the count ``status --json`` gives, without starting a Python
  process five times a second next to the run being measured). This is on the same clock as
  rclip's wall time (start-up and model loading included), which is why it is the ratio's
  figure; ``index --json``'s own ``searchable_seconds`` (the indexer's clock, which starts
  after the imports) is shown beside it. rclip has no earlier moment: its photos are
  searchable when it exits.

The set's files are read once before the first run, so that every run finds them in the page
cache. The load average is printed with each run: the machines are shared.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from benchmarks.common import CACHE, text_model_folder, vit_b32_256_model
from benchmarks.photo_set import build as build_photo_set
from benchmarks.rclip_baseline import (
    RCLIP_VERSION,
    rclip_command,
    rclip_env,
    reset_database,
)

DESKTOP_SEARCH = Path(sys.executable).parent / "desktop-search"
REPOSITORY = Path(__file__).resolve().parents[1]
DETECTOR = Path("/work/shared/models/yolox_nano_coco.onnx")
HOMES = CACHE / "photo-library-homes"
SAMPLE_SECONDS = 0.05  # memory: a reader's decode peak lasts ~100 ms on a 20 MP PNG
POLL_SECONDS = 0.2  # searchable count: finer than the 0.5 s the goal's ratios need
PHOTOS_PER_LIBRARY = 100_000  # the projection the issue asks for


@dataclass(frozen=True)
class Variant:
    name: str
    label: str
    detector: bool
    read_text: bool


VARIANTS: tuple[Variant, ...] = (
    Variant("a", "defaults, detector installed (OCR + objects)", True, True),
    Variant("b", "defaults, no detector (OCR on)", False, True),
    Variant("c", "`read_text_in_photos = false`, no detector", False, False),
)


@dataclass
class Run:
    """One measured run."""

    name: str
    wall_s: float
    peak_pss_mb: float
    peak_rss_mb: float
    max_process_mb: float
    load_at_start: float
    searchable_s: float | None = None  # from the process's start (rclip: its exit)
    reported_s: float | None = None  # index --json's searchable_seconds (the indexer's clock)
    report: dict = field(default_factory=dict)


class TreeSampler(threading.Thread):
    """Peak summed PSS and RSS of a process and its descendants, sampled every 50 ms; and,
    when given a database and a model, the times at which photos got their embeddings."""

    def __init__(self, pid: int, db: Path | None = None, model: str = "") -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.db, self.model = db, model
        self.peak_pss = self.peak_rss = 0
        self.counts: list[tuple[float, int]] = []
        self.started = time.perf_counter()
        self.stopped = threading.Event()

    def run(self) -> None:
        next_poll = 0.0
        while not self.stopped.is_set():
            try:
                processes = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                processes = []
            rss = sum(_memory(process, "memory_info", "rss") for process in processes)
            self.peak_rss = max(self.peak_rss, rss)
            if rss > self.peak_pss:
                pss = sum(_memory(process, "memory_full_info", "pss") for process in processes)
                self.peak_pss = max(self.peak_pss, pss)
                # Read a moment after the RSS, while memory grows: RSS >= PSS at any instant.
                self.peak_rss = max(self.peak_rss, pss)
            now = time.perf_counter() - self.started
            if self.db is not None and now >= next_poll:
                self.counts.append((now, photos_embedded(self.db, self.model)))
                next_poll = now + POLL_SECONDS
            self.stopped.wait(SAMPLE_SECONDS)


def _memory(process: psutil.Process, method: str, field_name: str) -> int:
    try:
        return getattr(getattr(process, method)(), field_name)
    except psutil.Error:  # exited between listing and reading
        return 0


def photos_embedded(db: Path, model: str) -> int:
    """Photos with an embedding of ``model`` in ``db`` (0 before the database exists)."""
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.05) as connection:
            return connection.execute(
                "SELECT COUNT(*) FROM embeddings e JOIN items i ON i.id = e.item_id "
                "WHERE i.kind = 'photo' AND e.model = ?", (model,)
            ).fetchone()[0]
    except sqlite3.Error:  # locked or mid-migration: the next poll reads it
        return -1


def measure(
    name: str, command: list[str], cwd: Path, env: dict[str, str], db: Path | None = None,
    model: str = "",
) -> tuple[Run, str]:
    """Run ``command`` to its end, sampling its process tree; returns the run and its stdout."""
    load = os.getloadavg()[0]
    out = HOMES / f"{name}.stdout"
    with out.open("w") as stdout, (HOMES / f"{name}.stderr").open("w") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=stdout, stderr=stderr)
        sampler = TreeSampler(process.pid, db, model)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        sampler.stopped.set()
        sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{name} failed (exit {process.returncode}): see {out}")
    run = Run(name, wall, sampler.peak_pss / 2**20, sampler.peak_rss / 2**20,
              usage.ru_maxrss / 1024, load)
    if db is not None:
        final = photos_embedded(db, model)
        reached = [t for t, count in sampler.counts if count >= final]
        run.searchable_s = reached[0] if reached else wall
    return run, out.read_text()


def run_rclip(folder: Path) -> Run:
    reset_database()
    run, _ = measure("rclip", rclip_command(), folder, rclip_env())
    run.searchable_s = run.wall_s
    return run


def prepare_home(variant: Variant, model_dir: Path, text_dir: Path) -> tuple[Path, str]:
    """A fresh library home for ``variant``: the CLIP and text models, its settings, and the
    detector imported as a user would (``models import-detector``)."""
    home = HOMES / f"home-{variant.name}"
    shutil.rmtree(home, ignore_errors=True)
    (home / "models").mkdir(parents=True)
    model_id = json.loads((model_dir / "model.json").read_text())["id"]
    shutil.copytree(model_dir, home / "models" / model_id)
    shutil.copytree(text_dir, home / "models" / text_dir.name)
    settings = f'active_model = "{model_id}"\ntext_model = "{text_dir.name}"\n'
    if not variant.read_text:
        settings += "read_text_in_photos = false\n"
    (home / "config.toml").write_text(settings, encoding="utf-8")
    if variant.detector:
        subprocess.run([str(DESKTOP_SEARCH), "--home", str(home), "models", "import-detector",
                        str(DETECTOR)], check=True, capture_output=True)
    return home, model_id


def code_at(commit: str) -> Path:
    """The package as committed at ``commit`` (``git archive``, nothing in the checkout
    touched), to run instead of the working tree: a "before" measurement while it changes."""
    folder = CACHE / f"desktop-search-{commit}"
    if not (folder / "desktop_search").exists():
        folder.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", commit, "desktop_search"], check=True,
                                 capture_output=True, cwd=REPOSITORY).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def desktop_search(code: Path | None) -> tuple[list[str], dict[str, str]]:
    """The command and environment that run ``desktop-search``: the checkout's, or the package
    in ``code`` first on the path (reader processes inherit the path)."""
    if code is None:
        return [str(DESKTOP_SEARCH)], dict(os.environ)
    return [sys.executable, "-m", "desktop_search"], {**os.environ, "PYTHONPATH": str(code)}


def run_ours(
    variant: Variant, folder: Path, model_dir: Path, text_dir: Path, code: Path | None
) -> Run:
    home, model_id = prepare_home(variant, model_dir, text_dir)
    program, env = desktop_search(code)
    command = [*program, "--home", str(home), "index", str(folder), "--json"]
    run, stdout = measure(variant.name, command, folder, env, home / "library.db", model_id)
    run.report = json.loads(stdout.strip().splitlines()[-1])
    if run.report.get("searchable_seconds") is not None:
        run.reported_s = float(run.report["searchable_seconds"])
    return run


def warm_page_cache(folder: Path) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            path.read_bytes()


def median_run(runs: list[Run]) -> Run:
    """Field by field medians of the rounds of one program (the wall time's run for the rest)."""
    by_wall = sorted(runs, key=lambda r: r.wall_s)[len(runs) // 2]
    if len(runs) == 1:
        return by_wall
    searchable = [r.searchable_s for r in runs if r.searchable_s is not None]
    reported = [r.reported_s for r in runs if r.reported_s is not None]
    return Run(
        name=by_wall.name,
        wall_s=statistics.median(r.wall_s for r in runs),
        peak_pss_mb=statistics.median(r.peak_pss_mb for r in runs),
        peak_rss_mb=statistics.median(r.peak_rss_mb for r in runs),
        max_process_mb=statistics.median(r.max_process_mb for r in runs),
        load_at_start=statistics.median(r.load_at_start for r in runs),
        searchable_s=statistics.median(searchable) if searchable else None,
        reported_s=statistics.median(reported) if reported else None,
        report=by_wall.report,
    )


def table(results: dict[str, Run], count: int, labels: dict[str, str]) -> str:
    base = results["rclip"]
    scale = PHOTOS_PER_LIBRARY / count
    rows = [
        "| run | wall s | vs rclip | photos searchable s | rclip wall / searchable | "
        "(index --json) | peak PSS, tree MB | vs rclip | peak RSS, tree MB | "
        f"largest process MB | {PHOTOS_PER_LIBRARY:,} photos, h | load at start |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, run in results.items():
        searchable = run.searchable_s if run.searchable_s is not None else run.wall_s
        reported = f"{run.reported_s:.1f}" if run.reported_s is not None else "-"
        rows.append(
            f"| {labels[name]} | {run.wall_s:.1f} | {run.wall_s / base.wall_s:.2f}x | "
            f"{searchable:.1f} | {base.wall_s / searchable:.2f}x | {reported} | "
            f"{run.peak_pss_mb:,.0f} | "
            f"{run.peak_pss_mb / base.peak_pss_mb:.2f}x | {run.peak_rss_mb:,.0f} | "
            f"{run.max_process_mb:,.0f} | {run.wall_s * scale / 3600:.1f} | "
            f"{run.load_at_start:.2f} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=85, help="files in the set (85 or 1000)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--only", default="rclip,a,b,c", help="runs, comma-separated")
    parser.add_argument("--commit", help="run our side as committed at COMMIT (git archive)")
    args = parser.parse_args()
    code = code_at(args.commit) if args.commit else None
    folder = build_photo_set(args.count)
    model_dir, text_dir = vit_b32_256_model(), text_model_folder(CACHE / "models")
    HOMES.mkdir(parents=True, exist_ok=True)
    labels = {"rclip": f"rclip {RCLIP_VERSION} (fp32 ONNX)"}
    labels |= {v.name: f"({v.name}) `index`, {v.label}" for v in VARIANTS}
    chosen = [name for name in ("rclip", "a", "b", "c") if name in args.only.split(",")]
    if "rclip" not in chosen:
        raise SystemExit("--only needs rclip: it is the baseline of every ratio")
    warm_page_cache(folder)
    runs: dict[str, list[Run]] = {name: [] for name in chosen}
    for round_number in range(args.rounds):
        order = chosen if round_number % 2 == 0 else chosen[::-1]
        for name in order:
            if name == "rclip":
                run = run_rclip(folder)
            else:
                variant = next(v for v in VARIANTS if v.name == name)
                run = run_ours(variant, folder, model_dir, text_dir, code)
            runs[name].append(run)
            extra = ", ".join(
                f"{key} {run.report[key]}" for key in ("encoded", "objects", "photo_texts",
                                                        "failed", "seconds")
                if key in run.report
            )
            searchable = f"{run.searchable_s or run.wall_s:.1f} s"
            if run.reported_s is not None:
                searchable += f" (index --json: {run.reported_s:.1f} s)"
            print(f"round {round_number + 1} {labels[name]}: {run.wall_s:.1f} s, searchable "
                  f"{searchable}, PSS {run.peak_pss_mb:.0f} MB, "
                  f"RSS {run.peak_rss_mb:.0f} MB, largest {run.max_process_mb:.0f} MB, load "
                  f"{run.load_at_start:.2f} -> {os.getloadavg()[0]:.2f}"
                  + (f" [{extra}]" if extra else ""), file=sys.stderr)
    results = {name: median_run(r) for name, r in runs.items()}
    at = f"our code at {args.commit}" if args.commit else "our code: the working tree"
    print(f"\n{folder.name}, {at}: {args.rounds} round(s), load average now "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print(table(results, args.count, labels))


if __name__ == "__main__":
    main()
