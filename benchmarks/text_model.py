"""all-MiniLM-L6-v2 on onnxruntime: texts/s of fp32 vs int8, load time, file size.

~1000 sentences of mixed length (3 to ~300 words, so some are truncated at 256 tokens), batch 32.
The int8 graph runs one text per call by default (``TextModel.batch_invariant``); the "int8,
batched" row forces real batches to show what that costs. Best of 3 runs (noisy shared machine).

    .venv/bin/python -m benchmarks.text_model
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from benchmarks.common import CACHE
from desktop_search.models.runtime.text import ONNX_FILE, TextModel

RUNS = 3
BATCH = 32


def model_dir(quantize: bool) -> Path:
    from desktop_search.models.convert.text import (
        convert_sentence_transformer,
        offline_minilm_dir,
    )

    name = "all-minilm-l6-v2" if quantize else "all-minilm-l6-v2-fp32"
    folder = CACHE / "models" / name
    if not (folder / "model.json").exists():
        convert_sentence_transformer(offline_minilm_dir(), folder, name, quantize=quantize)
    return folder


def sentences(n: int = 1000, seed: int = 0) -> list[str]:
    from desktop_search.models.convert.text import FIDELITY_TEXTS

    rng = np.random.default_rng(seed)
    words = " ".join(FIDELITY_TEXTS).split()
    lengths = rng.choice(
        [3, 8, 15, 30, 60, 120, 300], size=n, p=[0.1, 0.2, 0.25, 0.2, 0.12, 0.08, 0.05]
    )
    return [" ".join(rng.choice(words, size=int(k))) for k in lengths]


class _Batched(TextModel):
    @property
    def batch_invariant(self) -> bool:
        return True


def measure(label: str, model: TextModel, texts: list[str]) -> dict[str, object]:
    started = time.perf_counter()
    model.load()
    model.encode(["warm up"])
    load_s = time.perf_counter() - started
    best = min(_timed(model, texts) for _ in range(RUNS))
    return {
        "label": label,
        "texts_s": len(texts) / best,
        "load_s": load_s,
        "mb": (model.model_dir / ONNX_FILE).stat().st_size / 1e6,
    }


def _timed(model: TextModel, texts: list[str]) -> float:
    started = time.perf_counter()
    model.encode(texts, batch_size=BATCH)
    return time.perf_counter() - started


def torch_baseline(texts: list[str]) -> float:
    from sentence_transformers import SentenceTransformer

    from desktop_search.models.convert.text import offline_minilm_dir

    st = SentenceTransformer(str(offline_minilm_dir()), device="cpu")
    st.encode(["warm up"])
    best = float("inf")
    for _ in range(RUNS):
        started = time.perf_counter()
        st.encode(texts, batch_size=BATCH, normalize_embeddings=True)
        best = min(best, time.perf_counter() - started)
    return len(texts) / best


def main() -> None:
    texts = sentences()
    int8_dir, fp32_dir = model_dir(True), model_dir(False)
    rows = [
        measure("ONNX fp32, batch 32", TextModel(fp32_dir), texts),
        measure("ONNX int8, one text per call (default)", TextModel(int8_dir), texts),
        measure("ONNX int8, batch 32 (not batch invariant)", _Batched(int8_dir), texts),
    ]
    baseline = torch_baseline(texts)
    print(f"{len(texts)} texts, batch {BATCH}, best of {RUNS}\n")
    print("| model | texts/s | vs torch | load s | model.onnx MB |")
    print("|---|---|---|---|---|")
    print(f"| sentence-transformers, torch fp32 | {baseline:.0f} | 1.0x | - | 90.9 |")
    for r in rows:
        print(
            f"| {r['label']} | {r['texts_s']:.0f} | {r['texts_s'] / baseline:.1f}x "
            f"| {r['load_s']:.2f} | {r['mb']:.1f} |"
        )


if __name__ == "__main__":
    main()
