"""EXIF facts of a photo: orientation, when it was taken, which camera, where.

Camera metadata is the least trustworthy part of a photo file: zeroed clocks, NUL-padded strings,
rationals with zero denominators, blocks that Pillow can only partly parse. Every reader here
degrades to "unknown" (``None``, or orientation 1) instead of raising, so broken EXIF never
fails the photo it came with.

Pure module: stdlib and Pillow only. Reads the EXIF Pillow already parsed from the opened file,
before the pixels are decoded, so it costs no extra I/O. PNG is the exception: its eXIf chunk may
follow the pixels, and Pillow decodes the whole picture to look for one; ``png_exif`` finds it by
walking the chunk headers instead.
"""

from __future__ import annotations

import logging
import math
import re
import struct
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from PIL import ExifTags, Image

log = logging.getLogger(__name__)

_DATE_RE = re.compile(r"^(\d{4})[:\-/](\d{2})[:\-/](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_OFFSET_RE = re.compile(r"^([+-])(\d{2}):?(\d{2})$")

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_EXIF_HEADER = b"Exif\x00\x00"
# Chunks after the pixels that Pillow's getexif reads once it has decoded them: text chunks may
# hold EXIF ("Raw profile type exif") or XMP with an orientation.
_PNG_TEXT_CHUNKS = frozenset({b"tEXt", b"zTXt", b"iTXt"})


@dataclass(frozen=True)
class ExifFacts:
    """What the EXIF block says; the defaults are what a photo without (usable) EXIF gets.

    ``orientation`` is the EXIF value 1-8 (1: already upright). ``taken_at`` is ISO 8601, with
    the UTC offset when the camera recorded one. ``gps`` is (latitude, longitude) in degrees.
    """

    orientation: int = 1
    taken_at: str | None = None
    camera: str | None = None
    gps: tuple[float, float] | None = None


def read_exif(image: Image.Image) -> ExifFacts:
    """The EXIF facts of an opened (not necessarily loaded) image; never raises."""
    try:
        exif = image.getexif()
    except Exception as exc:  # malformed EXIF blocks raise all sorts of things
        log.debug("unreadable EXIF: %r", exc)
        return ExifFacts()

    # Each fact is read on its own: one damaged tag must not hide the others.
    orientation = 1
    taken_at = camera = gps = None
    try:
        value = exif.get(ExifTags.Base.Orientation, 1)
        orientation = int(value) if int(value) in range(1, 9) else 1
    except Exception:
        orientation = 1
    try:
        exif_ifd = exif.get_ifd(ExifTags.IFD.Exif)
        taken_at = _taken_at(exif, exif_ifd)
    except Exception as exc:
        log.debug("unreadable EXIF date: %r", exc)
    try:
        camera = _camera_name(exif.get(ExifTags.Base.Make), exif.get(ExifTags.Base.Model))
    except Exception as exc:
        log.debug("unreadable EXIF camera: %r", exc)
    try:
        gps = _gps(exif.get_ifd(ExifTags.IFD.GPSInfo))
    except Exception as exc:
        log.debug("unreadable EXIF GPS: %r", exc)
    return ExifFacts(orientation=orientation, taken_at=taken_at, camera=camera, gps=gps)


def png_exif(data: bytes) -> bytes | None:
    """The EXIF of a whole PNG file as Pillow keeps it in ``info["exif"]`` (``b""``: it has
    none), found without decoding the picture: Pillow's ``getexif`` on a PNG without an eXIf
    chunk before the pixels decodes the whole picture to look for one after them (0.1-0.2 s for
    12 MP, before any memory budget is asked). ``None`` when only a decode can tell: the file
    does not walk to its IEND chunk (truncated or damaged), or text chunks follow the pixels.
    """
    if not data.startswith(_PNG_SIGNATURE):
        return None
    exif, seen_pixels, offset = b"", False, len(_PNG_SIGNATURE)
    while offset + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, offset)
        start, offset = offset + 8, offset + 12 + length  # header, data, CRC
        if offset > len(data):
            return None
        if kind == b"IEND":
            return exif
        if kind == b"IDAT":
            seen_pixels = True
        elif kind == b"eXIf":  # as Pillow reads it: the last one wins
            exif = _EXIF_HEADER + data[start : start + length]
        elif seen_pixels and kind in _PNG_TEXT_CHUNKS:
            return None
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    text = " ".join(value.replace("\x00", " ").split())
    return text or None


