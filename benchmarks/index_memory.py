"""Peak memory of ``desktop-search index`` and where it goes, before and after a change (issue 17).

    python -m benchmarks.index_memory                            # the working tree, 2 rounds
    python -m benchmarks.index_memory --code before=/tmp/old-tree --rounds 3
    python -m benchmarks.index_memory --photos DIR --only photos

Indexes the 85-file Pictures set (``benchmarks/photo_set.py``; or ``--photos DIR``) in a fresh
home per run, with the ViT-B-32 int8 random weights of ``common.vit_b32_model``: "photos"
(``read_text_in_photos = false``, no detector) and "default" (the YOLOX-nano detector installed,
text in photos on). ``--code NAME=DIR`` runs the package found in DIR (a copy of
``desktop_search/`` with a change left out) next to the working tree, alternating every round.

Measured over the process tree (the indexer, the forkserver, its reader processes), sampled
every 50 ms with psutil: the peak of the summed RSS (each reader's libraries counted again),
the peak of the summed PSS (read only while the RSS sum is above the PSS peak so far: PSS <=
RSS), each process's own peak, and the tree's CPU seconds (user + system, the last value seen
per process): on a shared machine CPU seconds move far less than wall time with the load, so
they are the throughput figure to compare. The load average is printed with each run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from benchmarks.common import install_model, vit_b32_model

DETECTOR = Path("/work/shared/models/yolox_nano_coco.onnx")
SAMPLE_SECONDS = 0.05


@dataclass
class Sample:
    """What the sampler saw of one run's process tree."""

    rss: int = 0
    pss: int = 0
    per_process: dict[int, tuple[str, int]] = field(default_factory=dict)  # pid: (name, peak)
    cpu: dict[int, float] = field(default_factory=dict)  # pid: user + system seconds


def sample(root: psutil.Process, stop: threading.Event, seen: Sample) -> None:
    while not stop.is_set():
        try:
            processes = [root, *root.children(recursive=True)]
        except psutil.Error:
            return
        total = 0
        for process in processes:
            try:
                rss, times = process.memory_info().rss, process.cpu_times()
                name = process.name() if process.pid != root.pid else "indexer"
            except psutil.Error:
                continue
            total += rss
            seen.cpu[process.pid] = times.user + times.system
            peak = max(rss, seen.per_process.get(process.pid, ("", 0))[1])
            seen.per_process[process.pid] = (name, peak)
        seen.rss = max(seen.rss, total)
        if total > seen.pss:
            pss = 0
            for process in processes:
                try:
                    pss += process.memory_full_info().pss
                except psutil.Error:
                    continue
            seen.pss = max(seen.pss, pss)
        stop.wait(SAMPLE_SECONDS)


def make_home(home: Path, model: Path, default: bool) -> None:
    install_model(home, model)  # text in photos off: the "photos" run
    if default:
        config = home / "config.toml"
        config.write_text(config.read_text().replace("read_text_in_photos = false\n", ""))
        command = ["models", "import-detector", str(DETECTOR)]
        subprocess.run([sys.executable, "-m", "desktop_search", "--home", str(home), *command],
                       check=True, capture_output=True)  # fmt: skip


def run_once(folder: Path, model: Path, default: bool, code: Path | None) -> dict:
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = str(code)  # the readers inherit it
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        make_home(home, model, default)
        load = os.getloadavg()[0]
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "desktop_search", "--home", str(home), "index", str(folder),
             "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp,
        )  # fmt: skip
        stop, seen = threading.Event(), Sample()
        sampler = threading.Thread(target=sample, args=(psutil.Process(process.pid), stop, seen))
        sampler.start()
        stdout, stderr = process.communicate()
        wall = time.perf_counter() - started
        stop.set()
        sampler.join()
    if process.returncode:
        raise SystemExit(stderr.decode(errors="replace")[-2000:])
    report = json.loads(stdout.decode().strip().splitlines()[-1])
    return {
        "load": load, "wall": wall, "searchable": report.get("searchable_seconds"),
        "cpu": sum(seen.cpu.values()), "rss": seen.rss / 1e6, "pss": seen.pss / 1e6,
        "processes": sorted(((name, peak / 1e6) for name, peak in seen.per_process.values()),
                            key=lambda item: -item[1]),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=Path, help="folder to index (default: photo-set-85)")
    parser.add_argument(
        "--code",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="also run the package in DIR, named NAME (repeatable)",
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", default="photos,default", help="photos, default or both")
    args = parser.parse_args()
    if args.photos is None:
        from benchmarks.photo_set import build

        args.photos = build(85)
    model = vit_b32_model()
    codes: list[tuple[str, Path | None]] = [("working tree", None)]
    codes += [(spec.split("=", 1)[0], Path(spec.split("=", 1)[1])) for spec in args.code]
    runs = [(setting, name, code) for setting in args.only.split(",") for name, code in codes]
    results: dict[tuple[str, str], list[dict]] = {(s, n): [] for s, n, _ in runs}
    for round_number in range(args.rounds):
        for setting, name, code in runs if round_number % 2 == 0 else runs[::-1]:
            result = run_once(args.photos, model, setting == "default", code)
            results[setting, name].append(result)
            parts = ", ".join(f"{n} {mb:.0f}" for n, mb in result["processes"][:6])
            print(f"round {round_number + 1} {setting} / {name}: load {result['load']:.2f}, "
                  f"wall {result['wall']:.1f} s, searchable {result['searchable']} s, CPU "
                  f"{result['cpu']:.1f} s, RSS {result['rss']:.0f} MB, PSS {result['pss']:.0f}"
                  f" MB ({parts})", file=sys.stderr, flush=True)  # fmt: skip
    print(f"\n{args.photos}, {args.rounds} round(s); medians\n")
    print(
        "| settings | code | wall s | CPU s, tree | peak RSS, tree MB | peak PSS, tree MB | "
        "indexer MB | load at start |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for (setting, name), found in results.items():

        def median(key: str, found: list[dict] = found) -> float:
            return statistics.median(r[key] for r in found)

        indexer = statistics.median(
            next(mb for n, mb in r["processes"] if n == "indexer") for r in found
        )
        print(
            f"| {setting} | {name} | {median('wall'):.1f} | {median('cpu'):.1f} | "
            f"{median('rss'):,.0f} | {median('pss'):,.0f} | {indexer:,.0f} | "
            f"{median('load'):.2f} |"
        )


if __name__ == "__main__":
    main()
