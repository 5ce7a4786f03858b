# Over 400 lines: one job: VectorIndex (exact and HNSW search, one writer, many readers, files).
"""Vector index for one embedding space: exact numpy search when small, HNSW (hnswlib) when large.

Vectors are L2-normalised float32 and compared by inner product, so every score is a cosine
similarity in [-1, 1]. Ids are the non-negative int64 item ids of the metadata store.

The index is a derived cache (SQLite holds the embeddings): ``save`` writes it atomically with a
JSON sidecar written last, and ``load`` raises :class:`IndexFileError` for anything it cannot
trust (missing, stale generation, wrong dim, truncated or corrupt), after which the caller rebuilds
it from the store.

Thread safety (one writer, many readers):

* ``search``, ``ids``, ``len``, ``in`` may run concurrently from any number of threads, also while
  a writer works; each one sees the index either before or after a whole ``add``/``remove`` batch.
* ``add``, ``remove`` and ``save`` are serialised by a writer mutex (a second writer thread waits).
  Mutations take an exclusive lock only for the time the batch is applied, so they briefly block
  searches; the slow parts (building the HNSW graph when the index outgrows exact search, writing
  files in ``save``) run without blocking searches.
* hnswlib itself would allow concurrent ``add_items``/``knn_query``, but not ``resize_index`` or
  ``mark_deleted`` racing a query that walks the same node; a readers-writer lock keeps that simple.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import hnswlib
import numpy as np

# FORMAT and FORMAT_VERSION are re-exported: they have always been importable from here.
import desktop_search.vectors.files as vector_files
from desktop_search.vectors.files import FORMAT as FORMAT
from desktop_search.vectors.files import FORMAT_VERSION as FORMAT_VERSION

log = logging.getLogger(__name__)

# Below this many items the index is a plain float32 matrix and queries are exact (matrix @ query
# + argpartition); at or above it the vectors move into an HNSW graph. Measured with
# benchmarks/vector_crossover.py on the 2-core dev machine (512-d, k=20, ef_search=128, p50 ms,
# median of 5 x 200 queries): exact 0.23 / HNSW 0.34 at 5k, exact 0.70 / HNSW 0.56 at 10k,
# exact 2.1 / HNSW 0.73 at 20k, exact 9.9 / HNSW 1.1 at 100k. The speed crossover is ~8k; we
# switch at 10k because the two are within 0.15 ms there, exact search has perfect recall, and
# libraries under 10k items never pay for a graph build (~1.6 s for 10k vectors here).
EXACT_SEARCH_BELOW = 10_000

# hnswlib ef at query time (hnswlib uses max(ef, k)). benchmarks/hnsw_recall.py, 100k x 512-d,
# recall@10 / p95: (a) well-separated gaussian clusters in a 64-d subspace need ef=24 for >= 0.98
# (0.995 / 0.21 ms); (a2) overlapping clusters with CLIP-like cosine statistics need ef=48
# (0.988 / 0.41 ms) and reach 1.000 at 128 (0.46 ms), 20x under the 10 ms budget. 128 leaves
# headroom for real embeddings, deletions and filtered walks. Uniform random unit vectors (no
# structure, the worst case) reach only 0.13 at ef=128 and 0.35 at ef=512: no ef rescues them.
DEFAULT_EF_SEARCH = 128

# A search restricted to ``allowed_ids`` in HNSW mode either scores the allowed vectors exactly
# (get_items + matmul) or walks the graph with hnswlib's filter callable. hnswlib 0.8's get_items
# goes through a list of Python floats: ~23-30 us per 512-d vector, far more than one walk step
# (a distance + a Python filter call, ~1 us). A selective walk visits ~min(N, c*ef/selectivity)
# nodes, i.e. most of the graph below a few percent. Measured at 100k x 512-d
# (benchmarks/vector_crossover.py, table 2, p50): exact 2.1 ms / walk 88 ms for 100 allowed,
# 23 / 29 ms for 1k, 45 / 19 ms for 2k, 123 / 10 ms for 5k: crossover ~1.2k = N/80.
# Threshold: len(allowed) < max(EXACT_FILTER_MIN, live_count // EXACT_FILTER_DIVISOR).
EXACT_FILTER_MIN = 256  # ~5 ms exact; a walk that selective visits most of the graph anyway
EXACT_FILTER_DIVISOR = 80

_MIN_CAPACITY = 1024
_CHUNK = 8192  # rows fetched per get_items call when scoring HNSW-held vectors exactly


class _RWLock:
    """Readers-writer lock with writer preference (a waiting writer stops new readers)."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writer or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


