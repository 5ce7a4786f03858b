"""desktop_search.extract.vips_decode: PNG and WebP decoded by libvips give what Pillow gives.

Real photos (skimage.data, upscaled with sensor-like noise) in every mode libvips takes over; the
two decoders' pixels, and the embeddings two real ONNX image towers make of them, must agree.
Refused files (truncated, 16-bit) fall back to Pillow with Pillow's reasons; libvips turned off
(DESKTOP_SEARCH_NO_VIPS) or used before a fork means Pillow; a reader process decodes with it.
"""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop_search.errors import FileNotIndexableError
from desktop_search.extract import vips_decode
from desktop_search.extract.exif import png_exif
from desktop_search.extract.images import Photo, load_photo
from desktop_search.models.runtime.clip import ClipModel
from desktop_search.models.runtime.preprocess import preprocess
from tests.bad_files import big_photo, encode, make_odd_photos

REPO = Path(__file__).resolve().parents[1]
# 1.9 MP: reduced by 5 for the default 256 target (by 2 for the detector's 640); small enough
# that the files are made in a few seconds.
SIZE = (1600, 1200)

# Mean absolute difference (0-255) allowed between the decoders' pictures, measured on these
# photos reduced by 3 to 16. PNG is the same box average, but libvips truncates each block's
# mean where Pillow rounds (0.09-0.55, nearly all of it a darker bias), and its flatten
# truncates too (with alpha: 0.29-1.01). WebP is scaled by libwebp, which resamples the chroma
# planes before converting to RGB, not after, and rounds the reduced size where reduce rounds
# up, so its grid can drift by up to a pixel (0.4-0.7; 2.3 on a 12 MP noisy photo; 4.3 reduced
# by 16, where 112.5 rows became 112; up to 67 on single pixels at colour edges).
PNG_MAD = 1.0
ALPHA_MAD = 1.5
WEBP_MAD = 5.0
# Cosine between the embeddings of the two decoders' pictures: the issue's bar.
MIN_COSINE = 0.99
CASES = (
    "rgb.png", "rgba.png", "grey.png", "grey_alpha.png", "palette.png", "palette_key.png",
    "lossy.webp", "alpha.webp", "lossless.webp",
)  # fmt: skip


def _rgba(base: Image.Image) -> Image.Image:
    rgba = base.copy()
    rgba.putalpha(Image.linear_gradient("L").resize(base.size))  # transparent to opaque
    return rgba


def _cases() -> dict[str, tuple[bytes, float]]:
    """name -> (file bytes, allowed mean abs difference): every mode libvips takes over."""
    base, other = big_photo(SIZE, seed=0), big_photo(SIZE, seed=1)
    grey_alpha = base.convert("LA")
    grey_alpha.putalpha(_rgba(base).getchannel("A"))
    keyed = other.quantize(64)
    cases = {
        "rgb.png": (encode(base, "PNG", compress_level=1), PNG_MAD),
        "rgba.png": (encode(_rgba(other), "PNG", compress_level=1), ALPHA_MAD),
        "grey.png": (encode(base.convert("L"), "PNG", compress_level=1), PNG_MAD),
        "grey_alpha.png": (encode(grey_alpha, "PNG", compress_level=1), ALPHA_MAD),
        "palette.png": (encode(base.quantize(64), "PNG", compress_level=1), PNG_MAD),
        "palette_key.png": (encode(keyed, "PNG", compress_level=1, transparency=3), PNG_MAD),
        "lossy.webp": (encode(base, "WEBP", quality=85), WEBP_MAD),
        "alpha.webp": (encode(_rgba(other), "WEBP", quality=85), WEBP_MAD),
        "lossless.webp": (encode(other, "WEBP", lossless=True, quality=0, method=0), WEBP_MAD),
    }
    assert tuple(cases) == CASES
    return cases


@pytest.fixture(scope="module")
def cases() -> dict[str, tuple[bytes, float]]:
    assert vips_decode.available(), "pyvips and pyvips-binary are dependencies"
    return _cases()


