"""VectorIndex: exact and HNSW modes, upsert/remove, filters, persistence and its failure modes."""

from __future__ import annotations

import json
import shutil
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest

from desktop_search.errors import IndexFileError
from desktop_search.vectors.index import VectorIndex

DIM = 32
EXACT = {"exact_below": 10**9}
# ef_search >= n makes the HNSW walk exhaustive on these small sets, so its answers must equal
# brute force exactly; exact_filter_below=0 forces the filtered-walk path.
HNSW = {"exact_below": 0, "ef_search": 2000}
MODES = pytest.mark.parametrize("kw", [EXACT, HNSW], ids=["exact", "hnsw"])


def unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def data(n: int, seed: int = 0, dim: int = DIM) -> np.ndarray:
    return unit(np.random.default_rng(seed).standard_normal((n, dim)))


def brute(ids: np.ndarray, vecs: np.ndarray, q: np.ndarray, k: int) -> list[tuple[int, float]]:
    s = unit(vecs) @ unit(q)
    order = np.argsort(-s, kind="stable")[:k]
    return [(int(ids[i]), float(s[i])) for i in order]


def assert_same(got: list[tuple[int, float]], want: list[tuple[int, float]]) -> None:
    assert [i for i, _ in got] == [i for i, _ in want]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in want], atol=1e-5)


# ---------------------------------------------------------------- basic search


@MODES
def test_search_returns_exact_neighbour_with_cosine_scores(kw: dict) -> None:
    x = data(500)
    ids = np.arange(1000, 1500)
    index = VectorIndex.build(DIM, ids, x * 7.5, **kw)  # unnormalised input is normalised
    assert index.mode == ("hnsw" if kw is HNSW else "exact")
    assert len(index) == 500
    assert 1042 in index and 42 not in index
    hits = index.search(x[42], 5)
    assert hits[0][0] == 1042
    assert hits[0][1] == pytest.approx(1.0, abs=1e-5)
    assert_same(hits, brute(ids, x, x[42], 5))
    assert all(a[1] >= b[1] for a, b in zip(hits, hits[1:], strict=False))
    np.testing.assert_array_equal(index.ids(), ids)


@MODES
def test_k_larger_than_count_returns_everything(kw: dict) -> None:
    x = data(7)
    index = VectorIndex.build(DIM, np.arange(7), x, **kw)
    hits = index.search(x[3], 50)
    assert_same(hits, brute(np.arange(7), x, x[3], 50))
    assert len(hits) == 7
    assert index.search(x[3], 0) == []
    assert VectorIndex(DIM, **kw).search(x[0], 10) == []


# ---------------------------------------------------------------- upsert / remove


@MODES
def test_upsert_replaces_vector(kw: dict) -> None:
    x = data(200)
    index = VectorIndex.build(DIM, np.arange(200), x, **kw)
    new = data(1, seed=99)[0]
    index.add(np.array([5]), new[None, :])
    assert len(index) == 200
    hits = index.search(new, 3)
    assert hits[0][0] == 5 and hits[0][1] == pytest.approx(1.0, abs=1e-5)
    assert [i for i, _ in index.search(x[5], 200)].count(5) == 1
    # the old vector is gone: id 5 now scores cos(old, new) against it
    score5 = dict(index.search(x[5], 200))[5]
    assert score5 == pytest.approx(float(x[5] @ unit(new)), abs=1e-5)


@MODES
def test_duplicate_ids_in_one_batch_last_wins(kw: dict) -> None:
    x = data(3)
    index = VectorIndex.build(DIM, np.array([1, 2, 1]), x, **kw)
    assert len(index) == 2
    assert index.search(x[2], 1)[0][0] == 1
    assert dict(index.search(x[0], 2))[1] == pytest.approx(float(x[0] @ x[2]), abs=1e-5)


@MODES
def test_remove_makes_id_disappear(kw: dict) -> None:
    x = data(300)
    index = VectorIndex.build(DIM, np.arange(300), x, **kw)
    index.remove([10, 11, 123456])  # unknown ids are ignored
    assert len(index) == 298 and 10 not in index and 11 not in index
    found = [i for i, _ in index.search(x[10], 300)]
    assert 10 not in found and 11 not in found and len(found) == 298
    keep = np.setdiff1d(np.arange(300), [10, 11])
    assert_same(index.search(x[10], 10), brute(keep, x[keep], x[10], 10))
    index.remove(np.array([10]))  # removing twice is fine
    # re-adding a removed id brings it back exactly once
    index.add(np.array([10]), x[10][None, :])
    hits = index.search(x[10], 300)
    assert hits[0][0] == 10 and [i for i, _ in hits].count(10) == 1 and len(index) == 299


