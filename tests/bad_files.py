"""Bad and odd inputs for the indexer, built from real photos (skimage.data).

``make_odd_photos(folder)`` writes about 30 odd image *payloads* into one folder and returns
``{filename: expected}``: a substring of the ``FileNotIndexableError`` reason, or ``None`` when
the file must index fine.

``odd_tree(folder)`` writes a whole odd *tree*: those payloads under ``photos/`` plus the names,
links and special files real disks have, and returns an ``OddTree`` (``expected`` as above, keyed
by relative path; ``ignored``: entries that must never reach the index; ``kinds``: kind -> paths).
``make_odd_tree(folder)`` returns just ``expected``. Besides the payloads:

==============  ================================================================  =======
folder          kinds                                                             outcome
==============  ================================================================  =======
formats/        16-bit RGB(A) PNG and TIFF, APNG, animated WebP, 2-page TIFF,     indexed
                HEIC named .jpg, JPEG named .png, bytes after EOI, mixed-case ext.
formats/        truncated HEIC, GIF, WebP, TIFF, BMP; PNG with a bad header CRC   failed
formats/        a JPEG without an extension                                       ignored
geometry/       30000x20; 91 MP (past Pillow's warning, under its limit)          indexed
orientation/    EXIF orientation 2-8 (5-8 swap width and height); 0, 9, 65535     indexed
not_images/     text, HTML, PDF, zeros named .jpg; SVG named .png                 failed
not_images/     a sparse 5 GB file named .jpg: refused unread                     failed
names/          spaces, newline, tab, % _ \\, quotes, globs, emoji, CJK, RTL,     indexed
                reserved Windows names, NFC and NFD twins, non-UTF-8 bytes
long/, nested/  255-byte names (ASCII, 2-byte); a path > 1000 chars; 60 levels    indexed
links/          relative, absolute, chained links to a file; a hard link          indexed
links/          dangling link; link to itself; two links pointing at each other   failed
links/          links to a folder, to an ancestor, named .jpg, to a FIFO          ignored
special/        FIFO named .jpg, folder named .jpg, empty folder                  ignored
special/        unreadable file, folder, list-only folder (root reads them)       depends
skipped/        hidden entries, system folders, other extensions (.json too)     ignored
documents/      photo bytes named .txt (text files are documents)                 failed
times/          mtime before 1970, at 0, in the year 2400                         indexed
==============  ================================================================  =======

``heavy_photos()`` lists files a few hundred KB on disk and hundreds of MB decoded (81 MP floats,
16-bit, CMYK, alpha, palette; a 10,000 MP 1-bit TIFF), with what decoding each must give.

``make_many_files(folder)`` writes 10,000 distinct tiny PNGs. ``MUTATIONS`` holds helpers that
make a file vanish or change while it is being read, for the indexer's own tests.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import struct
import unicodedata
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data as skdata

log = logging.getLogger(__name__)

# The EXIF written into rotated_exif.jpg, and what load_photo must read back from it.
EXIF_DATE = "2021:06:15 14:30:05"
EXIF_OFFSET = "-03:00"
EXPECTED_TAKEN_AT = "2021-06-15T14:30:05-03:00"
EXIF_MAKE, EXIF_MODEL = "Canon", "Canon EOS 5D"
EXPECTED_CAMERA = "Canon EOS 5D"
# Rio de Janeiro, 22°57'6.0"S 43°12'38.4"W: both negative refs.
GPS_LAT_DMS, GPS_LAT_REF = (22, 57, 6.0), "S"
GPS_LON_DMS, GPS_LON_REF = (43, 12, 38.4), "W"
EXPECTED_GPS = (-(22 + 57 / 60 + 6.0 / 3600), -(43 + 12 / 60 + 38.4 / 3600))

BIG_SIZE = (4000, 3000)  # 12 MP
BOMB_SIZE = (20000, 20000)  # 400 MP, above Pillow's hard limit of 2 * 89.5 MP

REASON_TRUNCATED = "truncated or corrupt image data"
REASON_NOT_IMAGE = "not an image or unsupported format"


def photo(name: str) -> np.ndarray:
    """An skimage.data photo as uint8 RGB (H, W, 3)."""
    arr = getattr(skdata, name)()
    if arr.ndim == 2:
        arr = np.stack([arr] * 3, axis=-1)
    return np.ascontiguousarray(arr[..., :3].astype(np.uint8))


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def rocket_upright() -> np.ndarray:
    """The reference for rotated_exif.jpg: what a viewer shows (640 wide x 427 tall)."""
    return photo("rocket")


def big_photo(size: tuple[int, int] = BIG_SIZE, seed: int = 0) -> Image.Image:
    """A 12 MP photo: a real photo upscaled, plus sensor-like noise so that the JPEG carries
    about as much entropy as a camera's (an upscaled image compresses, and decodes, unrealistically
    fast)."""
    names = ("astronaut", "coffee", "chelsea", "rocket")
    base = Image.fromarray(photo(names[seed % len(names)])).resize(size, Image.Resampling.BICUBIC)
    rng = np.random.default_rng(seed)
    arr = np.asarray(base).astype(np.int16)
    arr += rng.normal(0, 6, size=arr.shape).astype(np.int16)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def _exif_for_rotated() -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x010F] = EXIF_MAKE
    exif[0x0110] = EXIF_MODEL
    exif[0x0132] = "2022:01:01 00:00:00"  # DateTime (file changed): must lose to the original
    exif_ifd = exif.get_ifd(0x8769)
    exif_ifd[0x9003] = EXIF_DATE  # DateTimeOriginal
    exif_ifd[0x9011] = EXIF_OFFSET  # OffsetTimeOriginal
    exif_ifd[0x9004] = "2021:06:16 09:00:00"  # DateTimeDigitized: must lose to the original
    gps = exif.get_ifd(0x8825)
    gps[1] = GPS_LAT_REF
    gps[2] = GPS_LAT_DMS
    gps[3] = GPS_LON_REF
    gps[4] = GPS_LON_DMS
    return exif


def _exif_garbage() -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = 1
    exif[0x010F] = "   "
    exif[0x0110] = "SM-G991B\x00\x00"
    exif_ifd = exif.get_ifd(0x8769)
    exif_ifd[0x9003] = "0000:00:00 00:00:00"  # what cameras with a dead clock battery write
    exif_ifd[0x9004] = "    :  :     :  :  "
    exif[0x0132] = "2019:13:45 99:00:00"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (200.0, 0.0, 0.0)  # latitude 200°
    gps[3] = "X"
    gps[4] = (10.0, 0.0, 0.0)
    return exif


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    body = kind + payload
    return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))


def _png(ihdr: bytes, idat: bytes) -> bytes:
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def _bomb_png(size: tuple[int, int]) -> bytes:
    """A valid 1-bit PNG of huge dimensions whose pixel data deflates to a few tens of KB."""
    w, h = size
    row = b"\x00" * (1 + (w + 7) // 8)  # filter byte + packed bits
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(h)) + comp.flush()
    return _png(struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0), idat)


def make_odd_photos(folder: Path) -> dict[str, str | None]:
    """Write the corpus into ``folder``; return {filename: reason substring or None}."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    astronaut = Image.fromarray(photo("astronaut"))  # 512 x 512
    coffee = Image.fromarray(photo("coffee"))  # 600 x 400
    chelsea = Image.fromarray(photo("chelsea"))  # 451 x 300
    files: dict[str, bytes] = {}
    expected: dict[str, str | None] = {}

    def add(name: str, payload: bytes, outcome: str | None) -> None:
        files[name] = payload
        expected[name] = outcome

    jpeg = encode(coffee, "JPEG", quality=90)
    png = encode(chelsea, "PNG")

    # --- must fail, with a reason -------------------------------------------------------------
    add("truncated.jpg", jpeg[: len(jpeg) * 6 // 10], REASON_TRUNCATED)
    add("truncated.png", png[: len(png) // 2], REASON_TRUNCATED)
    add("truncated_header.png", png[:20], REASON_TRUNCATED)  # signature, then IHDR cut off
    add("random_bytes.jpg", np.random.default_rng(1).bytes(40_000), REASON_NOT_IMAGE)
    # A real JPEG header (tables intact), then noise where the entropy-coded data should be.
    add(
        "garbage_body.jpg",
        jpeg[:1000] + np.random.default_rng(2).bytes(40_000),
        REASON_TRUNCATED,
    )
    add("empty.jpg", b"", "empty file (0 bytes)")
    add("bomb.png", _bomb_png(BOMB_SIZE), "possible decompression bomb")
    add("notes.png", b"Shopping list:\n- milk\n- eggs\n" * 20, REASON_NOT_IMAGE)
    # PostScript sniffs as EPS, which Pillow would hand to Ghostscript: must be refused.
    add(
        "postscript.jpg",
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\nshowpage\n",
        REASON_NOT_IMAGE,
    )
    # An HEIF box header and nothing usable after it.
    add(
        "broken.heic",
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64,
        REASON_TRUNCATED,
    )

    # --- odd but fine --------------------------------------------------------------------------
    add("cmyk.jpg", encode(coffee.convert("CMYK"), "JPEG", quality=92), None)
    grey16 = (np.asarray(astronaut.convert("L")).astype(np.uint16) * 257).astype(np.uint16)
    add("grey16.png", encode(Image.fromarray(grey16), "PNG"), None)
    add("palette_transparent.png", encode(_palette_with_transparency(chelsea), "PNG"), None)
    add("rgba.png", encode(_half_transparent(coffee, "RGBA"), "PNG"), None)
    add("la.png", encode(_half_transparent(coffee.convert("L"), "LA"), "PNG"), None)
    add("animated.gif", _animated_gif(chelsea, coffee), None)
    add("bilevel.tif", encode(astronaut.convert("1"), "TIFF"), None)
    add("photo.bmp", encode(chelsea, "BMP"), None)
    add("photo.webp", encode(coffee, "WEBP", quality=85), None)
    add("grey.jpg", encode(astronaut.convert("L"), "JPEG", quality=90), None)
    add("progressive.jpg", encode(coffee, "JPEG", quality=90, progressive=True), None)
    add(
        "float.tif", encode(Image.fromarray(np.asarray(chelsea.convert("L")) / 255.0), "TIFF"), None
    )
    add("tiny.png", encode(Image.new("RGB", (1, 1), (200, 10, 10)), "PNG"), None)
    add("ycbcr.tif", encode(chelsea.convert("YCbCr"), "TIFF"), None)
    add(
        "rotated_exif.jpg",
        encode(
            Image.fromarray(np.rot90(rocket_upright(), k=1).copy()),  # stored lying on its side
            "JPEG",
            quality=92,
            exif=_exif_for_rotated(),
        ),
        None,
    )
    add("garbage_exif.jpg", encode(chelsea, "JPEG", quality=90, exif=_exif_garbage()), None)
    add("big_12mp.jpg", encode(big_photo(), "JPEG", quality=90), None)
    add("png_inside.jpg", png, None)  # wrong extension: Pillow goes by content
    add("UPPER.JPG", jpeg, None)
    heic = _heic(coffee)
    if heic is not None:
        add("photo.heic", heic, None)

    for name, payload in files.items():
        (folder / name).write_bytes(payload)
    return expected


def _palette_with_transparency(image: Image.Image) -> Image.Image:
    """P-mode image whose index 0 is transparent; the top quarter uses index 0."""
    pal = image.quantize(colors=64)
    arr = np.asarray(pal).copy()
    arr[arr == 0] = 1  # index 0 reserved for the transparent area only
    arr[: arr.shape[0] // 4] = 0
    out = Image.fromarray(arr, mode="P")
    out.putpalette(pal.getpalette())
    out.info["transparency"] = 0
    return out


def _half_transparent(image: Image.Image, mode: str) -> Image.Image:
    """Left half fully transparent (and black underneath), right half opaque."""
    out = image.convert(mode)
    arr = np.asarray(out).copy()
    half = arr.shape[1] // 2
    arr[:, :half, :-1] = 0  # colour under the transparent area: black, must not show
    arr[:, :half, -1] = 0
    arr[:, half:, -1] = 255
    return Image.fromarray(arr, mode=mode)


def _animated_gif(first: Image.Image, second: Image.Image) -> bytes:
    frames = [first, second.resize(first.size)]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=200, loop=0)
    return out.getvalue()


def _heic(image: Image.Image) -> bytes | None:
    try:
        import pillow_heif

        heif = pillow_heif.from_pillow(image)
        out = io.BytesIO()
        heif.save(out, quality=80)
        return out.getvalue()
    except Exception as exc:  # no encoder in this libheif build
        log.warning("cannot write HEIC, skipping that corpus entry: %s", exc)
        return None


# ================================================================================================
# A whole odd tree: the payloads above, plus the names, links and special files real disks have.
# ================================================================================================

REASON_BROKEN_LINK = "broken symbolic link"
REASON_PERMISSION = "permission denied"
# scan.py's words when an entry cannot even be stat()ed, followed by the OS's own words.
REASON_CANNOT_STAT = "cannot read file information"
# scan.py stats every entry before anything reads it, so a loop gets the words above plus
# "(Too many levels of symbolic links)" (images.read_file would say "symlink loop"); only the
# stable, platform-independent part is expected.
REASON_LINK_LOOP = REASON_CANNOT_STAT
REASON_TOO_LARGE = "file too large"

SPARSE_SIZE = 5 * 1024**3  # apparent size; takes no disk space
WIDE_SIZE = (30000, 20)
LARGE_LEGAL_SIZE = (13000, 7000)  # 91 MP: above Pillow's warning (89 MP), below its error (179 MP)
ORIENTED_SIZE = (96, 64)  # width x height as stored in the orientation_N.jpg files
DEEP_PATH_CHARS = 1000


@dataclass
class OddTree:
    """What ``odd_tree`` wrote. Paths are relative to ``root``, as ``str`` (a name that is not
    UTF-8 appears as ``os.fsdecode`` spells it, which is also what ``os.scandir`` yields)."""

    root: Path
    # path -> substring of the failure reason, or None: must end indexed
    expected: dict[str, str | None] = field(default_factory=dict)
    # must never reach the index (neither indexed nor failed)
    ignored: set[str] = field(default_factory=set)
    # kind of oddity -> the paths that show it
    kinds: dict[str, list[str]] = field(default_factory=dict)

    def path(self, rel: str) -> Path:
        return self.root / rel

    def write(self, kind: str | None, rel: str, payload: bytes, outcome: str | None = None) -> Path:
        path = self.path(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(payload)
        self.expect(kind, rel, outcome)
        return path

    def link(self, kind: str, rel: str, target: str | Path, outcome: str | None = None) -> None:
        self.path(rel).parent.mkdir(parents=True, exist_ok=True)
        self.path(rel).symlink_to(target)
        self.expect(kind, rel, outcome)

    def expect(self, kind: str | None, rel: str, outcome: str | None) -> None:
        """``kind`` None: a plain file, there only for an odd entry to point at or sit beside."""
        self.expected[rel] = outcome
        if kind is not None:
            self.kinds.setdefault(kind, []).append(rel)

    def ignore(self, kind: str, rel: str) -> None:
        self.ignored.add(rel)
        self.kinds.setdefault(kind, []).append(rel)


def make_odd_tree(folder: Path) -> dict[str, str | None]:
    """Write the odd tree into ``folder``; return {relative path: reason substring or None}.
    ``odd_tree`` returns the same plus the ignored entries and the kinds."""
    return odd_tree(folder).expected


def odd_tree(folder: Path) -> OddTree:
    """Write every kind of odd input below ``folder`` (the table in the module docstring).

    Kinds the platform cannot create (FIFOs on Windows, non-UTF-8 names on macOS) are left out.
    Outcomes that depend on privileges are set for the current user: root reads files and
    folders whose permissions say no.
    """
    tree = OddTree(Path(folder))
    tree.root.mkdir(parents=True, exist_ok=True)
    for name, outcome in make_odd_photos(tree.path("photos")).items():
        tree.expect(f"payload: {name}", f"photos/{name}", outcome)
    for add in (
        _add_formats, _add_geometry, _add_orientations, _add_not_images, _add_names,
        _add_long_paths, _add_links, _add_special_files, _add_skipped, _add_timestamps,
    ):  # fmt: skip
        add(tree)
    return tree


@functools.cache
def _chelsea() -> np.ndarray:
    return photo("chelsea")


def small_jpeg(seed: int = 0) -> bytes:
    """A 64x48 JPEG, different for every seed below 50,000: the indexer may deduplicate
    identical bytes, and these entries are about their names and places, not their content."""
    x, y = seed % 380, (seed // 380) % 250
    return encode(Image.fromarray(_chelsea()[y : y + 48, x : x + 64]), "JPEG", quality=85)


# --- payloads: formats and encodings -----------------------------------------------------------


def _add_formats(tree: OddTree) -> None:
    coffee = Image.fromarray(photo("coffee"))
    heic = _heic(coffee)
    if heic is not None:
        tree.write(
            "truncated HEIC", "formats/truncated.heic", heic[: len(heic) // 2], REASON_TRUNCATED
        )
        tree.write("HEIC named .jpg", "formats/heic_inside.jpg", heic)
        tree.write("mixed-case extension", "formats/Phone.HeIc", heic)
    rgb16 = np.asarray(coffee).astype(np.uint16) * 257
    rgba16 = np.dstack([rgb16, np.full(rgb16.shape[:2], 40000, np.uint16)])
    tree.write("16-bit RGB PNG", "formats/rgb16.png", _raw_png(rgb16))
    tree.write("16-bit RGBA PNG", "formats/rgba16.png", _raw_png(rgba16))
    tree.write("16-bit RGB TIFF", "formats/rgb16.tif", _tiff16(rgb16))
    tree.write("16-bit RGBA TIFF", "formats/rgba16.tiff", _tiff16(rgba16))
    flipped = coffee.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    tree.write("animated PNG (APNG)", "formats/animated.png", _frames(coffee, flipped, "PNG"))
    tree.write("animated WebP", "formats/animated.webp", _frames(coffee, flipped, "WEBP"))
    tree.write("multi-page TIFF", "formats/pages.tif", _frames(coffee, flipped, "TIFF"))
    jpeg = encode(coffee, "JPEG", quality=90)
    tree.write(
        "JPEG with bytes after its end marker", "formats/trailing.jpg", jpeg + b"\0EXTRA" * 500
    )
    tree.write("JPEG named .png", "formats/jpeg_inside.png", jpeg)
    tree.write("mixed-case extension", "formats/Mixed.JpEg", small_jpeg(1))
    tree.write("mixed-case extension", "formats/Shout.PNG", encode(coffee, "PNG"))
    tree.write("mixed-case extension", "formats/Odd.TiFf", encode(coffee, "TIFF"))
    tree.path("formats/jpeg_no_extension").write_bytes(jpeg)
    tree.ignore("image without an extension", "formats/jpeg_no_extension")
    png = bytearray(encode(coffee, "PNG"))
    png[29] ^= 0xFF  # the IHDR chunk's CRC
    tree.write(
        "PNG with a bad header checksum", "formats/bad_crc.png", bytes(png), REASON_TRUNCATED
    )
    for fmt, ext in (("GIF", "gif"), ("WEBP", "webp"), ("TIFF", "tif"), ("BMP", "bmp")):
        data = encode(coffee, fmt)
        tree.write(
            f"truncated {fmt}", f"formats/truncated.{ext}", data[: len(data) // 2], REASON_TRUNCATED
        )


def _raw_png(arr: np.ndarray) -> bytes:
    """(H, W, 3) RGB or (H, W, 4) RGBA, 8 or 16 bits per channel, as an unfiltered PNG.
    Pillow can read 16-bit colour PNGs but not write them."""
    h, w, channels = arr.shape
    itemsize = arr.dtype.itemsize
    rows = arr.astype(f">u{itemsize}").reshape(h, w * channels)
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)  # filter byte 0 per row
    color_type = {3: 2, 4: 6}[channels]
    return _png(
        struct.pack(">IIBBBBB", w, h, 8 * itemsize, color_type, 0, 0, 0), zlib.compress(raw)
    )


def _tiff16(arr: np.ndarray) -> bytes:
    import tifffile  # a scikit-image dependency; Pillow cannot write 16-bit colour TIFFs

    out = io.BytesIO()
    extra = ["unassalpha"] if arr.shape[2] == 4 else None
    tifffile.imwrite(out, arr, photometric="rgb", extrasamples=extra)
    return out.getvalue()


def _frames(first: Image.Image, second: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    first.save(out, format=fmt, save_all=True, append_images=[second])
    return out.getvalue()


# --- payloads: dimensions ----------------------------------------------------------------------


def _add_geometry(tree: OddTree) -> None:
    rng = np.random.default_rng(3)
    wide = rng.integers(0, 256, (WIDE_SIZE[1], WIDE_SIZE[0], 3), dtype=np.uint8)
    tree.write(
        "very wide, thin image (30000x20)",
        "geometry/wide.png",
        encode(Image.fromarray(wide), "PNG"),
    )
    # Legal, but over Pillow's warning threshold (photos/bomb.png is over the hard limit).
    tree.write(
        "91 MP image (over the warning, under the limit)",
        "geometry/large_91mp.png",
        _bomb_png(LARGE_LEGAL_SIZE),
    )


def _add_orientations(tree: OddTree) -> None:
    w, h = ORIENTED_SIZE
    stored = Image.fromarray(_chelsea()[:h, :w])
    for value in range(2, 9):
        tree.write(
            "EXIF orientation 2-8", f"orientation/orientation_{value}.jpg", _oriented(stored, value)
        )
    for value in (0, 9, 65535):
        tree.write(
            "EXIF orientation out of range",
            f"orientation/orientation_{value}.jpg",
            _oriented(stored, value),
        )


def _oriented(image: Image.Image, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(image, "JPEG", quality=90, exif=exif)


# --- payloads: not images at all ---------------------------------------------------------------


def _add_not_images(tree: OddTree) -> None:
    text = b"date,shop,total\n2024-03-01,Hardware store,12.50\n" * 50
    tree.write("text file named .jpg", "not_images/receipt.jpg", text, REASON_NOT_IMAGE)
    html = b"<!DOCTYPE html>\n<html><head><title>Photo</title></head>\n"
    html += b"<body><img src='p.jpg'></body></html>\n"
    tree.write("HTML page saved as .jpg", "not_images/saved_page.jpg", html, REASON_NOT_IMAGE)
    tree.write("zero-filled file", "not_images/zeros.jpg", b"\0" * 65536, REASON_NOT_IMAGE)
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    tree.write("PDF named .jpg", "not_images/document.jpg", pdf, REASON_NOT_IMAGE)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><rect width="9"/></svg>'
    tree.write("SVG named .png", "not_images/icon.png", svg, REASON_NOT_IMAGE)
    _write_sparse(tree.path("not_images/sparse_5gb.jpg"), encode(Image.new("RGB", (8, 8)), "JPEG"))
    tree.expect("sparse 5 GB file named .jpg", "not_images/sparse_5gb.jpg", REASON_TOO_LARGE)


def _write_sparse(path: Path, head: bytes, size: int = SPARSE_SIZE) -> None:
    """A real JPEG header, then a hole up to ``size``: huge to stat and read, free on disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as file:
        file.write(head)
        file.truncate(size)


# --- names -------------------------------------------------------------------------------------

ODD_NAMES: dict[str, tuple[str, ...]] = {
    "spaces in names": ("with space.jpg", " leading space.jpg", "trailing space .jpg"),
    "newline and tab in names": ("new\nline.jpg", "tab\there.jpg"),
    "SQL LIKE specials and backslash": (
        "100% sure.jpg",
        "under_score.jpg",
        "%_%.jpg",
        "back\\slash.jpg",
    ),
    "quotes and shell specials": ('it\'s "quoted".jpg', "$(echo no); `x` & y.jpg"),
    "glob specials": ("[brackets] *star* ?.jpg", "{a,b}.jpg"),
    "leading dash": ("-rf.jpg",),
    "emoji, CJK and right-to-left text": ("🐶 dog.jpg", "写真.jpg", "שלום.jpg"),
    "Windows-reserved names and characters": ("CON.jpg", "aux.jpg", "a:b|c<d>.jpg"),
}


def _add_names(tree: OddTree) -> None:
    seed = 100
    for kind, names in ODD_NAMES.items():
        for name in names:
            seed += 1
            tree.write(kind, f"names/{name}", small_jpeg(seed))
    tree.write("folder name with LIKE specials", "names/50%_off/inside.jpg", small_jpeg(150))
    # macOS folds these into one name; Linux keeps two different files that look the same.
    for form in ("NFC", "NFD"):
        tree.path(f"names/{unicodedata.normalize(form, 'café.jpg')}").write_bytes(small_jpeg(151))
    for name in os.listdir(tree.path("names")):
        if unicodedata.normalize("NFC", name) == "café.jpg":
            tree.expect("NFC and NFD spellings of one name", f"names/{name}", None)
    _add_non_utf8_name(tree)


def _add_non_utf8_name(tree: OddTree) -> None:
    """Latin-1 "café.jpg", as an old camera or a Windows zip leaves it: not valid UTF-8."""
    name = b"caf\xe9.jpg"
    try:
        with open(os.path.join(os.fsencode(tree.path("names")), name), "wb") as file:
            file.write(small_jpeg(152))
    except (OSError, UnicodeError) as exc:  # macOS and Windows refuse such names
        log.warning("cannot create a non-UTF-8 file name here: %s", exc)
        return
    # Indexed like any other: the store keeps its exact bytes (store/pathnames.py).
    tree.expect("name that is not UTF-8", "names/" + os.fsdecode(name), None)


def _add_long_paths(tree: OddTree) -> None:
    tree.write("255-byte file name", "long/" + "L" * 251 + ".jpg", small_jpeg(160))
    two_byte = "é" * 125 + "x.jpg"  # 255 bytes in UTF-8, 130 characters
    tree.write("255-byte name in 2-byte characters", f"long/{two_byte}", small_jpeg(161))
    levels = [f"level{i:02d}_" + "x" * 92 for i in range(DEEP_PATH_CHARS // 100 + 1)]
    tree.write(
        "path longer than 1000 characters", "/".join(["long", *levels, "deep.jpg"]), small_jpeg(162)
    )
    tree.write(
        "60 nested folders", "/".join(["nested", *"abcdefghij" * 6, "bottom.jpg"]), small_jpeg(163)
    )


# --- links -------------------------------------------------------------------------------------


def _add_links(tree: OddTree) -> None:
    tree.write(None, "links/target.jpg", small_jpeg(200))
    tree.link("relative symlink to a file", "links/relative.jpg", "target.jpg")
    tree.link("absolute symlink to a file", "links/absolute.jpg", tree.path("links/target.jpg"))
    tree.link("chain of three symlinks", "links/chain3.jpg", "relative.jpg")
    # Dangling links and loops are skipped quietly (counted in status), not failures.
    for kind, rel, target in (
        ("dangling symlink", "links/dangling.jpg", "missing.jpg"),
        ("symlink to itself", "links/self_loop.jpg", "self_loop.jpg"),
        ("two symlinks pointing at each other", "links/loop_a.jpg", "loop_b.jpg"),
        ("two symlinks pointing at each other", "links/loop_b.jpg", "loop_a.jpg"),
    ):
        tree.path(rel).symlink_to(target)
        tree.ignore(kind, rel)
    # A link to a file outside the indexed folder (a secret, a system file) is not indexed.
    outside = tree.root.parent / f"{tree.root.name}-outside" / "secret.jpg"
    outside.parent.mkdir(parents=True, exist_ok=True)
    outside.write_bytes(small_jpeg(202))
    tree.path("links/outside.jpg").symlink_to(outside)
    tree.ignore("symlink to a file outside the indexed folder", "links/outside.jpg")
    os.link(tree.path("links/target.jpg"), tree.path("links/hardlink.jpg"))
    tree.expect("hard link", "links/hardlink.jpg", None)
    # Folder links are not followed: what they lead to is indexed once, under its real path.
    tree.write(None, "links/real_folder/inside.jpg", small_jpeg(201))
    tree.path("links/folder_link").symlink_to("real_folder", target_is_directory=True)
    tree.ignore("symlink to a folder", "links/folder_link/inside.jpg")
    tree.path("links/folder_link.jpg").symlink_to("real_folder", target_is_directory=True)
    tree.ignore("symlink named .jpg to a folder", "links/folder_link.jpg")
    tree.path("links/up").symlink_to("..", target_is_directory=True)
    tree.ignore("symlink to an ancestor folder", "links/up/links/target.jpg")


# --- special files and permissions ---------------------------------------------------------------


def _add_special_files(tree: OddTree) -> None:
    special = tree.path("special")
    special.mkdir(parents=True, exist_ok=True)
    if hasattr(os, "mkfifo"):
        # Opening a FIFO for reading blocks until a writer comes: it must never be opened.
        os.mkfifo(special / "pipe.jpg")
        tree.ignore("FIFO named .jpg", "special/pipe.jpg")
        tree.path("links").mkdir(exist_ok=True)
        tree.path("links/to_pipe.jpg").symlink_to(special / "pipe.jpg")
        tree.ignore("symlink to a FIFO", "links/to_pipe.jpg")
    tree.write(None, "special/folder.jpg/inside.jpg", small_jpeg(300))
    tree.ignore("folder named .jpg", "special/folder.jpg")
    (special / "empty").mkdir()
    tree.ignore("empty folder", "special/empty")
    add_permission_cases(tree)


def is_privileged() -> bool:
    """Root reads whatever permissions say (CAP_DAC_OVERRIDE)."""
    return os.name == "posix" and os.geteuid() == 0


def add_permission_cases(tree: OddTree, privileged: bool | None = None) -> None:
    """Files and folders whose permissions say no. Expected outcomes are those of a process
    that is ``privileged`` (default: this one) or not: root reads them all."""
    privileged = is_privileged() if privileged is None else privileged
    denied = tree.write("file without read permission", "special/unreadable.jpg", small_jpeg(301))
    denied.chmod(0)
    if not privileged:
        tree.expected["special/unreadable.jpg"] = REASON_PERMISSION
    locked = tree.write("folder without permissions", "special/locked/inside.jpg", small_jpeg(302))
    locked.parent.chmod(0)
    if not privileged:  # cannot even be listed: nothing below it is known to exist
        del tree.expected["special/locked/inside.jpg"]
        tree.ignored.add("special/locked/inside.jpg")
    rel = "special/list_only/inside.jpg"
    listed = tree.write("folder that can be listed, not entered", rel, small_jpeg(303))
    listed.parent.chmod(0o444)  # names readable, but no stat() and no open() below it
    if not privileged:
        tree.expected[rel] = REASON_CANNOT_STAT


def _add_skipped(tree: OddTree) -> None:
    hidden = (".hidden/photo.jpg", ".hidden_file.jpg", "._photo.jpg", "..double_dot.jpg")
    system = ("node_modules/icon.jpg", "@eaDir/photo.jpg", "$RECYCLE.BIN/photo.jpg")
    system += ("lost+found/photo.jpg", "__pycache__/photo.jpg")
    extensions = ("photo.jpg~", "raw.CR2", "photo.jpg.part", "photo.jpg.json", "data.json")
    groups = {"hidden entries": hidden, "system folders": system, "other extensions": extensions}
    seed = 400
    for kind, names in groups.items():
        for name in names:
            seed += 1
            path = tree.path(f"skipped/{name}")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(small_jpeg(seed))  # a fine photo: only its place says "skip"
            tree.ignore(kind, f"skipped/{name}")
    # Text files are documents now: JPEG bytes under a .txt name are a text file that isn't one.
    for seed, name in enumerate(("notes.txt", "photo.jpg.txt"), 420):
        tree.write("photo bytes named as a text file", f"documents/{name}", small_jpeg(seed),
                   "not a text file (binary content)")  # fmt: skip


def _add_timestamps(tree: OddTree) -> None:
    """Modification times that overflow naive date code, or compare oddly as "unchanged"."""
    stamps = {"before_1970.jpg": -(10**18), "epoch.jpg": 0, "year_2400.jpg": 13_569_465_600 * 10**9}
    for seed, (name, mtime_ns) in enumerate(stamps.items(), 500):
        path = tree.write("odd modification time", f"times/{name}", small_jpeg(seed))
        try:
            os.utime(path, ns=(mtime_ns, mtime_ns))
        except (OSError, OverflowError) as exc:  # the file system cannot store it: still a file
            log.warning("cannot set mtime %d on %s: %s", mtime_ns, name, exc)


# ================================================================================================
# Heavy files: small on disk, huge once decoded
# ================================================================================================
# For tests/test_image_limits.py. Each is 60 KB-1.6 MB on disk and hundreds of MB decoded: left
# half one colour, right half another (so a mirrored or misplaced result shows), written directly
# as PNG or TIFF. Writing goes through no full-size buffer: the deflate data of a run of
# identical rows is made once and repeated, so the 100000 x 100000 TIFF takes 20 ms (the PNGs'
# checksum pass over their raw rows, up to 0.7 s).

HEAVY_SIDE = 9000  # 81 MP: just under Pillow's decompression-bomb warning (89 MP)
HEAVY_BILEVEL_SIDE = 13000  # 169 MP: 1-bit, between Pillow's warning and its error (179 MP)
HUGE_BILEVEL_SIDE = 100_000  # 10,000 MP: 10 GB at Pillow's one byte per 1-bit pixel

RGB = tuple[int, int, int]
_ROWS_PER_BLOCK = 256  # PNG rows compressed once and repeated


@dataclass(frozen=True)
class HeavyImage:
    """One heavy file: how to write it, and what decoding it must give."""

    name: str
    size: tuple[int, int]
    write: Callable[[tuple[int, int]], bytes]  # size -> file bytes (any size, for a warm-up)
    left: RGB | None = None  # the decoded colour of each half; None: must fail
    right: RGB | None = None
    reason: str | None = None  # substring of the failure reason


def heavy_photos() -> list[HeavyImage]:
    """The heavy files: one per mode that once needed full-size copies to become RGB."""
    side = (HEAVY_SIDE, HEAVY_SIDE)
    u16, f32, i32, u8 = np.dtype("<u2"), np.dtype("<f4"), np.dtype("<i4"), np.dtype(np.uint8)
    dark, light = (64, 64, 64), (191, 191, 191)  # 0.25 and 0.75 of full scale, rounded
    white, black = (255, 255, 255), (0, 0, 0)
    # Mode F, values in [0, 1]: scaled by 255.
    float32 = _halves_tiff(f32, 0.25, 0.75, bits=(32,), sample_format=3)
    # Mode I;16: divided by 257 (16384 / 257 = 63.75).
    grey16_png = _halves_png(u16, 16384, 49152, color_type=0)
    grey16_tif = _halves_tiff(u16, 16384, 49152, bits=(16,))
    # Mode I outside 0-65535: stretched from its own range to 0-255.
    int32 = _halves_tiff(i32, -5000, 5000, bits=(32,), sample_format=2)
    # 16 bits per channel: Pillow decodes it to 8-bit RGB.
    rgb16 = _halves_png(u16, (65535, 0, 0), (0, 0, 65535), color_type=2)
    grey8 = _halves_png(u8, 30, 220, color_type=0)
    cmyk = _halves_tiff(u8, (255, 0, 0, 0), (0, 0, 255, 0), bits=(8,) * 4, photometric=5)
    # Transparent (black underneath) | opaque: the transparent half must come out white.
    la = _halves_png(u8, (0, 0), (50, 255), color_type=4)
    rgba = _halves_png(u8, (0, 0, 0, 0), (0, 128, 255, 255), color_type=6)
    palette = _halves_png(u8, 0, 1, color_type=3, palette=[black, (200, 0, 0)], alpha=[0])
    bilevel = (HEAVY_BILEVEL_SIDE, HEAVY_BILEVEL_SIDE)
    huge = (HUGE_BILEVEL_SIDE, HUGE_BILEVEL_SIDE)
    return [
        HeavyImage("float32.tif", side, float32, dark, light),
        HeavyImage("grey16.png", side, grey16_png, dark, light),
        HeavyImage("grey16.tif", side, grey16_tif, dark, light),
        HeavyImage("int32.tif", side, int32, black, white),
        HeavyImage("rgb16.png", side, rgb16, (255, 0, 0), (0, 0, 255)),
        HeavyImage("grey8.png", side, grey8, (30, 30, 30), (220, 220, 220)),
        HeavyImage("cmyk.tif", side, cmyk, (0, 255, 255), (255, 255, 0)),  # cyan | yellow ink
        HeavyImage("la.png", side, la, white, (50, 50, 50)),
        HeavyImage("rgba.png", side, rgba, white, (0, 128, 255)),
        HeavyImage("palette.png", side, palette, white, (200, 0, 0)),
        HeavyImage("bilevel.tif", bilevel, _bilevel_tiff, black, white),
        HeavyImage("bilevel_huge.tif", huge, _bilevel_tiff, reason="too large"),
    ]


def _halves(dtype: np.dtype, left: object, right: object, width: int) -> np.ndarray:
    """One row, (width, channels): ``left`` on the left half, ``right`` on the right."""
    row = np.empty((width, len(np.atleast_1d(left))), dtype=dtype)
    row[: width // 2], row[width // 2 :] = left, right
    return row


def _deflate_repeated(head: bytes, block: bytes, count: int) -> bytes:
    """A zlib stream of ``head + block * count``, without compressing ``count`` blocks: after a
    full flush deflate refers to nothing before it, so one compressed block can be repeated."""
    comp = zlib.compressobj(9)
    out = [comp.compress(head) + comp.flush(zlib.Z_FULL_FLUSH)]
    adler = zlib.adler32(head)
    if count:
        packed = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
        out.append(packed * count)
        for _ in range(count):
            adler = zlib.adler32(block, adler)
    # An empty final block (fixed Huffman, end-of-block only), then the checksum.
    return b"".join(out) + b"\x03\x00" + struct.pack(">I", adler)


def _halves_png(
    dtype: np.dtype, left: object, right: object, *, color_type: int,
    palette: list[RGB] | None = None, alpha: list[int] | None = None,
) -> Callable[[tuple[int, int]], bytes]:  # fmt: skip
    def write(size: tuple[int, int]) -> bytes:
        w, h = size
        row = _halves(dtype, left, right, w).astype(dtype.newbyteorder(">"))  # PNG: big-endian
        # The first row as it is (filter 0), every other row "same as above" (filter 2: zeros).
        first = b"\x00" + row.tobytes()
        same = b"\x02" + bytes(len(first) - 1)
        repeats, odd = divmod(h - 1, _ROWS_PER_BLOCK)
        idat = _deflate_repeated(first + same * odd, same * _ROWS_PER_BLOCK, repeats)
        depth = dtype.itemsize * 8
        chunks = [_png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 0))]
        if palette is not None:
            chunks.append(_png_chunk(b"PLTE", bytes(np.asarray(palette, np.uint8).ravel())))
        if alpha is not None:
            chunks.append(_png_chunk(b"tRNS", bytes(alpha)))
        chunks += [_png_chunk(b"IDAT", idat), _png_chunk(b"IEND", b"")]
        return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)

    return write


def _halves_tiff(
    dtype: np.dtype, left: object, right: object, *, bits: tuple[int, ...],
    sample_format: int = 1, photometric: int = 1,
) -> Callable[[tuple[int, int]], bytes]:  # fmt: skip
    def write(size: tuple[int, int]) -> bytes:
        row = _halves(dtype, left, right, size[0]).tobytes()
        return _tiff(size, row, bits=bits, sample_format=sample_format, photometric=photometric)

    return write


def _bilevel_tiff(size: tuple[int, int]) -> bytes:
    """1-bit, black (0, "min is black") on the left, white on the right."""
    row = np.packbits(_halves(np.dtype(np.uint8), 0, 1, size[0])[:, 0]).tobytes()
    return _tiff(size, row, bits=(1,))


def _tiff(
    size: tuple[int, int], row: bytes, *, bits: tuple[int, ...], sample_format: int = 1,
    photometric: int = 1, rows_per_strip: int = 64,
) -> bytes:  # fmt: skip
    """A little-endian, deflate-compressed TIFF whose every row is ``row``. All full strips hold
    the same bytes, compressed once."""
    w, h = size
    full, rest = divmod(h, rows_per_strip)
    strips = [zlib.compress(row * rows_per_strip, 9)] * full
    if rest:
        strips.append(zlib.compress(row * rest, 9))
    samples = len(bits)
    # (tag, type, values): type 3 SHORT, 4 LONG. Offsets are filled in below.
    tags: list[tuple[int, int, list[int]]] = [
        (256, 4, [w]), (257, 4, [h]), (258, 3, list(bits)), (259, 3, [8]),  # deflate
        (262, 3, [photometric]), (273, 4, [0] * len(strips)), (277, 3, [samples]),
        (278, 4, [rows_per_strip]), (279, 4, [len(s) for s in strips]), (284, 3, [1]),
        (339, 3, [sample_format] * samples),
    ]  # fmt: skip
    extra_at = 8 + 2 + 12 * len(tags) + 4  # values longer than 4 bytes go after the IFD
    lengths = [len(values) * (2 if kind == 3 else 4) for _, kind, values in tags]
    at = extra_at + sum(n for n in lengths if n > 4)
    offsets = []
    for strip in strips:
        offsets.append(at)
        at += len(strip)
    tags[5] = (273, 4, offsets)
    entries, extra = [], b""
    for tag, kind, values in tags:
        packed = struct.pack(f"<{len(values)}{'H' if kind == 3 else 'I'}", *values)
        if len(packed) <= 4:
            entries.append(struct.pack("<HHI", tag, kind, len(values)) + packed.ljust(4, b"\0"))
        else:
            entries.append(struct.pack("<HHII", tag, kind, len(values), extra_at + len(extra)))
            extra += packed
    ifd = struct.pack("<H", len(tags)) + b"".join(entries) + struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + extra + b"".join(strips)


# ================================================================================================
# Many files
# ================================================================================================


def make_many_files(folder: Path, n: int = 10_000) -> list[str]:
    """``n`` distinct 16x16 PNGs in one folder; returns their names.

    The same crop of a photo with the file's number in its first pixel: every file has its own
    bytes (identical copies may be deduplicated by content hash), and writing 10,000 takes about
    a second (PNG encoded here directly, not through Pillow).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    base = _chelsea()[:16, :16]
    names = []
    for i in range(n):
        pixels = base.copy()
        pixels[0, 0] = (i & 0xFF, (i >> 8) & 0xFF, (i >> 16) & 0xFF)
        name = f"img{i:05d}.png"
        (folder / name).write_bytes(_raw_png(pixels))
        names.append(name)
    return names


# ================================================================================================
# Files that vanish or change while being read
# ================================================================================================
# For the indexer's own tests: each function takes a path and returns a callable that does the
# damage, to be called from a hook between the scan and the read of that file (or between two
# reads). What the indexer must then do (retry, skip, park) is its tests' business.


def vanish(path: Path) -> Callable[[], None]:
    """The file is deleted (the user tidies up mid-run)."""
    return lambda: Path(path).unlink(missing_ok=True)


def rewrite_in_place(path: Path, payload: bytes | None = None) -> Callable[[], None]:
    """Other bytes in the same inode (an editor saving over it): size, mtime and hash change."""
    new = payload if payload is not None else small_jpeg(999)
    return lambda: Path(path).write_bytes(new)


def replace_atomically(path: Path, payload: bytes | None = None) -> Callable[[], None]:
    """A new file renamed over the old one (how sync tools and careful editors save)."""
    new = payload if payload is not None else small_jpeg(998)

    def replace() -> None:
        temporary = Path(path).with_name(f".{Path(path).name}.swap")
        temporary.write_bytes(new)
        os.replace(temporary, path)

    return replace


def truncate_in_place(path: Path, keep: float = 0.5) -> Callable[[], None]:
    """Cut short where it is (a copy being restarted): reads as a truncated image."""

    def truncate() -> None:
        with open(path, "r+b") as file:
            file.truncate(int(os.fstat(file.fileno()).st_size * keep))

    return truncate


def grow(path: Path, extra: bytes = b"\0" * 4096) -> Callable[[], None]:
    """More bytes appended (a download still being written)."""

    def append() -> None:
        with open(path, "ab") as file:
            file.write(extra)

    return append


def turn_into_folder(path: Path) -> Callable[[], None]:
    """The file is replaced by a folder of the same name."""

    def swap() -> None:
        Path(path).unlink(missing_ok=True)
        Path(path).mkdir()

    return swap


def on_first_read(
    target: Path,
    action: Callable[[], None],
    read: Callable[[Path], bytes],
    *,
    before: bool = False,
) -> Callable[[Path], bytes]:
    """A read hook (such as the indexer's ``read=``) that runs ``action`` once, the first time
    ``target`` is read: ``before`` the read (the file is gone or different when opened) or after
    it (the bytes read are stale by the time they are used)."""
    pending = [action]

    def hooked(path: Path) -> bytes:
        fire = Path(path) == Path(target) and pending
        if fire and before:
            pending.pop()()
        data = read(path)
        if fire and pending:
            pending.pop()()
        return data

    return hooked


MUTATIONS: dict[str, Callable[[Path], Callable[[], None]]] = {
    "vanish": vanish,
    "rewrite in place": rewrite_in_place,
    "replace atomically": replace_atomically,
    "truncate in place": truncate_in_place,
    "grow": grow,
    "turn into a folder": turn_into_folder,
}
