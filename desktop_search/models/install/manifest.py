# Over 400 lines: one job: reading the manifest schema, each error naming file and key.
"""Model manifests: where a model comes from, its checksums, license and preprocessing.

The manifests are TOML files in the repository's top-level ``models/`` folder, installed as the
package ``desktop_search.manifests`` (schema: ``models/README.md``). Loading validates every
field and says which file and key are wrong.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

from desktop_search.errors import ModelError
from desktop_search.models.install.files import sha256_file  # noqa: F401 - re-exported

MANIFEST_PACKAGE = "desktop_search.manifests"
SCHEMA_VERSION = 1
KINDS = ("clip", "text", "detector", "ocr")
SOURCE_TYPES = ("hf", "url")
INSTALL_FORMATS = ("immich-onnx", "open_clip", "onnx", "sentence-transformers", "rapidocr")
HF_URL = "https://huggingface.co/{repo}/resolve/{revision}/{path}"

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_TOP_KEYS = {
    "schema", "id", "kind", "name", "license", "description", "default", "embedding_size",
    "approximate_size", "source", "offline", "preprocess", "install",
}  # fmt: skip
_REQUIRED_PREPROCESS = {
    "clip": (
        "image_size",
        "mean",
        "std",
        "resize_mode",
        "interpolation",
        "tokenizer",
        "max_length",
    ),
    "text": ("tokenizer", "max_length", "pooling", "normalize"),
    "detector": ("image_size",),
    "ocr": (),
}


@dataclass(frozen=True)
class ManifestFile:
    """One file of a source: ``path`` relative to the model folder (or package root)."""

    path: str
    size: int | None = None
    sha256: str | None = None
    url: str | None = None

    @property
    def pinned(self) -> bool:
        return self.size is not None and self.sha256 is not None


@dataclass(frozen=True)
class Source:
    """Where the files are downloaded from: a Hugging Face repo (``hf``) or plain URLs."""

    type: str
    files: tuple[ManifestFile, ...]
    repo: str | None = None
    revision: str | None = None
    pinned: bool = True

    def url_for(self, file: ManifestFile) -> str:
        if self.type == "hf":
            return HF_URL.format(repo=self.repo, revision=self.revision, path=file.path)
        assert file.url is not None  # validated
        return file.url


@dataclass(frozen=True)
class OfflineSource:
    """A PyPI package carrying the files: ``module``'s folder ``root`` holds ``files``."""

    pypi: str
    module: str
    root: str
    files: tuple[ManifestFile, ...]


@dataclass(frozen=True)
class Manifest:
    id: str
    kind: str
    name: str
    license: str
    description: str
    default: bool
    source: Source | None
    offline: OfflineSource | None
    preprocess: dict[str, Any] = field(default_factory=dict)
    install: dict[str, Any] = field(default_factory=dict)
    embedding_size: int | None = None
    origin: str = ""
    # Bytes to download, as stated by the manifest's author: shown before anything is asked of
    # the network (an unpinned hub source learns the exact sizes when a fetch resolves it).
    approximate_size: int | None = None

    @property
    def pinned(self) -> bool:
        """True when every file that can be fetched or found offline has a size and sha256."""
        parts = []
        if self.source is not None:
            if not self.source.pinned:
                return False
            parts.extend(self.source.files)
        if self.offline is not None:
            parts.extend(self.offline.files)
        return all(f.pinned for f in parts)

    @property
    def hub_pinned(self) -> bool:
        """An unpinned hub source: the hub's own metadata at one commit pins it at fetch time."""
        return self.source is not None and self.source.type == "hf" and not self.pinned

    @property
    def fetchable(self) -> bool:
        """Whether ``models fetch`` can get it with every file verified."""
        return self.pinned or self.hub_pinned

    @property
    def status(self) -> str:
        if self.pinned:
            return "pinned"
        return "pinned by the hub at fetch time" if self.hub_pinned else "unpinned"

    @property
    def files(self) -> tuple[ManifestFile, ...]:
        """The model's files (those of the network source, else the offline ones)."""
        if self.source is not None:
            return self.source.files
        return self.offline.files if self.offline is not None else ()

    @property
    def total_size(self) -> int | None:
        sizes = [f.size for f in self.files]
        return None if any(s is None for s in sizes) else sum(sizes)  # type: ignore[misc]


