"""Wall time, peak RSS and imports of one `desktop-search search` process (a text query).

The benchmark library holds N photos (real skimage photos at about 1 MP, jittered so each file
differs) indexed by `desktop-search index` with the int8 ViT-B-32 (random weights: the speed does
not depend on them). Library and photos are made once and kept in `benchmarks/.cache/`. Each
run starts a fresh `python -m desktop_search --home H search TEXT --json` (the page cache warm
after one uncounted run); wall time is the median, peak RSS the largest of the runs (the
child's own ``ru_maxrss``). One more run prints what the process imported: none of the heavy
modules below is expected. Rows for comparison: a bare interpreter (the floor), and, when asked
or found, open_clip on torch and rclip answering the same query. Run:

    .venv/bin/python -m benchmarks.search_process [--photos 85] [--runs 10] [--torch]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

from benchmarks.common import CACHE, install_model, vit_b32_model
from tests.test_search_imports import MARK, NOT_FOR_SEARCH, PROBE

QUERY = "a dog on a beach"
SOURCES = ["astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "hubble_deep_field"]
WALL_GOAL_S = 0.4
RSS_GOAL_MIB = 200
# What a text search must not import (issue 16), and the probe that lists what it imported:
# the same as the test that keeps it so.
HEAVY = NOT_FOR_SEARCH
# Runs argv[1:] with stdout/stderr to /dev/null and prints [wall seconds, its ru_maxrss in KiB].
LAUNCHER = """
import json, os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
_, status, usage = os.wait4(child.pid, 0)
wall = time.perf_counter() - started
if os.waitstatus_to_exitcode(status):
    sys.exit(child.stderr.read().decode(errors="replace"))
print(json.dumps([wall, usage.ru_maxrss]))
"""
# The model's own share: the same text tower and tokenizer, one query, a dot product over as
# many vectors, with no application around them (the floor an application could reach).
MODEL_ONLY = """
import sys, numpy as np, onnxruntime as ort
from tokenizers import Tokenizer
folder, query, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
options = ort.SessionOptions()
options.inter_op_num_threads = 1
session = ort.InferenceSession(folder + "/textual.onnx", options,
                               providers=["CPUExecutionProvider"])
tokenizer = Tokenizer.from_file(folder + "/tokenizer.json")
words = tokenizer.encode(query, add_special_tokens=False).ids
start, end = (next(filter(None, map(tokenizer.token_to_id, pair))) for pair in
              (("<start_of_text>", "<|startoftext|>"), ("<end_of_text>", "<|endoftext|>")))
ids = [start, *words, end]
tokens = np.zeros((1, 77), dtype=np.int64)
tokens[0, :len(ids)] = ids
vector = session.run(None, {session.get_inputs()[0].name: tokens})[0][0]
vectors = np.random.default_rng(0).normal(size=(count, len(vector))).astype(np.float32)
print(np.argsort(-(vectors @ vector))[:20])
"""
TORCH_BASELINE = """
import sys, numpy as np, open_clip, torch
torch.set_num_threads(2)
model = open_clip.create_model("ViT-B-32")
model.eval()
vectors = np.load(sys.argv[1])
with torch.no_grad():
    text = model.encode_text(open_clip.get_tokenizer("ViT-B-32")([sys.argv[2]]))
query = (text / text.norm(dim=-1, keepdim=True)).numpy()[0]
print(np.argsort(-(vectors @ query))[:20])
"""


@dataclass(frozen=True)
class Measured:
    """One command's runs: median wall seconds, spread, largest peak RSS."""

    label: str
    wall: float
    fastest: float
    slowest: float
    rss_mib: float


def make_photos(count: int) -> Path:
    """``count`` JPEGs of about 1 MP from real photos, each one different (noise)."""
    folder = CACHE / f"search-photos-{count}"
    if folder.exists() and len(list(folder.glob("*.jpg"))) == count:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for n in range(count):
        base = Image.fromarray(getattr(data, SOURCES[n % len(SOURCES)])()).convert("RGB")
        pixels = np.asarray(base.resize((1152, 864), Image.BILINEAR), dtype=np.int16)
        noisy = np.clip(pixels + rng.normal(0, 4, pixels.shape), 0, 255).astype(np.uint8)
        Image.fromarray(noisy).save(folder / f"photo{n:04d}.jpg", quality=90)
    return folder


def library_home(photos: Path, model_dir: Path) -> Path:
    """The benchmark library: the photos indexed by `desktop-search index` (made once)."""
    home = CACHE / f"search-home-{photos.name}-{model_dir.name}"
    done = home / "benchmark-indexed.json"
    if done.exists():
        return home
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    install_model(home, model_dir)
    command = [sys.executable, "-m", "desktop_search", "--home", str(home), "index",
               str(photos), "--json"]  # fmt: skip
    report = json.loads(subprocess.run(command, check=True, capture_output=True).stdout)
    count = len(list(photos.glob("*.jpg")))
    if report["encoded"] != count:
        raise SystemExit(f"indexing encoded {report['encoded']} of {count} photos: {report}")
    done.write_text(json.dumps(report), encoding="utf-8")
    return home


