"""The cost of reading files in reader processes (issue 14 goal: under 5% on the photo benchmark).

Indexes the same folders with the readers in worker processes (the default, index/readers.py)
and in the indexing process's own threads (``Indexer.read`` set: what the app did before),
alternating, several rounds, fresh home each time; reports medians and the ratio. Two folders:
the 12 MP camera JPEGs of ``index_throughput.py`` (draft decoding: the cheapest decode, so the
boundary weighs most) and a mixed folder of PNG, WebP and JPEG from real photos (skimage) at
2-8 MP. ViT-B-32 with random weights, text in photos off (as in the other photo benchmarks).

    .venv/bin/python benchmarks/reader_processes.py [--rounds 3] [--count 120]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

from benchmarks.common import CACHE, install_model, vit_b32_model
from benchmarks.index_throughput import make_photos
from desktop_search.app.library import Library
from desktop_search.extract.images import read_file
from desktop_search.index.report import IndexReport

MIXED_SOURCES = ["astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "cat"]


def make_mixed(count: int) -> Path:
    """Real photos at 2-8 MP as PNG (a third), WebP (a third) and JPEG, each file different."""
    folder = CACHE / f"mixed-{count}"
    if folder.exists() and len(list(folder.iterdir())) == count:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for n in range(count):
        base = Image.fromarray(getattr(data, MIXED_SOURCES[n % len(MIXED_SOURCES)])())
        megapixels = 2 + 6 * rng.random()
        width = int((megapixels * 1e6 * 4 / 3) ** 0.5)
        big = np.asarray(base.convert("RGB").resize((width, width * 3 // 4)), dtype=np.int16)
        noisy = np.clip(big + rng.normal(0, 3, big.shape), 0, 255).astype(np.uint8)
        image = Image.fromarray(noisy)
        kind = ("png", "webp", "jpg")[n % 3]
        image.save(folder / f"photo{n:04d}.{kind}", **({"quality": 90} if kind != "png" else {}))
    return folder


def index_once(folder: Path, model_dir: Path, *, in_process: bool) -> float:
    with tempfile.TemporaryDirectory() as home:
        install_model(Path(home), model_dir)
        with Library.open(home) as library:
            library.clip().visual.load()  # model load time is not indexing time
            with library.writer():
                library.store.files.add_roots([str(folder)])
                options = replace(library.index_options(), read=read_file if in_process else None)
                indexer = library.indexer(options=options)
                started = time.perf_counter()
                report: IndexReport = indexer.run([folder])
                elapsed = time.perf_counter() - started
    files = len(list(folder.iterdir()))
    assert report.encoded == files, report
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--count", type=int, default=120)
    args = parser.parse_args()
    model_dir = vit_b32_model()
    folders = {"12 MP JPEGs": make_photos(200, 12), "mixed PNG/WebP/JPEG": make_mixed(args.count)}
    for label, folder in folders.items():
        times: dict[bool, list[float]] = {True: [], False: []}
        index_once(folder, model_dir, in_process=False)  # warm the page cache and forkserver
        for _ in range(args.rounds):
            for in_process in (True, False):
                times[in_process].append(index_once(folder, model_dir, in_process=in_process))
        files = len(list(folder.iterdir()))
        threads, processes = (statistics.median(times[k]) for k in (True, False))
        print(f"{label}, {files} files, median of {args.rounds}:")
        print(f"  decode in threads   {threads:6.1f} s  {files / threads:5.1f} photos/s")
        print(f"  decode in readers   {processes:6.1f} s  {files / processes:5.1f} photos/s")
        print(f"  cost of the process boundary: {100 * (processes / threads - 1):+.1f}%")
        print(f"  all rounds: threads {times[True]}, readers {times[False]}")


if __name__ == "__main__":
    main()
