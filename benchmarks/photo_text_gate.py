"""Text in photos with the gate before OCR (issue 17 goals: on photos without text the pass costs
at most 20% of the CLIP pass per photo, and it still finds the text in at least 90% of the
photos that have some).

Two sets, each indexed into a fresh library home with the int8 ViT-B-32 (random weights: speed
does not depend on them):

* ``photo-set-85``: ``benchmarks/photo_set.py``'s Pictures folder (its ``labels.json`` says
  which files hold text: screenshots, photos of receipts, signs and slides). Built by
  ``python -m benchmarks.photo_set``; skipped when it is not there.
* ``rendered``: ``tests/text_photos.py`` at real sizes, ``--per-kind`` photos of each kind with
  text (screenshots light, dark and of small print only, chats, slides, signs at 15-30 degrees,
  receipts, pages at an angle, captioned photos) and skimage.data's photos without text.

Measured in one process, per set:

1. The CLIP pass: ``Library.index`` with text in photos off (decode, thumbnail, CLIP, SQLite):
   seconds per photo.
2. The text-in-photos pass alone (``Indexer.read_photo_texts``) over the photos without text,
   then over those with text, with the gate and without it (every photo decoded for OCR and
   read, as before the gate), alternating which goes first each round: seconds per photo, and
   which photos it found text in.
3. The gate's own steps on the stored thumbnails (open the JPEG, look): milliseconds per photo,
   and how many photos each step decided.

    .venv/bin/python -m benchmarks.photo_text_gate [--rounds 1] [--per-kind 4] [--only rendered]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from PIL import Image

from benchmarks.common import CACHE, install_model, vit_b32_model
from desktop_search.app.library import Library
from desktop_search.index.report import IndexReport
from desktop_search.models.runtime.text_gate import TextGate
from tests.text_photos import TEXT_MAKERS, plain_photos

PHOTO_SET = CACHE / "photo-set-85"
RENDERED = CACHE / "text-gate-set"


def rendered_set(per_kind: int) -> tuple[Path, dict[str, bool]]:
    """The rendered set at real sizes (made once per ``per_kind``): folder, has-text by path."""
    folder = RENDERED / f"per-kind-{per_kind}"
    labels_file = folder / "labels.json"
    if not labels_file.exists():
        shutil.rmtree(folder, ignore_errors=True)
        labels = {}
        photos = [make(seed, 1.0) for make in TEXT_MAKERS.values() for seed in range(per_kind)]
        for photo in photos + plain_photos(1.0):
            labels[photo.write(folder).name] = photo.has_text
        labels_file.write_text(json.dumps(labels, indent=1), encoding="utf-8")
    labels = json.loads(labels_file.read_text(encoding="utf-8"))
    return folder, {str(folder / name): has_text for name, has_text in labels.items()}


def photo_set() -> tuple[Path, dict[str, bool]] | None:
    labels_file = PHOTO_SET / "labels.json"
    if not labels_file.exists():
        return None
    files = json.loads(labels_file.read_text(encoding="utf-8"))["files"]
    return PHOTO_SET, {str(PHOTO_SET / name): label["has_text"] for name, label in files.items()}


def timed_pass(library: Library, paths: list[str], gated: bool) -> tuple[float, set[str]]:
    """The text-in-photos pass over ``paths`` alone (the others marked as looked at): seconds,
    and the paths it found text in."""
    db = library.store.db
    with library.store.transaction():
        db.execute("UPDATE files SET photo_text = 'none' WHERE kind = 'photo'")
        db.conn.executemany("UPDATE files SET photo_text = NULL WHERE path = ?",
                            [[p] for p in paths])  # fmt: skip
    options = replace(library.index_options(), photo_text=True)
    with library.writer():
        indexer = library.indexer(options=options)
        if not gated:
            indexer.text_gate = None
        started = time.perf_counter()
        indexer.read_photo_texts(IndexReport())
        seconds = time.perf_counter() - started
    found = {path for (path,) in db.execute(
        "SELECT path FROM files WHERE kind = 'photo' AND photo_text = 'found'")}  # fmt: skip
    return seconds, found & set(paths)


def gate_steps(library: Library, paths: list[str], gate: TextGate) -> tuple[list[float], Counter]:
    """The gate's look at each stored thumbnail: milliseconds, and which step decided."""
    rows = dict(library.store.db.execute("SELECT path, thumbnail FROM files WHERE kind = 'photo'"))
    times, steps = [], Counter()
    for path in paths:
        started = time.perf_counter()
        with Image.open(library.thumbnails.path(rows[path])) as image:
            image.load()
            verdict = gate.look(image)
        times.append((time.perf_counter() - started) * 1000)
        steps[verdict.step + (" (text)" if verdict.has_text else "")] += 1
    return times, steps


