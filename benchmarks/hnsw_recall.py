"""Recall@10 of HNSW (VectorIndex in HNSW mode) against exact search, 100k x 512-d.

Data sets:
  (a) clustered: a mixture of 1000 gaussians in a 64-dim subspace plus small isotropic noise,
      normalised; roughly how image embeddings of a personal photo library look (many
      near-duplicates and themes, low intrinsic dimension). Well separated clusters
      (mean cosine 0.00, 10th-neighbour cosine 0.79, 100th 0.32 at 20k points): on the easy side.
  (a2) overlapping clusters: 200 broad gaussians in a 128-dim subspace, a shared mean direction
      and isotropic noise; cosine statistics closer to CLIP image embeddings (mean 0.69,
      10th-neighbour 0.86, 100th 0.80 at 20k points), so a harder, more conservative check.
  (b) uniform random unit vectors: no structure at all, the worst case for any graph index.
Queries are held-out points from the same distribution. For each ef_search: mean recall@10 and
single-query latency p50/p95 (k=10). Also the build time and RSS growth of the 100k index.

Usage: .venv/bin/python benchmarks/hnsw_recall.py [--n 100000] [--queries 300] [--out FILE]
"""

from __future__ import annotations

import argparse
import gc
import time

import numpy as np
import psutil

from desktop_search.vectors.index import VectorIndex

EF_VALUES = [10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512]
RECALL_TARGET = 0.98
P95_BUDGET_MS = 10.0


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def clustered(
    n: int, dim: int, rng: np.random.Generator, sub: int = 64, clusters: int = 1000
) -> np.ndarray:
    basis, _ = np.linalg.qr(rng.standard_normal((dim, sub)))  # orthonormal (dim, sub)
    centers = rng.standard_normal((clusters, sub))
    labels = rng.integers(clusters, size=n)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 20_000):  # chunked to keep float64 temporaries small
        sl = slice(start, min(n, start + 20_000))
        m = sl.stop - sl.start
        z = centers[labels[sl]] + 0.5 * rng.standard_normal((m, sub))
        out[sl] = z @ basis.T + 0.05 * rng.standard_normal((m, dim))
    return unit(out)


def overlapping(n: int, dim: int, rng: np.random.Generator, sub: int = 128) -> np.ndarray:
    basis, _ = np.linalg.qr(rng.standard_normal((dim, sub)))
    centers = rng.standard_normal((200, sub))
    mean_dir = rng.standard_normal(dim)
    mean_dir /= np.linalg.norm(mean_dir)
    labels = rng.integers(200, size=n)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 20_000):
        sl = slice(start, min(n, start + 20_000))
        m = sl.stop - sl.start
        z = centers[labels[sl]] + rng.standard_normal((m, sub))
        x = unit(z @ basis.T + 0.08 * rng.standard_normal((m, dim)))
        out[sl] = x + 1.5 * mean_dir
    return unit(out)


def uniform(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    return unit(rng.standard_normal((n, dim), dtype=np.float32))


def truth_top_k(base: np.ndarray, queries: np.ndarray, k: int) -> list[set[int]]:
    out = []
    for q in queries:
        s = base @ q
        out.append(set(np.argpartition(s, len(s) - k)[len(s) - k :].tolist()))
    return out


def run(name: str, data: np.ndarray, n: int, n_queries: int, lines: list[str]) -> dict:
    base, queries = data[:n], data[n : n + n_queries]
    truth = truth_top_k(base, queries, 10)
    proc = psutil.Process()
    gc.collect()
    rss0 = proc.memory_info().rss
    t0 = time.perf_counter()
    index = VectorIndex.build(base.shape[1], np.arange(n), base, exact_below=0)
    build_s = time.perf_counter() - t0
    rss_mb = (proc.memory_info().rss - rss0) / 2**20
    assert index.mode == "hnsw"
    lines.append(f"\n### ({name}) {n:,} x {base.shape[1]}-d\n")
    lines.append(
        f"Build: {build_s:.1f} s ({n / build_s:,.0f} vectors/s, M=16, ef_construction=200, "
        f"2 threads); RSS +{rss_mb:,.0f} MiB (raw float32 vectors: "
        f"{base.nbytes / 2**20:,.0f} MiB)\n"
    )
    lines.append("| ef_search | recall@10 | p50 ms | p95 ms |")
    lines.append("|---:|---:|---:|---:|")
    results = {}
    for ef in EF_VALUES:
        index.set_ef_search(ef)
        for q in queries[:20]:  # warm-up
            index.search(q, 10)
        times, recalls = [], []
        for q, t in zip(queries, truth, strict=True):
            t1 = time.perf_counter()
            hits = index.search(q, 10)
            times.append(time.perf_counter() - t1)
            recalls.append(len({i for i, _ in hits} & t) / 10)
        p50, p95 = (float(np.percentile(times, p)) * 1e3 for p in (50, 95))
        rec = float(np.mean(recalls))
        results[ef] = (rec, p50, p95)
        lines.append(f"| {ef} | {rec:.4f} | {p50:.2f} | {p95:.2f} |")
        print(lines[-1], flush=True)
    del index
    gc.collect()
    return results


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--sets", default="a,a2,b", help="comma-separated subset of a,a2,b")
    ap.add_argument("--out", help="also write the Markdown to this file")
    args = ap.parse_args()
    rng = np.random.default_rng(1234)
    lines = ["## HNSW recall@10 vs exact search (hnswlib, inner product)"]
    total = args.n + args.queries
    makers = {
        "a": ("a: clustered", clustered),
        "a2": ("a2: overlapping clusters", overlapping),
        "b": ("b: uniform", uniform),
    }
    results = {}
    for key in args.sets.split(","):
        title, make = makers[key]
        results[key] = run(title, make(total, args.dim, rng), args.n, args.queries, lines)
    lines.append("")
    for key, res in results.items():
        ok = [ef for ef, (r, _, p95) in res.items() if r >= RECALL_TARGET and p95 <= P95_BUDGET_MS]
        if ok:
            ef = min(ok)
            others = "; ".join(
                f"({k}) recall {v[ef][0]:.4f}, p95 {v[ef][2]:.2f} ms"
                for k, v in results.items()
                if k != key
            )
            lines.append(
                f"- ({key}): smallest ef_search with recall@10 >= {RECALL_TARGET} within "
                f"p95 <= {P95_BUDGET_MS} ms: **{ef}** (recall {res[ef][0]:.4f}, "
                f"p95 {res[ef][2]:.2f} ms){'; at that ef: ' + others if others else ''}"
            )
        else:
            lines.append(f"- ({key}): no ef_search reaches {RECALL_TARGET} within the budget.")
    text = "\n".join(lines)
    print("\n" + text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
