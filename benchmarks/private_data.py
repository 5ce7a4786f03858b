"""What forgetting without a trace costs (issue 15): secure_delete, the keyword-index rewrite,
the look for unused thumbnails.

1. ``PRAGMA secure_delete=ON`` (what ``Store.open`` sets) against OFF (SQLite's default, what
   the app did before), and with ``journal_size_limit=0`` too (measured, not used), the same
   code otherwise:
   a. the store alone, the worst case (nothing but database writes): documents of 300 words
      saved a transaction each, then a third replaced by new versions, then all forgotten;
   b. ``Library.index`` end to end without a model (catalogue, thumbnails, keyword index: the
      part of indexing the database weighs most in), then a re-index after deleting a third,
      then forgetting the folder (``Library.remove_root``).
   Both alternate the order every round, fresh home each time; medians.
2. ``store.texts.purge_deleted_text`` (FTS5 'optimize': the whole keyword index rewritten) after one
   forgotten item, at 20k and 100k passages of 200 words.
3. ``ThumbnailStore.unused`` over 100k thumbnails (a listing of the folder against the rows).

    .venv/bin/python -m benchmarks.private_data [--rounds 5] [--docs 1000] [--photos 300]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

import desktop_search.store.store as store_module
from desktop_search.app.library import Library
from desktop_search.extract.document import CHUNK, Document, TextItem
from desktop_search.store.records import DocumentRecord
from desktop_search.store.store import Store
from desktop_search.store.thumbnails import ThumbnailStore

SETTINGS = {
    "OFF, -1 (before)": ("OFF", -1),
    "ON, -1 (now)": ("ON", -1),
    "ON, 0 (not used)": ("ON", 0),
}
rng = random.Random(0)
VOCABULARY = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 10)))
              for _ in range(50_000)]  # fmt: skip


def words(n: int, seed: int) -> str:
    pick = random.Random(seed)
    return " ".join(pick.choice(VOCABULARY) for _ in range(n))


def use(setting: str) -> None:
    store_module.SECURE_DELETE, store_module.WAL_SIZE_LIMIT = SETTINGS[setting]


def document(path: str, seed: int) -> DocumentRecord:
    text = Document(kind="text", items=[TextItem(kind=CHUNK, text=words(300, seed))])
    digest = hashlib.sha256(f"{path}{seed}".encode()).hexdigest()
    return DocumentRecord(path, "/docs", 2000, seed, digest, text)


def store_alone(count: int) -> tuple[float, float, float]:
    """(save, replace a third, forget all) seconds, a transaction per document."""
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(Path(folder) / "library.db")
        paths = [f"/docs/note{i:05}.txt" for i in range(count)]
        started = time.perf_counter()
        for i, path in enumerate(paths):
            store.texts.save_document(document(path, i), None, None)
        saved = time.perf_counter()
        for i, path in enumerate(paths[::3]):
            store.texts.save_document(document(path, count + i), None, None)
        replaced = time.perf_counter()
        for path in paths:
            store.files.remove_paths([path])
        done = time.perf_counter()
        store.close()
    return saved - started, replaced - saved, done - replaced


def make_tree(folder: Path, docs: int, photos: int) -> None:
    folder.mkdir(parents=True)
    for i in range(docs):
        (folder / f"note{i:05}.txt").write_text(words(300, i))
    for i in range(photos):
        colour = (i % 256, (i * 7) % 256, (i // 256) % 256)
        Image.new("RGB", (320, 240), colour).save(folder / f"photo{i:05}.jpg", quality=85)


def end_to_end(tree: Path, work: Path) -> tuple[float, float, float]:
    """(index, re-index after deleting a third, forget the folder) seconds, fresh home."""
    source = work / "tree"
    shutil.copytree(tree, source)
    home = work / "home"
    with Library.open(home) as library:
        started = time.perf_counter()
        library.index([source])
        indexed = time.perf_counter()
        for path in sorted(source.iterdir())[::3]:
            path.unlink()
        again = time.perf_counter()
        library.index([source])
        reindexed = time.perf_counter()
        library.remove_root(str(source))
        forgotten = time.perf_counter()
    shutil.rmtree(work)
    return indexed - started, reindexed - again, forgotten - reindexed


def rounds(measure: Callable[[], tuple[float, ...]], count: int) -> dict[str, list[tuple]]:
    results: dict[str, list[tuple]] = {setting: [] for setting in SETTINGS}
    for n in range(count):
        order = list(SETTINGS) if n % 2 == 0 else list(reversed(SETTINGS))
        for setting in order:
            use(setting)
            results[setting].append(measure())
    use("ON, -1 (now)")
    return results


def table(title: str, columns: list[str], results: dict[str, list[tuple]]) -> None:
    print(f"\n{title}\n")
    print("| secure_delete, journal_size_limit | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    before = results["OFF, -1 (before)"]
    base = [statistics.median(run[i] for run in before) for i in range(len(columns))]
    for setting, runs in results.items():
        cells = []
        for i in range(len(columns)):
            median = statistics.median(run[i] for run in runs)
            cells.append(f"{median:.2f} s ({median / base[i]:.2f}x)")
        print(f"| {setting} | " + " | ".join(cells) + " |")


def purge_cost(passages: int) -> tuple[float, float]:
    """(seconds of the rewrite after one forgotten item, MB of the database)."""
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(Path(folder) / "library.db")
        with store.db.atomic():
            for i in range(passages):
                store.texts.index_text(i + 1, f"note {i} txt", None, words(200, i))
        store.texts.purge_deleted_text()  # one segment, as a purged library has it
        store.truncate_log()
        size = (Path(folder) / "library.db").stat().st_size / 1e6
        store.db.execute("DELETE FROM item_text WHERE rowid = 5")
        started = time.perf_counter()
        store.texts.purge_deleted_text()
        seconds = time.perf_counter() - started
        store.close()
    return seconds, size


def sweep_cost(count: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        thumbnails = ThumbnailStore(Path(folder))
        names = set()
        for i in range(count):
            digest = hashlib.sha256(str(i).encode()).hexdigest()
            names.add(thumbnails.put(digest, b"\xff\xd8"))
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            assert thumbnails.unused(names) == []
            timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--photos", type=int, default=300)
    args = parser.parse_args()

    results = rounds(lambda: store_alone(args.docs), args.rounds)
    table(f"1a. The store alone: {args.docs} documents of 300 words, a transaction each "
          f"(medians of {args.rounds})", ["save", "replace a third", "forget all"],
          results)  # fmt: skip

    with tempfile.TemporaryDirectory() as folder:
        tree = Path(folder) / "tree"
        make_tree(tree, args.docs, args.photos)
        results = rounds(lambda: end_to_end(tree, Path(tempfile.mkdtemp(dir=folder))), args.rounds)
    table(f"1b. Library.index without a model: {args.docs} notes of 300 words + {args.photos} "
          f"photos (medians of {args.rounds})",
          ["index", "re-index, a third deleted", "forget the folder"], results)  # fmt: skip

    print("\n2. The keyword index rewritten without one forgotten item (FTS5 'optimize')\n")
    print("| passages of 200 words | database MB | rewrite s |")
    print("|---|---|---|")
    for passages in (20_000, 100_000):
        seconds, size = purge_cost(passages)
        print(f"| {passages:,} | {size:.0f} | {seconds:.2f} |")

    print("\n3. Unused thumbnails: the folder listed against the rows\n")
    print(f"| 100,000 thumbnails | {sweep_cost(100_000):.2f} s |")


if __name__ == "__main__":
    main()