def both(data: bytes, **kwargs: int) -> tuple[Photo, Photo]:
    return load_photo(data, decoder="pillow", **kwargs), load_photo(data, **kwargs)


def facts(photo: Photo) -> tuple[object, ...]:
    return photo.width, photo.height, photo.taken_at, photo.camera, photo.gps


def mad(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference. libwebp scales a WebP to its rounded reduced size where reduce
    rounds up, a row or column less: that picture is stretched to the other's size first (it
    spans the whole photo, so cropping it would misalign every pixel by up to one)."""
    assert abs(a.width - b.width) <= 1 and abs(a.height - b.height) <= 1, (a.size, b.size)
    if b.size != a.size:
        b = b.resize(a.size, Image.Resampling.BILINEAR)
    return float(np.abs(np.asarray(a, np.float32) - np.asarray(b, np.float32)).mean())


# --- pixels ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CASES)
def test_libvips_gives_pillows_picture(cases: dict[str, tuple[bytes, float]], name: str) -> None:
    data, allowed = cases[name]
    pillow, vips = both(data)
    assert (pillow.decoded_by, vips.decoded_by) == ("pillow", "vips")
    assert vips.image.mode == "RGB"
    assert (vips.width, vips.height) == (pillow.width, pillow.height) == SIZE
    assert mad(pillow.image, vips.image) <= allowed
    # The thumbnail is made from the decoded picture: it agrees as much.
    thumbs = [Image.open(io.BytesIO(p.thumbnail)) for p in (pillow, vips)]
    assert mad(*thumbs) <= allowed + 1.0  # plus JPEG's own error


def test_a_different_photo_is_far_beyond_the_allowance(cases: dict[str, tuple[bytes, float]]):
    """The allowances are tight: another photo is ten times further away, the same one shifted
    by one reduced pixel further too (8.5)."""
    a = load_photo(cases["rgb.png"][0])
    b = load_photo(encode(big_photo(SIZE, seed=2), "PNG"))
    assert mad(a.image, b.image) > 10 * WEBP_MAD
    shifted = Image.fromarray(np.roll(np.asarray(a.image), 1, axis=1))
    assert mad(a.image, shifted) > WEBP_MAD


def test_the_detector_size_is_served_too(cases: dict[str, tuple[bytes, float]]) -> None:
    for name in ("rgb.png", "lossy.webp"):
        data, allowed = cases[name]
        pillow, vips = both(data, long_side=640)
        assert vips.decoded_by == "vips"
        assert max(vips.image.size) >= 640
        assert mad(pillow.image, vips.image) <= allowed


def test_what_stays_with_pillow() -> None:
    """JPEG (no faster through libvips: both use libjpeg-turbo's DCT scaling), HEIC (the wheel's
    libheif has no HEVC decoder), interlaced PNG (cannot stream: no faster), 16-bit grey and
    animated pictures (Pillow's own conversions and first frame)."""
    import pyvips  # a dependency: missing is a failure, not a skip
    base = big_photo((640, 480), seed=3)
    interlaced = pyvips.Image.new_from_array(np.asarray(base)).pngsave_buffer(interlace=True)
    grey16 = Image.fromarray(np.asarray(base.convert("L")).astype(np.uint16) * 257)
    frames = [base, base.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    files = {
        "JPEG": encode(base, "JPEG"),
        "HEIC": encode(base, "HEIF"),
        "interlaced PNG": interlaced,
        "16-bit grey PNG": encode(grey16, "PNG"),
        "APNG": encode(frames[0], "PNG", save_all=True, append_images=frames[1:]),
        "animated WebP": encode(frames[0], "WEBP", save_all=True, append_images=frames[1:]),
    }
    for kind, data in files.items():
        assert load_photo(data).decoded_by == "pillow", kind


def test_the_decode_budget_counts_what_libwebp_holds() -> None:
    """A lossless WebP keeps its whole picture (4 bytes a pixel) while it is scaled; a lossy
    one only its reduced rows; a PNG streams."""
    base = big_photo((800, 600), seed=5)
    needs = {}
    for kind, fmt, options in (
        ("lossless", "WEBP", {"lossless": True}),
        ("lossy", "WEBP", {}),
        ("png", "PNG", {}),
    ):
        data = encode(base, fmt, **options)
        with Image.open(io.BytesIO(data)) as im:
            needs[kind] = vips_decode.working_bytes(im, data, 0)
    assert needs["lossless"] == 800 * 600 * 4
    assert needs["lossy"] == 0
    assert 0 < needs["png"] <= 800 * 600 * 4


def test_exif_orientation_is_applied(cases: dict[str, tuple[bytes, float]]) -> None:
    upright = big_photo(SIZE, seed=0)
    for fmt, allowed in (("PNG", PNG_MAD), ("WEBP", WEBP_MAD)):
        reference = load_photo(encode(upright, fmt), decoder="pillow").image
        for orientation, transpose in (
            (6, Image.Transpose.ROTATE_90),
            (3, Image.Transpose.ROTATE_180),
            (2, Image.Transpose.FLIP_LEFT_RIGHT),
            (8, Image.Transpose.ROTATE_270),
        ):
            exif = Image.Exif()
            exif[0x0112] = orientation
            stored = upright.transpose(transpose)  # what a camera stores for that orientation
            pillow, vips = both(encode(stored, fmt, exif=exif))
            assert vips.decoded_by == "vips"
            assert (vips.width, vips.height) == SIZE  # upright
            assert mad(pillow.image, vips.image) <= allowed
            # Rotated, the partial reduce blocks lie on other edges than in the upright file's
            # decode: 1.3-7.5 away from it (Pillow's as much); a wrong orientation is 97 away.
            assert mad(reference, vips.image) <= 10.0, (orientation, fmt)


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack_from(">I", data, offset)
        chunks.append((data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]))
        offset += 12 + length
    return chunks


def png_from(chunks: list[tuple[bytes, bytes]]) -> bytes:
    out = b"\x89PNG\r\n\x1a\n"
    for kind, body in chunks:
        out += struct.pack(">I", len(body)) + kind + body
        out += struct.pack(">I", zlib.crc32(kind + body))
    return out


def test_png_exif_after_the_pixels_is_found_without_decoding() -> None:
    """An eXIf chunk after IDAT (allowed by the PNG spec) still rotates the photo, with both
    decoders; Pillow would decode the whole picture to find it (or to find there is none)."""
    upright = big_photo((900, 600), seed=4)
    exif = Image.Exif()
    exif[0x0112] = 6
    before = encode(upright.transpose(Image.Transpose.ROTATE_90), "PNG", exif=exif)
    chunks = png_chunks(before)
    exif_chunk = next(c for c in chunks if c[0] == b"eXIf")
    rest = [c for c in chunks if c[0] != b"eXIf"]
    after = png_from([*rest[:-1], exif_chunk, rest[-1]])  # just before IEND
    assert png_exif(after) == png_exif(before) == b"Exif\x00\x00" + exif_chunk[1]
    for decoder in ("pillow", "auto"):
        photo = load_photo(after, decoder=decoder)  # type: ignore[arg-type]
        assert (photo.width, photo.height) == upright.size
        assert mad(photo.image, load_photo(before, decoder=decoder).image) == 0.0  # type: ignore[arg-type]
    plain = encode(upright, "PNG")
    assert png_exif(plain) == b""  # none: no decode needed to know
    assert png_exif(plain[:-20]) is None  # truncated: left to the decoder
    text_after = png_from([*png_chunks(plain)[:-1], (b"tEXt", b"Comment\x00hi"), (b"IEND", b"")])
    assert png_exif(text_after) is None  # may hold EXIF or XMP: Pillow reads it
    assert png_exif(encode(upright, "JPEG")) is None


# --- embeddings --------------------------------------------------------------------------------


def cosines(model_dir: Path, pairs: list[tuple[Image.Image, Image.Image]]) -> list[float]:
    model = ClipModel(model_dir, threads=1)
    spec = model.image_spec
    flat = [image for pair in pairs for image in pair]
    vectors = model.encode_images(np.stack([preprocess(image, spec) for image in flat]))
    return [float(vectors[i] @ vectors[i + 1]) for i in range(0, len(flat), 2)]


def test_embeddings_agree(
    cases: dict[str, tuple[bytes, float]], tiny_clip_dir: Path, pixel_clip_dir: Path
) -> None:
    """The tiny CLIP (random transformer weights, as converted for users) and the pixel CLIP
    (an image tower that sees colours and layout, where a different photo scores well below the
    bar) embed both decoders' pictures alike."""
    pairs = [tuple(p.image for p in both(data)) for data, _ in cases.values()]
    other = load_photo(encode(big_photo(SIZE, seed=2), "PNG")).image
    contrast = [(pairs[0][0], other)]
    for model_dir in (tiny_clip_dir, pixel_clip_dir):
        scores = cosines(model_dir, pairs)
        assert min(scores) >= MIN_COSINE, dict(zip(cases, scores, strict=True))
    (different,) = cosines(pixel_clip_dir, contrast)
    assert different < MIN_COSINE - 0.05  # the pixel CLIP's bar is one a wrong decode fails


# --- refused files: Pillow decodes them, or gives its reason ------------------------------------


@pytest.mark.parametrize("name", ["rgb.png", "lossy.webp", "palette.png"])
def test_a_truncated_file_fails_with_pillows_reason(
    cases: dict[str, tuple[bytes, float]], name: str
) -> None:
    data, _ = cases[name]
    for fraction in (0.05, 0.5, 0.98):
        cut = data[: int(len(data) * fraction)]
        reasons = []
        for decoder in ("pillow", "auto"):
            with pytest.raises(FileNotIndexableError) as failure:
                load_photo(cut, decoder=decoder)  # type: ignore[arg-type]
            reasons.append(failure.value.reason)
        assert reasons[0] == reasons[1] == "truncated or corrupt image data", (fraction, reasons)


def test_what_libvips_refuses_pillow_decodes() -> None:
    """A 16-bit colour PNG: libvips gives "ushort" pixels, Pillow opens it as 8-bit RGB (the
    mode libvips is chosen by), so libvips refuses it and Pillow decodes it."""
    import pyvips  # a dependency: missing is a failure, not a skip
    rgb = np.asarray(big_photo((900, 600), seed=1))
    deep = pyvips.Image.new_from_array(rgb.astype(np.uint16) * 257, interpretation="rgb16")
    data16 = deep.pngsave_buffer()
    photo16 = load_photo(data16)
    assert photo16.decoded_by == "pillow"
    assert mad(photo16.image, load_photo(data16, decoder="pillow").image) == 0.0
    with pytest.raises(vips_decode.VipsRefused, match="ushort"):
        vips_decode.decode(data16, "PNG", 2)


def test_odd_files_give_the_same_outcomes(tmp_path: Path) -> None:
    """Every payload of the bad-file corpus: the same reason, or close pictures, either way."""
    expected = make_odd_photos(tmp_path)
    took_vips = set()
    for name in expected:
        outcomes = []
        for decoder in ("pillow", "auto"):
            try:
                outcomes.append(load_photo(tmp_path / name, decoder=decoder))  # type: ignore[arg-type]
            except FileNotIndexableError as error:
                outcomes.append(error.reason)
        pillow, auto = outcomes
        if isinstance(pillow, str) or isinstance(auto, str):
            assert pillow == auto, name
            continue
        assert facts(pillow) == facts(auto), name
        assert mad(pillow.image, auto.image) <= ALPHA_MAD, name
        if auto.decoded_by == "vips":
            took_vips.add(name)
    assert {"rgba.png", "la.png", "palette_transparent.png", "photo.webp"} <= took_vips


# --- processes ---------------------------------------------------------------------------------

_SUBPROCESS = """
import hashlib, json, sys
from desktop_search.extract import vips_decode
from desktop_search.extract.images import load_photo
photo = load_photo(open(sys.argv[1], "rb").read())
print(json.dumps({"available": vips_decode.available(), "decoded_by": photo.decoded_by,
                  "pixels": hashlib.sha256(photo.image.tobytes()).hexdigest()}))
"""


def test_libvips_turned_off_decodes_with_pillow(
    cases: dict[str, tuple[bytes, float]], tmp_path: Path
) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(cases["rgba.png"][0])
    pillow = load_photo(path, decoder="pillow")
    results = {}
    for setting in ("1", "0"):
        env = {**os.environ, vips_decode.DISABLE_ENV: setting}
        run = subprocess.run(
            [sys.executable, "-c", _SUBPROCESS, str(path)],
            capture_output=True, text=True, env=env, cwd=REPO, timeout=60, check=True,
        )  # fmt: skip
        results[setting] = json.loads(run.stdout)
    assert results["1"]["available"] is False
    assert results["1"]["decoded_by"] == "pillow"
    assert results["1"]["pixels"] == hashlib.sha256(pillow.image.tobytes()).hexdigest()
    assert (results["0"]["available"], results["0"]["decoded_by"]) == (True, "vips")


def _decode_in_child(data: bytes, answers: multiprocessing.SimpleQueue) -> None:
    answers.put(load_photo(data).decoded_by)


def test_a_child_forked_after_libvips_ran_decodes_with_pillow(
    cases: dict[str, tuple[bytes, float]],
) -> None:
    """libvips' worker threads do not survive a fork: a decode in the child would hang."""
    data = cases["rgb.png"][0]
    assert load_photo(data).decoded_by == "vips"  # libvips has run in this process
    context = multiprocessing.get_context("fork")
    answers = context.SimpleQueue()
    child = context.Process(target=_decode_in_child, args=(data, answers))
    child.start()
    child.join(timeout=60)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child hung on its decode")
    assert child.exitcode == 0
    assert answers.get() == "pillow"


def test_a_reader_process_decodes_with_libvips(
    cases: dict[str, tuple[bytes, float]], tmp_path: Path
) -> None:
    """Inside a reader (forkserver child, 3 GB address-space limit, low priority)."""
    from desktop_search.index.readers import ReaderPool

    paths = {}
    for name in ("rgb.png", "alpha.webp", "palette.png"):
        paths[name] = tmp_path / name
        paths[name].write_bytes(cases[name][0])
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(cases["rgb.png"][0][:50_000])
    pool = ReaderPool(1)
    try:
        with pool.borrow() as reader:
            for name, path in paths.items():
                reader.load(str(path))
                photo = reader.photo(min_side=224, thumb_size=256)
                assert photo.decoded_by == "vips", name
                assert mad(photo.image, load_photo(path, decoder="pillow").image) <= WEBP_MAD
            reader.load(str(truncated))
            with pytest.raises(FileNotIndexableError, match="truncated or corrupt image data"):
                reader.photo(min_side=224, thumb_size=256)
        assert pool.unavailable is None
    finally:
        pool.close()


def test_the_window_process_keeps_libvips_out(cases: dict[str, tuple[bytes, float]]) -> None:
    """``gui.app.run`` calls keep_out: previews decode with Pillow there (libvips' own GLib is
    kept away from Qt's); the state comes back after ``pillow_only``."""
    data = next(data for name, (data, _) in cases.items() if "png" in name)
    with vips_decode.pillow_only():
        assert load_photo(data, min_side=64).decoded_by == "pillow"
    assert load_photo(data, min_side=64).decoded_by == "vips"
