"""PNG and WebP decoding through libvips, for ``extract.images`` where it beats Pillow.

Neither format has JPEG's DCT scaling, so Pillow decodes the whole picture and then reduces it.
libvips streams a PNG (``access="sequential"``: rows flow through the box shrink, no full-size
picture is ever held) and decodes a WebP at the reduced scale (libwebp's own scaling). Measured
with ``benchmarks/decode_formats.py`` (``load_photo``, one thread; benchmarks/README.md): on the
85-file photo set PNG 2.0x and WebP 1.9x faster than Pillow (12 MP noisy photos: 1.3x, 1.9x),
and a 96 MP PNG peaks at 34 MB instead of 385 MB, a 96 MP WebP at 4 MB instead of 1.5 GB. JPEG
is no faster through libvips (both use libjpeg-turbo's DCT scaling: 0.94x) and the
``pyvips-binary`` wheel cannot decode HEIC (its libheif has no HEVC decoder): those stay with
Pillow and pillow_heif.

Only what libvips gives exactly as Pillow's path would is sent here: 8-bit L, LA, RGB, RGBA and
palette pictures, not animated. The pixels match Pillow's (the same box average, alpha flattened
on white, ICC profiles ignored like Pillow's path does; tests/test_vips_decode.py compares them
and the CLIP embeddings of both). ``extract.images`` opens every file with Pillow first: the
format, the size limits, EXIF and every reason a file is refused stay Pillow's. Whatever libvips
refuses (``fail_on="warning"``: a truncated stream, a bad CRC, an unusual chunk, a 16-bit
picture) raises ``VipsRefused`` and is decoded by Pillow instead, which gives its own reason.

libvips is loaded on first use, not at import: processes that never decode a PNG or WebP do not
map it, and the reader forkserver (which imports this module) never runs it. A process that has
used libvips must not fork a child that uses it (its worker threads do not survive the fork; the
child hangs on its first decode), so such a child decodes with Pillow. ``DESKTOP_SEARCH_NO_VIPS=1``
in the environment turns libvips off for a process and its children: everything decodes with
Pillow as before (and is how tests run without libvips). The window's process calls
:func:`keep_out` before Qt starts, as a precaution: the ``pyvips-binary`` wheel's libvips
carries its own copy of GLib (1,797 exported ``g_*`` symbols) while Qt's event loop runs on the
system's, and the window gains little from libvips (one preview at a time). (The GUI-test
segfaults that first raised the doubt were gui/workers.py's, fixed there.) Indexing decodes in
reader processes of their own, started fresh, which use libvips.

Thread-safe: libvips is; the lazy load is under a lock.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from types import ModuleType

from PIL import Image

log = logging.getLogger(__name__)

DISABLE_ENV = "DESKTOP_SEARCH_NO_VIPS"

# Formats (as Pillow names them) libvips decodes faster than Pillow; see the module docstring.
VIPS_FORMATS: frozenset[str] = frozenset({"PNG", "WEBP"})
# Pillow modes of 8-bit pictures whose pixels libvips gives as Pillow does (a palette PNG comes
# out of libvips as RGB or RGBA, its tRNS as alpha). 16-bit PNGs open in Pillow as "RGB" too:
# libvips' own format ("ushort") sends them back to Pillow.
_MODES = frozenset({"L", "LA", "RGB", "RGBA", "P"})
_WHITE = [255.0, 255.0, 255.0]

# Bytes a PNG's streamed decode holds per column of the picture besides its result: libvips'
# line cache and the rows the shrink is working on, about a thousand rows. Measured peaks above
# the process's baseline (libvips 8.18, one thread) less the result: 2.8-3.2 KB a column for RGB
# PNGs 4,000 and 12,000 wide reduced by 2 to 31 (12,000 x 8,000 by 31: 33 MB in all; Pillow
# needs 385 MB for it); RGBA holds a third more.
_PNG_COLUMN_BYTES = 5 * 1024


class VipsRefused(Exception):
    """libvips cannot or will not decode this picture (or is not here): Pillow decodes it."""


def suits(im: Image.Image) -> bool:
    """Whether libvips should decode this picture (opened by Pillow, not loaded). Not an
    interlaced PNG: it cannot stream, and libvips decoded a 12 MP one no faster than Pillow
    (0.44 s both)."""
    return (
        im.format in VIPS_FORMATS
        and im.mode in _MODES
        and not getattr(im, "is_animated", False)
        and not im.info.get("interlace")
        and _VIPS.module() is not None
    )


def working_bytes(im: Image.Image, data: bytes, reduced_bytes: int) -> int:
    """Memory the libvips decode of ``im`` (``data``) needs besides the file's bytes, for the
    decode budget shared with Pillow's decodes: ``reduced_bytes`` (the result) plus what libvips
    holds meanwhile. A PNG streams (not interlaced: ``suits``); a lossy WebP is decoded at the
    reduced scale (a 12 MP one peaked at 2 MB), but a lossless one keeps the whole picture as
    4-byte pixels (47 MB for 12 MP), and an alpha plane is one byte a pixel."""
    width, height = im.size
    if im.format == "PNG":  # never more than the whole picture (a short one: its every row)
        return reduced_bytes + width * min(_PNG_COLUMN_BYTES, height * 4)
    return reduced_bytes + width * height * _webp_bytes_per_pixel(data)


def _webp_bytes_per_pixel(data: bytes) -> int:
    """Full-size bytes a pixel libwebp holds while decoding ``data`` at a reduced scale: 4 for
    lossless (VP8L) data, 1 for an alpha plane (ALPH), 0 for lossy pixels alone; 4 when the
    chunks do not walk (libvips will refuse it anyway)."""
    chunks, offset = set(), 12  # after "RIFF", its size, "WEBP"
    while offset + 8 <= len(data):
        kind = data[offset : offset + 4]
        size = int.from_bytes(data[offset + 4 : offset + 8], "little")
        chunks.add(kind)
        if kind in (b"VP8 ", b"VP8L"):  # the image data: what matters is known
            break
        offset += 8 + size + (size & 1)  # chunks are padded to an even size
    if b"VP8L" in chunks or b"VP8 " not in chunks:
        return 4
    return 1 if b"ALPH" in chunks else 0


def decode(data: bytes, fmt: str, factor: int) -> Image.Image:
    """``data`` (a PNG or WebP, as Pillow identified it) as 8-bit RGB reduced by ``factor`` (a
    box average; WebP: libwebp's scaling), alpha flattened on white. Raises ``VipsRefused``."""
    vips = _VIPS.use()
    if vips is None:
        raise VipsRefused("libvips is not available")
    try:
        # A source over the bytes: the *_buffer loaders would copy the whole file first.
        source = vips.Source.new_from_memory(data)
        if fmt == "PNG":
            image = vips.Image.pngload_source(source, access="sequential", fail_on="warning")
        elif fmt == "WEBP":
            scale = {"scale": 1 / factor} if factor >= 2 else {}
            image = vips.Image.webpload_source(
                source, access="sequential", fail_on="warning", **scale
            )
        else:
            raise VipsRefused(f"not a format for libvips: {fmt}")
        if image.format != "uchar" or image.bands not in (1, 2, 3, 4):
            raise VipsRefused(f"{image.format} with {image.bands} bands")
        if image.hasalpha():
            # Flattened first, then shrunk: what Pillow's path does (the mean of flattened
            # pixels, not a flattened mean of colours that were hidden under alpha 0).
            image = image.flatten(background=_WHITE[: image.bands - 1])
        if fmt == "PNG" and factor >= 2:
            # ceil: the last partial block is a pixel of its own, as in Image.reduce.
            image = image.shrink(factor, factor, ceil=True)
        if image.bands == 1:
            image = image.bandjoin([image, image])
        size = (image.width, image.height)
        pixels = image.write_to_memory()
        del image, source  # libvips' objects go before the pixels are copied into Pillow
    except vips.Error as error:
        # pyvips' message: "unable to call ..." then libvips' own lines, the last the cause.
        raise VipsRefused(str(error).strip().splitlines()[-1]) from None
    return Image.frombytes("RGB", size, pixels)


def keep_out() -> None:
    """This process decodes with Pillow from now on, without loading libvips (its children
    decide for themselves: nothing is set in the environment). For the window's process."""
    _VIPS.keep_out()


@contextlib.contextmanager
def pillow_only() -> Iterator[None]:
    """Within: this process decodes with Pillow (:func:`keep_out` undone at the end), for
    tests that build the window's parts in a process that also tests libvips."""
    global _VIPS
    saved, _VIPS = _VIPS, _Vips()
    _VIPS.keep_out()
    try:
        yield
    finally:
        _VIPS = saved


class _Vips:
    """pyvips, imported on first use; ``None`` where it cannot load or must not be used."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._module: ModuleType | None = None
        self._loaded = False  # tried (whatever came of it)
        self._used = False  # a decode ran: libvips' worker threads exist

    def module(self) -> ModuleType | None:
        if self._loaded:
            return self._module
        with self._lock:
            if not self._loaded:
                self._module = _load()
                self._loaded = True
        return self._module

    def use(self) -> ModuleType | None:
        """The module, for a decode (after which this process must not fork a user of it)."""
        module = self.module()
        if module is not None:
            self._used = True
        return module

    def keep_out(self) -> None:
        with self._lock:
            if self._used:
                log.debug("libvips already decoded in this process; Pillow from now on")
            self._module, self._loaded = None, True

    def forked(self) -> None:
        """In a child just forked: libvips' worker threads stayed behind in the parent, and a
        decode here would wait for them forever. Loading it without decoding forks fine (the
        reader forkserver imports this module, never decodes)."""
        if self._used:
            self._module, self._loaded = None, True
            log.debug("libvips was used before this process forked: decoding with Pillow")


def _load() -> ModuleType | None:
    if os.environ.get(DISABLE_ENV, "").strip() not in ("", "0"):
        log.info("libvips turned off by %s: PNG and WebP decode with Pillow", DISABLE_ENV)
        return None
    try:
        import pyvips
    except Exception as error:  # noqa: BLE001 - ImportError, or libvips itself fails to load
        log.info("libvips unavailable (%s): PNG and WebP decode with Pillow", error)
        return None
    # No operation cache: every file is decoded once, and a cached operation would hold its
    # file's bytes and pixels. One worker thread per pipeline: files are decoded in parallel by
    # the decode stage (threads, reader processes); a second thread gained nothing on one 12 MP
    # PNG or WebP (benchmarks/decode_formats.py) and costs a thread (and malloc arena) per reader.
    pyvips.cache_set_max(0)
    pyvips.cache_set_max_mem(0)
    pyvips.cache_set_max_files(0)
    pyvips.concurrency_set(1)
    # libvips' warnings about a file's bytes would reach the terminal through pyvips' logger;
    # a refused file falls back to Pillow, which gives the reason.
    logging.getLogger("pyvips").setLevel(logging.ERROR)
    return pyvips


_VIPS = _Vips()
os.register_at_fork(after_in_child=_VIPS.forked)


def available() -> bool:
    """Whether libvips decodes in this process (loads it, the first time)."""
    return _VIPS.module() is not None
