"""The user's model directory: one folder per installed model, each with a ``model.json``."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
from pathlib import Path

from desktop_search.errors import ConvertExtraMissingError, ModelError
from desktop_search.models.clip import MODEL_JSON, ClipModelInfo

log = logging.getLogger(__name__)

# Modules the optional ``convert`` extra brings; an ImportError naming anything else is a bug
# and must not be disguised as a missing extra.
_CONVERT_MODULES = {"torch", "torchvision", "open_clip", "onnx", "safetensors", "timm"}
_CONVERT_EXTRA_MESSAGE = (
    "model conversion needs the convert extra: pip install 'desktop-search[convert]'"
)
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")


def slugify(text: str) -> str:
    """A model folder name from free text: lowercase, [a-z0-9._-], no leading dot."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-._")
    return slug[:100] or "model"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ModelStore:
    """Installed models under ``models_dir`` (one sub-folder each, user-only permissions)."""

    def __init__(self, models_dir: Path) -> None:
        self.models_dir = Path(models_dir)

    def _dir(self, name: str) -> Path:
        if not _NAME_RE.match(name):
            raise ModelError(
                f"Invalid model name {name!r}",
                hint="use lowercase letters, digits, '.', '_' and '-'",
            )
        return self.models_dir / name

    def list(self) -> list[ClipModelInfo]:
        """Installed models, sorted by name. Unreadable folders are logged, not listed."""
        if not self.models_dir.is_dir():
            return []
        infos = []
        for entry in sorted(self.models_dir.iterdir()):
            # Dot-folders are in-progress or leftover conversions, not models.
            if entry.name.startswith(".") or not (entry / MODEL_JSON).is_file():
                continue
            try:
                infos.append(ClipModelInfo.load(entry))
            except ModelError as exc:
                log.warning("skipping model folder %s: %s", entry, exc)
        return infos

    def has(self, name: str) -> bool:
        return _NAME_RE.match(name) is not None and (self.models_dir / name / MODEL_JSON).is_file()

    def path(self, name: str) -> Path:
        """The folder of installed model ``name``; ModelError if it is not installed."""
        folder = self._dir(name)
        if not (folder / MODEL_JSON).is_file():
            installed = ", ".join(info.id for info in self.list()) or "none"
            raise ModelError(
                f"Model {name!r} is not installed (installed: {installed})",
                hint="import one with: desktop-search models import CHECKPOINT --arch ARCH",
            )
        return folder

    def info(self, name: str) -> ClipModelInfo:
        return ClipModelInfo.load(self.path(name))

    def verify(self, name: str) -> ClipModelInfo:
        """Check every file against the sha256 in model.json; ModelError listing what is wrong."""
        folder = self.path(name)
        info = ClipModelInfo.load(folder)
        problems = []
        for fname, expected in sorted(info.files.items()):
            path = folder / fname
            if not path.is_file():
                problems.append(f"{fname} is missing")
            elif _sha256(path) != expected.lower():
                problems.append(f"{fname} does not match its sha256")
        if problems:
            raise ModelError(
                f"Model {name!r} failed verification: {'; '.join(problems)}",
                hint=f"remove it (desktop-search models remove {name}) and import it again",
            )
        return info

    def remove(self, name: str) -> None:
        folder = self.path(name)
        # Rename first so a half-deleted folder never looks like an installed model.
        trash = folder.with_name(f".{name}.removing-{os.getpid()}")
        os.replace(folder, trash)
        shutil.rmtree(trash)
        log.info("removed model %s", name)

    def import_open_clip(
        self,
        checkpoint: Path | None,
        arch: str,
        name: str | None = None,
        *,
        quantize: bool = True,
        replace: bool = False,
    ) -> ClipModelInfo:
        """Convert an open_clip checkpoint into an installed int8 model; returns its info.

        ``arch``: a registered open_clip name or a model-config JSON path. ``checkpoint`` None
        gives random weights (benchmarks, tests). Needs the ``convert`` extra.
        """
        try:
            from desktop_search.models import convert
        except ImportError as exc:
            missing = (exc.name or "").split(".")[0]
            if missing in _CONVERT_MODULES:
                raise ConvertExtraMissingError(_CONVERT_EXTRA_MESSAGE) from exc
            raise
        if name is None:
            arch_name = Path(arch).stem if arch.endswith(".json") else arch
            parts = [arch_name] + ([Path(checkpoint).stem] if checkpoint is not None else [])
            name = slugify("-".join(parts))
        folder = self._dir(name)
        if (folder / MODEL_JSON).is_file() and not replace:
            raise ModelError(
                f"Model {name!r} is already installed",
                hint="choose another name, or remove it first",
            )
        self.models_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        convert.convert_open_clip(arch, checkpoint, folder, name, quantize=quantize)
        os.chmod(folder, 0o700)
        return ClipModelInfo.load(folder)
