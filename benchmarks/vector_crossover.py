"""Exact (numpy) vs HNSW query time in VectorIndex, to set EXACT_SEARCH_BELOW and
EXACT_FILTER_MIN/EXACT_FILTER_DIVISOR in desktop_search/vectors/index.py.

Table 1: single-query latency (k=20, 512-d, clustered unit vectors) of the two modes at sizes
1k..100k. Both indexes grow incrementally, queries alternate between the modes so machine noise
hits both alike; p50/p95 over --queries queries, median over --rounds rounds.

Table 2: at the largest size (HNSW mode), search restricted to ``allowed_ids`` of various sizes:
exact scoring of the allowed vectors (get_items + matmul) vs hnswlib's filtered walk, with the
walk's recall@20 against the exact answer.

Usage: .venv/bin/python benchmarks/vector_crossover.py [--ef N] [--queries 200] [--out FILE]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from desktop_search.vectors.index import DEFAULT_EF_SEARCH, VectorIndex

SIZES = [1_000, 5_000, 10_000, 20_000, 50_000, 100_000]
# Larger allowed sets only get slower for exact scoring (~30 us/vector in get_items).
ALLOWED_SIZES = [100, 250, 500, 1_000, 2_000, 5_000, 10_000]
K = 20


def clustered(n: int, dim: int, rng: np.random.Generator, sub: int = 64) -> np.ndarray:
    # Same generator as benchmarks/hnsw_recall.py (a): gaussian clusters in a 64-d subspace.
    basis, _ = np.linalg.qr(rng.standard_normal((dim, sub)))
    centers = rng.standard_normal((1000, sub))
    labels = rng.integers(1000, size=n)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 20_000):
        sl = slice(start, min(n, start + 20_000))
        m = sl.stop - sl.start
        z = centers[labels[sl]] + 0.5 * rng.standard_normal((m, sub))
        out[sl] = z @ basis.T + 0.05 * rng.standard_normal((m, dim))
    return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


def timed(fn, *args, **kw) -> float:
    t = time.perf_counter()
    fn(*args, **kw)
    return time.perf_counter() - t


def pct(times: list[float], p: float) -> float:
    return float(np.percentile(times, p)) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--ef", type=int, default=DEFAULT_EF_SEARCH)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", help="also write the Markdown to this file")
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    n_max = SIZES[-1]
    data = clustered(n_max + args.queries, args.dim, rng)
    base, queries = data[:n_max], data[n_max:]
    ids = np.arange(n_max, dtype=np.int64)
    exact = VectorIndex(args.dim, exact_below=2**62)
    hnsw = VectorIndex(args.dim, exact_below=0, ef_search=args.ef)

    lines = [
        f"## Exact vs HNSW single-query latency ({args.dim}-d, k={K}, ef_search={args.ef}, "
        f"M=16, ef_construction=200; median of {args.rounds} rounds x {args.queries} queries)",
        "",
        "| items | exact p50 ms | exact p95 ms | HNSW p50 ms | HNSW p95 ms | HNSW build s (cum.) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    print("\n".join(lines), flush=True)
    crossover = None
    prev, build_s = 0, 0.0
    for size in SIZES:
        exact.add(ids[prev:size], base[prev:size])
        build_s += timed(hnsw.add, ids[prev:size], base[prev:size])
        prev = size
        for q in queries[:20]:  # warm-up (page in the matrix, graph)
            exact.search(q, K)
            hnsw.search(q, K)
        stats = []
        for _ in range(args.rounds):
            te, th = [], []
            for q in queries:
                te.append(timed(exact.search, q, K))
                th.append(timed(hnsw.search, q, K))
            stats.append((pct(te, 50), pct(te, 95), pct(th, 50), pct(th, 95)))
        e50, e95, h50, h95 = np.median(np.array(stats), axis=0)
        if crossover is None and h50 < e50:
            crossover = size
        lines.append(
            f"| {size:,} | {e50:.2f} | {e95:.2f} | {h50:.2f} | {h95:.2f} | {build_s:.1f} |"
        )
        print(lines[-1], flush=True)
    lines.append("")
    lines.append(
        f"First measured size where HNSW p50 beats exact p50: "
        f"{f'{crossover:,}' if crossover else 'none'}."
    )

    # --- filtered search at n_max ---
    lines += [
        "",
        f"## Search restricted to allowed_ids at {n_max:,} items (HNSW mode, k={K})",
        "",
        "| allowed | exact-subset p50 ms | exact-subset p95 ms | filtered walk p50 ms "
        "| filtered walk p95 ms | walk recall@20 |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    print("\n".join(lines[-5:]), flush=True)
    nq = max(20, args.queries // 8)
    filter_crossover = None
    for a_size in ALLOWED_SIZES:
        allowed = set(rng.choice(n_max, size=a_size, replace=False).tolist())
        stats, recalls = [], []
        for _ in range(args.rounds):
            te, tw = [], []
            for q in queries[:nq]:
                hnsw.exact_filter_below = 2**62
                t = time.perf_counter()
                truth = hnsw.search(q, K, allowed_ids=allowed)
                te.append(time.perf_counter() - t)
                hnsw.exact_filter_below = 0
                t = time.perf_counter()
                got = hnsw.search(q, K, allowed_ids=allowed)
                tw.append(time.perf_counter() - t)
                recalls.append(len({i for i, _ in got} & {i for i, _ in truth}) / len(truth))
            stats.append((pct(te, 50), pct(te, 95), pct(tw, 50), pct(tw, 95)))
        e50, e95, w50, w95 = np.median(np.array(stats), axis=0)
        if filter_crossover is None and w50 < e50:
            filter_crossover = a_size
        lines.append(
            f"| {a_size:,} | {e50:.2f} | {e95:.2f} | {w50:.2f} | {w95:.2f} "
            f"| {np.mean(recalls):.4f} |"
        )
        print(lines[-1], flush=True)
    lines.append("")
    lines.append(
        f"First allowed-set size where the filtered walk p50 beats exact-subset p50: "
        f"{f'{filter_crossover:,}' if filter_crossover else 'none'}."
    )
    text = "\n".join(lines)
    print("\n" + text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
