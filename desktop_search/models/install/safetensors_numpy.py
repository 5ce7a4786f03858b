"""Tensors of a ``.safetensors`` file as numpy arrays, without torch or the safetensors package.

The format is an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
shape and byte range in the data that follows, then the raw little-endian data. That is all a
weights file needs to be read; the ``safetensors`` package would bring nothing more, and it is
only a dependency of the ``convert`` extra. Nothing in the file is executed (unlike a pickle),
and every offset is checked against the file before a byte is read: the file may be a download.
"""

from __future__ import annotations

import json
import logging
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from desktop_search.errors import ModelImportError

log = logging.getLogger(__name__)

# A header describes names, dtypes and offsets; 100 MB of it is no weights file.
MAX_HEADER_BYTES = 100 * 1024 * 1024
_DTYPES: Mapping[str, np.dtype] = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
_BF16 = "BF16"  # no numpy dtype: read as uint16 and widened to float32


@dataclass(frozen=True)
class TensorEntry:
    """Where one tensor lies in the file's data section."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    start: int  # byte offsets relative to the start of the data section
    end: int


class SafetensorsFile:
    """An opened ``.safetensors`` file: its tensors by name, read on request (memory-mapped)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.entries, self.metadata, data_start = _read_header(self.path)
        size = self.path.stat().st_size
        self._data: np.ndarray | None = None
        if size > data_start:  # np.memmap refuses an empty mapping
            self._data = np.memmap(
                self.path, dtype=np.uint8, mode="r", offset=data_start, shape=(size - data_start,)
            )

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def array(self, name: str, dtype: np.dtype | type = np.float32) -> np.ndarray:
        """Tensor ``name`` as a new array of ``dtype`` (a copy: the file can be closed after)."""
        entry = self.entries.get(name)
        if entry is None:
            raise ModelImportError(f"{self.path} has no tensor {name!r}",
                                   hint="is this the right model's weights file?")  # fmt: skip
        raw = self._data[entry.start : entry.end] if self._data is not None else np.empty(0, "u1")
        if entry.dtype == _BF16:
            halves = raw.view("<u2").astype(np.uint32) << 16
            values = halves.view(np.float32)
        else:
            values = raw.view(_DTYPES[entry.dtype])
        return values.reshape(entry.shape).astype(dtype, copy=True)

    def close(self) -> None:
        self._data = None


def _read_header(path: Path) -> tuple[dict[str, TensorEntry], dict[str, str], int]:
    """The tensors and metadata of ``path``, and where its data section starts; each entry
    checked: known dtype, byte length matching its shape, inside the file, no overlaps."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            prefix = f.read(8)
            if len(prefix) < 8:
                raise _bad(path, "it is shorter than a header")
            (header_length,) = struct.unpack("<Q", prefix)
            if header_length > min(MAX_HEADER_BYTES, size - 8):
                raise _bad(path, f"its header length {header_length} does not fit the file")
            header = json.loads(f.read(header_length).decode("utf-8"))
    except OSError as exc:
        raise ModelImportError(f"Cannot read {path}: {exc}") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise _bad(path, f"its header is not JSON ({exc})") from exc
    if not isinstance(header, dict):
        raise _bad(path, "its header is not a JSON object")
    data_start = 8 + header_length
    data_size = size - data_start
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict):
        raise _bad(path, "__metadata__ is not an object")
    entries: dict[str, TensorEntry] = {}
    for name, spec in header.items():
        entries[name] = _entry(path, name, spec, data_size)
    spans = sorted((e.start, e.end, e.name) for e in entries.values() if e.end > e.start)
    for (_, end, first), (start, _, second) in zip(spans, spans[1:], strict=False):
        if start < end:
            raise _bad(path, f"tensors {first!r} and {second!r} overlap")
    return entries, {str(k): str(v) for k, v in metadata.items()}, data_start


def _entry(path: Path, name: str, spec: object, data_size: int) -> TensorEntry:
    if not isinstance(spec, dict):
        raise _bad(path, f"the entry of {name!r} is not an object")
    dtype, shape, offsets = spec.get("dtype"), spec.get("shape"), spec.get("data_offsets")
    if dtype != _BF16 and dtype not in _DTYPES:
        raise _bad(path, f"tensor {name!r} has the unsupported dtype {dtype!r}")
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise _bad(path, f"tensor {name!r} has an invalid shape {shape!r}")
    if (not isinstance(offsets, list) or len(offsets) != 2
            or not all(isinstance(o, int) for o in offsets)):  # fmt: skip
        raise _bad(path, f"tensor {name!r} has invalid data offsets {offsets!r}")
    start, end = offsets
    itemsize = 2 if dtype == _BF16 else _DTYPES[dtype].itemsize
    expected = int(np.prod(shape, dtype=np.int64)) * itemsize
    if not 0 <= start <= end <= data_size or end - start != expected:
        raise _bad(path, f"tensor {name!r} lies outside the file or has the wrong length")
    return TensorEntry(name, dtype, tuple(shape), start, end)


def _bad(path: Path, problem: str) -> ModelImportError:
    return ModelImportError(
        f"{path} is not a valid safetensors file: {problem}",
        hint="the download or package is damaged: fetch or install it again",
    )