def test_hnsw_remove_reuses_space() -> None:
    x = data(400)
    index = VectorIndex.build(DIM, np.arange(300), x[:300], **HNSW)
    graph = index._hnsw
    assert graph is not None
    slots, capacity = graph.element_count, graph.get_max_elements()
    index.remove(np.arange(100))
    index.add(np.arange(300, 400), x[300:])  # 100 new ids fill the 100 vacated slots
    assert graph.element_count == slots == 300
    assert graph.get_max_elements() == capacity
    assert len(index) == 300
    ids = np.arange(100, 400)
    for j in (0, 150, 350):
        assert_same(index.search(x[j], 10), brute(ids, x[100:], x[j], 10))


def test_hnsw_upsert_of_live_id_with_vacancy_is_not_duplicated() -> None:
    # hnswlib 0.8: add_items(replace_deleted=True) for a *live* label moves it into a vacant slot
    # and leaves the old slot live, so the id came back twice. VectorIndex must avoid that.
    x = data(50)
    index = VectorIndex.build(DIM, np.arange(50), x, **HNSW)
    index.remove([3])  # creates a vacancy
    new = data(1, seed=5)[0]
    index.add(np.array([7]), new[None, :])
    hits = index.search(new, 50)
    assert [i for i, _ in hits].count(7) == 1
    assert len(hits) == 49 == len(index)


def test_hnsw_readd_after_slot_was_reused() -> None:
    # id 3's slot gets reused by id 100 (its label is evicted inside hnswlib); re-adding 3 must
    # then be a fresh insert, and 100 must keep working.
    x = data(102)
    index = VectorIndex.build(DIM, np.arange(50), x[:50], **HNSW)
    index.remove([3])
    index.add(np.array([100]), x[100][None, :])
    index.add(np.array([3]), x[101][None, :])
    ids = np.array([i for i in range(50) if i != 3] + [100, 3])
    vecs = np.concatenate([np.delete(x[:50], 3, axis=0), x[100:102]])
    for q in (x[100], x[101], x[3]):
        assert_same(index.search(q, 51), brute(ids, vecs, q, 51))
    index.remove([100, 3])
    assert 100 not in index and 3 not in index and len(index) == 49


# ---------------------------------------------------------------- allowed_ids


@pytest.mark.parametrize("filter_below", [10**9, 0], ids=["exact-subset", "filtered-walk"])
@MODES
def test_allowed_ids(kw: dict, filter_below: int) -> None:
    x = data(600)
    ids = np.arange(600) * 3
    index = VectorIndex.build(DIM, ids, x, exact_filter_below=filter_below, **kw)
    q = x[0]
    for allowed in (
        {3, 9, 300, 999_999},  # small, with an id the index doesn't have
        set(ids[::2].tolist()),  # large
        list(ids[1::3].tolist()),  # not a set
        frozenset(ids[:1].tolist()),
    ):
        mask = np.isin(ids, list(allowed))
        want = brute(ids[mask], x[mask], q, 10)
        got = index.search(q, 10, allowed_ids=allowed)
        assert_same(got, want)
        assert {i for i, _ in got} <= set(allowed)
    assert index.search(q, 10, allowed_ids=set()) == []
    assert index.search(q, 10, allowed_ids={1, 2, 4}) == []  # none of them indexed
    assert index.search(q, 10, allowed_ids=[999_999]) == []


def test_allowed_ids_excludes_removed() -> None:
    x = data(100)
    for kw in (EXACT, HNSW):
        index = VectorIndex.build(DIM, np.arange(100), x, **kw)
        index.remove([1])
        assert [i for i, _ in index.search(x[1], 5, allowed_ids={1, 2})] == [2]
        index.exact_filter_below = 0
        assert [i for i, _ in index.search(x[1], 5, allowed_ids={1, 2})] == [2]


# ---------------------------------------------------------------- exact <-> HNSW switch


def test_crossover_switch_keeps_results_identical_to_brute_force() -> None:
    x = data(1300, seed=3)
    queries = data(5, seed=4)
    index = VectorIndex(DIM, exact_below=500, ef_search=2000)
    for start in range(0, 1200, 100):
        index.add(np.arange(start, start + 100), x[start : start + 100])
        n = start + 100
        assert index.mode == ("hnsw" if n >= 500 else "exact")
        assert (index._mat is None) == (n >= 500)  # vectors are not held twice
        for q in queries:
            assert_same(index.search(q, 20), brute(np.arange(n), x[:n], q, 20))
    # shrinking below half the threshold goes back to exact search, with the same answers
    index.remove(np.arange(0, 900))
    assert index.mode == "hnsw"  # 300 left: above the hysteresis bound of 250
    index.remove(np.arange(900, 960))
    assert index.mode == "exact" and len(index) == 240
    ids = np.arange(960, 1200)
    for q in queries:
        assert_same(index.search(q, 20), brute(ids, x[960:1200], q, 20))


