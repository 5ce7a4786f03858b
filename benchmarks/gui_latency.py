"""The desktop app: launch time, keystroke-to-results latency (warm) and idle memory.

A library of N synthetic photos (clustered 512-d vectors in the int8 ViT-B-32 space, real SQLite
rows, a saved vector index) is opened by a fresh process running the real window offscreen:
- launch: from process start to a usable window (shown, status loaded, search warmed up);
- keystroke to results: a query typed into the search box and Enter pressed, until the results
  model holds the new hits (the debounce is skipped by Enter; typing adds 250 ms by design);
- idle RSS after the searches.
Baseline in the same run: the same query through `Library.search` in the same process (what the
GUI adds on top of the core). Run: .venv/bin/python -m benchmarks.gui_latency [--sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import install_model, unit_vectors, vit_b32_model
from benchmarks.query_latency import fill_store
from desktop_search.app.library import Library

CHILD = r"""
import json, os, statistics, sys, time
started = float(sys.argv[2])
import psutil
from PySide6.QtWidgets import QApplication
from PySide6.QtTest import QTest
from PySide6.QtCore import Qt
from desktop_search.search.searcher import Query
from desktop_search.gui.app import DesktopApp
from desktop_search.gui.workers import WorkerPool
from desktop_search.app.library import Library

app = QApplication(sys.argv[:1])
library = Library.open(sys.argv[1])
pool = WorkerPool()
desktop = DesktopApp(library, pool)
window = desktop.window
window.show()
deadline = time.monotonic() + 120
while (window.status is None or not window.search.warmed_up) and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.002)
launch = time.time() - started
queries = ["a dog on a beach", "receipt", "birthday cake", "red bicycle", "snowy mountains",
           "two cats", "kids at the zoo", "spaghetti", "sunset over the sea", "a car"] * 3
latencies = []
for query in queries:
    got = []
    window.search.results.connect(got.append)
    window.search_box.setText(query)
    t0 = time.perf_counter()
    QTest.keyClick(window.search_box, Qt.Key.Key_Return)
    while not got and time.perf_counter() - t0 < 10:
        app.processEvents()
    window.search.results.disconnect(got.append)
    app.processEvents()
    latencies.append((time.perf_counter() - t0) * 1000)
reader = library.reader()
core = []
for query in queries:
    t0 = time.perf_counter()
    reader.search(Query(text=query, limit=200))
    core.append((time.perf_counter() - t0) * 1000)
reader.close()
time.sleep(1)
app.processEvents()
rss = psutil.Process().memory_info().rss / 2**20
def pct(values, q):
    ordered = sorted(values[3:])
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
print(json.dumps({"launch": launch, "p50": pct(latencies, .5), "p95": pct(latencies, .95),
                  "core_p50": pct(core, .5), "core_p95": pct(core, .95), "rss": rss}))
window.shutdown()
pool.wait()
library.close()
"""


def make_home(home: Path, size: int) -> None:
    model_id = install_model(home, vit_b32_model())
    with Library.open(home) as library:
        fill_store(library.store, unit_vectors(size, 512), model_id)
        library.vectors(library.clip())  # built from the store
        library.save_vectors()


def measure(size: int) -> dict:
    with tempfile.TemporaryDirectory() as home:
        make_home(Path(home), size)
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        started = time.time()
        done = subprocess.run(
            [sys.executable, "-c", CHILD, home, repr(started)],
            capture_output=True, text=True, env=env, timeout=600,
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(done.stderr)
        return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    print("| items | launch to usable window s | Enter to results p50 / p95 ms | "
          "core search p50 / p95 ms | idle RSS MiB |")  # fmt: skip
    print("|---|---|---|---|---|")
    for size in args.sizes:
        r = measure(size)
        print(f"| {size:,} | {r['launch']:.2f} | {r['p50']:.1f} / {r['p95']:.1f} | "
              f"{r['core_p50']:.1f} / {r['core_p95']:.1f} | {r['rss']:.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
