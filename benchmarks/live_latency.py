"""Event-to-searchable latency of the live index: one new photo at a time, and a burst of 500.

Real photos (skimage, cropped, flipped, colour-jittered, with noise, upscaled to 3.1 MP, so every
file is distinct; about 0.35 MB JPEGs) are written once into ``benchmarks/.cache`` and copied
into a watched folder on the same file system. The clock starts when the copy is closed and
stops when a search could find the photo:

* in-process ``LiveIndex`` (as the app runs it, default settle): the photo's item is in the
  database and in the shared in-memory vector index (polled every 10 ms through
  ``library.reader()``);
* ``desktop-search watch`` (the CLI, a separate niced process, also the default settle): the
  photo's item and embedding are committed to the database, which is what a search in another
  process reads (it loads the saved vector index, or rebuilds it from the database while the
  watcher has not saved it yet).

Also measured: a photo renamed into the folder from elsewhere on the same file system (no
close-after-write event: the watcher waits for the full settle time), and the in-process runs
again in the 100k-photo library of ``benchmarks/rescan.py`` (its 100 folders watched too).

Baseline (the floor: the same work without a watcher), in the same run and the same kind of
library: a one-shot ``library.index([folder])`` for each single photo, and for the 500. Run:

    .venv/bin/python -m benchmarks.live_latency [--singles 30] [--burst 500] [--pause 1.0]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psutil
from PIL import Image
from skimage import data

from benchmarks import rescan
from benchmarks.common import CACHE, install_model, percentiles, vit_b32_model
from desktop_search.app.library import Library
from desktop_search.app.live import LiveIndex
from desktop_search.index.control import lower_thread_priority
from desktop_search.index.progress import Heartbeat
from desktop_search.index.watch import CLOSED_SETTLE, DEFAULT_SETTLE
from desktop_search.search.searcher import Query
from desktop_search.store.store import Store

SOURCES = ["astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry",
           "hubble_deep_field", "retina", "cat", "colorwheel"]  # fmt: skip
WIDTH, HEIGHT = 2048, 1536  # 3.1 MP
POLL = 0.01
TIMEOUT = 120.0


def make_photos(count: int) -> list[Path]:
    """``count`` distinct 3 MP JPEGs from real photos: random crop, flip, colour gain, noise."""
    folder = CACHE / "live-jpegs-3mp"
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for n in range(count):
        if (folder / f"photo{n:04d}.jpg").exists():
            continue
        rng = np.random.default_rng(n)
        base = getattr(data, SOURCES[n % len(SOURCES)])()[..., :3]
        h, w = base.shape[:2]
        ch, cw = int(h * rng.uniform(0.6, 1.0)), int(w * rng.uniform(0.6, 1.0))
        top, left = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
        crop = Image.fromarray(base[top : top + ch, left : left + cw])
        if rng.random() < 0.5:
            crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        big = np.asarray(crop.resize((WIDTH, HEIGHT), Image.BILINEAR), dtype=np.float32)
        big = big * rng.uniform(0.85, 1.15, size=(1, 1, 3)) + rng.normal(0, 2.0, big.shape)
        photo = Image.fromarray(np.clip(big, 0, 255).astype(np.uint8))
        photo.save(folder / f"tmp-{n:04d}.jpg", quality=88)
        os.replace(folder / f"tmp-{n:04d}.jpg", folder / f"photo{n:04d}.jpg")
    if time.perf_counter() - started > 1:
        print(f"made photos in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return [folder / f"photo{n:04d}.jpg" for n in range(count)]


def wait_until(condition: Callable[[], object], timeout: float = TIMEOUT) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(POLL)
    raise SystemExit(f"timed out after {timeout} s waiting for {condition}")


def copy_in(source: Path, folder: Path) -> tuple[Path, float]:
    """Copy a photo into the watched folder; returns (its path, the time it was closed)."""
    target = folder / source.name
    shutil.copyfile(source, target)
    return target, time.perf_counter()


def rename_in(source: Path, folder: Path, staging: Path) -> tuple[Path, float]:
    """Write a copy outside the watched folder, then rename it in (a camera import, a mover)."""
    staged = staging / source.name
    shutil.copyfile(source, staged)
    target = folder / source.name
    os.rename(staged, target)
    return target, time.perf_counter()


def singles(
    photos: list[Path], place: Callable[[Path], tuple[Path, float]],
    searchable: Callable[[str], bool], pause: float,
) -> list[float]:  # fmt: skip
    """Latency (ms) from close to searchable, one photo at a time, ``pause`` s apart."""
    samples = []
    for source in photos:
        target, closed = place(source)
        while not searchable(str(target)):
            if time.perf_counter() - closed > TIMEOUT:
                raise SystemExit(f"{target} was not searchable within {TIMEOUT} s")
            time.sleep(POLL)
        samples.append((time.perf_counter() - closed) * 1000)
        time.sleep(pause)
    return samples


class Probe:
    """Asks whether a photo is searchable yet; ``changed`` is a cheap check that something new
    may be (the burst looks at the pending photos only then)."""

    def searchable(self, path: str) -> bool:
        raise NotImplementedError

    def changed(self) -> bool:
        return True


class InProcessProbe(Probe):
    """The item is in the database and in the live worker's in-memory vector index."""

    def __init__(self, library: Library) -> None:
        self.reader = library.reader()
        self.vectors = self.reader.vectors(self.reader.clip())  # the object the worker adds to
        self._size = -1

    def searchable(self, path: str) -> bool:
        item = self.reader.store.reads.item_id_of_path(path)
        return item is not None and item in self.vectors

    def changed(self) -> bool:
        size = len(self.vectors)
        changed, self._size = size != self._size, size
        return changed