def test_single_batch_above_threshold_builds_hnsw_directly() -> None:
    x = data(300)
    index = VectorIndex.build(DIM, np.arange(300), x, exact_below=100)
    assert index.mode == "hnsw" and len(index) == 300 and index._mat is None


# ---------------------------------------------------------------- validation


def test_validation() -> None:
    index = VectorIndex(DIM)
    with pytest.raises(ValueError, match="shape"):
        index.add(np.arange(2), np.ones((2, DIM + 1)))
    with pytest.raises(ValueError, match="shape"):
        index.add(np.arange(3), np.ones((2, DIM)))
    bad = np.ones((2, DIM))
    bad[1, 4] = np.nan
    with pytest.raises(ValueError, match=r"non-finite.*\[8\]"):
        index.add(np.array([7, 8]), bad)
    with pytest.raises(ValueError, match="zero"):
        index.add(np.array([1]), np.zeros((1, DIM)))
    with pytest.raises(ValueError, match="non-negative"):
        index.add(np.array([-1]), np.ones((1, DIM)))
    with pytest.raises(ValueError, match="integers"):
        index.add(np.array([1.5]), np.ones((1, DIM)))
    assert len(index) == 0  # nothing half-added
    index.add(np.array([1]), np.ones((1, DIM), dtype=np.float16))  # float16 from SQLite is fine
    with pytest.raises(ValueError, match="query"):
        index.search(np.ones(DIM + 1), 3)
    with pytest.raises(ValueError, match="zero"):
        index.search(np.zeros(DIM), 3)
    with pytest.raises(ValueError):
        index.search(np.ones(DIM), -1)
    assert index.search(np.ones(DIM), 3) == [(1, pytest.approx(1.0, abs=1e-5))]


# ---------------------------------------------------------------- persistence


@MODES
def test_save_load_round_trip(tmp_path: Path, kw: dict) -> None:
    x = data(400)
    ids = np.arange(400) + 10
    index = VectorIndex.build(DIM, ids, x, **kw)
    index.remove([10, 20])
    path = tmp_path / "clip.idx"
    index.save(path, generation=7)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "clip.idx",
        "clip.idx.ids.npy",
        "clip.json",
    ]  # no temp files left behind
    meta = json.loads((tmp_path / "clip.json").read_text())
    assert meta["generation"] == 7 and meta["dim"] == DIM and meta["count"] == 398
    assert meta["mode"] == index.mode
    assert meta["files"]["payload"]["size"] == path.stat().st_size

    loaded = VectorIndex.load(path, dim=DIM, generation=7, **kw)
    assert loaded.mode == index.mode and len(loaded) == 398
    np.testing.assert_array_equal(loaded.ids(), index.ids())
    for j in (0, 5, 200):
        assert_same(loaded.search(x[j], 15), index.search(x[j], 15))
    # the loaded index is fully usable: removals, slot reuse, upserts
    loaded.remove([11])
    loaded.add(np.array([10, 12]), x[[0, 5]])
    assert 11 not in loaded and 10 in loaded and len(loaded) == 398
    assert [i for i, _ in loaded.search(x[5], 400)].count(12) == 1
    # saving again over the old files works (new generation)
    loaded.save(path, generation=8)
    again = VectorIndex.load(path, dim=DIM, generation=8, **kw)
    np.testing.assert_array_equal(again.ids(), loaded.ids())


def test_load_adapts_mode_to_threshold(tmp_path: Path) -> None:
    x = data(300)
    VectorIndex.build(DIM, np.arange(300), x, exact_below=0).save(tmp_path / "a", 1)
    assert VectorIndex.load(tmp_path / "a", dim=DIM, generation=1, exact_below=10**6).mode == (
        "exact"
    )
    VectorIndex.build(DIM, np.arange(300), x, **EXACT).save(tmp_path / "b", 1)
    loaded = VectorIndex.load(tmp_path / "b", dim=DIM, generation=1, exact_below=100)
    assert loaded.mode == "hnsw"
    assert loaded.search(x[9], 1)[0][0] == 9


def _saved(tmp_path: Path, kw: dict, generation: int = 3) -> Path:
    path = tmp_path / "space.bin"
    VectorIndex.build(DIM, np.arange(200), data(200), **kw).save(path, generation)
    return path


@MODES
def test_load_missing(tmp_path: Path, kw: dict) -> None:
    with pytest.raises(IndexFileError, match="missing"):
        VectorIndex.load(tmp_path / "nothing.bin", dim=DIM, generation=1)
    path = _saved(tmp_path, kw)
    path.unlink()
    with pytest.raises(IndexFileError, match="missing its payload"):
        VectorIndex.load(path, dim=DIM, generation=3)


