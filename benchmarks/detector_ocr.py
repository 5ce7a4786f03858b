"""Object detector and OCR speed: load times, images/s, seconds per image, model file sizes.

- YOLOX-nano (the shared test copy ``../shared/models/yolox_nano_coco.onnx``) on real photos from
  skimage.data: ``detect`` one image at a time vs ``detect_batch`` (one session run per batch
  when the graph's batch axis allows it; the shared export pins it to 1, so that is a loop), and
  how much of the time is the onnxruntime session itself.
- RapidOCR (PP-OCRv4 from the rapidocr-onnxruntime wheel) through ``OcrEngine`` on a rendered
  receipt-like page (600x800, 14 lines), on two large text lines, and on a photo without text,
  with the default settings and with RapidOCR's own upscaling of small images.

Prints a Markdown table. Usage: python -m benchmarks.detector_ocr [--rounds 10] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageDraw, ImageFont
from skimage import data as skdata

from desktop_search.models.runtime.detector import ObjectDetector
from desktop_search.models.runtime.ocr import OcrEngine, text_of

REPO = Path(__file__).resolve().parents[1]
YOLOX_NANO = REPO.parent / "shared/models/yolox_nano_coco.onnx"
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "cat", "hubble_deep_field")
RECEIPT = (
    "HARDWARE STORE RECEIPT",
    "12 Main Street, Springfield",
    "",
    "Hammer 16oz        12.99",
    "Wood screws x100    6.49",
    "Paint brush 2in     4.25",
    "Sandpaper pack      3.79",
    "Duct tape           5.98",
    "",
    "SUBTOTAL           33.50",
    "TAX                 2.68",
    "TOTAL              36.18",
    "",
    "Thank you for shopping!",
)


def font(size: int, mono: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    name = "DejaVuSansMono.ttf" if mono else "DejaVuSans.ttf"
    for path in Path("/usr/share/fonts").rglob(name):
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def receipt() -> Image.Image:
    image = Image.new("RGB", (600, 800), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(RECEIPT):
        draw.text((40, 40 + 40 * i), line, font=font(18, mono=True), fill="black")
    return image


def two_lines() -> Image.Image:
    image = Image.new("RGB", (900, 260), "white")
    draw = ImageDraw.Draw(image)
    draw.text((40, 50), "HARDWARE STORE RECEIPT", font=font(40), fill="black")
    draw.text((40, 150), "TOTAL 42.50", font=font(40), fill="black")
    return image


def interleaved(fns: dict[Any, Callable[[], object]], rounds: int) -> dict[Any, float]:
    """Median seconds per call of each function, measured round-robin (one call of each per
    round, after one warm-up call each) so that load from other processes on the shared machine
    hits all of them alike."""
    samples: dict[Any, list[float]] = {name: [] for name in fns}
    for fn in fns.values():
        fn()
    for _ in range(rounds):
        for name, fn in fns.items():
            started = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in samples.items()}


def mb(path: Path) -> str:
    return f"{path.stat().st_size / 1e6:.1f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    rows: list[tuple[str, str, str]] = []

    # --- detector ---
    started = time.perf_counter()
    detector = ObjectDetector(YOLOX_NANO, threads=args.threads)
    detector.load()
    load_s = time.perf_counter() - started
    photos = [Image.fromarray(getattr(skdata, name)()).convert("RGB") for name in PHOTOS]
    n = len(photos)
    tensors = [detector.preprocess(p) for p in photos]
    session, name = detector.session, detector.session.get_inputs()[0].name
    raw = [session.run(None, {name: t[None]})[0][0] for t, _ in tensors]
    sizes = [(p.width, p.height) for p in photos]
    t = interleaved(
        {
            "single": lambda: [detector.detect(p) for p in photos],
            "batch": lambda: detector.detect_batch(photos),
            "pre": lambda: [detector.preprocess(p) for p in photos],
            "run": lambda: [session.run(None, {name: t[None]}) for t, _ in tensors],
            "post": lambda: [
                detector._postprocess(o, r, w, h)
                for o, (_, r), (w, h) in zip(raw, tensors, sizes, strict=True)
            ],
        },
        args.rounds,
    )
    single, batch = t["single"], t["batch"]
    found = {PHOTOS[i]: sorted({d.label for d in ds}) for i, ds in enumerate(
        detector.detect_batch(photos))}  # fmt: skip
    batch_note = "one run per batch" if detector.batchable else "batch axis fixed at 1: loops"
    rows += [
        ("detector: model file", mb(YOLOX_NANO), "YOLOX-nano, fp32, 416x416"),
        ("detector: load", f"{load_s * 1000:.0f} ms", "create_session, first use"),
        ("detector: detect, one at a time", f"{n / single:.1f} img/s",
         f"{single / n * 1000:.1f} ms/img over {n} skimage photos"),
        ("detector: detect_batch", f"{n / batch:.1f} img/s", batch_note),
        ("detector: stages", f"{t['pre'] / n * 1000:.1f} + {t['run'] / n * 1000:.1f} + "
         f"{t['post'] / n * 1000:.1f} ms/img", "letterbox + session.run + decode/NMS"),
    ]  # fmt: skip

    # --- OCR ---
    import rapidocr_onnxruntime

    ocr_dir = Path(rapidocr_onnxruntime.__file__).parent / "models"
    ocr_files = sorted(ocr_dir.glob("*.onnx"))
    total = sum(p.stat().st_size for p in ocr_files)
    rows.append(
        ("OCR: model files", f"{total / 1e6:.1f} MB",
         ", ".join(f"{p.stem} {mb(p)}" for p in ocr_files))
    )  # fmt: skip
    images = {
        "receipt 600x800": receipt(),
        "2 lines 900x260": two_lines(),
        "photo, no text (coffee 600x400)": skdata.coffee(),
    }
    engines = {
        "default": OcrEngine(threads=args.threads),
        "upscale_small_images": OcrEngine(threads=args.threads, upscale_small_images=True),
    }
    started = time.perf_counter()
    engines["default"].load()
    load_s = time.perf_counter() - started
    rows.append(("OCR: load (3 sessions)", f"{load_s * 1000:.0f} ms", "RapidOCR(), first use"))
    reads = {
        (label, what): (lambda e=engine, i=image: e.read(i))
        for label, engine in engines.items()
        for what, image in images.items()
    }
    seconds = interleaved(reads, args.rounds)
    texts = {key: text_of(fn()) for key, fn in reads.items()}
    for (label, what), value in seconds.items():
        rows.append((f"OCR {label}: {what}", f"{value:.2f} s/img", ""))
    words = sum(len(line.split()) for line in RECEIPT)
    got = texts[("default", "receipt 600x800")].split()
    exact = len(set(got) & set(" ".join(RECEIPT).split()))
    rows.append(("OCR default: receipt words", f"{len(got)}/{words}", f"{exact} distinct exact"))

    print(
        f"\nMachine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, onnxruntime {ort.__version__}, numpy {np.__version__}, "
        f"threads={args.threads or 'default'}, median of {args.rounds} rounds\n"
    )
    print("| what | result | notes |")
    print("|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print("\nDetector labels:", found)
    for (label, what), text in texts.items():
        print(f"OCR {label} / {what}: {text!r}")


if __name__ == "__main__":
    main()
