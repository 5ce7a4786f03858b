"""Memory of ``desktop-search watch`` over 100,000 unchanged photos, and its inotify watches.

The tree and the library are those of ``benchmarks/rescan.py`` (100 folders x 1000 small JPEGs, a
store that knows them all with an embedding each, the saved 100k HNSW index), on a fresh copy of
the library home. ``desktop-search watch`` starts, reconciles the tree and goes idle (its
heartbeat in the database says ``idle``, as ``desktop-search status --json`` shows it); then its
RSS is sampled for a while (steady) and its peak read from ``VmHWM``. inotify watches: lines
starting with ``inotify`` in ``/proc/<pid>/fdinfo/*`` of the watch process. It also watches one
empty folder (one more watch); at the end one photo is copied there, and the RSS measured again
once it is indexed (the first photo to encode loads the image tower).

Baselines, same run: an idle ``python -c "import desktop_search.app.live"`` (the code, no library)
and one ``desktop-search status`` on the same library (peak RSS of the whole process). Run:

    .venv/bin/python -m benchmarks.watch_memory [--steady 15]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from benchmarks.common import CACHE
from benchmarks.live_latency import make_photos
from benchmarks.rescan import FOLDERS, HOME, PER_FOLDER, fresh_home, prepare
from desktop_search.index.progress import Heartbeat
from desktop_search.store.store import Store

MIB = 1024 * 1024
IMPORT_ONLY = "import sys, desktop_search.app.live; print('ready', flush=True); sys.stdin.read()"


def peak_rss(pid: int) -> float:
    """VmHWM: the process's peak resident set size, in MiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def inotify_watches(pid: int) -> int:
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as info:
                count += sum(line.startswith("inotify") for line in info)
        except OSError:
            continue  # closed meanwhile
    return count


def sample_rss(process: psutil.Process, seconds: float) -> list[float]:
    samples = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        samples.append(process.memory_info().rss / MIB)
        time.sleep(0.5)
    return samples


def measure_watch(home: Path, steady_s: float, extra: Path, photo: Path) -> dict:
    """Watch the library's folders plus the empty folder ``extra``; at the end ``photo`` is
    copied into ``extra`` (the first photo to encode loads the image tower)."""
    command = [sys.executable, "-m", "desktop_search", "--home", str(home), "watch", str(extra)]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    watcher = psutil.Process(process.pid)
    store = Store.open(home / "library.db")
    sampled_peak = 0.0
    try:
        while True:
            if process.poll() is not None:
                raise SystemExit(f"watch exited: {process.stderr.read().decode()}")
            sampled_peak = max(sampled_peak, watcher.memory_info().rss / MIB)
            info = Heartbeat(store).read()
            if info and info["state"] == "idle" and str(extra) in store.files.roots():
                break
            if time.perf_counter() - started > 300:
                raise SystemExit("watch did not become idle within 300 s")
            time.sleep(0.05)
        idle_s = time.perf_counter() - started
        samples = sample_rss(watcher, steady_s)
        status = subprocess.run(
            [sys.executable, "-m", "desktop_search", "--home", str(home), "status", "--json"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert '"idle"' in status.stdout, status.stdout[:500]
        result = {
            "idle_s": idle_s, "steady": statistics.median(samples), "steady_max": max(samples),
            "peak": peak_rss(process.pid), "sampled_peak": sampled_peak,
            "watches": inotify_watches(process.pid), "threads": watcher.num_threads(),
        }  # fmt: skip
        target = extra / photo.name
        shutil.copyfile(photo, target)
        deadline = time.perf_counter() + 120
        while store.reads.item_id_of_path(str(target)) is None:
            if time.perf_counter() > deadline:
                raise SystemExit(f"{target} was not indexed within 120 s")
            time.sleep(0.1)
        time.sleep(3.0)  # the index file is saved once the worker is idle again
        result["after_photo"] = statistics.median(sample_rss(watcher, 5.0))
        result["after_photo_peak"] = peak_rss(process.pid)
    finally:
        store.close()
        process.send_signal(signal.SIGINT)
        process.wait(60)
    return result


def measure_import_only() -> dict:
    process = subprocess.Popen([sys.executable, "-c", IMPORT_ONLY], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert process.stdout.readline().strip() == "ready"
    time.sleep(1.0)
    result = {"steady": psutil.Process(process.pid).memory_info().rss / MIB,
              "peak": peak_rss(process.pid)}  # fmt: skip
    process.communicate("")
    return result


def measure_status(home: Path) -> float:
    """Peak RSS (MiB) of one ``desktop-search status`` process on the library."""
    command = [sys.executable, "-m", "desktop_search", "--home", str(home), "status"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"status failed: {process.stderr.read().decode()}")
    return usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steady", type=float, default=15.0, help="seconds of idle sampling")
    args = parser.parse_args()
    prepare()
    photo = make_photos(1)[0]
    with tempfile.TemporaryDirectory(dir=CACHE) as scratch:
        home, extra = fresh_home(Path(scratch)), Path(scratch) / "new-photos"
        extra.mkdir()
        watch = measure_watch(home, args.steady, extra, photo)
        status_peak = measure_status(home)
        shutil.rmtree(home)
    imported = measure_import_only()
    n = FOLDERS * PER_FOLDER
    index_mib = sum(p.stat().st_size for p in (HOME / "vectors").iterdir())
    print(
        f"`desktop-search watch` over {n:,} unchanged files in {FOLDERS} folders (and one empty "
        f"folder); idle after "
        f"{watch['idle_s']:.1f} s; steady = median RSS over {args.steady:g} s of idle"
    )
    print()
    print("| process | steady RSS MiB | peak RSS MiB | inotify watches |")
    print("|---|---|---|---|")
    print(
        f'| `python -c "import desktop_search.app.live"` (idle) | {imported["steady"]:.0f} | '
        f"{imported['peak']:.0f} | - |"
    )
    print(f"| `desktop-search status`, same library | - | {status_peak:.0f} | - |")
    print(
        f"| `desktop-search watch`, idle | {watch['steady']:.0f} | {watch['peak']:.0f} | "
        f"{watch['watches']} |"
    )
    print(
        f"| `desktop-search watch`, after one new photo | {watch['after_photo']:.0f} | "
        f"{watch['after_photo_peak']:.0f} | |"
    )
    print()
    print(
        f"watch over the import-only process: +{watch['steady'] - imported['steady']:.0f} MiB "
        f"steady ({watch['steady'] / imported['steady']:.1f}x), peak "
        f"{watch['peak'] / imported['peak']:.1f}x; vector index files on disk "
        f"{index_mib / MIB:.0f} MiB; {watch['threads']} threads; inotify limit "
        f"{Path('/proc/sys/fs/inotify/max_user_watches').read_text().strip()}"
    )


if __name__ == "__main__":
    main()
