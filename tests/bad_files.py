"""A corpus of bad and odd image files, built from real photos (skimage.data).

``make_odd_photos(folder)`` writes the files and returns ``{filename: expected}``, where
``expected`` is a substring of the ``FileNotIndexableError`` reason, or ``None`` when the file
must index fine. Other test modules (indexer, status) can reuse it: every entry is something a
real photo folder contains sooner or later.
"""

from __future__ import annotations

import io
import logging
import struct
import zlib
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


def _bomb_png(size: tuple[int, int]) -> bytes:
    """A valid 1-bit PNG of huge dimensions whose pixel data deflates to a few tens of KB."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    w, h = size
    row = b"\x00" * (1 + (w + 7) // 8)  # filter byte + packed bits
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(h)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


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