class DatabaseProbe(Probe):
    """The item is committed (with its embedding: items are saved with it when a model is
    installed); a search in another process reads it from there."""

    def __init__(self, home: Path, model_id: str) -> None:
        self.store = Store.open(home / "library.db")
        self.model_id = model_id
        self._count = -1

    def searchable(self, path: str) -> bool:
        return self.store.reads.item_id_of_path(path) is not None

    def changed(self) -> bool:
        count = self.store.embeddings.count(self.model_id)
        changed, self._count = count != self._count, count
        return changed


def burst(photos: list[Path], folder: Path, probe: Probe) -> dict:
    """Copy all photos in as fast as possible (another thread) while polling what is searchable.

    Returns per-photo latencies (ms), the copy time and the time from the first close until the
    last photo is searchable."""
    closed: dict[str, float] = {}
    pending = [str(folder / source.name) for source in photos]
    started = time.perf_counter()

    def copy_all() -> None:
        for source in photos:
            target, at = copy_in(source, folder)
            closed[str(target)] = at

    copier = threading.Thread(target=copy_all)
    copier.start()
    found: dict[str, float] = {}
    while pending:
        now = time.perf_counter()
        if probe.changed():
            for path in [path for path in pending if probe.searchable(path)]:
                found[path] = now
                pending.remove(path)
        if now - started > TIMEOUT * 5:
            raise SystemExit(f"only {len(found)} of {len(photos)} searchable after {now - started}")
        time.sleep(POLL)
    copier.join()
    latencies = [(found[path] - closed[path]) * 1000 for path in closed]
    return {"latencies": latencies, "copy_s": max(closed.values()) - started,
            "all_s": max(found.values()) - min(closed.values())}  # fmt: skip


# -- the floor: one-shot index runs -----------------------------------------------------------


def in_background(function: Callable[..., dict], *args: object) -> dict:
    """Run ``function`` on a thread with the live worker's (and ``desktop-search index``'s)
    lowered priority; threads it starts (onnxruntime's pool, decoding) inherit it."""
    result: dict = {}

    def run() -> None:
        lower_thread_priority()
        result.update(function(*args))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if not result:
        raise SystemExit("the baseline failed (see above)")
    return result


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_baseline(home: Path, folder: Path, single: list[Path], many: list[Path]) -> dict:
    """``library.index([folder])`` once per new photo, then once for the whole burst."""
    with Library.open(home) as library:
        library.clip().visual.load()
        library.vectors(library.clip())
        library.index([folder])  # the folder becomes an indexed folder
        shutil.copyfile(single[0], folder / single[0].name)
        library.index([folder])  # warm: first decode, first batch through the model
        samples = []
        for source in single[1:]:
            copy_in(source, folder)
            started = time.perf_counter()
            report = library.index([folder])
            samples.append((time.perf_counter() - started) * 1000)
            assert report.new == 1, report
        for source in many:
            copy_in(source, folder)
        started, cpu = time.perf_counter(), cpu_seconds()
        report = library.index([folder])
        burst_s, cpu = time.perf_counter() - started, cpu_seconds() - cpu
        assert report.new == len(many), report
    return {"single": samples, "burst_s": burst_s, "cpu_s": cpu}


