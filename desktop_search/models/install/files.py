"""File helpers shared by the model store and the converters: hashing, model.json, atomic install.

Standard library only: the store (runtime) and the converters (``convert`` extra) both use it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from desktop_search.errors import ModelImportError
from desktop_search.models.runtime.model_folder import MODEL_JSON, read_model_json
from desktop_search.platform import private


class _DropMessages(logging.Filter):
    def __init__(self, prefixes: tuple[str, ...]) -> None:
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefixes)


@contextlib.contextmanager
def quiet_root_logger(*prefixes: str) -> Iterator[None]:
    """Drop root-logger messages starting with ``prefixes`` (known-harmless library chatter)."""
    noise = _DropMessages(prefixes)
    root = logging.getLogger()
    root.addFilter(noise)
    try:
        yield
    finally:
        root.removeFilter(noise)


def hash_into(digest: Any, path: Path) -> None:
    """Feed a file to a hashlib object, in 1 MiB blocks."""
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    hash_into(digest, path)
    return digest.hexdigest()


def read_source_json(path: Path) -> dict[str, Any]:
    """A JSON object from a model source being imported; ModelImportError if it is not one."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelImportError(f"Cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ModelImportError(f"{path} is not a JSON object")
    return data


def write_model_json(model_dir: Path, data: dict[str, Any]) -> None:
    """Write ``model_dir/model.json`` whole or not at all (a reader never sees half of it).

    The one writer of model.json: converters, importers and fetch all describe a model through it.
    """
    path = Path(model_dir) / MODEL_JSON
    tmp = path.with_name(f".{MODEL_JSON}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)  # left by a killed process with this pid
    private.write_text(tmp, json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def record_provenance(model_dir: Path, provenance: dict[str, Any]) -> None:
    """Add where an installed model came from (``source`` in its model.json): for a fetched
    model the repository, the resolved commit and every downloaded file's size and sha256."""
    data = read_model_json(model_dir)
    data["source"] = {**data.get("source", {}), **provenance}
    write_model_json(model_dir, data)


def folder_size(folder: Path) -> int:
    """Total bytes of the regular files under ``folder``."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def install_folder(tmp_dir: Path, out_dir: Path) -> None:
    """Move a finished model folder into place; an existing one is replaced only at the end.

    ``tmp_dir`` must be on the same file system as ``out_dir`` (make it next to it), so that
    both renames are atomic: readers see the old folder or the new one, never a half-written one.
    What converters and copies wrote there with the default modes is made private first.
    """
    private.make_tree_private(tmp_dir)
    old = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        os.replace(out_dir, old)
    try:
        os.replace(tmp_dir, out_dir)
    except OSError:
        if old is not None:
            os.replace(old, out_dir)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