def _taken_at(ifd0: Any, exif_ifd: Any) -> str | None:
    # (date tag, offset tag, where) in order of preference.
    candidates = (
        (ExifTags.Base.DateTimeOriginal, ExifTags.Base.OffsetTimeOriginal, exif_ifd),
        (ExifTags.Base.DateTimeDigitized, ExifTags.Base.OffsetTimeDigitized, exif_ifd),
        (ExifTags.Base.DateTime, ExifTags.Base.OffsetTime, ifd0),
    )
    for date_tag, offset_tag, ifd in candidates:
        parsed = _parse_exif_datetime(_text(ifd.get(date_tag)), _text(exif_ifd.get(offset_tag)))
        if parsed:
            return parsed
    return None


def _parse_exif_datetime(value: str | None, offset: str | None = None) -> str | None:
    """'2021:06:15 14:30:05' (+ '+02:00') -> '2021-06-15T14:30:05+02:00'; garbage -> None."""
    if not value:
        return None
    match = _DATE_RE.match(value.strip())
    if not match:
        return None
    try:
        dt = datetime(*(int(g) for g in match.groups()))
    except ValueError:  # 0000:00:00 00:00:00, month 13, ...
        return None
    if dt.year < 1826:  # before the first photograph: a zeroed or bogus clock
        return None
    off = _OFFSET_RE.match(offset.strip()) if offset else None
    if off:
        sign = 1 if off.group(1) == "+" else -1
        delta = timedelta(hours=int(off.group(2)), minutes=int(off.group(3)))
        if delta <= timedelta(hours=14):
            dt = dt.replace(tzinfo=timezone(sign * delta))
    return dt.isoformat()


def _camera_name(make: Any, model: Any) -> str | None:
    """'Canon' + 'Canon EOS 5D' -> 'Canon EOS 5D'; 'NIKON CORPORATION' + 'NIKON D750' -> 'NIKON
    D750'; 'Apple' + 'iPhone 12' -> 'Apple iPhone 12'."""
    make_s, model_s = _text(make), _text(model)
    if not make_s or not model_s:
        return model_s or make_s
    make_words = {w.lower() for w in make_s.split()}
    if model_s.lower().startswith(make_s.lower()) or model_s.split()[0].lower() in make_words:
        return model_s
    return f"{make_s} {model_s}"


def _gps(gps_ifd: Any) -> tuple[float, float] | None:
    if not gps_ifd:
        return None
    lat = _gps_coordinate(gps_ifd.get(2), gps_ifd.get(1), "N", "S", 90.0)
    lon = _gps_coordinate(gps_ifd.get(4), gps_ifd.get(3), "E", "W", 180.0)
    if lat is None or lon is None:
        return None
    if lat == 0.0 and lon == 0.0:
        return None  # "Null Island": what cameras without a fix write
    return lat, lon


def _gps_coordinate(
    value: Any, ref: Any, positive: str, negative: str, limit: float
) -> float | None:
    if value is None:
        return None
    parts = list(value) if isinstance(value, tuple | list) else [value]
    if not 1 <= len(parts) <= 3:
        return None
    try:
        numbers = [float(p) for p in parts]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if any(not math.isfinite(n) or n < 0 for n in numbers):
        return None  # IFDRational with a zero denominator reads as nan
    degrees = sum(n / 60.0**i for i, n in enumerate(numbers))
    if degrees > limit:
        return None
    ref_s = (_text(ref) or positive).upper()[:1]
    if ref_s not in (positive, negative):
        return None
    return round(-degrees if ref_s == negative else degrees, 7)