# -- in-process LiveIndex, as the app runs it -------------------------------------------------


def run_in_process(home: Path, folder: Path, single: list[Path], renamed: list[Path],
                   many: list[Path], pause: float) -> dict:  # fmt: skip
    staging = folder.parent / f"{folder.name}-staging"  # same file system, not watched
    staging.mkdir()
    library = Library.open(home)
    live = LiveIndex(library)  # the default settle, as the app and `watch` construct it
    started = time.perf_counter()
    live.start()
    live.rescan([folder])
    wait_until(lambda: live.status().state == "idle" and str(folder) in library.roots())
    start_s = time.perf_counter() - started
    probe = InProcessProbe(library)
    copy = lambda source: copy_in(source, folder)  # noqa: E731
    try:
        # The first photo after start loads the image tower: reported apart.
        cold = singles(single[:1], copy, probe.searchable, pause)[0]
        copied = singles(single[1:], copy, probe.searchable, pause)
        moved = singles(renamed, lambda s: rename_in(s, folder, staging), probe.searchable, pause)
        last = folder / single[-1].name
        hits = probe.reader.search(Query(image=last, limit=1))
        assert hits and hits[0].path == str(last), hits
        cpu = cpu_seconds()
        result = burst(many, folder, probe)
        result["cpu_s"] = cpu_seconds() - cpu  # this process: the live index, the probe
    finally:
        probe.reader.close()
        live.stop()
        library.close()
    return {"start_s": start_s, "cold": cold, "copied": copied, "renamed": moved, **result}


# -- `desktop-search watch`, a separate process -----------------------------------------------