class _Checker:
    """Collects typed fields of one manifest; every error names the file and key."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, message: str) -> ModelError:
        return ModelError(
            f"invalid model manifest {self.origin}: {message}",
            hint="fix the manifest (schema: models/README.md) or reinstall desktop-search",
        )

    def get(self, table: Mapping[str, Any], key: str, typ: type | tuple[type, ...], where: str,
            required: bool = True) -> Any:  # fmt: skip
        if key not in table:
            if required:
                raise self.fail(f"{where}{key} is missing")
            return None
        value = table[key]
        # bool is an int subclass: never accept it where a number is meant.
        if isinstance(value, bool) and bool not in (typ if isinstance(typ, tuple) else (typ,)):
            raise self.fail(f"{where}{key} must be {_type_name(typ)}, not a boolean")
        if not isinstance(value, typ):
            raise self.fail(f"{where}{key} must be {_type_name(typ)}, got {value!r}")
        return value

    def relpath(self, value: str, where: str) -> str:
        path = PurePosixPath(value)
        if not value or path.is_absolute() or ".." in path.parts or "\\" in value:
            raise self.fail(
                f"{where}path {value!r} must be a relative path inside the model folder"
            )
        return path.as_posix()

    def files(self, table: Mapping[str, Any], where: str, *, need_url: bool,
              need_pin: bool) -> tuple[ManifestFile, ...]:  # fmt: skip
        entries = self.get(table, "files", list, where)
        if not entries:
            raise self.fail(f"{where}files is empty")
        result, seen = [], set()
        for i, entry in enumerate(entries):
            at = f"{where}files[{i}]."
            if not isinstance(entry, dict):
                raise self.fail(f"{where}files[{i}] must be a table")
            unknown = set(entry) - {"path", "url", "size", "sha256"}
            if unknown:
                raise self.fail(f"{at} unknown keys {sorted(unknown)}")
            path = self.relpath(self.get(entry, "path", str, at), at)
            if path in seen:
                raise self.fail(f"{where}files lists {path!r} twice")
            seen.add(path)
            url = self.get(entry, "url", str, at, required=need_url)
            if url is not None and not url.startswith("https://"):
                raise self.fail(f"{at}url must be an https:// URL, got {url!r}")
            size = self.get(entry, "size", int, at, required=need_pin)
            if size is not None and size <= 0:
                raise self.fail(f"{at}size must be positive, got {size}")
            sha = self.get(entry, "sha256", str, at, required=need_pin)
            if sha is not None and not _SHA256_RE.match(sha):
                raise self.fail(f"{at}sha256 must be 64 lowercase hex digits, got {sha!r}")
            if (size is None) != (sha is None):
                raise self.fail(f"{at} size and sha256 go together (give both or neither)")
            result.append(ManifestFile(path=path, size=size, sha256=sha, url=url))
        return tuple(result)


def _type_name(typ: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", bool: "true or false", list: "a list",
             dict: "a table", float: "a number"}  # fmt: skip
    types = typ if isinstance(typ, tuple) else (typ,)
    return " or ".join(names.get(t, t.__name__) for t in types)


def parse_manifest(data: Mapping[str, Any], origin: str = "<manifest>") -> Manifest:
    """Validate one parsed manifest; ModelError naming ``origin`` and the bad key."""
    c = _Checker(origin)
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise c.fail(f"unknown keys {sorted(unknown)}")
    schema = c.get(data, "schema", int, "", required=False) or SCHEMA_VERSION
    if schema > SCHEMA_VERSION:
        raise ModelError(
            f"model manifest {origin} uses schema {schema}; this version understands up to "
            f"{SCHEMA_VERSION}",
            hint="upgrade desktop-search",
        )
    model_id = c.get(data, "id", str, "")
    if not _ID_RE.match(model_id):
        raise c.fail(f"id {model_id!r} must use lowercase letters, digits, '.', '_' and '-'")
    kind = c.get(data, "kind", str, "")
    if kind not in KINDS:
        raise c.fail(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    embedding_size = c.get(data, "embedding_size", int, "", required=kind in ("clip", "text"))
    if embedding_size is not None and embedding_size <= 0:
        raise c.fail(f"embedding_size must be positive, got {embedding_size}")
    approximate_size = c.get(data, "approximate_size", int, "", required=False)
    if approximate_size is not None and approximate_size <= 0:
        raise c.fail(f"approximate_size must be positive, got {approximate_size}")

    source = None
    if "source" in data:
        table = c.get(data, "source", dict, "")
        unknown = set(table) - {"type", "repo", "revision", "pinned", "files"}
        if unknown:
            raise c.fail(f"source: unknown keys {sorted(unknown)}")
        stype = c.get(table, "type", str, "source.")
        if stype not in SOURCE_TYPES:
            raise c.fail(f"source.type must be one of {', '.join(SOURCE_TYPES)}, got {stype!r}")
        pinned = c.get(table, "pinned", bool, "source.", required=False)
        pinned = True if pinned is None else pinned
        repo = c.get(table, "repo", str, "source.", required=stype == "hf")
        revision = c.get(table, "revision", str, "source.", required=stype == "hf")
        if repo is not None and not re.match(r"^[\w.-]+/[\w.-]+$", repo):
            raise c.fail(f"source.repo must look like 'owner/name', got {repo!r}")
        files = c.files(table, "source.", need_url=stype == "url", need_pin=pinned)
        source = Source(stype, files, repo=repo, revision=revision, pinned=pinned)

    offline = None
    if "offline" in data:
        table = c.get(data, "offline", dict, "")
        unknown = set(table) - {"pypi", "module", "root", "files"}
        if unknown:
            raise c.fail(f"offline: unknown keys {sorted(unknown)}")
        module = c.get(table, "module", str, "offline.")
        if not re.match(r"^[A-Za-z_]\w*$", module):
            raise c.fail(f"offline.module must be a top-level module name, got {module!r}")
        root = c.get(table, "root", str, "offline.", required=False) or "."
        root = "." if root == "." else c.relpath(root, "offline.root: ")
        if "files" in table:
            files = c.files(table, "offline.", need_url=False, need_pin=True)
        elif source is not None and source.pinned:
            files = source.files  # the same files at the same paths
        else:
            raise c.fail("offline.files is missing (and there is no pinned [source] to reuse)")
        offline = OfflineSource(c.get(table, "pypi", str, "offline."), module, root, files)

    if source is None and offline is None:
        raise c.fail("needs a [source] to download from or an [offline] package (or both)")

    preprocess = c.get(data, "preprocess", dict, "", required=False) or {}
    missing = [k for k in _REQUIRED_PREPROCESS[kind] if k not in preprocess]
    if missing:
        raise c.fail(f"preprocess needs {', '.join(missing)} for a {kind} model")
    install = c.get(data, "install", dict, "")
    fmt = c.get(install, "format", str, "install.")
    if fmt not in INSTALL_FORMATS:
        raise c.fail(f"install.format must be one of {', '.join(INSTALL_FORMATS)}, got {fmt!r}")
    quantize = c.get(install, "quantize", str, "install.", required=False)
    if quantize not in (None, "int8", "none"):
        raise c.fail(f"install.quantize must be 'int8' or 'none', got {quantize!r}")

    return Manifest(
        id=model_id,
        kind=kind,
        name=c.get(data, "name", str, ""),
        license=c.get(data, "license", str, ""),
        description=" ".join(c.get(data, "description", str, "").split()),
        default=c.get(data, "default", bool, "", required=False) or False,
        source=source,
        offline=offline,
        preprocess=dict(preprocess),
        install=dict(install),
        embedding_size=embedding_size,
        origin=origin,
        approximate_size=approximate_size,
    )


def _entries(directory: Path | importlib.resources.abc.Traversable | None) -> Iterable[Any]:
    if directory is None:
        directory = importlib.resources.files(MANIFEST_PACKAGE)
    return sorted(
        (e for e in directory.iterdir() if e.name.endswith(".toml")), key=lambda e: e.name
    )


def load_manifests(
    directory: Path | importlib.resources.abc.Traversable | None = None,
) -> dict[str, Manifest]:
    """Every manifest in ``directory`` (default: the installed ones), by id, validated.

    Besides each file's own checks: the id must match the file name, and each kind has at most
    one ``default = true``.
    """
    manifests: dict[str, Manifest] = {}
    for entry in _entries(directory):
        origin = entry.name
        try:
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise _Checker(origin).fail(f"cannot be read ({exc})") from exc
        manifest = parse_manifest(data, origin)
        if manifest.id != origin.removesuffix(".toml"):
            raise _Checker(origin).fail(f"id {manifest.id!r} must match the file name")
        manifests[manifest.id] = manifest
    defaults: dict[str, list[str]] = {}
    for manifest in manifests.values():
        if manifest.default:
            defaults.setdefault(manifest.kind, []).append(manifest.id)
    for kind, ids in defaults.items():
        if len(ids) > 1:
            raise ModelError(
                f"model manifests {', '.join(ids)} are all the default {kind} model",
                hint="mark only one default per kind",
            )
    return manifests


def load_manifest_file(path: Path) -> Manifest:
    """One manifest from a file of the user's (e.g. a model not shipped with the app)."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise _Checker(str(path)).fail(f"cannot be read ({exc})") from exc
    return parse_manifest(data, str(path))


