"""Decode speed: full-size JPEG decoding vs ``load_photo`` (DCT-scaled draft + thumbnail).

Generates 12 MP JPEGs from real photos (skimage.data, upscaled, with sensor-like noise so the
files carry a camera's entropy; a quarter are stored rotated with EXIF orientation 6 like
portrait phone photos), then times, per image:

- full:       Image.open + load + ImageOps.exif_transpose + convert("RGB"), full 12 MP decode
- load_photo: desktop_search.extract.images.load_photo(path) -> model-size RGB + JPEG thumbnail

and ``load_photo`` in a 2-thread pool (Pillow releases the GIL while decoding). Prints a Markdown
table row. Usage: python benchmarks/decode_speed.py [--count 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import PIL
from PIL import Image, ImageOps
from skimage import data as skdata

from desktop_search.extract.images import load_photo

SIZE = (4000, 3000)
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")


def make_jpegs(folder: Path, count: int) -> list[Path]:
    paths = []
    for i in range(count):
        arr = getattr(skdata, PHOTOS[i % len(PHOTOS)])()[..., :3]
        base = Image.fromarray(arr).resize(SIZE, Image.Resampling.BICUBIC)
        noisy = np.asarray(base).astype(np.int16)
        noisy += np.random.default_rng(i).normal(0, 6, noisy.shape).astype(np.int16)
        image = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
        exif = Image.Exif()
        exif[0x010F], exif[0x0110] = "Canon", "Canon EOS 5D"
        exif.get_ifd(0x8769)[0x9003] = "2021:06:15 14:30:05"
        if i % 4 == 3:
            image = image.transpose(Image.Transpose.ROTATE_90)
            exif[0x0112] = 6
        path = folder / f"photo_{i:02d}.jpg"
        image.save(path, quality=90, exif=exif)
        paths.append(path)
    return paths


def full_decode(path: Path) -> Image.Image:
    with Image.open(path) as im:
        im.load()
        upright = ImageOps.exif_transpose(im)
        return upright.convert("RGB")


def fast_decode(path: Path) -> Image.Image:
    return load_photo(path).image


def time_per_image(fn: Callable[[Path], Image.Image], paths: list[Path], rounds: int) -> float:
    fn(paths[0])  # warm-up: plugin imports, page cache
    per_round = []
    for _ in range(rounds):
        start = time.perf_counter()
        for path in paths:
            fn(path)
        per_round.append((time.perf_counter() - start) / len(paths))
    return statistics.median(per_round) * 1000


def pool_throughput(paths: list[Path], rounds: int, workers: int) -> float:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(fast_decode, paths[:workers]))
        rates = []
        for _ in range(rounds):
            start = time.perf_counter()
            list(pool.map(fast_decode, paths))
            rates.append(len(paths) / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="ds-decode-") as tmp:
        paths = make_jpegs(Path(tmp), args.count)
        mean_mb = statistics.mean(p.stat().st_size for p in paths) / 1e6
        full_ms = time_per_image(full_decode, paths, args.rounds)
        fast_ms = time_per_image(fast_decode, paths, args.rounds)
        pool_rate = pool_throughput(paths, args.rounds, args.workers)
        sample = load_photo(paths[0])

    print(
        f"{args.count} JPEGs {SIZE[0]}x{SIZE[1]} ({mean_mb:.1f} MB avg), decoded to "
        f"{sample.image.size[0]}x{sample.image.size[1]} by load_photo; "
        f"median of {args.rounds} rounds"
    )
    print()
    print(
        "| date | machine | Pillow | full decode ms/img | load_photo ms/img | speed-up "
        f"| load_photo {args.workers} threads img/s |"
    )
    print("|---|---|---|---|---|---|---|")
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs"
    print(
        f"| {datetime.date.today()} | {machine} | {PIL.__version__} | {full_ms:.1f} | "
        f"{fast_ms:.1f} | {full_ms / fast_ms:.1f}x | {pool_rate:.1f} |"
    )


if __name__ == "__main__":
    main()
