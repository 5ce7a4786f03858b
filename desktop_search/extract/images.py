# Over 400 lines: one job: decoding a photo within a memory budget, a reason per failure.
"""Photo decoding: bytes or path -> an RGB image at just-above-model size, a thumbnail, EXIF facts.

Decoding a 12-24 MP JPEG at full size costs more than running the image model on it, so the
decoder is asked for the smallest picture that still serves both consumers (the model input and
the thumbnail): JPEG DCT scaling via ``Image.draft`` decodes at 1/2, 1/4 or 1/8 scale for free,
other formats are decoded fully and shrunk with ``Image.reduce`` (fast box filter) before anything
else touches them. The thumbnail is made from that same decoded image; nothing is decoded twice.
8-bit PNG and WebP pictures are decoded by libvips instead when it is here (streamed, or at
reduced scale; ``desktop_search.extract.vips_decode``), after Pillow opened them: the checks and
every reason below stay Pillow's, and what libvips refuses Pillow decodes.

A small file can decode huge (a 350 KB float TIFF is 81 MP, 324 MB decoded), so nothing but the
decoder's own picture is ever made at full size: modes ``reduce`` handles (L, RGB, I, F) are
reduced before their conversion to 8-bit RGB, the others (16-bit, 1-bit, palette, alpha, CMYK)
are converted and reduced one strip of rows at a time. A picture whose decode would need more
than ``DECODE_BUDGET_BYTES`` is refused before it is decoded, and decodes running at the same
time share that budget (see ``_DecodeMemory``).

Every failure becomes ``FileNotIndexableError(reason)`` with a short reason that ``status`` can
show and group; a bad file must never take the indexer down.

EXIF parsing lives in ``desktop_search.extract.exif``; this module only applies its orientation.

Pure module: stdlib, numpy, Pillow, pillow_heif, ``desktop_search.errors``,
``desktop_search.extract.exif`` and ``desktop_search.extract.vips_decode`` only. Thread-safe
(callers decode in a thread pool; Pillow and libvips release the GIL while decoding): the only
global state touched is two `ignore` entries in the warnings filter list, see
``_QUIET_WARNINGS``, and the lock-guarded ``_DECODE_MEMORY``. Pillow's
``LOAD_TRUNCATED_IMAGES`` stays False: a truncated file (an interrupted copy, a camera card pulled
too early) is reported, not indexed as a half-grey picture.
"""

from __future__ import annotations

import errno
import io
import logging
import math
import os
import re
import struct
import threading
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageMode, UnidentifiedImageError

import desktop_search.extract.vips_decode as vips_decode
from desktop_search.errors import FileNotIndexableError
from desktop_search.extract.exif import png_exif, read_exif

log = logging.getLogger(__name__)

try:
    import pillow_heif

    # Registered once at import: the opener is process-wide state inside Pillow.
    pillow_heif.register_heif_opener()
    HEIF_AVAILABLE = True
except Exception as exc:  # ImportError, or a broken libheif build
    log.warning("HEIC/HEIF support unavailable: %s", exc)
    HEIF_AVAILABLE = False

# Warnings Pillow emits for files we handle ourselves, as (category, module regex):
# - DecompressionBombWarning, between MAX_IMAGE_PIXELS (89 MP) and twice that (179 MP, where it
#   raises instead). Panoramas in that range are legitimate photos and get indexed.
# - UserWarnings of its TIFF/EXIF parser ("Corrupt EXIF data", "Tag data larger than file") for
#   every damaged EXIF block it skips; a photo folder has thousands and the photos still index.
# They are silenced with `ignore` filters rather than warnings.catch_warnings() per call, because
# catch_warnings swaps the process-global filter list and is not thread-safe in Python 3.11
# (decoding runs in a thread pool). The filters are (re)installed on each call, not only at
# import: any catch_warnings() block around our import (pytest's collection, for one) restores
# the old list on exit and would silently drop them.
_QUIET_WARNINGS: tuple[tuple[type[Warning], str | None], ...] = (
    (Image.DecompressionBombWarning, None),
    (UserWarning, r"PIL\.TiffImagePlugin"),
)


