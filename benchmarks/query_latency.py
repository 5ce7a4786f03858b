"""Query latency in a warm process: vector search + metadata for the top 20, at 10k and 100k.

Synthetic clustered 512-d vectors stand in for CLIP embeddings; the store is a real SQLite file
with one file + item + float16 embedding per vector. Run:

    .venv/bin/python benchmarks/query_latency.py [--sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import percentiles, unit_vectors
from desktop_search.search.searcher import Searcher
from desktop_search.store.records import PhotoRecord
from desktop_search.store.store import Store
from desktop_search.store.thumbnails import ThumbnailStore
from desktop_search.vectors.index import VectorIndex
from desktop_search.vectors.spaces import CLIP, Space, Spaces

DIM = 512


def fill_store(store: Store, vectors: np.ndarray, model: str = "bench") -> None:
    for start in range(0, len(vectors), 2000):
        chunk = vectors[start : start + 2000]
        records = [
            PhotoRecord(path=f"/photos/{start + n:07d}.jpg", root="/photos", size=1000,
                        mtime_ns=1, content_hash=f"{start + n:064x}", width=4000, height=3000,
                        taken_at="2024-05-01T10:00:00", camera="Camera", thumbnail="t.jpg")
            for n in range(len(chunk))
        ]  # fmt: skip
        store.files.save_photos(records, chunk, model)


class ReadyVectors:
    """The clip space's encoder here: queries come as ready vectors (``search_vector``)."""

    image_spec = None

    def encode_images(self, batch: np.ndarray) -> np.ndarray:
        raise NotImplementedError("the benchmark encodes nothing")

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError("the benchmark encodes nothing")


def searcher_over(store: Store, index: VectorIndex, thumbnails: ThumbnailStore) -> Searcher:
    return Searcher(store, Spaces(clip=Space.holding(CLIP, ReadyVectors(), "bench", index)),
                    thumbnails)  # fmt: skip


def time_queries(searcher: Searcher, queries: np.ndarray) -> tuple[float, float]:
    samples = []
    for query in queries:
        started = time.perf_counter()
        hits = searcher.search_vector(query, 20)
        samples.append((time.perf_counter() - started) * 1000)
        assert len(hits) == 20
    return percentiles(samples[10:])  # the first queries warm caches


def measure(size: int, count: int) -> dict:
    """Latency of the default index and, as the baseline, of exact search over the same data."""
    vectors = unit_vectors(size, DIM)
    rng = np.random.default_rng(1)
    queries = vectors[rng.integers(0, size, count)] + 0.05 * rng.normal(size=(count, DIM))
    queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
    with tempfile.TemporaryDirectory() as home:
        store = Store.open(Path(home) / "library.db")
        fill_store(store, vectors)
        ids, stored = store.embeddings.of_model("bench")
        started = time.perf_counter()
        index = VectorIndex.build(DIM, ids, stored)
        build_s = time.perf_counter() - started
        exact = VectorIndex.build(DIM, ids, stored, exact_below=size + 1)
        thumbnails = ThumbnailStore(Path(home))
        p50, p95 = time_queries(searcher_over(store, index, thumbnails), queries)
        exact_p50, exact_p95 = time_queries(searcher_over(store, exact, thumbnails), queries)
        store.close()
    return {"items": len(index), "mode": index.mode, "p50": p50, "p95": p95, "build": build_s,
            "exact_p50": exact_p50, "exact_p95": exact_p95}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    print("| items | index | p50 ms | p95 ms | exact-search p95 ms | p95 ratio | build s |")
    print("|---|---|---|---|---|---|---|")
    for size in args.sizes:
        r = measure(size, args.queries)
        print(
            f"| {r['items']:,} | {r['mode']} | {r['p50']:.2f} | {r['p95']:.2f} | "
            f"{r['exact_p95']:.2f} | {r['exact_p95'] / r['p95']:.1f}x | {r['build']:.1f} |"
        )


if __name__ == "__main__":
    main()
