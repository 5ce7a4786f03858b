"""Startup rescan of 100,000 unchanged photos (goal: under 10 s).

The tree: 100 folders x 1000 small but real JPEGs (16x16, each with a few unique bytes after its
end marker, so every file has its own content hash), written once into ``benchmarks/.cache``.
The library: a store that knows every file with its size and modification time, a content hash
and a 512-d embedding of the installed int8 ViT-B-32 (synthetic clustered vectors, written
through ``store.files.save_photos``), and the saved HNSW vector index of those 100k vectors, also
cached. Each measurement runs on a fresh copy of that library home (the models folder is linked,
not copied).

Measured, warm page cache (the tree and the library were just read):

* opening the library, and loading the saved vector index;
* ``Library.index([])``: the reconcile of every indexed folder when nothing changed (what
  ``desktop-search index`` does without arguments), with the vector index already loaded;
* a ``LiveIndex`` (what the app and ``desktop-search watch`` run) from ``Library.open`` until its
  first ``idle`` status: opening, inotify watches on every folder, the reconcile, the index load.

Baseline (the floor): a bare ``os.scandir`` walk that ``stat``s every file of the same tree. Run:

    .venv/bin/python -m benchmarks.rescan [--runs 3] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from PIL import Image

from benchmarks.common import CACHE, install_model, unit_vectors, vit_b32_model
from desktop_search.app.library import Library
from desktop_search.app.live import LiveIndex, LiveStatus
from desktop_search.store.records import PhotoRecord

FOLDERS, PER_FOLDER = 100, 1000
BASE = CACHE / f"rescan-{FOLDERS * PER_FOLDER // 1000}k"
TREE, HOME = BASE / "photos", BASE / "home"
READY = BASE / "ready"


def tiny_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (120, 90, 60)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def make_tree() -> list[tuple[str, str, int, int, str]]:
    """Write the tree; returns (path, root, size, mtime_ns, sha256) of every file."""
    if TREE.exists():
        shutil.rmtree(TREE)
    jpeg, rows, root = tiny_jpeg(), [], str(TREE)
    for f in range(FOLDERS):
        folder = TREE / f"folder{f:03d}"
        folder.mkdir(parents=True)
        for n in range(PER_FOLDER):
            content = jpeg + f"{f:03d}-{n:04d}".encode()  # after EOI: decoders ignore it
            path = os.path.join(folder, f"IMG_{n:04d}.jpg")
            with open(path, "wb") as out:
                out.write(content)
            info = os.stat(path)
            rows.append((path, root, info.st_size, info.st_mtime_ns,
                         hashlib.sha256(content).hexdigest()))  # fmt: skip
    return rows


def prepare() -> tuple[Path, Path]:
    """The cached tree and library home (made once: about two minutes, mostly the HNSW build)."""
    if READY.exists():
        return TREE, HOME
    started = time.perf_counter()
    READY.unlink(missing_ok=True)
    rows = make_tree()
    print(f"wrote {len(rows):,} files in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if HOME.exists():
        shutil.rmtree(HOME)
    model_id = install_model(HOME, vit_b32_model())
    vectors = unit_vectors(len(rows), 512)
    with Library.open(HOME) as library:
        library.store.files.add_roots([str(TREE)])
        for start in range(0, len(rows), 2000):
            chunk = rows[start : start + 2000]
            records = [
                PhotoRecord(path=path, root=root, size=size, mtime_ns=mtime, content_hash=digest,
                            width=16, height=16, taken_at="2024-05-01T10:00:00", camera="Camera")
                for path, root, size, mtime, digest in chunk
            ]  # fmt: skip
            library.store.files.save_photos(records, vectors[start : start + len(chunk)], model_id)
        library.vectors(library.clip())  # no index file yet: built from the store and saved
        library.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    READY.write_text(model_id)
    print(f"made the 100k library in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return TREE, HOME


def fresh_home(scratch: Path) -> Path:
    """A copy of the cached library home: database, vector index, settings; models linked."""
    home = scratch / f"home-{time.monotonic_ns()}"
    home.mkdir()
    for name in os.listdir(HOME):
        source = HOME / name
        if name == "models":
            (home / "models").mkdir()
            for model in os.listdir(source):
                os.symlink(source / model, home / "models" / model)
        elif name == "writer.lock":
            continue
        elif source.is_dir():
            shutil.copytree(source, home / name)
        else:
            shutil.copy2(source, home / name)
    return home


# -- measurements ------------------------------------------------------------------------------


def bare_walk(root: Path) -> tuple[float, int]:
    """The floor: list every folder and stat every file, nothing else."""
    started = time.perf_counter()
    count, stack = 0, [str(root)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    os.stat(entry.path)
                    count += 1
    return time.perf_counter() - started, count


def library_index(home: Path, profile: cProfile.Profile | None = None) -> dict:
    started = time.perf_counter()
    library = Library.open(home)
    opened = time.perf_counter()
    library.vectors(library.clip())
    loaded = time.perf_counter()
    if profile:
        profile.enable()
    report = library.index([])
    if profile:
        profile.disable()
    done = time.perf_counter()
    library.close()
    assert report.unchanged == FOLDERS * PER_FOLDER and report.new == report.removed == 0, report
    return {"open": opened - started, "load": loaded - opened, "index": done - loaded,
            "total": done - started}  # fmt: skip


def live_start(home: Path) -> dict:
    """From ``Library.open`` to the first idle status of a started ``LiveIndex``."""
    idle = threading.Event()

    def listener(status: LiveStatus) -> None:
        if status.state == "idle":
            idle.set()
        elif status.state == "error":
            print(f"live index error: {status.error}", file=sys.stderr)

    started = time.perf_counter()
    library = Library.open(home)
    live = LiveIndex(library)
    live.subscribe(listener)
    live.start()
    start_returned = time.perf_counter()
    if not idle.wait(300):
        raise SystemExit("the live index did not become idle within 300 s")
    became_idle = time.perf_counter()
    report_status = live.status()
    live.stop()
    stopped = time.perf_counter()
    library.close()
    assert not live.watcher.unwatched, report_status.unwatched
    return {"start": start_returned - started, "idle": became_idle - started,
            "stop": stopped - became_idle}  # fmt: skip


def profile_live_worker(home: Path) -> pstats.Stats:
    """cProfile of the live worker thread's first step (the reconcile)."""
    profile = cProfile.Profile()
    original = LiveIndex._step

    def profiled_step(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if self.status().state != "starting":
            return original(self, *args, **kwargs)
        return profile.runcall(original, self, *args, **kwargs)

    LiveIndex._step = profiled_step
    try:
        live_start(home)
    finally:
        LiveIndex._step = original
    return pstats.Stats(profile)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="print cProfile of each part")
    args = parser.parse_args()
    tree, _ = prepare()
    floors, indexes, lives = [], [], []
    with tempfile.TemporaryDirectory(dir=CACHE) as scratch:
        bare_walk(tree)  # warm the page cache for everyone
        for _ in range(args.runs):
            elapsed, count = bare_walk(tree)
            assert count == FOLDERS * PER_FOLDER, count
            floors.append(elapsed)
            home = fresh_home(Path(scratch))
            indexes.append(library_index(home))
            shutil.rmtree(home)
            home = fresh_home(Path(scratch))
            lives.append(live_start(home))
            shutil.rmtree(home)
        if args.profile:
            home = fresh_home(Path(scratch))
            profile = cProfile.Profile()
            library_index(home, profile)
            print("\n## cProfile: Library.index([]) on the unchanged tree\n", file=sys.stderr)
            pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(30)
            shutil.rmtree(home)
            home = fresh_home(Path(scratch))
            stats = profile_live_worker(home)
            stats.stream = sys.stderr
            print("\n## cProfile: the LiveIndex worker's first step\n", file=sys.stderr)
            stats.sort_stats("cumulative").print_stats(30)

    def median(rows: list[dict], key: str) -> float:
        return statistics.median(row[key] for row in rows)

    floor = statistics.median(floors)
    n = FOLDERS * PER_FOLDER
    print(
        f"{n:,} unchanged files ({FOLDERS} folders x {PER_FOLDER}), medians of {args.runs} runs,"
        " warm page cache"
    )
    print()
    print("| step | seconds | vs floor |")
    print("|---|---|---|")
    print(f"| floor: bare os.scandir + os.stat walk | {floor:.2f} | 1.0x |")
    print(f"| `Library.open` | {median(indexes, 'open'):.2f} | |")
    print(f"| load the saved 100k vector index | {median(indexes, 'load'):.2f} | |")
    reconcile = median(indexes, "index")
    print(f"| `Library.index([])`, index loaded | {reconcile:.2f} | {reconcile / floor:.1f}x |")
    total = median(indexes, "total")
    print(f"| open + load + `index([])` | {total:.2f} | {total / floor:.1f}x |")
    start = median(lives, "start")
    print(f"| `LiveIndex`: open + `start()` returns | {start:.2f} | |")
    idle = median(lives, "idle")
    print(f"| `LiveIndex`: open until first idle | {idle:.2f} | {idle / floor:.1f}x |")
    print(f"| `LiveIndex.stop()` after idle | {median(lives, 'stop'):.2f} | |")
    print()
    print("all runs (floor / index total / live idle):",
          ", ".join(f"{f:.2f}/{i['total']:.2f}/{v['idle']:.2f}"
                    for f, i, v in zip(floors, indexes, lives, strict=True)))  # fmt: skip
    verdict = "met" if max(total, idle) < 10 else "MISSED"
    print(f"goal (under 10 s): {verdict}")


if __name__ == "__main__":
    main()
