"""Indexing throughput, images/s end to end, on large JPEGs: desktop-search vs open_clip on torch.

The baseline does the same work the naive way: full-size decode of every JPEG, EXIF transpose,
open_clip's own transform, a thumbnail from the full image, ViT-B-32 fp32 on torch in batches of
16. desktop-search does scan + hash + draft decode in a thread pool + int8 ONNX + SQLite writes.
Both use random ViT-B-32 weights (speed does not depend on the weights). Run:

    .venv/bin/python benchmarks/index_throughput.py [--count 200] [--megapixels 12]
"""

from __future__ import annotations

import argparse
import io
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps
from skimage import data

from benchmarks.common import CACHE, install_model, vit_b32_model
from desktop_search.app.library import Library

SOURCES = ["astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "hubble_deep_field"]


def make_photos(count: int, megapixels: float) -> Path:
    """Large JPEGs from real photos: upscaled, jittered with noise so each file differs."""
    folder = CACHE / f"jpegs-{count}x{megapixels:g}mp"
    if folder.exists() and len(list(folder.glob("*.jpg"))) == count:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    width = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    height = int(width * 3 / 4)
    rng = np.random.default_rng(0)
    for n in range(count):
        base = Image.fromarray(getattr(data, SOURCES[n % len(SOURCES)])()).convert("RGB")
        big = np.asarray(base.resize((width, height), Image.BILINEAR), dtype=np.int16)
        noisy = np.clip(
            big + rng.integers(-6, 7, size=(1, 1, 3)) + rng.normal(0, 4, big.shape), 0, 255
        ).astype(np.uint8)
        Image.fromarray(noisy).save(folder / f"photo{n:04d}.jpg", quality=90)
    return folder


def run_desktop_search(folder: Path, model_dir: Path) -> float:
    with tempfile.TemporaryDirectory() as home:
        install_model(Path(home), model_dir)
        with Library.open(home) as library:
            library.clip().visual.load()  # model load time is not indexing throughput
            started = time.perf_counter()
            report = library.index([folder])
            elapsed = time.perf_counter() - started
        assert report.encoded == len(list(folder.glob("*.jpg"))), report
    return elapsed


def run_open_clip_torch(folder: Path, batch_size: int = 16) -> float:
    import open_clip
    import torch

    torch.set_num_threads(2)
    model, _, transform = open_clip.create_model_and_transforms("ViT-B-32")
    model.eval()
    thumbs = Path(tempfile.mkdtemp())
    started = time.perf_counter()
    batch = []
    files = sorted(folder.glob("*.jpg"))
    with torch.no_grad():
        for n, path in enumerate(files):
            image = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
            thumbnail = image.copy()
            thumbnail.thumbnail((256, 256))
            buffer = io.BytesIO()
            thumbnail.save(buffer, "JPEG")
            (thumbs / f"{n}.jpg").write_bytes(buffer.getvalue())
            batch.append(transform(image))
            if len(batch) == batch_size or n == len(files) - 1:
                features = model.encode_image(torch.stack(batch))
                features = features / features.norm(dim=-1, keepdim=True)
                batch = []
    elapsed = time.perf_counter() - started
    shutil.rmtree(thumbs)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--megapixels", type=float, default=12)
    args = parser.parse_args()
    folder = make_photos(args.count, args.megapixels)
    model_dir = vit_b32_model()
    ours = run_desktop_search(folder, model_dir)
    baseline = run_open_clip_torch(folder)
    rate_ours, rate_base = args.count / ours, args.count / baseline
    print(
        f"| {args.count} JPEGs, {args.megapixels:g} MP | open_clip torch fp32, full decode: "
        f"{rate_base:.1f} img/s | desktop-search int8: {rate_ours:.1f} img/s | "
        f"ratio {rate_ours / rate_base:.2f}x |"
    )


if __name__ == "__main__":
    main()