def run_set(name: str, folder: Path, labels: dict[str, bool], rounds: int, model: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        install_model(home, model)  # text in photos off: the CLIP pass alone
        with Library.open(home) as library:
            library.clip_or_none()  # model loading is not indexing time
            started = time.perf_counter()
            report = library.index([folder])
            clip_seconds = time.perf_counter() - started
            indexed = {p for (p,) in library.store.db.execute(
                "SELECT path FROM files WHERE kind = 'photo' AND status = 'indexed'")}  # fmt: skip
            with_text = sorted(p for p in indexed if labels.get(p))
            without = sorted(p for p in indexed if not labels.get(p))
            gate = library.text_tools.text_gate()
            assert gate is not None, "the gate needs the ocr extra"
            gate.load()
            library.text_tools.read_text()  # OCR loads before the clock runs
            times: dict[tuple[str, bool], list[float]] = {}
            found: dict[tuple[str, bool], set[str]] = {}
            for round_ in range(rounds):
                for gated in ((True, False) if round_ % 2 == 0 else (False, True)):
                    for kind, paths in (("without", without), ("with", with_text)):
                        seconds, hits = timed_pass(library, paths, gated)
                        times.setdefault((kind, gated), []).append(seconds / max(1, len(paths)))
                        found[(kind, gated)] = hits
            look_ms, steps = gate_steps(library, without, gate)
            look_text_ms, text_steps = gate_steps(library, with_text, gate)
    n = len(indexed)
    clip_ms = clip_seconds / n * 1000
    print(f"\n### {name}: {n} photos ({len(with_text)} with text), {report.failed} failed; "
          f"load {os.getloadavg()[0]:.1f} at the end\n")  # fmt: skip
    print("| | per photo | vs CLIP pass |\n|---|---|---|")
    print(f"| CLIP pass (decode, thumbnail, int8 ViT-B-32, SQLite) | {clip_ms:.0f} ms | 1.00 |")
    for kind in ("without", "with"):
        for gated in (False, True):
            ms = statistics.median(times[(kind, gated)]) * 1000
            label = "gate, then OCR" if gated else "OCR of every photo (before)"
            print(f"| text pass, photos {kind} text: {label} | {ms:.0f} ms | {ms / clip_ms:.2f} |")
    print(f"| gate's look at a thumbnail, photos without text (median) | "
          f"{statistics.median(look_ms):.1f} ms | {statistics.median(look_ms) / clip_ms:.3f} |")
    print()
    for gated in (False, True):
        hits = len(found[("with", gated)])
        false = len(found[("without", gated)])
        print(f"- {'gated' if gated else 'every photo read'}: text found in {hits} of "
              f"{len(with_text)} photos with text ({hits / max(1, len(with_text)):.0%}), and in "
              f"{false} of {len(without)} without")  # fmt: skip
    missed = found[("with", False)] - found[("with", True)]
    print(f"- photos with text read without the gate but not with it: "
          f"{sorted(Path(p).name for p in missed) or 'none'}")
    print(f"- the gate's first look, photos without text: {dict(steps)}; with text: "
          f"{dict(text_steps)}")  # fmt: skip
    total_before = sum(statistics.median(times[(k, False)]) * len(p)
                       for k, p in (("without", without), ("with", with_text)))  # fmt: skip
    total_after = sum(statistics.median(times[(k, True)]) * len(p)
                      for k, p in (("without", without), ("with", with_text)))  # fmt: skip
    print(f"- the whole pass: {total_before:.1f} s before, {total_after:.1f} s with the gate "
          f"({total_before / max(total_after, 1e-9):.1f}x faster); CLIP pass {clip_seconds:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--per-kind", type=int, default=4)
    parser.add_argument("--only", choices=("photo-set", "rendered"), default=None)
    args = parser.parse_args()
    model = vit_b32_model()
    print(f"# Text in photos: the gate before OCR ({os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f} at the start)")  # fmt: skip
    found = photo_set() if args.only != "rendered" else None
    if found is None and args.only != "rendered":
        print("\n(photo-set-85 not built: python -m benchmarks.photo_set)")
    elif found is not None:
        run_set("photo-set-85", *found, args.rounds, model)
    if args.only != "photo-set":
        run_set(f"rendered, {args.per_kind} per kind", *rendered_set(args.per_kind),
                args.rounds, model)  # fmt: skip


if __name__ == "__main__":
    main()