def _top_k(scores: np.ndarray, ids: np.ndarray, k: int) -> list[tuple[int, float]]:
    n = scores.shape[0]
    if k <= 0 or n == 0:
        return []
    # argpartition is O(n); only the k winners get sorted.
    cand = np.argpartition(scores, n - k)[n - k :] if k < n else np.arange(n)
    order = cand[np.argsort(-scores[cand], kind="stable")]
    return [(int(ids[i]), float(scores[i])) for i in order]


def _merge_top_k(parts: list[list[tuple[int, float]]], k: int) -> list[tuple[int, float]]:
    merged = [hit for part in parts for hit in part]
    merged.sort(key=lambda hit: -hit[1])
    return merged[:k]


class VectorIndex:
    """Cosine-similarity index over L2-normalised float32 vectors, keyed by int64 ids."""

    def __init__(
        self,
        dim: int,
        *,
        exact_below: int = EXACT_SEARCH_BELOW,
        m: int = 16,
        ef_construction: int = 200,
        ef_search: int = DEFAULT_EF_SEARCH,
        exact_filter_below: int | None = None,
    ) -> None:
        if dim <= 0:
            raise ValueError(f"dim must be positive, got {dim}")
        self.dim = int(dim)
        self.exact_below = int(exact_below)
        self.m = int(m)
        self.ef_construction = int(ef_construction)
        self.ef_search = int(ef_search)
        # None: size-aware default (see EXACT_FILTER_DIVISOR); an int fixes the threshold.
        self.exact_filter_below = exact_filter_below
        # The store generation this index reflects (see store/vector_log.py); kept by its owner.
        self.generation = 0
        self._rw = _RWLock()
        self._writer = threading.Lock()
        # Exact mode: rows [0, len(_row)) of _mat/_ids are live, _row maps id -> row.
        self._mat: np.ndarray | None = np.empty((0, self.dim), dtype=np.float32)
        self._ids = np.empty(0, dtype=np.int64)
        self._row: dict[int, int] = {}
        # HNSW mode: _hnsw holds the vectors, _live the ids not marked deleted.
        self._hnsw: hnswlib.Index | None = None
        self._live: set[int] = set()

    # ------------------------------------------------------------------ construction helpers

    @classmethod
    def build(cls, dim: int, ids: np.ndarray, vectors: np.ndarray, **kw: Any) -> VectorIndex:
        """A new index holding ``vectors`` under ``ids`` (kw as for the constructor)."""
        index = cls(dim, **kw)
        index.add(ids, vectors)
        return index

    def set_ef_search(self, ef: int) -> None:
        """Change the HNSW query-time ef (recall/speed trade-off); no effect on exact search."""
        with self._writer, self._rw.write():
            self.ef_search = int(ef)
            if self._hnsw is not None:
                self._hnsw.set_ef(self.ef_search)

    @property
    def mode(self) -> str:
        """``"exact"`` or ``"hnsw"``."""
        return "hnsw" if self._hnsw is not None else "exact"

    def _new_graph(self, capacity: int) -> hnswlib.Index:
        graph = hnswlib.Index(space="ip", dim=self.dim)
        graph.init_index(
            max_elements=max(int(capacity), _MIN_CAPACITY),
            M=self.m,
            ef_construction=self.ef_construction,
            allow_replace_deleted=True,
        )
        graph.set_ef(self.ef_search)
        return graph

    # ------------------------------------------------------------------ validation

    def _prepare(self, ids: Any, vectors: Any) -> tuple[np.ndarray, np.ndarray]:
        ids_arr = np.asarray(ids)
        if ids_arr.ndim != 1:
            raise ValueError(f"ids must be 1-D, got shape {ids_arr.shape}")
        if ids_arr.size and not np.issubdtype(ids_arr.dtype, np.integer):
            raise ValueError(f"ids must be integers, got {ids_arr.dtype}")
        ids_arr = ids_arr.astype(np.int64, copy=False)
        if ids_arr.size and ids_arr.min() < 0:
            raise ValueError("ids must be non-negative")
        vecs = np.asarray(vectors, dtype=np.float32)
        if vecs.ndim != 2 or vecs.shape[1] != self.dim or vecs.shape[0] != ids_arr.shape[0]:
            raise ValueError(
                f"vectors must have shape ({ids_arr.shape[0]}, {self.dim}), got {vecs.shape}"
            )
        if not np.isfinite(vecs).all():
            bad = ids_arr[~np.isfinite(vecs).all(axis=1)]
            raise ValueError(f"non-finite vector values for ids {bad[:10].tolist()}")
        norms = np.linalg.norm(vecs, axis=1)
        if (norms == 0).any():
            raise ValueError(f"zero vectors for ids {ids_arr[norms == 0][:10].tolist()}")
        vecs = np.ascontiguousarray(vecs / norms[:, None], dtype=np.float32)
        if np.unique(ids_arr).size != ids_arr.size:
            # Upsert semantics within one batch too: the last occurrence of an id wins.
            _, first_in_reversed = np.unique(ids_arr[::-1], return_index=True)
            keep = np.sort(ids_arr.size - 1 - first_in_reversed)
            ids_arr, vecs = ids_arr[keep], vecs[keep]
        return ids_arr, vecs

    def _prepare_query(self, query: Any) -> np.ndarray:
        q = np.asarray(query, dtype=np.float32)
        if q.ndim == 2 and q.shape[0] == 1:
            q = q[0]
        if q.shape != (self.dim,):
            raise ValueError(f"query must have shape ({self.dim},), got {q.shape}")
        if not np.isfinite(q).all():
            raise ValueError("query has non-finite values")
        norm = float(np.linalg.norm(q))
        if norm == 0:
            raise ValueError("query is a zero vector")
        return np.ascontiguousarray(q / norm, dtype=np.float32)

    # ------------------------------------------------------------------ mutation

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Insert or replace (upsert) ``vectors[i]`` under ``ids[i]``; normalises the vectors."""
        ids_arr, vecs = self._prepare(ids, vectors)
        if ids_arr.size == 0:
            return
        with self._writer:
            if self._hnsw is not None:
                with self._rw.write():
                    self._hnsw_upsert(self._hnsw, self._live, ids_arr, vecs)
                return
            n_new = sum(1 for i in ids_arr.tolist() if i not in self._row)
            if len(self._row) + n_new >= self.exact_below:
                self._promote(ids_arr, vecs)
            else:
                with self._rw.write():
                    self._exact_upsert(ids_arr, vecs)

    def remove(self, ids: Collection[int] | np.ndarray) -> None:
        """Remove ``ids``; ids not in the index are ignored."""
        arr = np.asarray(ids if isinstance(ids, np.ndarray) else list(ids), dtype=np.int64)
        id_list = arr.reshape(-1).tolist()
        if not id_list:
            return
        with self._writer:
            if self._hnsw is None:
                with self._rw.write():
                    self._exact_remove(id_list)
                return
            with self._rw.write():
                for i in id_list:
                    if i in self._live:
                        # The slot stays in the graph (as a routing node) until an insert of a
                        # new id reuses it via replace_deleted.
                        self._hnsw.mark_deleted(i)
                        self._live.discard(i)
            if len(self._live) < self.exact_below // 2:
                # Hysteresis (half the promotion threshold) so a library hovering around the
                # threshold doesn't rebuild a graph on every batch.
                self._demote()

    def _exact_upsert(self, ids: np.ndarray, vecs: np.ndarray) -> None:
        assert self._mat is not None
        n = len(self._row)
        rows = np.empty(ids.size, dtype=np.int64)
        for j, i in enumerate(ids.tolist()):
            r = self._row.get(i)
            if r is None:
                r = n
                self._row[i] = r
                n += 1
            rows[j] = r
        if n > self._mat.shape[0]:
            cap = max(_MIN_CAPACITY, self._mat.shape[0] * 2, n)
            mat = np.empty((cap, self.dim), dtype=np.float32)
            mat[: self._mat.shape[0]] = self._mat
            id_buf = np.empty(cap, dtype=np.int64)
            id_buf[: self._ids.shape[0]] = self._ids
            self._mat, self._ids = mat, id_buf
        self._mat[rows] = vecs
        self._ids[rows] = ids

    def _exact_remove(self, id_list: list[int]) -> None:
        assert self._mat is not None
        for i in id_list:
            r = self._row.pop(i, None)
            if r is None:
                continue
            last = len(self._row)  # index of the last live row, after the pop
            if r != last:
                moved = int(self._ids[last])
                self._mat[r] = self._mat[last]
                self._ids[r] = moved
                self._row[moved] = r
        n = len(self._row)
        if self._mat.shape[0] > _MIN_CAPACITY and n < self._mat.shape[0] // 4:
            cap = max(_MIN_CAPACITY, n * 2)
            self._mat = self._mat[:cap].copy()
            self._ids = self._ids[:cap].copy()

    def _hnsw_upsert(
        self, graph: hnswlib.Index, live: set[int], ids: np.ndarray, vecs: np.ndarray
    ) -> None:
        # hnswlib 0.8 pitfalls this avoids (see the tests):
        # - add_items(replace_deleted=True) for an id that is *live* puts it into a vacant slot and
        #   leaves the old slot live too: the id is then returned twice.
        # - add_items(replace_deleted=False) for an id that is marked deleted raises when
        #   allow_replace_deleted is on.
        # So: live ids are updated in place; deleted-but-known ids are unmarked then updated in
        # their old slot; only never-seen (or evicted) ids go through replace_deleted.
        id_list = ids.tolist()
        in_place = np.zeros(ids.size, dtype=bool)
        for j, i in enumerate(id_list):
            if i in live:
                in_place[j] = True
                continue
            try:
                graph.unmark_deleted(i)
            except RuntimeError:
                continue  # not known to hnswlib (new, or its slot was reused): a fresh insert
            in_place[j] = True
            live.add(i)
        if in_place.any():
            graph.add_items(vecs[in_place], ids[in_place], replace_deleted=False)
        fresh = ~in_place
        n_fresh = int(fresh.sum())
        if n_fresh:
            vacant = graph.element_count - len(live)
            needed = graph.element_count + max(0, n_fresh - vacant)
            if needed > graph.get_max_elements():
                graph.resize_index(max(needed, 2 * graph.get_max_elements()))
            graph.add_items(vecs[fresh], ids[fresh], replace_deleted=True)
            live.update(ids[fresh].tolist())

    def _promote(self, ids: np.ndarray, vecs: np.ndarray) -> None:
        """Exact -> HNSW: build the graph from the held vectors plus this batch, then publish.

        Runs under the writer mutex only; searches keep using the matrix until the swap."""
        assert self._mat is not None
        n = len(self._row)
        live = set(self._row)
        n_new = sum(1 for i in ids.tolist() if i not in live)
        graph = self._new_graph(max(2 * (n + n_new), _MIN_CAPACITY))
        if n:
            graph.add_items(self._mat[:n], self._ids[:n])
        self._hnsw_upsert(graph, live, ids, vecs)
        log.info("vector index (dim %d) switched to HNSW at %d items", self.dim, len(live))
        with self._rw.write():
            self._hnsw, self._live = graph, live
            self._mat, self._ids, self._row = None, np.empty(0, dtype=np.int64), {}

    def _demote(self) -> None:
        """HNSW -> exact when the index shrank well below the threshold."""
        assert self._hnsw is not None
        ids = np.fromiter(self._live, dtype=np.int64, count=len(self._live))
        mat = self._get_vectors(self._hnsw, ids)
        cap = max(_MIN_CAPACITY, 2 * ids.size)
        mat_buf = np.empty((cap, self.dim), dtype=np.float32)
        mat_buf[: ids.size] = mat
        id_buf = np.empty(cap, dtype=np.int64)
        id_buf[: ids.size] = ids
        row = {i: r for r, i in enumerate(ids.tolist())}
        log.info("vector index (dim %d) switched to exact search at %d items", self.dim, ids.size)
        with self._rw.write():
            self._mat, self._ids, self._row = mat_buf, id_buf, row
            self._hnsw, self._live = None, set()

    def _rebalance(self) -> None:
        if self._hnsw is None and len(self._row) >= self.exact_below:
            self._promote(np.empty(0, dtype=np.int64), np.empty((0, self.dim), np.float32))
        elif self._hnsw is not None and len(self._live) < self.exact_below // 2:
            self._demote()

    @staticmethod
    def _get_vectors(graph: hnswlib.Index, ids: np.ndarray) -> np.ndarray:
        if ids.size == 0:
            return np.empty((0, graph.dim), dtype=np.float32)
        return np.asarray(graph.get_items(ids, return_type="numpy"), dtype=np.float32)

    # ------------------------------------------------------------------ queries

    def __len__(self) -> int:
        with self._rw.read():
            return len(self._live) if self._hnsw is not None else len(self._row)

    def __contains__(self, item: object) -> bool:
        try:
            key = int(item)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            return False
        with self._rw.read():
            return key in (self._live if self._hnsw is not None else self._row)

    def ids(self) -> np.ndarray:
        """The live ids, sorted ascending (int64)."""
        with self._rw.read():
            if self._hnsw is not None:
                out = np.fromiter(self._live, dtype=np.int64, count=len(self._live))
            else:
                out = self._ids[: len(self._row)].copy()
        out.sort()
        return out

    def search(
        self, query: np.ndarray, k: int, allowed_ids: Collection[int] | None = None
    ) -> list[tuple[int, float]]:
        """Up to ``k`` (id, cosine) pairs, best first; restricted to ``allowed_ids`` if given.

        Never raises because fewer than ``k`` items (or allowed items) exist."""
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        q = self._prepare_query(query)
        if k == 0 or (allowed_ids is not None and len(allowed_ids) == 0):
            return []
        with self._rw.read():
            if self._hnsw is None:
                return self._search_exact(q, k, allowed_ids)
            return self._search_hnsw(q, k, allowed_ids)

    def _search_exact(
        self, q: np.ndarray, k: int, allowed: Collection[int] | None
    ) -> list[tuple[int, float]]:
        assert self._mat is not None
        n = len(self._row)
        if allowed is None:
            return _top_k(self._mat[:n] @ q, self._ids[:n], k)
        if len(allowed) < n:
            rows = [r for i in allowed if (r := self._row.get(int(i))) is not None]
        else:
            allowed_set = allowed if isinstance(allowed, set | frozenset) else set(allowed)
            rows = [r for i, r in self._row.items() if i in allowed_set]
        sel = np.asarray(rows, dtype=np.int64)
        return _top_k(self._mat[sel] @ q, self._ids[sel], k)

    def _search_hnsw(
        self, q: np.ndarray, k: int, allowed: Collection[int] | None
    ) -> list[tuple[int, float]]:
        graph = self._hnsw
        assert graph is not None
        live = self._live
        if allowed is None:
            k_eff = min(k, len(live))
            if k_eff == 0:
                return []
            hits = self._knn(graph, q, k_eff, None)
            if hits is not None:
                return hits
            log.warning("HNSW search found fewer than %d items; scoring all exactly", k_eff)
            return self._exact_over(graph, np.fromiter(live, np.int64, len(live)), q, k)
        threshold = self.exact_filter_below
        if threshold is None:
            threshold = max(EXACT_FILTER_MIN, len(live) // EXACT_FILTER_DIVISOR)
        if len(allowed) < threshold:
            sel = [int(i) for i in allowed if int(i) in live]
            return self._exact_over(graph, np.asarray(sel, dtype=np.int64), q, k)
        allowed_set = allowed if isinstance(allowed, set | frozenset) else set(allowed)
        k_eff = min(k, len(live), len(allowed_set))
        if k_eff == 0:
            return []
        hits = self._knn(graph, q, k_eff, allowed_set.__contains__)
        if hits is not None:
            return hits
        # The walk found fewer than k_eff allowed items: many allowed ids are not in the index
        # (or unreachable), so the real intersection is small; score it exactly.
        sel = np.fromiter(live.intersection(allowed_set), dtype=np.int64)
        return self._exact_over(graph, sel, q, k)

    @staticmethod
    def _knn(
        graph: hnswlib.Index, q: np.ndarray, k: int, filter_fn: Any
    ) -> list[tuple[int, float]] | None:
        try:
            labels, dists = graph.knn_query(q, k=k, num_threads=1, filter=filter_fn)
        except RuntimeError as exc:
            # hnswlib raises "Cannot return the results in a contiguous 2D array" when it finds
            # fewer than k results; the caller falls back to exact scoring.
            log.debug("hnswlib knn_query(k=%d) failed: %s", k, exc)
            return None
        # 'ip' space distance is 1 - <a, b>.
        return [(int(i), float(1.0 - d)) for i, d in zip(labels[0], dists[0], strict=True)]

    def _exact_over(
        self, graph: hnswlib.Index, ids: np.ndarray, q: np.ndarray, k: int
    ) -> list[tuple[int, float]]:
        parts = []
        for start in range(0, ids.size, _CHUNK):
            chunk = ids[start : start + _CHUNK]
            parts.append(_top_k(self._get_vectors(graph, chunk) @ q, chunk, k))
        return parts[0] if len(parts) == 1 else _merge_top_k(parts, k)

    # ------------------------------------------------------------------ persistence

    def save(self, path: Path, generation: int) -> None:
        """Write the index atomically: payload files first, the JSON sidecar last.

        Files: ``path`` (hnswlib index, or a float32 .npy matrix in exact mode),
        ``path.ids.npy`` (live ids) and ``path.with_suffix(".json")``. Searches may run during a
        save; mutations wait for it."""
        with vector_files.IndexFileWriter(path) as out:
            # The writer mutex plus a read lock freeze the index for the snapshot without
            # blocking searches; checksums, fsyncs and renames happen after it is released.
            with self._writer, self._rw.read():
                mode = self.mode
                if self._hnsw is not None:
                    ids = np.fromiter(self._live, dtype=np.int64, count=len(self._live))
                    self._hnsw.save_index(str(out.payload_tmp()))
                else:
                    n = len(self._row)
                    ids = self._ids[:n].copy()
                    out.write_payload(self._mat[:n])  # type: ignore[index]
                out.write_ids(ids)
            header = vector_files.IndexHeader(
                generation=int(generation),
                dim=self.dim,
                count=int(ids.size),
                mode=mode,
                m=self.m,
                ef_construction=self.ef_construction,
            )
            out.commit(header)

    @staticmethod
    def saved_generation(path: Path) -> int | None:
        """The generation a saved index file claims (without verifying the file)."""
        return vector_files.saved_generation(path)

    @classmethod
    def load(
        cls,
        path: Path,
        *,
        dim: int,
        generation: int | None,
        exact_below: int = EXACT_SEARCH_BELOW,
        ef_search: int = DEFAULT_EF_SEARCH,
        exact_filter_below: int | None = None,
    ) -> VectorIndex:
        """Load an index saved by :meth:`save`, or raise :class:`IndexFileError` saying why it
        can't be trusted (missing, stale generation, wrong dim, truncated or corrupt).

        ``generation=None`` accepts any generation; the loaded one is in ``index.generation``
        (the caller catches it up)."""
        path = Path(path)
        header = vector_files.read_header(path, dim=dim, generation=generation)
        index = cls(
            dim,
            exact_below=exact_below,
            m=header.m,
            ef_construction=header.ef_construction,
            ef_search=ef_search,
            exact_filter_below=exact_filter_below,
        )
        ids = vector_files.load_ids(path, header.count)
        if header.mode == "exact":
            index._restore_exact(path, ids)
        else:
            index._restore_hnsw(path, ids)
        with index._writer:
            index._rebalance()
        index.generation = header.generation
        return index

    def _restore_exact(self, path: Path, ids: np.ndarray) -> None:
        # Called on a fresh, unshared index by load(), so no locks are needed.
        count = ids.shape[0]
        mat = vector_files.load_matrix(path, count, self.dim)
        self._row = {i: r for r, i in enumerate(ids.tolist())}
        if len(self._row) != count:
            raise vector_files.index_error(path, "has duplicate ids")
        self._mat, self._ids = np.ascontiguousarray(mat), ids.copy()

    def _restore_hnsw(self, path: Path, ids: np.ndarray) -> None:
        # Called on a fresh, unshared index by load(), so no locks are needed.
        graph = hnswlib.Index(space="ip", dim=self.dim)
        try:
            graph.load_index(str(path), allow_replace_deleted=True)
        except (RuntimeError, ValueError, MemoryError) as exc:
            raise vector_files.index_error(path, f"could not be loaded by hnswlib: {exc}") from None
        live = set(ids.tolist())
        if len(live) != ids.shape[0] or not live.issubset(graph.get_ids_list()):
            raise vector_files.index_error(path, "has ids that don't match the HNSW payload")
        graph.set_ef(self.ef_search)
        self._hnsw, self._live, self._mat = graph, live, None