@MODES
def test_load_stale_generation_and_wrong_dim(tmp_path: Path, kw: dict) -> None:
    path = _saved(tmp_path, kw)
    with pytest.raises(IndexFileError, match=r"stale \(generation 3, expected 4\)") as err:
        VectorIndex.load(path, dim=DIM, generation=4)
    assert "rebuilt" in str(err.value)
    with pytest.raises(IndexFileError, match=f"dimension {DIM}, expected 64"):
        VectorIndex.load(path, dim=64, generation=3)


@MODES
def test_load_truncated_and_garbage(tmp_path: Path, kw: dict) -> None:
    path = _saved(tmp_path, kw)
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(IndexFileError, match="truncated"):
        VectorIndex.load(path, dim=DIM, generation=3)
    path.write_bytes(np.random.default_rng(0).bytes(len(good)))  # same size, garbage
    with pytest.raises(IndexFileError, match="checksum"):
        VectorIndex.load(path, dim=DIM, generation=3)
    path.write_bytes(good)
    ids_file = tmp_path / "space.bin.ids.npy"
    ids_file.write_bytes(ids_file.read_bytes()[:-8])
    with pytest.raises(IndexFileError, match="truncated"):
        VectorIndex.load(path, dim=DIM, generation=3)


@MODES
def test_load_garbage_sidecar(tmp_path: Path, kw: dict) -> None:
    path = _saved(tmp_path, kw)
    sidecar = tmp_path / "space.json"
    sidecar.write_bytes(b"\x00\xff not json")
    with pytest.raises(IndexFileError, match="sidecar"):
        VectorIndex.load(path, dim=DIM, generation=3)
    sidecar.write_text('{"format": "desktop-search-vectors"}')
    with pytest.raises(IndexFileError, match="sidecar"):
        VectorIndex.load(path, dim=DIM, generation=3)


def test_load_hnswlib_failure_behind_a_valid_checksum(tmp_path: Path) -> None:
    # A payload that passes size/crc (sidecar rewritten to match) but that hnswlib rejects must
    # still surface as IndexFileError, not RuntimeError.
    path = _saved(tmp_path, HNSW)
    cut = path.read_bytes()[:1000]
    path.write_bytes(cut)
    sidecar = tmp_path / "space.json"
    meta = json.loads(sidecar.read_text())
    meta["files"]["payload"].update(size=len(cut), crc32=zlib.crc32(cut))
    sidecar.write_text(json.dumps(meta))
    with pytest.raises(IndexFileError, match="hnswlib"):
        VectorIndex.load(path, dim=DIM, generation=3)


@MODES
def test_crash_between_payload_and_sidecar_is_detected(tmp_path: Path, kw: dict) -> None:
    # Simulate a crash after the new payload files were renamed into place but before the new
    # sidecar was: the old generation's sidecar sits next to the new payload.
    old_dir, new_dir = tmp_path / "old", tmp_path / "new"
    old_dir.mkdir()
    new_dir.mkdir()
    x = data(300)
    VectorIndex.build(DIM, np.arange(200), x[:200], **kw).save(old_dir / "v.bin", 1)
    VectorIndex.build(DIM, np.arange(300), x, **kw).save(new_dir / "v.bin", 2)
    for name in ("v.bin", "v.bin.ids.npy"):
        shutil.copyfile(new_dir / name, old_dir / name)
    with pytest.raises(IndexFileError, match="truncated or corrupt|checksum"):
        VectorIndex.load(old_dir / "v.bin", dim=DIM, generation=1)
    with pytest.raises(IndexFileError, match="stale"):
        VectorIndex.load(old_dir / "v.bin", dim=DIM, generation=2)


def test_save_path_must_not_be_the_sidecar(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="json"):
        VectorIndex(DIM).save(tmp_path / "x.json", 1)


# ---------------------------------------------------------------- concurrency


def test_concurrent_searches_during_writes_and_promotion() -> None:
    x = data(2000, seed=11)
    index = VectorIndex(DIM, exact_below=600, ef_search=64)
    index.add(np.arange(100), x[:100])
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader(seed: int) -> None:
        rng = np.random.default_rng(seed)
        try:
            while not stop.is_set():
                j = int(rng.integers(100))
                hits = index.search(x[j], 10)
                # ids 0..99 are never removed, so each finds itself first
                assert hits[0][0] == j, hits[:2]
                assert len(hits) == 10
                index.search(x[j], 5, allowed_ids=set(range(0, 2000, 2)))
                len(index)
                index.ids()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(s,)) for s in range(3)]
    for t in threads:
        t.start()
    try:
        for start in range(100, 2000, 50):
            index.add(np.arange(start, start + 50), x[start : start + 50])
            if start % 200 == 0:
                index.remove(np.arange(start - 50, start))
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors[0]
    assert index.mode == "hnsw"
