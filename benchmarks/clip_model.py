"""CLIP ViT-B-32 on onnxruntime: fp32 vs int8 throughput, load time and file size.

Random weights (speed does not depend on them), both folders made by the project's converter.
Run: .venv/bin/python -m benchmarks.clip_model [--batches 8]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmarks.common import vit_b32_model
from desktop_search.models.runtime.clip import ClipModel

CAPTIONS = [
    "a dog on a beach", "receipt from the hardware store", "birthday cake with candles",
    "a red bicycle leaning against a wall", "snow on the mountains at sunset",
    "two cats sleeping on a sofa", "the kids at the zoo", "a plate of spaghetti",
]  # fmt: skip


def measure(model_dir, batches: int) -> dict:
    model = ClipModel(model_dir, threads=2)
    started = time.perf_counter()
    model.visual.load()
    model.textual.load()
    load_s = time.perf_counter() - started
    size = model.image_spec.size
    pixels = np.random.default_rng(0).normal(size=(16, 3, size, size)).astype(np.float32)
    model.encode_images(pixels)  # warm-up
    started = time.perf_counter()
    for _ in range(batches):
        model.encode_images(pixels)
    images_per_s = batches * len(pixels) / (time.perf_counter() - started)
    texts = CAPTIONS * 4
    model.encode_texts(texts)
    started = time.perf_counter()
    for _ in range(batches):
        model.encode_texts(texts)
    texts_per_s = batches * len(texts) / (time.perf_counter() - started)
    megabytes = sum(p.stat().st_size for p in model_dir.glob("*.onnx")) / 2**20
    model.release()
    return {"images": images_per_s, "texts": texts_per_s, "load": load_s, "mb": megabytes,
            "precision": model.info.precision}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=8)
    args = parser.parse_args()
    fp32 = measure(vit_b32_model(quantize=False), args.batches)
    int8 = measure(vit_b32_model(quantize=True), args.batches)
    print("| ViT-B-32 | images/s (batch 16) | texts/s (batch 32) | load s | ONNX MB |")
    print("|---|---|---|---|---|")
    for row in (fp32, int8):
        print(f"| {row['precision']} | {row['images']:.1f} | {row['texts']:.0f} | "
              f"{row['load']:.2f} | {row['mb']:.0f} |")  # fmt: skip
    print(
        f"int8/fp32: images {int8['images'] / fp32['images']:.2f}x, "
        f"texts {int8['texts'] / fp32['texts']:.2f}x, size {int8['mb'] / fp32['mb']:.2f}x"
    )


if __name__ == "__main__":
    main()
