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
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_search.errors import ModelError
from desktop_search.models.install.download import Progress, fetch_files, offline_files
from desktop_search.models.install.files import (
    install_folder,
    record_provenance,
    sha256_file,
    write_model_json,
)
from desktop_search.models.install.manifest import Manifest
from desktop_search.models.install.store import ModelStore
from desktop_search.platform import private

if TYPE_CHECKING:  # huggingface_hub loads only when a fetch runs
    from desktop_search.models.install.hub import FetchedFile

log = logging.getLogger(__name__)

DOWNLOADS = ".downloads"  # inside the models folder: same file system, kept for resuming


@dataclass(frozen=True)
class FetchResult:
    """What ``fetch_model`` installed and where it came from."""

    manifest: Manifest
    commit: str | None  # the hub commit the files came from (None: offline package or URLs)
    files: tuple[FetchedFile, ...]  # the downloaded files, verified; empty for an offline copy


def fetch_model(
    store: ModelStore,
    manifest: Manifest,
    *,
    commit: str | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    ssl_context: ssl.SSLContext | None = None,
    endpoint: str | None = None,
    announce: Callable[[str, int], None] | None = None,
) -> FetchResult:
    """Install ``manifest``'s model into ``store``.

    The offline copy (a PyPI package) is used when installed and no ``commit`` is asked for.
    Otherwise the files are downloaded, resuming a previous attempt, and verified before anything
    is installed: a hub source against the hub's metadata at one commit (``commit``, or what the
    manifest's revision names now) unless the manifest pins them; URLs against the manifest's
    pins. ``announce(path, size)`` is called before each file, ``progress(done, total)`` with the
    bytes over all files; ``cancel`` stops the download (FetchCancelled, the partial file stays).
    """
    source_dir = offline_files(manifest) if commit is None else None
    download_dir = store.models_dir / DOWNLOADS / manifest.id
    resolved_commit, fetched = None, ()
    if source_dir is not None:
        log.info("using the offline copy of %s in %s", manifest.id, source_dir)
    elif manifest.source is not None and manifest.source.type == "hf":
        from desktop_search.models.install import hub  # huggingface_hub: loaded only to fetch

        resolved = hub.resolve(manifest, commit=commit, endpoint=endpoint)
        remember_resolved(store, manifest.id, resolved.commit, resolved.total_size)
        # One folder per commit: a partial file of another commit must not be resumed into this.
        source_dir = download_dir / resolved.commit
        for stale in download_dir.glob("*") if download_dir.is_dir() else ():
            if stale != source_dir:
                shutil.rmtree(stale, ignore_errors=True)
        fetched = tuple(hub.download(
            resolved, source_dir, progress=progress, cancel=cancel, endpoint=endpoint,
            announce=(lambda f: announce(f.path, f.size)) if announce else None,
        ))  # fmt: skip
        resolved_commit = resolved.commit
    else:
        if commit is not None:
            raise ModelError(f"{manifest.id} does not come from the model hub: --commit does "
                             "not apply")  # fmt: skip
        fetch_files(manifest, download_dir, progress, ssl_context)
        source_dir = download_dir
    install = _INSTALLERS.get(manifest.install.get("format", ""))
    if install is None:
        raise ModelError(f"{manifest.id}: unknown install format {manifest.install!r}")
    install(store, manifest, source_dir)
    provenance: dict = {"manifest": manifest.id}
    if resolved_commit is not None:
        assert manifest.source is not None
        provenance.update({
            "repo": manifest.source.repo, "revision": commit or manifest.source.revision,
            "commit": resolved_commit, "files": {f.path: f.to_dict() for f in fetched},
            "fetched": datetime.now(UTC).isoformat(timespec="seconds"),
        })  # fmt: skip
    record_provenance(store.models_dir / manifest.id, provenance)
    shutil.rmtree(download_dir, ignore_errors=True)
    return FetchResult(manifest, resolved_commit, fetched)


RESOLVED_JSON = "resolved.json"


def remember_resolved(store: ModelStore, model_id: str, commit: str, size: int) -> None:
    """Keep what a fetch learnt from the hub (exact size, commit) for listing it offline later."""
    folder = store.models_dir / DOWNLOADS
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    known = resolved_sizes(store)
    known[model_id] = {"commit": commit, "size": size}
    resolved = folder / RESOLVED_JSON
    temporary = resolved.with_name(f".{RESOLVED_JSON}.tmp-{os.getpid()}")
    temporary.unlink(missing_ok=True)  # left by a killed process with this pid
    private.write_text(temporary, json.dumps(known, indent=2))
    os.replace(temporary, resolved)


def resolved_sizes(store: ModelStore) -> dict[str, dict]:
    """What earlier fetches learnt from the hub, by model id (no network)."""
    try:
        data = json.loads((store.models_dir / DOWNLOADS / RESOLVED_JSON).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _install_immich_onnx(store: ModelStore, manifest: Manifest, source_dir: Path) -> None:
    store.import_clip_onnx(source_dir, manifest.id, replace=True)


def _install_open_clip(store: ModelStore, manifest: Manifest, source_dir: Path) -> None:
    (checkpoint,) = [source_dir / f.path for f in manifest.files]
    store.import_open_clip(checkpoint, manifest.install["arch"], manifest.id, replace=True)


def _install_sentence_transformer(store: ModelStore, manifest: Manifest, source_dir: Path) -> None:
    """The hub's ready ONNX export (``[install] onnx``) when it was downloaded, else the
    checkpoint of the offline package; neither needs torch."""
    graph = manifest.install.get("onnx")
    if isinstance(graph, str) and (source_dir / graph).is_file():
        repo = manifest.source.repo if manifest.source is not None else None
        store.import_text_onnx(source_dir, source_dir / graph, manifest.id, repo=repo)
    else:
        store.import_text_model(source_dir, manifest.id, replace=True)


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
        write_model_json(work, {
            "format": 1, "id": manifest.id, "kind": manifest.kind, "precision": "fp32",
            "files": files, "preprocess": manifest.preprocess, "license": manifest.license,
            "source": {"manifest": manifest.id, "origin": origin},
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        })  # fmt: skip
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