def _install_warning_filters() -> None:
    for category, module in _QUIET_WARNINGS:
        entry = ("ignore", None, category, re.compile(module) if module else None, 0)
        if entry not in warnings.filters:
            warnings.filterwarnings("ignore", category=category, module=module or "")


_install_warning_filters()

IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {
        ".jpg",
        ".jpeg",
        ".jpe",
        ".png",
        ".webp",
        ".gif",
        ".tif",
        ".tiff",
        ".bmp",
        ".heic",
        ".heif",
        ".hif",
    }
)

# Pillow identifies files by content, not by extension, and knows many formats; some of them
# (EPS: runs Ghostscript) are not something a photo indexer should ever hand a random file to.
# (Camera JPEGs that Pillow reports as "MPO", multi-picture, come through the JPEG opener.)
_PILLOW_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "GIF", "TIFF", "BMP", "DIB")
_HEIF_FORMATS: tuple[str, ...] = ("HEIF",)

REASON_EMPTY = "empty file (0 bytes)"
REASON_NOT_IMAGE = "not an image or unsupported format"
REASON_CORRUPT = "truncated or corrupt image data"
REASON_HEIF_UNAVAILABLE = "HEIC support unavailable"
REASON_PERMISSION = "permission denied"
REASON_VANISHED = "file disappeared while reading"
REASON_IS_DIR = "is a directory"
REASON_IO = "I/O error while reading (failing disk or network share?)"
REASON_TOO_LARGE_TO_DECODE = "image too large to decode"
# Reading again later may well work: these are retried a few times before the file is parked.
TRANSIENT_REASONS = frozenset({REASON_VANISHED, REASON_IO})

# Larger files are refused unread: decoding needs every byte in memory, and no photo is this
# big, but a disk image, a video or a sparse file named .jpg can be (a 5 GB read would take the
# memory and minutes of a run, only to find out it is not a photo).
MAX_FILE_BYTES = 512 * 1024**2

# Decoded pixels one decode may need, and all decodes running at once share: Pillow's picture at
# the size the decoder gives (JPEG: after DCT scaling; PNG, TIFF...: full size, 4 bytes a pixel in
# most modes, 1 in L/P/1, 2 in I;16) plus the reduced result. Pillow's own bomb check stops at
# 179 MP; 768 MB holds its largest 4-byte picture (179 MP: 683 MB) with its reduced copy, so
# every image it lets through that reduces at all still decodes. What this refuses: the
# pictures Pillow would pass with its check lifted (``Image.MAX_IMAGE_PIXELS = None``; a
# 100,000 x 100,000 1-bit TIFF, 1.6 MB on disk, is 9.3 GB decoded) and strips too thin to reduce
# (which keep their full size: a 160,000 x 400 RGB PNG needs 793 MB). Measured peaks above the
# process's baseline (tests/test_image_limits.py): 320 MB for a 9000 x 9000 float TIFF (3.8 GB
# when its conversion came first), 158 MB for a 16-bit PNG of that size (1.3 GB).
DECODE_BUDGET_BYTES = 768 * 1024**2
# Pixels converted at a time when a mode cannot be reduced before its conversion to RGB (and per
# numpy pass over 16/32-bit grey). Measured on 9000 x 9000 CMYK, RGBA and palette images: strips
# of 0.5 MP add 0-4 MB to the decoded picture and take 0.4-0.9 s, no slower than 1-2 MP strips
# (+7-24 MB); converting the whole picture at once added 618-1004 MB and took 2.2 s.
_STRIP_PIXELS = 512 * 1024
# Bytes a pixel of the reduced image costs besides the decoder's picture: the RGB result (4)
# and, at worst, what the conversion of a 16-bit image holds next to it (the reduced image
# widened to 32 bits, 4, and its 8-bit grey, 1).
_RESULT_BYTES_PER_PIXEL = 9

_THUMB_QUALITY = 85
_WHITE = (255, 255, 255)

# EXIF orientation -> transpose that makes the pixels upright (same table as ImageOps).
_ORIENTATION_TRANSPOSE: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_BOMB_RE = re.compile(r"\((\d+) pixels\) exceeds limit of (\d+) pixels")