def timed(command: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one child process, from its start to its exit.

    Started by a small launcher process: a child's peak RSS counts its parent's at the fork
    (Linux keeps the high-water mark across exec), and this script's is ~165 MiB."""
    result = subprocess.run([sys.executable, "-c", LAUNCHER, *command], capture_output=True,
                            text=True, env=child_env())  # fmt: skip
    if result.returncode != 0:
        raise SystemExit(f"{command} failed: {result.stderr}")
    wall, maxrss_kib = json.loads(result.stdout)
    return wall, maxrss_kib / 1024


def child_env() -> dict[str, str]:
    """The environment of the measured processes: bytecode cached, as in an installed app.

    With PYTHONDONTWRITEBYTECODE (set in some shells and CI) every run would compile the
    package's sources again (~60 ms here); the cache goes to benchmarks/.cache, not the tree."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(CACHE / "pycache")
    return env


def measure(label: str, command: list[str], runs: int) -> Measured:
    timed(command)  # warm the page cache; not counted
    samples = [timed(command) for _ in range(runs)]
    walls = [wall for wall, _ in samples]
    return Measured(label, statistics.median(walls), min(walls), max(walls),
                    max(rss for _, rss in samples))  # fmt: skip


def heavy_imports(home: Path) -> tuple[list[str], float]:
    """The heavy modules a search imports, and its import time (ms, ``-X importtime``)."""
    args = ["--home", str(home), "search", QUERY, "--json"]
    probe = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                           check=True, env=child_env())  # fmt: skip
    line = next(line for line in probe.stderr.splitlines() if line.startswith(MARK))
    modules = json.loads(line.removeprefix(MARK))
    heavy = [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    totals = []
    for _ in range(3):  # the median of three: one run's import time is noisy
        timing = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "desktop_search", *args],
            capture_output=True, text=True, check=True, env=child_env(),
        )  # fmt: skip
        # Top-level imports only (one space after the bar): their cumulative times add up.
        fields = [line.split("|") for line in timing.stderr.splitlines()
                  if line.startswith("import time:") and line.split("|")[1].strip().isdigit()]
        totals.append(sum(int(f[1]) for f in fields if not f[2].startswith("  ")) / 1000)
    return heavy, statistics.median(totals)


def rclip_command(given: str | None) -> list[str] | None:
    """rclip, if given or installed (`rclip QUERY` in the photo folder); None otherwise."""
    found = given or shutil.which("rclip")
    for candidate in ("/work/rclip-venv/bin/rclip", str(Path.home() / "rclip-venv/bin/rclip")):
        found = found or (candidate if os.access(candidate, os.X_OK) else None)
    return [found, "--no-indexing", "-t", "20", QUERY] if found else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=85, help="photos in the library")
    parser.add_argument("--runs", type=int, default=10, help="counted runs per command")
    parser.add_argument("--torch", action="store_true", help="also time open_clip on torch")
    parser.add_argument("--rclip", help="the rclip executable (default: found on PATH)")
    args = parser.parse_args()

    model_dir = vit_b32_model()
    photos = make_photos(args.photos)
    home = library_home(photos, model_dir)
    ours = [sys.executable, "-m", "desktop_search", "--home", str(home), "search", QUERY, "--json"]
    model_only = [sys.executable, "-c", MODEL_ONLY, str(model_dir), QUERY, str(args.photos)]
    rows = [measure(f"`desktop-search search \"{QUERY}\" --json`", ours, args.runs),
            measure("the model alone: text tower + tokenizer, one query, no app", model_only,
                    args.runs),
            measure("bare interpreter (`python -c pass`)", [sys.executable, "-c", "pass"],
                    args.runs)]  # fmt: skip
    heavy, import_ms = heavy_imports(home)
    if args.torch:
        vectors = CACHE / f"search-vectors-{args.photos}.npy"
        rng = np.random.default_rng(0)
        unit = rng.normal(size=(args.photos, 512)).astype(np.float32)
        np.save(vectors, unit / np.linalg.norm(unit, axis=1, keepdims=True))
        baseline = [sys.executable, "-c", TORCH_BASELINE, str(vectors), QUERY]
        rows.append(measure("open_clip + torch, same query", baseline, max(3, args.runs // 3)))
    rclip = rclip_command(args.rclip)
    if rclip:
        # rclip searches the folder it runs in (its index made by a first run, uncounted).
        os.chdir(photos)
        subprocess.run(rclip[:1] + [QUERY], check=True, capture_output=True)
        rows.append(measure("rclip, same query", rclip, args.runs))

    print(f"{args.photos} photos, ViT-B-32 int8, {args.runs} runs, page cache warm\n")
    print("| process | wall s (median) | min - max | peak RSS MiB |")
    print("|---|---|---|---|")
    for row in rows:
        print(f"| {row.label} | {row.wall:.3f} | {row.fastest:.3f} - {row.slowest:.3f} | "
              f"{row.rss_mib:.0f} |")  # fmt: skip
    print(f"\nimports of the search process: {import_ms:.0f} ms (`-X importtime`, top level)")
    print(f"heavy modules imported: {', '.join(heavy) if heavy else 'none'}")
    if not rclip:
        print("rclip: not installed here, not run")
    search = rows[0]
    met = search.wall <= WALL_GOAL_S and search.rss_mib <= RSS_GOAL_MIB and not heavy
    print(f"goal (<= {WALL_GOAL_S} s, <= {RSS_GOAL_MIB} MiB, no heavy module): "
          f"{'met' if met else 'missed'}")  # fmt: skip


if __name__ == "__main__":
    main()
