"""Shared pieces of the benchmark scripts: cached inputs, a ViT-B-32 model, the int8
all-MiniLM-L6-v2 text model, statistics."""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

CACHE = Path(__file__).resolve().parent / ".cache"
VIT_B32 = "vit-b-32-random"
TEXT_MODEL = "all-minilm-l6-v2"


def vit_b32_model(quantize: bool = True) -> Path:
    """ViT-B-32 with random weights, converted once by the project's converter (needs torch)."""
    name = VIT_B32 if quantize else f"{VIT_B32}-fp32"
    folder = CACHE / "models" / name
    if not (folder / "model.json").exists():
        from desktop_search.models.convert.clip import convert_open_clip

        started = time.perf_counter()
        convert_open_clip("ViT-B-32", None, folder, name, quantize=quantize)
        print(f"converted ViT-B-32 ({name}) in {time.perf_counter() - started:.0f} s")
    return folder


def random_checkpoint(arch: str, seed: int = 0) -> Path:
    """Random weights for open_clip ``arch`` (seeded), saved once as safetensors: the one set of
    weights that both rclip's fp32 export and our converter start from (needs torch)."""
    path = CACHE / "models" / f"{arch.lower()}-random-seed{seed}.safetensors"
    if not path.exists():
        import open_clip
        import torch
        from safetensors.torch import save_file

        torch.manual_seed(seed)
        model = open_clip.create_model(arch, pretrained=None, device="cpu")
        path.parent.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    return path


def vit_b32_256_model() -> Path:
    """ViT-B-32-256 (rclip's architecture, 256 px input) with the random weights of
    ``random_checkpoint``, converted by the project's converter to int8 as users get it."""
    name = "vit-b-32-256-random"
    folder = CACHE / "models" / name
    if not (folder / "model.json").exists():
        from desktop_search.models.convert.clip import convert_open_clip

        started = time.perf_counter()
        convert_open_clip("ViT-B-32-256", random_checkpoint("ViT-B-32-256"), folder, name)
        print(f"converted ViT-B-32-256 ({name}) in {time.perf_counter() - started:.0f} s")
    return folder


def install_model(home: Path, model_dir: Path) -> str:
    """Install a converted model folder into a library home and make it active.

    Reading text in photos (OCR, about 1 s a photo, a pass after all photos are searchable) is
    switched off: the photo benchmarks measure the photo pipeline they measured before that pass
    existed (documents_pdf.py measures OCR).
    """
    model_id = json.loads((model_dir / "model.json").read_text())["id"]
    target = home / "models" / model_id
    if not target.exists():
        shutil.copytree(model_dir, target)
    (home / "config.toml").write_text(f'active_model = "{model_id}"\nread_text_in_photos = false\n')
    return model_id


def text_model_folder(cache: Path) -> Path:
    """The int8 all-MiniLM-L6-v2, converted once into ``cache`` (needs the convert extra)."""
    from desktop_search.models.install.store import ModelStore

    store = ModelStore(cache)
    if not store.has(TEXT_MODEL):
        print("converting all-MiniLM-L6-v2 to int8 ONNX (about a minute) ...", file=sys.stderr)
        store.import_text_model(name=TEXT_MODEL)
    return store.path(TEXT_MODEL)


def fetch_debs(packages: tuple[str, ...], debs: Path, root: Path) -> dict[str, tuple[Path, str]]:
    """``apt-get download`` the packages missing from ``debs`` and unpack each once below
    ``root`` (``dpkg-deb -x``); returns package -> (its .deb, its version)."""
    debs.mkdir(parents=True, exist_ok=True)
    missing = [p for p in packages if not list(debs.glob(f"{p}_*.deb"))]
    if missing:
        print(f"apt-get download {' '.join(missing)}", file=sys.stderr)
        subprocess.run(["apt-get", "download", *missing], cwd=debs, check=True)
    found = {}
    for package in packages:
        deb = sorted(debs.glob(f"{package}_*.deb"))[-1]
        marker = root / ".unpacked" / deb.name
        if not marker.exists():
            subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
        version = subprocess.run(
            ["dpkg-deb", "-f", str(deb), "Version"], check=True, capture_output=True, text=True
        ).stdout.strip()
        found[package] = (deb, version)
    return found


def home_with_text_model(home: Path, model: Path) -> Path:
    """Install the converted text model folder ``model`` into the library home ``home`` (new or
    empty) as ``models/<name>`` and make it the text model in ``config.toml``; returns ``home``."""
    (home / "models").mkdir(parents=True, exist_ok=True)
    shutil.copytree(model, home / "models" / model.name)
    (home / "config.toml").write_text(f'text_model = "{model.name}"\n', encoding="utf-8")
    return home


def index_with_text_model(home: Path, roots: list[Path], models_cache: Path) -> dict:
    """A new library ``home`` with the int8 text model, ``roots`` indexed into it; returns the
    run's facts (seconds, documents, passages, failures; each failure also printed)."""
    from desktop_search.app.library import Library

    home_with_text_model(home, text_model_folder(models_cache))
    started = time.perf_counter()
    with Library.open(home) as library:
        report = library.index(roots)
    for path, reason in report.failures:
        print(f"warning: not indexed: {path}: {reason}", file=sys.stderr)
    return {"index_seconds": time.perf_counter() - started, "documents_read": report.documents,
            "passages": report.passages, "failures": report.failures}  # fmt: skip


def percentiles(samples_ms: list[float]) -> tuple[float, float]:
    ordered = sorted(samples_ms)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered), p95


def unit_vectors(n: int, dim: int, seed: int = 0, clustered: bool = True) -> np.ndarray:
    """Synthetic embeddings: a mixture of clusters in a low-dimensional subspace plus noise,
    which is closer to real CLIP embeddings than uniform random vectors."""
    rng = np.random.default_rng(seed)
    if clustered:
        basis = rng.normal(size=(64, dim)).astype(np.float32)
        centres = rng.normal(size=(256, 64)).astype(np.float32)
        labels = rng.integers(0, len(centres), n)
        latent = centres[labels] + 0.5 * rng.normal(size=(n, 64)).astype(np.float32)
        vectors = latent @ basis + 0.3 * rng.normal(size=(n, dim)).astype(np.float32)
    else:
        vectors = rng.normal(size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