# Which decoder makes the pixels: "auto" is libvips for the pictures it decodes faster (PNG,
# WebP: extract/vips_decode.py) and Pillow for the rest; "pillow" is Pillow for every picture.
Decoder = Literal["auto", "pillow"]


@dataclass
class Photo:
    """One decoded photo.

    ``image`` is RGB, upright (EXIF orientation applied) and decoded at reduced scale: its short
    side is at least ``max(min_side, thumb_size)`` when the original is that large, and less than
    about twice that unless JPEG's maximum 1/8 scale stops short. ``width``/``height`` are the
    original's, upright.
    """

    image: Image.Image
    thumbnail: bytes
    width: int
    height: int
    taken_at: str | None = None
    camera: str | None = None
    gps: tuple[float, float] | None = None
    decoded_by: Literal["pillow", "vips"] = "pillow"  # which library made ``image``


def read_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """Read a whole file; OS errors become ``FileNotIndexableError`` with a readable reason.

    Files larger than ``max_bytes`` are refused without reading them (see ``MAX_FILE_BYTES``).
    """
    try:
        with open(path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            if size > max_bytes:
                raise FileNotIndexableError(_too_large_reason(size, max_bytes))
            # Its size + 1, not the limit + 1: a read allocates what it asks for, and readers
            # run under an address-space limit. The + 1 catches a file that grew meanwhile.
            data = file.read(size + 1)
        if len(data) > max_bytes:
            raise FileNotIndexableError(_too_large_reason(len(data), max_bytes))
        return data
    except MemoryError:
        raise FileNotIndexableError("file too large to read into memory") from None
    except OSError as exc:
        raise file_read_error(exc) from None


def file_read_error(exc: OSError) -> FileNotIndexableError:
    """The failure recorded for a file that cannot be read (whole, or in parts: mailboxes)."""
    reason = _os_error_reason(exc)
    return FileNotIndexableError(reason, transient=reason in TRANSIENT_REASONS)


def _too_large_reason(size: int, limit: int) -> str:
    return f"file too large ({_bytes_text(size)}, limit {_bytes_text(limit)})"


def _bytes_text(size: int) -> str:
    gib, mib = 1024**3, 1024**2
    if size >= gib:
        return f"{size / gib:.1f} GB"
    return f"{size / mib:.0f} MB" if size >= mib else f"{size} bytes"


def _os_error_reason(exc: OSError) -> str:
    code = exc.errno
    if isinstance(exc, PermissionError) or code in (errno.EACCES, errno.EPERM):
        return REASON_PERMISSION
    # ENOTDIR: a parent directory was replaced/removed while we were getting here.
    if isinstance(exc, FileNotFoundError) or code in (errno.ENOENT, errno.ENOTDIR):
        return REASON_VANISHED
    if isinstance(exc, IsADirectoryError) or code == errno.EISDIR:
        return REASON_IS_DIR
    if code == errno.ELOOP:
        return "symlink loop"
    if code in (errno.EIO, errno.ETIMEDOUT, errno.ESTALE, errno.EAGAIN):
        return REASON_IO
    detail = exc.strerror or type(exc).__name__
    return f"cannot read file: {detail}"


def load_photo(
    source: bytes | Path,
    *,
    min_side: int = 224,
    thumb_size: int = 256,
    long_side: int = 0,
    decoder: Decoder = "auto",
) -> Photo:
    """Decode a photo for indexing. Raises ``FileNotIndexableError`` for every failure.

    ``source`` is the file's bytes or its path. ``min_side`` is the short side the model needs;
    ``thumb_size`` the longest side of the JPEG thumbnail; ``long_side`` the long side the object
    detector needs (its input size), 0 when none runs. ``decoder``: see ``Decoder``; which files
    fail, and why, does not depend on it.
    """
    if min_side < 1 or thumb_size < 1:
        raise ValueError("min_side and thumb_size must be positive")
    _install_warning_filters()
    data = source if isinstance(source, bytes | bytearray | memoryview) else read_file(source)
    if len(data) == 0:
        raise FileNotIndexableError(REASON_EMPTY)
    try:
        return _decode(
            bytes(data),
            min_side=min_side,
            thumb_size=thumb_size,
            long_side=long_side,
            decoder=decoder,
        )
    except FileNotIndexableError:
        raise
    except MemoryError:
        raise FileNotIndexableError("not enough memory to decode this image") from None
    except Image.DecompressionBombError as exc:
        raise FileNotIndexableError(_bomb_reason(str(exc))) from None
    except Image.DecompressionBombWarning as exc:
        # Only when an "error" filter sits in front of our "ignore" (python -W error, tests).
        raise FileNotIndexableError(_bomb_reason(str(exc))) from None
    except UnidentifiedImageError:
        raise FileNotIndexableError(_unidentified_reason(data)) from None
    except (OSError, SyntaxError, EOFError, ValueError, struct.error) as exc:
        # Pillow's ways of saying "the bytes ended early / don't parse": OSError("image file is
        # truncated"), SyntaxError("broken PNG file"), EOFError, struct.error, ValueError.
        log.debug("decode failed: %r", exc)
        raise FileNotIndexableError(REASON_CORRUPT) from None
    except Exception as exc:
        # Plugins (pillow_heif, TIFF codecs) raise their own types. Nothing may escape as a
        # non-FileNotIndexableError, but log loudly: this may be a bug of ours, not a bad file.
        log.warning("unexpected error decoding image: %r", exc, exc_info=True)
        raise FileNotIndexableError(f"cannot decode image ({type(exc).__name__})") from None


def _decode(
    data: bytes, *, min_side: int, thumb_size: int, long_side: int, decoder: Decoder
) -> Photo:
    formats = _PILLOW_FORMATS + (_HEIF_FORMATS if HEIF_AVAILABLE else ())
    # No `with`: closing an ImageFile discards its pixels, and the decoded image (for RGB JPEGs,
    # the very object Image.open returned) is what we hand back. The fp is an in-memory buffer.
    im = Image.open(io.BytesIO(data), formats=list(formats))
    # Animated GIF/WebP, multi-page TIFF: Image.open leaves us on frame 0, the one we index.
    orig_w, orig_h = im.size
    target = max(min_side, thumb_size)
    wanted = _wanted_size(im.size, target, long_side)

    if im.format in ("JPEG", "MPO"):
        # DCT scaling: the largest of 1/8, 1/4, 1/2 that keeps both sides >= wanted.
        im.draft(None, wanted)

    # Orientation is read here, from the file, and applied at the end to the small image. Not
    # ImageOps.exif_transpose on the final image: TIFF keeps orientation in its own tags, which
    # do not survive the mode conversion; and exif_transpose copies even when there is nothing
    # to do. A PNG's EXIF is looked up in its chunks first: Pillow would decode the picture to
    # look for it (outside the decode budget, and for nothing when libvips decodes it).
    if im.format == "PNG" and "exif" not in im.info and "Raw profile type exif" not in im.info:
        found = png_exif(data)
        if found is not None:
            im.info["exif"] = found
    exif = read_exif(im)

    # Non-JPEG formats (and JPEGs too small for DCT scaling to kick in): integer box reduce.
    factor = max(1, min(im.size[0] // wanted[0], im.size[1] // wanted[1]))
    needed = _decode_bytes(im, factor)
    if needed > DECODE_BUDGET_BYTES:
        raise FileNotIndexableError(_too_large_to_decode_reason(orig_w, orig_h, needed))
    # The checks above are Pillow's whichever decoder runs: the same files fail, for the same
    # reasons, with or without libvips.
    rgb = _vips_rgb(data, im, factor) if decoder == "auto" else None
    decoded_by: Literal["pillow", "vips"] = "pillow" if rgb is None else "vips"
    if rgb is not None:
        im.close()
    else:
        with _DECODE_MEMORY.reserve(needed):
            try:
                im.load()
                rgb = _reduced_rgb(im, factor)
                if rgb is im:
                    # Detach from the ImageFile, which keeps the whole file's bytes alive
                    # through its fp.
                    rgb = rgb.copy()
            finally:
                # Frees the full-size picture now, also when an exception (whose traceback
                # holds this frame) is on its way up to be turned into a reason.
                im.close()

    method = _ORIENTATION_TRANSPOSE.get(exif.orientation)
    if method is not None:
        rgb = rgb.transpose(method)
    if exif.orientation in (5, 6, 7, 8):
        orig_w, orig_h = orig_h, orig_w

    return Photo(
        image=rgb,
        thumbnail=_thumbnail(rgb, thumb_size),
        width=orig_w,
        height=orig_h,
        taken_at=exif.taken_at,
        camera=exif.camera,
        gps=exif.gps,
        decoded_by=decoded_by,
    )


def _vips_rgb(data: bytes, im: Image.Image, factor: int) -> Image.Image | None:
    """``im`` (opened, not loaded) decoded by libvips as ``_reduced_rgb`` would give it, or None
    when libvips is not the decoder for it or refused it (then Pillow decodes it)."""
    if not vips_decode.suits(im):
        return None
    width, height = im.size
    reduced = math.ceil(width / factor) * math.ceil(height / factor)
    needed = vips_decode.working_bytes(im, data, reduced * _RESULT_BYTES_PER_PIXEL)
    with _DECODE_MEMORY.reserve(min(needed, DECODE_BUDGET_BYTES)):
        try:
            return vips_decode.decode(data, im.format or "", factor)
        except vips_decode.VipsRefused as refused:
            log.debug("libvips refused a %s (%s): decoding with Pillow", im.format, refused)
            return None


def _wanted_size(size: tuple[int, int], target: int, long_side: int) -> tuple[int, int]:
    """The smallest decoded size to aim for: both sides at least ``target`` and the longer one
    at least ``long_side`` (never more than the image has)."""
    width, height = size
    want_w, want_h = target, target
    if long_side:
        scale = long_side / max(width, height, 1)
        want_w, want_h = (
            max(want_w, math.ceil(width * scale)),
            max(want_h, math.ceil(height * scale)),
        )
    return max(1, min(want_w, width)), max(1, min(want_h, height))


def _decode_bytes(im: Image.Image, factor: int) -> int:
    """Memory the decode of ``im`` (opened, not loaded) needs: see ``DECODE_BUDGET_BYTES``."""
    width, height = im.size
    reduced = math.ceil(width / factor) * math.ceil(height / factor)
    return width * height * _bytes_per_pixel(im.mode) + reduced * _RESULT_BYTES_PER_PIXEL


def _bytes_per_pixel(mode: str) -> int:
    """What Pillow allocates per pixel: 8-bit modes of 2-4 bands take 4 bytes ("RGB" too)."""
    try:
        info = ImageMode.getmode(mode)
    except KeyError:  # a plugin's own mode: assume the worst common case
        return 8
    return 4 if len(info.bands) > 1 else np.dtype(info.typestr).itemsize


def _too_large_to_decode_reason(width: int, height: int, needed: int) -> str:
    limit = _bytes_text(DECODE_BUDGET_BYTES)
    return (
        f"{REASON_TOO_LARGE_TO_DECODE}: {width} x {height} pixels"
        f" (needs {_bytes_text(needed)}, limit {limit})"
    )


class _DecodeMemory:
    """The decoded-pixel bytes of the decodes running now, kept within ``DECODE_BUDGET_BYTES``.

    Two decode threads each holding a 500 MB picture would add up to more than one decode may
    use; a decode that does not fit next to the running ones waits for them to finish. First
    come, first served, so a large picture is not starved by a stream of small ones; one alone
    always runs (it was checked against the budget before it got here).
    """

    def __init__(self) -> None:
        self._used = 0
        self._queue: deque[int] = deque()
        self._tickets = count()
        self._changed = threading.Condition()

    @contextmanager
    def reserve(self, nbytes: int) -> Iterator[None]:
        with self._changed:
            ticket = next(self._tickets)
            self._queue.append(ticket)
            while self._queue[0] != ticket or (
                self._used and self._used + nbytes > DECODE_BUDGET_BYTES
            ):
                self._changed.wait()
            self._queue.popleft()
            self._used += nbytes
            self._changed.notify_all()  # the next in line may fit too
        try:
            yield
        finally:
            with self._changed:
                self._used -= nbytes
                self._changed.notify_all()


_DECODE_MEMORY = _DecodeMemory()


def _reduced_rgb(im: Image.Image, factor: int) -> Image.Image:
    """A loaded image as 8-bit RGB, box-reduced by ``factor``, without converting it whole.

    Converting first made full-size copies: a 9000 x 9000 float image went through five float64
    arrays of 648 MB each. Where ``reduce`` takes the mode and the conversion is per pixel
    without a key colour, the reduce comes first and the conversion works on the small result:
    for L and RGB that gives the very pixels converting first gave, for 16/32-bit grey the same
    up to one level of rounding. The other modes are converted and reduced a strip at a time,
    which gives exactly what converting them whole did.
    """
    mode = im.mode
    if mode in ("I", "F"):
        # The range that decides the scaling is the full picture's, as it was when it was
        # converted first: the reduced one lacks the extremes that averaging smooths away.
        lo, hi, all_finite = _value_range(im)
        if all_finite or factor < 2:
            return _high_depth_to_rgb(im.reduce(factor) if factor >= 2 else im, (lo, hi))
        # A NaN or infinity would spread over its whole reduce block (a speckle of black or
        # white squares): such pictures are converted first, a strip at a time.
        return _in_strips(im, factor, lambda strip: _high_depth_to_rgb(strip, (lo, hi)))
    if mode.startswith("I;16"):
        # Widening to 32-bit is exact, so reducing after it is reducing the 16-bit values.
        wide = _in_strips(im, factor, lambda strip: strip.convert("I"))
        return _high_depth_to_rgb(wide, (0, 65535))  # always scaled as 16-bit: never stretched
    keyed = "transparency" in im.info  # a colour key: only exact pixels may be made transparent
    if mode in ("L", "RGB") and not keyed:
        return _to_rgb(im.reduce(factor) if factor >= 2 else im)
    return _in_strips(im, factor, _to_rgb)


def _in_strips(
    im: Image.Image, factor: int, convert: Callable[[Image.Image], Image.Image]
) -> Image.Image:
    """``convert`` and reduce ``im`` one strip of rows at a time. The strips are whole multiples
    of ``factor`` rows high, so every reduce block lies inside one strip: the result is the one
    converting and reducing the whole image would give."""
    width, height = im.size
    out: Image.Image | None = None
    for top, strip in _strips(im, factor):
        part = convert(strip)
        if factor >= 2:
            part = part.reduce(factor)
        if out is None:
            out = Image.new(part.mode, (math.ceil(width / factor), math.ceil(height / factor)))
        out.paste(part, (0, top // factor))
    assert out is not None  # an image has at least one row
    return out


def _strips(im: Image.Image, factor: int = 1) -> Iterator[tuple[int, Image.Image]]:
    """(top row, copy of the rows) of ``im`` in strips of about ``_STRIP_PIXELS``, each a whole
    multiple of ``factor`` rows high."""
    width, height = im.size
    rows = max(1, _STRIP_PIXELS // max(1, width * factor)) * factor
    for top in range(0, height, rows):
        yield top, im.crop((0, top, width, min(height, top + rows)))


def _to_rgb(im: Image.Image) -> Image.Image:
    """An 8-bit Pillow mode -> RGB; transparency is composited on white. (16/32-bit grey is
    ``_high_depth_to_rgb``'s: Pillow's own convert clips it at 255.)"""
    mode = im.mode
    if mode == "RGB" and "transparency" not in im.info:
        return im
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        mode in ("P", "L", "RGB") and "transparency" in im.info
    ):
        rgba = im.convert("RGBA")
        background = Image.new("RGB", rgba.size, _WHITE)
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    # CMYK (Pillow undoes Adobe's inverted CMYK at decode time), L, 1, P, YCbCr, LAB, HSV.
    # No ICC colour management: CLIP does not care about the small shift, and it keeps this fast.
    try:
        return im.convert("RGB")
    except ValueError:  # e.g. LAB TIFFs: Pillow has no conversion for them
        raise FileNotIndexableError(f"unsupported color mode ({mode})") from None


def _high_depth_to_rgb(im: Image.Image, value_range: tuple[float, float]) -> Image.Image:
    """32-bit int (16-bit arrives widened to it) or float grey -> 8-bit RGB, scaled by the
    (finite) ``value_range`` of the original picture. Pillow's own convert clips at 255 (white).

    A strip at a time: numpy's copies stay strip-sized even when the image is not reduced.
    """
    lo, hi = value_range
    offset, scale = 0.0, 0.0  # no range: black
    if im.mode == "F" and lo >= 0.0 and hi <= 1.0:
        scale = 255.0  # normalised float image
    elif im.mode == "I" and lo >= 0 and hi <= 65535:
        scale = 1 / 257  # how 16-bit PNG/TIFF data arrives in mode "I"
    elif hi > lo:
        offset, scale = lo, 255.0 / (hi - lo)  # arbitrary range: stretch
    grey = Image.new("L", im.size)
    for top, strip in _strips(im):
        arr = np.asarray(strip)
        # float32 holds every F value and every 16-bit integer exactly (and takes half the
        # memory); 32-bit integers need float64, or a narrow range of large values would band.
        exact = np.float64 if arr.dtype.kind in "iu" and arr.dtype.itemsize > 2 else np.float32
        values = arr.astype(exact)
        if offset:
            values -= offset
        values *= scale
        np.nan_to_num(values, copy=False, nan=0.0, posinf=255.0, neginf=0.0)
        np.rint(values, out=values)
        np.clip(values, 0, 255, out=values)
        grey.paste(Image.fromarray(values.astype(np.uint8)), (0, top))  # 2-D uint8: mode L
    return grey.convert("RGB")


def _value_range(im: Image.Image) -> tuple[float, float, bool]:
    """(smallest, largest) finite value of an I or F image ((0, 0) when there is none), and
    whether every value is finite."""
    if im.mode == "I":  # integers: Pillow's extrema, one pass in C without a copy
        lo, hi = im.getextrema()
        return float(lo), float(hi), True
    # Pillow's extrema of F skip NaN (unless the first pixel is one) without saying so.
    lo, hi, all_finite = math.inf, -math.inf, True
    for _, strip in _strips(im):
        arr = np.asarray(strip)
        finite = np.isfinite(arr)
        if not finite.all():
            all_finite, arr = False, arr[finite]
        if arr.size:
            lo, hi = min(lo, float(arr.min())), max(hi, float(arr.max()))
    return (lo, hi, all_finite) if lo <= hi else (0.0, 0.0, all_finite)


def thumbnail_jpeg(rgb: Image.Image, thumb_size: int) -> bytes:
    """A JPEG of ``rgb`` whose longest side is at most ``thumb_size``."""
    return _thumbnail(rgb.convert("RGB"), thumb_size)


def _thumbnail(rgb: Image.Image, thumb_size: int) -> bytes:
    w, h = rgb.size
    scale = thumb_size / max(w, h)
    thumb = rgb
    if scale < 1:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        thumb = rgb.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
    out = io.BytesIO()
    thumb.save(out, format="JPEG", quality=_THUMB_QUALITY)
    return out.getvalue()


def _bomb_reason(message: str) -> str:
    match = _BOMB_RE.search(message)
    if not match:
        return "image too large: possible decompression bomb"
    pixels, limit = (int(g) for g in match.groups())
    return f"image too large ({_mp(pixels)}, limit {_mp(limit)}): possible decompression bomb"


def _mp(pixels: int) -> str:
    return f"{pixels / 1e6:.0f} MP" if pixels >= 10_000_000 else f"{pixels / 1e6:.1f} MP"


def _unidentified_reason(data: bytes) -> str:
    kind = _sniff(data)
    if kind == "HEIF" and not HEIF_AVAILABLE:
        return REASON_HEIF_UNAVAILABLE
    # A known image signature that Pillow still can't open means the header itself is broken.
    return REASON_CORRUPT if kind else REASON_NOT_IMAGE


def _sniff(data: bytes) -> str | None:
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head[:2] == b"BM":
        return "BMP"
    if head[4:8] == b"ftyp" and head[8:12] in (
        b"heic",
        b"heix",
        b"hevc",
        b"hevx",
        b"heim",
        b"heis",
        b"mif1",
        b"msf1",
    ):
        return "HEIF"
    return None
