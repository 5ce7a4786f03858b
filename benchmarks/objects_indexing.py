"""What detected objects cost at indexing time (issue 7 goal: at most +30%), objects per photo,
index size.

On the same photos, in the same run, end-to-end ``Library.index`` wall time of a fresh library
home (a) without a detector (the baseline), (b) with YOLOX-nano installed and ``detect_objects``
on (the default), (c) with the detector installed but ``detect_objects = false``. Each
configuration runs ``--rounds`` times, the order reversed every other round (the machine is
noisy); the median is reported. Model loading is outside the timing (as in
``index_throughput``). ViT-B-32 with random weights, int8 (speed does not depend on weights).

Two photo sets:
  * the 200 generated 12 MP JPEGs of ``index_throughput`` (skimage photos upscaled, few objects);
  * composites, ~3 MP: the skimage photos holding COCO objects (astronaut -> person, coffee ->
    cup, chelsea -> cat, stereo_motorcycle -> motorcycle + person, coins -> clocks) in 2x2
    grids or pasted into a scene; many objects per photo.

Then the parts on their own, on the images the indexer decodes (draft decode, long side >= the
detector's 416): detection alone (one thread, as each decode thread runs it), CLIP encoding of
the photos and of the object crops alone (batches of 16, as the indexer). Run:

    .venv/bin/python -m benchmarks.objects_indexing [--photos 200] [--composites 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

from benchmarks.common import CACHE, install_model, vit_b32_model
from benchmarks.index_throughput import make_photos
from desktop_search.app.library import Library
from desktop_search.extract.images import load_photo
from desktop_search.models.runtime.preprocess import crop_with_context, preprocess, scale_box

# The shared test copy of YOLOX-nano, in the ``shared/`` folder beside the repository.
DETECTOR = Path(__file__).resolve().parents[2] / "shared/models/yolox_nano_coco.onnx"
BATCH = 16
THUMBNAIL_SIZE = 256

# skimage photos in which YOLOX-nano finds COCO objects, and scenes in which it finds none.
OBJECT_SOURCES = ["astronaut", "coffee", "chelsea", "stereo_motorcycle", "coins"]
SCENES = ["rocket", "hubble_deep_field", "brick", "grass", "gravel", "moon"]
COMPOSITE_SIZE = (2000, 1500)  # 3 MP

CONFIGS = [
    ("none", "no detector (baseline)"),
    ("on", "detector, `detect_objects` on"),
    ("off", "detector installed, `detect_objects = false`"),
]


# --- photos ------------------------------------------------------------------------------------


def _skimage(name: str) -> Image.Image:
    array = getattr(data, name)()
    if isinstance(array, tuple):  # stereo_motorcycle: (left, right, disparity)
        array = array[0]
    return Image.fromarray(array).convert("RGB")


def _cover(image: Image.Image, size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """``image`` scaled (a little zoom at random) to cover ``size``, cropped at a random spot."""
    scale = max(size[0] / image.width, size[1] / image.height) * rng.uniform(1.0, 1.25)
    big = image.resize((round(image.width * scale), round(image.height * scale)),
                       Image.Resampling.BILINEAR)  # fmt: skip
    left = int(rng.integers(0, big.width - size[0] + 1))
    top = int(rng.integers(0, big.height - size[1] + 1))
    return big.crop((left, top, left + size[0], top + size[1]))


def make_composites(count: int) -> Path:
    """~3 MP JPEGs holding several detectable objects each: two of three are 2x2 grids of four
    of the object photos, every third is a scene (no objects of its own) with two or three of
    them pasted in at 500-900 px. Noise makes every file's bytes differ."""
    folder = CACHE / f"objects-{count}x3mp"
    if folder.exists() and len(list(folder.glob("*.jpg"))) == count:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    sources = {name: _skimage(name) for name in OBJECT_SOURCES + SCENES}
    rng = np.random.default_rng(7)
    width, height = COMPOSITE_SIZE
    for n in range(count):
        if n % 3 != 2:
            canvas = Image.new("RGB", COMPOSITE_SIZE)
            cell = (width // 2, height // 2)
            for place, index in enumerate(rng.choice(len(OBJECT_SOURCES), 4, replace=False)):
                tile = _cover(sources[OBJECT_SOURCES[index]], cell, rng)
                canvas.paste(tile, ((place % 2) * cell[0], (place // 2) * cell[1]))
        else:
            canvas = _cover(sources[SCENES[n // 3 % len(SCENES)]], COMPOSITE_SIZE, rng)
            for index in rng.choice(len(OBJECT_SOURCES), int(rng.integers(2, 4)), replace=False):
                source = sources[OBJECT_SOURCES[index]]
                scale = rng.uniform(500, 900) / max(source.size)
                piece = source.resize((round(source.width * scale), round(source.height * scale)),
                                      Image.Resampling.BILINEAR)  # fmt: skip
                canvas.paste(piece, (int(rng.integers(0, width - piece.width)),
                                     int(rng.integers(0, height - piece.height))))  # fmt: skip
        pixels = np.asarray(canvas, dtype=np.int16)
        noisy = np.clip(
            pixels + rng.integers(-6, 7, size=(1, 1, 3)) + rng.normal(0, 4, pixels.shape), 0, 255
        ).astype(np.uint8)
        Image.fromarray(noisy).save(folder / f"composite{n:04d}.jpg", quality=90)
    return folder


# --- one indexing run --------------------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    objects: int  # object items in the database
    encoded: int  # object items with a CLIP embedding
    photos_with_objects: int
    database_bytes: int
    vector_bytes: int
    classes: dict


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size if path.exists() else 0


def _home(home: Path, model_dir: Path, config: str, ocr: bool) -> None:
    install_model(home, model_dir)
    if config != "none":
        with Library.open(home) as library:
            library.object_tools.import_detector(DETECTOR)
    with Library.open(home) as library:
        library.settings_service.set_detect_objects(config != "off")
        # The photo OCR pass runs after, at ~1 s a photo.
        library.settings_service.set_read_text_in_photos(ocr)


def index_once(folder: Path, model_dir: Path, config: str, ocr: bool) -> Run:
    count = len(list(folder.glob("*.jpg")))
    with tempfile.TemporaryDirectory() as name:
        home = Path(name)
        _home(home, model_dir, config, ocr)
        with Library.open(home) as library:
            library.clip().visual.load()  # model loading is not indexing time
            finder = library.object_tools.finder()  # opens (loads) the detector, if used
            assert (finder is not None) == (config == "on"), (config, finder)
            started = time.perf_counter()
            report = library.index([folder])
            seconds = time.perf_counter() - started
            assert report.new == count and report.failed == 0, report
            classes = library.status().objects.classes
            database, vectors = library.paths.database, library.paths.vectors
        with closing(sqlite3.connect(database)) as db:
            objects, photos = db.execute(
                "SELECT count(*), count(DISTINCT file_id) FROM items WHERE kind = 'object'"
            ).fetchone()
            (encoded,) = db.execute(
                "SELECT count(*) FROM items i JOIN embeddings e ON e.item_id = i.id "
                "WHERE i.kind = 'object'"
            ).fetchone()
        assert objects == report.objects, (objects, report.objects)
        # The database with its WAL, if any is left after closing; every file of vectors/.
        size = _size(database) + _size(database.with_name(database.name + "-wal"))
        return Run(seconds, objects, encoded, photos, size, _size(vectors), classes)


# --- the parts alone ---------------------------------------------------------------------------


@dataclass
class Parts:
    detect_ms: float  # per photo, one thread
    photo_encode_ms: float  # per photo, batches of 16
    crop_encode_ms: float  # per crop, batches of 16
    crops: int
    objects: int


def parts_alone(folder: Path, model_dir: Path) -> Parts:
    files = sorted(folder.glob("*.jpg"))
    with tempfile.TemporaryDirectory() as name:
        home = Path(name)
        _home(home, model_dir, "on", ocr=False)
        with Library.open(home) as library:
            clip = library.clip()
            clip.visual.load()
            finder = library.object_tools.finder()
            spec = clip.image_spec
            photos = [load_photo(path, min_side=spec.size, thumb_size=THUMBNAIL_SIZE,
                                 long_side=finder.input_size) for path in files]  # fmt: skip
            finder.find(photos[0].image, (photos[0].width, photos[0].height))  # warm up
            started = time.perf_counter()
            found = [finder.find(p.image, (p.width, p.height)) for p in photos]
            detect = time.perf_counter() - started

            crops = []
            for photo, objects in zip(photos, found, strict=True):
                to_image = (photo.image.width / photo.width, photo.image.height / photo.height)
                crops += [
                    preprocess(crop_with_context(photo.image, scale_box(o.box, *to_image)), spec)
                    for o in objects
                    if o.encoded
                ]
            pixels = [preprocess(p.image, spec) for p in photos]
            photo_seconds = _encode(clip, pixels)
            crop_seconds = _encode(clip, crops) if crops else 0.0
    return Parts(
        detect_ms=1000 * detect / len(files),
        photo_encode_ms=1000 * photo_seconds / len(files),
        crop_encode_ms=1000 * crop_seconds / len(crops) if crops else 0.0,
        crops=len(crops),
        objects=sum(len(objects) for objects in found),
    )


def _encode(clip, pixels: list[np.ndarray]) -> float:
    clip.encode_images(np.stack(pixels[:BATCH]))  # warm up
    started = time.perf_counter()
    for start in range(0, len(pixels), BATCH):
        clip.encode_images(np.stack(pixels[start : start + BATCH]))
    return time.perf_counter() - started


# --- report ------------------------------------------------------------------------------------


def measure(label: str, folder: Path, model_dir: Path, rounds: int, ocr: bool) -> dict:
    for path in folder.glob("*.jpg"):  # warm the page cache: every run reads the same bytes
        path.read_bytes()
    runs: dict[str, list[Run]] = {config: [] for config, _ in CONFIGS}
    for round_ in range(rounds):
        order = CONFIGS if round_ % 2 == 0 else CONFIGS[::-1]
        for config, _ in order:
            runs[config].append(index_once(folder, model_dir, config, ocr))
    parts = parts_alone(folder, model_dir)
    return {"label": label, "count": len(list(folder.glob("*.jpg"))), "runs": runs,
            "parts": parts}  # fmt: skip


def _mib(size: int) -> str:
    return f"{size / 2**20:.2f}"


def print_report(results: list[dict], started_load: tuple, rounds: int, ocr: bool) -> None:
    ocr_pass = "on" if ocr else "off (read_text_in_photos = false) in every run"
    print(f"\nload average at start {started_load[0]:.2f}, at end {os.getloadavg()[0]:.2f}; "
          f"{rounds} rounds per configuration, order reversed every other round; photo OCR "
          f"pass {ocr_pass}\n")  # fmt: skip
    print("| photos | indexing | runs s | median s | images/s | time vs no detector |")
    print("|---|---|---|---|---|---|")
    for result in results:
        runs, count = result["runs"], result["count"]
        base = statistics.median(r.seconds for r in runs["none"])
        for n, (config, name) in enumerate(CONFIGS):
            times = [r.seconds for r in runs[config]]
            median = statistics.median(times)
            ratio = median / base
            extra = "" if config == "none" else f" ({100 * (ratio - 1):+.0f}%)"
            print(f"| {result['label'] if n == 0 else ''} | {name} | "
                  f"{', '.join(f'{t:.1f}' for t in times)} | {median:.2f} | "
                  f"{count / median:.1f} | {ratio:.2f}x{extra} |")  # fmt: skip

    print(
        "\n| photos | objects / photo | photos with objects | encoded crops / photo | "
        "database MiB without / with | ratio | vector index MiB without / with | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for result in results:
        runs, count = result["runs"], result["count"]
        on, none = runs["on"][0], runs["none"][0]
        print(f"| {result['label']} | {on.objects / count:.2f} | {on.photos_with_objects} of "
              f"{count} | {on.encoded / count:.2f} | {_mib(none.database_bytes)} / "
              f"{_mib(on.database_bytes)} | {on.database_bytes / none.database_bytes:.2f}x | "
              f"{_mib(none.vector_bytes)} / {_mib(on.vector_bytes)} | "
              f"{on.vector_bytes / none.vector_bytes:.2f}x |")  # fmt: skip

    print(
        "\n| photos | detection alone ms/photo (1 thread) | CLIP ms/photo (batch 16) | "
        "CLIP ms/crop | crops/photo | crops ms/photo | measured extra ms/photo |"
    )
    print("|---|---|---|---|---|---|---|")
    for result in results:
        runs, count, parts = result["runs"], result["count"], result["parts"]
        base = statistics.median(r.seconds for r in runs["none"])
        extra = statistics.median(r.seconds for r in runs["on"]) - base
        per_photo = parts.crops / count
        print(f"| {result['label']} | {parts.detect_ms:.1f} | {parts.photo_encode_ms:.1f} | "
              f"{parts.crop_encode_ms:.1f} | {per_photo:.2f} | "
              f"{per_photo * parts.crop_encode_ms:.1f} | {1000 * extra / count:.1f} |")  # fmt: skip

    for result in results:
        classes = result["runs"]["on"][0].classes
        top = ", ".join(f"{label} {n}" for label, n in list(classes.items())[:8])
        print(f"\n{result['label']}: objects by class (first run): {top}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=200, help="12 MP JPEGs (0: skip the set)")
    parser.add_argument("--composites", type=int, default=100, help="~3 MP composites (0: skip)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--ocr",
        action="store_true",
        help="keep the photo OCR pass on (the default setting; ~1 s a photo)",
    )
    args = parser.parse_args()
    load = os.getloadavg()
    model_dir = vit_b32_model()
    results = []
    if args.photos:
        folder = make_photos(args.photos, 12)
        results.append(measure(f"{args.photos} x 12 MP (upscaled skimage)", folder, model_dir,
                               args.rounds, args.ocr))  # fmt: skip
    if args.composites:
        folder = make_composites(args.composites)
        results.append(measure(f"{args.composites} x 3 MP composites", folder, model_dir,
                               args.rounds, args.ocr))  # fmt: skip
    print_report(results, load, args.rounds, args.ocr)


if __name__ == "__main__":
    main()