# A folder of manifests to use instead of the shipped ones: a mirror an organisation pins
# itself, or a test's local server.
MANIFESTS_ENV = "DESKTOP_SEARCH_MANIFESTS"


def _installed() -> dict[str, Manifest]:
    return _load_cached(os.environ.get(MANIFESTS_ENV) or None)


@lru_cache(maxsize=4)
def _load_cached(directory: str | None) -> dict[str, Manifest]:
    return load_manifests(Path(directory) if directory else None)


def all_manifests() -> dict[str, Manifest]:
    """The installed manifests (loaded once per process)."""
    return dict(_installed())


def get(model_id: str) -> Manifest:
    """The installed manifest ``model_id``; ModelError listing the known ones if absent."""
    manifests = _installed()
    try:
        return manifests[model_id]
    except KeyError:
        raise ModelError(
            f"unknown model {model_id!r}",
            hint=f"known models: {', '.join(sorted(manifests))}",
        ) from None


def default_for(kind: str) -> Manifest:
    """The default manifest of ``kind`` (clip, text, detector, ocr)."""
    if kind not in KINDS:
        raise ModelError(f"unknown model kind {kind!r}", hint=f"use one of {', '.join(KINDS)}")
    for manifest in _installed().values():
        if manifest.kind == kind and manifest.default:
            return manifest
    raise ModelError(f"no default {kind} model is defined", hint="reinstall desktop-search")


def offline_root(manifest: Manifest) -> Path | None:
    """The folder of ``manifest``'s offline package if it is installed (nothing is imported)."""
    if manifest.offline is None:
        return None
    try:
        spec = importlib.util.find_spec(manifest.offline.module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    return package_dir if manifest.offline.root == "." else package_dir / manifest.offline.root
