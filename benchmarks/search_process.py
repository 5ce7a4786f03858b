"""Wall time and peak RSS of one `desktop-search search` process (cold start, text query).

The library holds N synthetic photos embedded in the ViT-B-32 model's space; the model is the
int8 ViT-B-32 (random weights). The baseline is the same text query answered with open_clip on
torch (import, create the model, tokenize, encode, score the same vectors). Run:

    .venv/bin/python benchmarks/search_process.py [--items 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import install_model, unit_vectors, vit_b32_model
from benchmarks.query_latency import fill_store
from desktop_search.app.library import Library

BASELINE = """
import sys, numpy as np, open_clip, torch
torch.set_num_threads(2)
model = open_clip.create_model("ViT-B-32")
model.eval()
vectors = np.load(sys.argv[1])
with torch.no_grad():
    text = model.encode_text(open_clip.get_tokenizer("ViT-B-32")(["a dog on a beach"]))
query = (text / text.norm(dim=-1, keepdim=True)).numpy()[0]
print(np.argsort(-(vectors @ query))[:20])
"""


def timed(command: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS in MiB) of one child process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command} failed: {process.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    import numpy as np

    with tempfile.TemporaryDirectory() as home:
        model_id = install_model(Path(home), vit_b32_model())
        vectors = unit_vectors(args.items, 512)
        with Library.open(home) as library:
            fill_store(library.store, vectors, model_id)
            library._save_vectors(library.vectors(library.clip()), model_id)
        np.save(Path(home) / "vectors.npy", vectors)
        ours = [timed([sys.executable, "-m", "desktop_search", "--home", home, "search",
                       "a dog on a beach", "--json"]) for _ in range(args.runs)]  # fmt: skip
        base = [timed([sys.executable, "-c", BASELINE, str(Path(home) / "vectors.npy")])
                for _ in range(args.runs)]  # fmt: skip
    wall, rss = statistics.median(t for t, _ in ours), max(r for _, r in ours)
    base_wall, base_rss = statistics.median(t for t, _ in base), max(r for _, r in base)
    print("| process | wall s (median) | peak RSS MiB |")
    print("|---|---|---|")
    print(f"| desktop-search search, {args.items:,} items | {wall:.2f} | {rss:.0f} |")
    print(f"| open_clip + torch, same query | {base_wall:.2f} | {base_rss:.0f} |")
    print(f"ratio: {base_wall / wall:.1f}x faster, {base_rss / rss:.1f}x less memory")


if __name__ == "__main__":
    main()