def run_cli(home: Path, folder: Path, model_id: str, single: list[Path], many: list[Path],
            pause: float) -> dict:  # fmt: skip
    Library.open(home).close()  # create the database, so this process can poll it
    command = [sys.executable, "-m", "desktop_search", "--home", str(home), "watch", str(folder)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    probe = DatabaseProbe(home, model_id)

    def idle() -> bool:
        if process.poll() is not None:
            raise SystemExit(f"watch exited: {process.stderr.read().decode()}")
        info = Heartbeat(probe.store).read()
        return bool(info and info["state"] == "idle") and str(folder) in probe.store.files.roots()

    copy = lambda source: copy_in(source, folder)  # noqa: E731
    try:
        wait_until(idle)
        cold = singles(single[:1], copy, probe.searchable, pause)[0]
        copied = singles(single[1:], copy, probe.searchable, pause)
        times = psutil.Process(process.pid).cpu_times()
        result = burst(many, folder, probe)
        after = psutil.Process(process.pid).cpu_times()
        result["cpu_s"] = after.user + after.system - times.user - times.system
    finally:
        probe.store.close()
        process.send_signal(signal.SIGINT)
        process.wait(60)
    return {"cold": cold, "copied": copied, **result}


def new_home(scratch: Path, name: str, model_dir: Path) -> tuple[Path, Path, str]:
    home, folder = scratch / f"{name}-home", scratch / f"{name}-photos"
    folder.mkdir()
    return home, folder, install_model(home, model_dir)


def print_results(title: str, base: dict, ours: dict, cli: dict | None, n: int) -> None:
    floor50, floor95 = percentiles(base["single"])
    print(f"### {title}")
    print()
    print("| what | n | p50 ms | p95 ms | max ms | p50 vs floor |")
    print("|---|---|---|---|---|---|")

    def row(label: str, samples: list[float]) -> None:
        p50, p95 = percentiles(samples)
        print(
            f"| {label} | {len(samples)} | {p50:.0f} | {p95:.0f} | {max(samples):.0f} | "
            f"{p50 / floor50:.1f}x |"
        )

    row("floor: one-shot `index([folder])`, 1 new photo", base["single"])
    row("LiveIndex in-process, photo copied in", ours["copied"])
    row("LiveIndex in-process, photo renamed in", ours["renamed"])
    if cli:
        row("`desktop-search watch`, photo copied in", cli["copied"])
    print()
    print(
        f"| burst of {n} | copy s | per-photo p50 ms | p95 ms | max ms | all searchable s |"
        " photos/s | vs floor | CPU s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| floor: one-shot `index([folder])` | - | - | - | - | {base['burst_s']:.1f} | "
        f"{n / base['burst_s']:.1f} | 1.0x | {base['cpu_s']:.1f} |"
    )
    for label, result in (("LiveIndex in-process", ours), ("`desktop-search watch`", cli)):
        if result is None:
            continue
        p50, p95 = percentiles(result["latencies"])
        print(
            f"| {label} | {result['copy_s']:.1f} | {p50:.0f} | {p95:.0f} | "
            f"{max(result['latencies']):.0f} | {result['all_s']:.1f} | "
            f"{n / result['all_s']:.1f} | {result['all_s'] / base['burst_s']:.2f}x | "
            f"{result['cpu_s']:.1f} |"
        )
    print()
    print(
        f"first photo after start (loads the image tower): in-process {ours['cold']:.0f} ms"
        + (f", watch {cli['cold']:.0f} ms" if cli else "")
        + f"; LiveIndex start until idle {ours['start_s']:.1f} s; floor p95 {floor95:.0f} ms"
    )
    print()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--singles", type=int, default=30)
    parser.add_argument("--renamed", type=int, default=10)
    parser.add_argument("--burst", type=int, default=500)
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between single photos")
    parser.add_argument("--skip-cli", action="store_true")
    parser.add_argument(
        "--skip-100k",
        action="store_true",
        help="skip the runs in a library of 100k photos (benchmarks.rescan's)",
    )
    args = parser.parse_args()
    photos = make_photos(1 + args.singles + args.renamed + args.burst)
    single = photos[: 1 + args.singles]
    renamed = photos[1 + args.singles : 1 + args.singles + args.renamed]
    many = photos[1 + args.singles + args.renamed :]
    model_dir = vit_b32_model()
    megabytes = sum(p.stat().st_size for p in photos) / len(photos) / 1e6
    results = []
    with tempfile.TemporaryDirectory(dir=CACHE) as scratch:  # same file system as the photos
        root = Path(scratch)
        home, folder, _ = new_home(root, "baseline", model_dir)
        base = in_background(run_baseline, home, folder, single, many)
        home, folder, _ = new_home(root, "live", model_dir)
        ours = run_in_process(home, folder, single, renamed, many, args.pause)
        cli = None
        if not args.skip_cli:
            home, folder, model_id = new_home(root, "cli", model_dir)
            cli = run_cli(home, folder, model_id, single, many, args.pause)
        results.append(("empty library", base, ours, cli))
        if not args.skip_100k:
            rescan.prepare()
            home, folder = rescan.fresh_home(root), root / "big-baseline-photos"
            folder.mkdir()
            big_base = in_background(run_baseline, home, folder, single, many)
            shutil.rmtree(home)
            home, folder = rescan.fresh_home(root), root / "big-live-photos"
            folder.mkdir()
            big = run_in_process(home, folder, single, renamed, many, args.pause)
            results.append(("library of 100,000 photos (watching 100 more folders)", big_base,
                            big, None))  # fmt: skip

    print(
        f"{len(photos)} distinct {WIDTH}x{HEIGHT} JPEGs ({megabytes:.2f} MB average), settle "
        f"{DEFAULT_SETTLE:g} s / {CLOSED_SETTLE:g} s after close-write, "
        f"poll {POLL * 1000:.0f} ms, {args.pause:g} s between single photos"
    )
    print()
    for title, base_result, live_result, cli_result in results:
        print_results(title, base_result, live_result, cli_result, len(many))


if __name__ == "__main__":
    main()
