"""desktop_search.extract.images: decoding at reduced scale, odd and bad files, EXIF."""

from __future__ import annotations

import ast
import io
import json
import os
import sys
import tempfile
import textwrap
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, TiffImagePlugin

import desktop_search.extract.images as images_module
from desktop_search.errors import FileNotIndexableError
from desktop_search.extract.exif import _camera_name, _gps, _parse_exif_datetime
from desktop_search.extract.images import (
    IMAGE_EXTENSIONS,
    Photo,
    load_photo,
    read_file,
)
from tests.bad_files import (
    BIG_SIZE,
    EXPECTED_CAMERA,
    EXPECTED_GPS,
    EXPECTED_TAKEN_AT,
    big_photo,
    encode,
    make_odd_photos,
    photo,
    rocket_upright,
)
from tests.processes import run_dropping_privileges

REPO = Path(__file__).resolve().parents[1]

# Every reason load_photo may give for a damaged file; anything else means an exception took the
# catch-all path (a bug of ours or an unclassified Pillow error).
KNOWN_REASONS = (
    "empty file (0 bytes)",
    "not an image or unsupported format",
    "truncated or corrupt image data",
    "possible decompression bomb",
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str | None]]:
    folder = tmp_path_factory.mktemp("odd")
    return folder, make_odd_photos(folder)


def load(corpus: tuple[Path, dict[str, str | None]], name: str, **kwargs: int) -> Photo:
    folder, _ = corpus
    return load_photo(folder / name, **kwargs)


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB")).astype(np.float32)


def resized(arr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Reference: a uint8 (H, W, C) array resized to ``size`` (W, H) with a box filter."""
    return pixels(Image.fromarray(arr.astype(np.uint8)).resize(size, Image.Resampling.BOX))


def mad(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference in 0-255 units."""
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


# --- the corpus ---------------------------------------------------------------------------------


def test_corpus_outcomes(corpus: tuple[Path, dict[str, str | None]]) -> None:
    folder, expected = corpus
    assert len(expected) >= 15
    assert sorted(p.name for p in folder.iterdir()) == sorted(expected)
    mismatches = []
    for name, want in expected.items():
        try:
            result = load_photo(folder / name)
        except FileNotIndexableError as exc:
            if want is None or want not in exc.reason:
                mismatches.append(f"{name}: expected {want!r}, got error {exc.reason!r}")
            continue
        if want is not None:
            mismatches.append(f"{name}: expected error {want!r}, but it decoded")
            continue
        assert result.image.mode == "RGB", name
        assert min(result.image.size) >= min(224, result.width, result.height), name
    assert not mismatches, "\n".join(mismatches)


def test_corpus_has_the_required_cases(corpus: tuple[Path, dict[str, str | None]]) -> None:
    _, expected = corpus
    required_bad = ["truncated.jpg", "truncated.png", "random_bytes.jpg", "empty.jpg", "bomb.png"]
    required_bad += ["notes.png"]
    required_good = ["cmyk.jpg", "grey16.png", "palette_transparent.png", "rgba.png", "la.png"]
    required_good += ["animated.gif", "bilevel.tif", "photo.bmp", "photo.webp", "rotated_exif.jpg"]
    required_good += ["big_12mp.jpg", "png_inside.jpg", "UPPER.JPG"]
    for name in required_bad:
        assert expected[name] is not None, name
    for name in required_good:
        assert expected[name] is None, name
    # HEIC is optional in the corpus (skipped if this libheif can't encode); here it can.
    assert expected.get("photo.heic", "missing") is None


def test_reasons_are_specific(corpus: tuple[Path, dict[str, str | None]]) -> None:
    reasons = {}
    for name in ("empty.jpg", "bomb.png", "notes.png", "truncated.jpg", "postscript.jpg"):
        with pytest.raises(FileNotIndexableError) as info:
            load(corpus, name)
        reasons[name] = info.value.reason
    assert reasons == {
        "empty.jpg": "empty file (0 bytes)",
        "bomb.png": "image too large (400 MP, limit 179 MP): possible decompression bomb",
        "notes.png": "not an image or unsupported format",
        "truncated.jpg": "truncated or corrupt image data",
        "postscript.jpg": "not an image or unsupported format",  # never handed to Ghostscript
    }


@pytest.mark.parametrize("fraction", [0.05, 0.3, 0.7, 0.95, 0.999])
def test_truncated_jpeg_fails_at_any_cut(fraction: float) -> None:
    data = encode(Image.fromarray(photo("astronaut")), "JPEG", quality=90)
    with pytest.raises(FileNotIndexableError, match="truncated or corrupt image data"):
        load_photo(data[: int(len(data) * fraction)])


def test_damaged_files_never_raise_anything_else(
    corpus: tuple[Path, dict[str, str | None]],
) -> None:
    """Random byte flips and cuts of every good format: a Photo or a classified reason."""
    folder, expected = corpus
    good = [n for n, want in expected.items() if want is None and n != "big_12mp.jpg"]
    rng = np.random.default_rng(1234)
    outcomes: dict[str, int] = {}
    for name in good:
        data = (folder / name).read_bytes()
        for trial in range(12):
            mutated = bytearray(data)
            if trial % 3 == 0:
                mutated = mutated[: int(rng.integers(1, len(mutated)))]
            else:
                region = 2048 if trial % 3 == 1 else len(mutated)  # headers, or anywhere
                for _ in range(int(rng.integers(1, 16))):
                    mutated[int(rng.integers(0, min(region, len(mutated))))] = int(
                        rng.integers(0, 256)
                    )
            try:
                result = load_photo(bytes(mutated))
                assert result.image.mode == "RGB"
                key = "decoded"
            except FileNotIndexableError as exc:
                assert any(r in exc.reason for r in KNOWN_REASONS), (name, trial, exc.reason)
                key = exc.reason
            outcomes[key] = outcomes.get(key, 0) + 1
    assert outcomes.get("truncated or corrupt image data", 0) > 20, outcomes


# --- pixels: modes are converted correctly -----------------------------------------------------


def test_alpha_is_composited_on_white(corpus: tuple[Path, dict[str, str | None]]) -> None:
    coffee = photo("coffee")
    for name, ref in (("rgba.png", coffee), ("la.png", None)):
        img = pixels(load(corpus, name).image)
        half = img.shape[1] // 2
        # The transparent half hides black pixels: it must come out white, not black.
        assert img[:, : half - 2].min() == 255, name
        opaque = img[:, half + 2 :]
        if ref is not None:
            assert mad(opaque, ref[:, half + 2 :].astype(np.float32)) < 1.0
        else:
            grey = np.asarray(Image.fromarray(coffee).convert("L")).astype(np.float32)
            assert mad(opaque[..., 0], grey[:, half + 2 :]) < 1.0
            assert np.array_equal(opaque[..., 0], opaque[..., 2])


def test_palette_transparency_is_white(corpus: tuple[Path, dict[str, str | None]]) -> None:
    img = pixels(load(corpus, "palette_transparent.png").image)
    quarter = img.shape[0] // 4
    assert img[:quarter].min() == 255
    chelsea = photo("chelsea").astype(np.float32)
    assert mad(img[quarter:], chelsea[quarter:]) < 12  # 64-colour palette vs the original
    assert img[quarter:].mean() < 200  # the cat is there, not a white sheet


def test_16bit_png_keeps_its_tones(corpus: tuple[Path, dict[str, str | None]]) -> None:
    """Pillow's own I;16 -> RGB clips at 255; done naively this image would be almost white."""
    result = load(corpus, "grey16.png")
    grey8 = np.asarray(Image.fromarray(photo("astronaut")).convert("L"))
    ref = np.stack([grey8] * 3, axis=-1)
    assert result.image.size == (256, 256)  # 512 / reduce(2)
    assert mad(pixels(result.image), resized(ref, (256, 256))) < 1.5
    assert abs(float(pixels(result.image).mean()) - float(grey8.mean())) < 2


def test_float_tiff_is_scaled(corpus: tuple[Path, dict[str, str | None]]) -> None:
    img = pixels(load(corpus, "float.tif").image)
    grey = np.asarray(Image.fromarray(photo("chelsea")).convert("L")).astype(np.float32)
    assert mad(img[..., 1], grey) < 1.0


def test_bilevel_tiff(corpus: tuple[Path, dict[str, str | None]]) -> None:
    img = pixels(load(corpus, "bilevel.tif").image)
    assert img.shape == (256, 256, 3)
    assert 40 < img.mean() < 215  # dithered astronaut, reduced: neither all black nor all white
    assert img.min() == 0 and img.max() == 255


@pytest.mark.parametrize(
    ("name", "source", "tolerance"),
    [
        ("cmyk.jpg", "coffee", 6.0),
        ("photo.bmp", "chelsea", 0.0),
        ("photo.webp", "coffee", 6.0),
        ("png_inside.jpg", "chelsea", 0.0),
        ("UPPER.JPG", "coffee", 4.0),
        ("progressive.jpg", "coffee", 4.0),
        ("ycbcr.tif", "chelsea", 2.0),
        ("photo.heic", "coffee", 6.0),
    ],
)
def test_decoded_pixels_match_the_photo(
    corpus: tuple[Path, dict[str, str | None]], name: str, source: str, tolerance: float
) -> None:
    result = load(corpus, name)
    ref = photo(source)
    assert (result.width, result.height) == (ref.shape[1], ref.shape[0])
    assert mad(pixels(result.image), ref.astype(np.float32)) <= tolerance


def test_animated_gif_gives_first_frame(corpus: tuple[Path, dict[str, str | None]]) -> None:
    img = pixels(load(corpus, "animated.gif").image)
    chelsea = photo("chelsea").astype(np.float32)
    coffee = resized(photo("coffee"), (451, 300))
    assert mad(img, chelsea) < 12  # GIF's 256-colour palette
    assert mad(img, coffee) > 3 * mad(img, chelsea)


def test_tiny_image_is_not_upscaled(corpus: tuple[Path, dict[str, str | None]]) -> None:
    result = load(corpus, "tiny.png")
    assert result.image.size == (1, 1) and (result.width, result.height) == (1, 1)
    assert result.image.getpixel((0, 0)) == (200, 10, 10)
    assert Image.open(io.BytesIO(result.thumbnail)).size == (1, 1)


# --- reduced-scale decoding ---------------------------------------------------------------------


def test_draft_decodes_12mp_jpeg_at_one_eighth(corpus: tuple[Path, dict[str, str | None]]) -> None:
    result = load(corpus, "big_12mp.jpg")
    assert (result.width, result.height) == BIG_SIZE
    # DCT scaling at 1/8: 4000x3000 -> 500x375, i.e. 1/64 of the pixels. Short side 375 is in
    # [max(224, 256), 2 * 256): nothing smaller is possible with JPEG's 1/8 steps.
    assert result.image.size == (500, 375)
    assert 256 <= min(result.image.size) < 2 * 256


@pytest.mark.parametrize(
    ("min_side", "expected"),
    [
        (224, (500, 375)),  # 1/8
        (400, (1000, 750)),  # 3000 // 400 = 7 -> 1/4
        (1000, (2000, 1500)),  # 3 -> 1/2
        (1600, (4000, 3000)),  # 1 -> full size
        (5000, (4000, 3000)),  # the original can't satisfy it: full size, no upscaling
    ],
)
def test_draft_scale_follows_min_side(
    corpus: tuple[Path, dict[str, str | None]], min_side: int, expected: tuple[int, int]
) -> None:
    result = load(corpus, "big_12mp.jpg", min_side=min_side)
    assert result.image.size == expected
    assert min(result.image.size) >= min(min_side, 3000)


def test_draft_image_matches_full_decode(corpus: tuple[Path, dict[str, str | None]]) -> None:
    """DCT scaling is a proper downscale, not decimation: it agrees with full decode + box."""
    folder, _ = corpus
    drafted = pixels(load(corpus, "big_12mp.jpg").image)
    with Image.open(folder / "big_12mp.jpg") as full:
        reference = pixels(full.convert("RGB").reduce(8))
    assert mad(drafted, reference) < 3.0


def test_non_jpeg_is_reduced(tmp_path: Path) -> None:
    big = big_photo((2000, 1500), seed=1)
    path = tmp_path / "big.png"
    big.save(path)
    result = load_photo(path)
    assert (result.width, result.height) == (2000, 1500)
    assert result.image.size == (400, 300)  # reduce(1500 // 256 = 5)
    assert mad(pixels(result.image), pixels(big.reduce(5))) < 1.0


def test_bytes_and_path_give_the_same_photo(corpus: tuple[Path, dict[str, str | None]]) -> None:
    folder, _ = corpus
    a = load_photo(folder / "rotated_exif.jpg")
    b = load_photo((folder / "rotated_exif.jpg").read_bytes())
    assert a.image.tobytes() == b.image.tobytes()
    assert (a.width, a.height, a.taken_at, a.camera, a.gps) == (
        b.width,
        b.height,
        b.taken_at,
        b.camera,
        b.gps,
    )


def test_decoding_in_threads_is_consistent(corpus: tuple[Path, dict[str, str | None]]) -> None:
    folder, expected = corpus
    names = [n for n, want in expected.items() if want is None] * 2

    def digest(name: str) -> tuple[str, bytes, int]:
        p = load_photo(folder / name)
        return name, p.image.tobytes(), p.width

    serial = {name: digest(name) for name in names}
    with ThreadPoolExecutor(max_workers=4) as pool:
        for name, data, width in pool.map(digest, names):
            assert (name, data, width) == serial[name]


# --- EXIF ---------------------------------------------------------------------------------------


def test_exif_orientation_rotates_pixels(corpus: tuple[Path, dict[str, str | None]]) -> None:
    folder, _ = corpus
    with Image.open(folder / "rotated_exif.jpg") as stored:
        assert stored.size == (427, 640)  # stored lying on its side
    result = load(corpus, "rotated_exif.jpg")
    assert (result.width, result.height) == (640, 427)
    assert result.image.size == (640, 427)
    upright = rocket_upright().astype(np.float32)
    got = pixels(result.image)
    assert mad(got, upright) < 5.0
    # Not merely the right shape: the other orientations of the same shape are far off.
    assert mad(got, upright[::-1, ::-1]) > 4 * mad(got, upright)
    assert mad(got, upright[:, ::-1]) > 4 * mad(got, upright)


def test_exif_metadata(corpus: tuple[Path, dict[str, str | None]]) -> None:
    result = load(corpus, "rotated_exif.jpg")
    assert result.taken_at == EXPECTED_TAKEN_AT  # DateTimeOriginal + its offset beats the others
    assert result.camera == EXPECTED_CAMERA
    assert result.gps is not None
    assert result.gps == pytest.approx(EXPECTED_GPS, abs=1e-6)
    assert result.gps[0] < 0 and result.gps[1] < 0  # S and W


def test_garbage_exif_is_ignored_not_fatal(corpus: tuple[Path, dict[str, str | None]]) -> None:
    result = load(corpus, "garbage_exif.jpg")
    assert result.taken_at is None  # 0000:00:00, blanks, month 13
    assert result.camera == "SM-G991B"  # blank Make, NULs stripped
    assert result.gps is None  # latitude 200 and longitude ref "X"
    assert (result.width, result.height) == (451, 300)


def test_no_exif(corpus: tuple[Path, dict[str, str | None]]) -> None:
    result = load(corpus, "photo.bmp")
    assert (result.taken_at, result.camera, result.gps) == (None, None, None)


@pytest.mark.parametrize(
    ("make", "model", "expected"),
    [
        ("Canon", "Canon EOS 5D", "Canon EOS 5D"),
        ("NIKON CORPORATION", "NIKON D750", "NIKON D750"),
        ("Apple", "iPhone 12 Pro", "Apple iPhone 12 Pro"),
        ("samsung", "SM-G991B", "samsung SM-G991B"),
        ("  FUJIFILM\x00", "X-T3\x00", "FUJIFILM X-T3"),
        (None, "iPhone 12", "iPhone 12"),
        ("Sony", None, "Sony"),
        ("", "", None),
        (b"Canon", b"Canon EOS R5", "Canon EOS R5"),
    ],
)
def test_camera_name(make: object, model: object, expected: str | None) -> None:
    assert _camera_name(make, model) == expected


@pytest.mark.parametrize(
    ("value", "offset", "expected"),
    [
        ("2021:06:15 14:30:05", None, "2021-06-15T14:30:05"),
        ("2021:06:15 14:30:05", "+05:30", "2021-06-15T14:30:05+05:30"),
        ("2021:06:15 14:30:05\x00", "garbage", "2021-06-15T14:30:05"),
        ("2021-06-15 14:30:05", None, "2021-06-15T14:30:05"),
        ("0000:00:00 00:00:00", None, None),
        ("    :  :     :  :  ", None, None),
        ("2021:02:30 10:00:00", None, None),
        ("1601:01:01 00:00:00", None, None),
        (None, None, None),
    ],
)
def test_parse_exif_datetime(value: str | None, offset: str | None, expected: str | None) -> None:
    assert _parse_exif_datetime(value, offset) == expected


def test_gps_garbage() -> None:
    r = TiffImagePlugin.IFDRational
    good = {1: "N", 2: (r(48), r(51), r(296, 10)), 3: "E", 4: (r(2), r(17), r(402, 10))}
    assert _gps(good) == pytest.approx((48.858222, 2.2945), abs=1e-5)
    assert _gps({**good, 2: (r(48), r(51, 0), r(0))}) is None  # zero denominator -> nan
    assert _gps({**good, 4: (r(190), r(0), r(0))}) is None  # longitude > 180
    assert _gps({**good, 3: "Q"}) is None
    assert _gps({**good, 2: "north"}) is None
    assert _gps({**good, 2: (r(1), r(2), r(3), r(4))}) is None
    assert _gps({1: "N", 2: (0, 0, 0), 3: "E", 4: (0, 0, 0)}) is None  # null island
    assert _gps({2: good[2], 4: good[4]}) == pytest.approx((48.858222, 2.2945), abs=1e-5)
    assert _gps({}) is None and _gps(None) is None


# --- thumbnail ----------------------------------------------------------------------------------


def test_thumbnail_is_a_small_jpeg_of_the_same_image(
    corpus: tuple[Path, dict[str, str | None]],
) -> None:
    for name, size in (("big_12mp.jpg", (256, 192)), ("rotated_exif.jpg", (256, 171))):
        result = load(corpus, name)
        thumb = Image.open(io.BytesIO(result.thumbnail))
        assert thumb.format == "JPEG" and thumb.mode == "RGB"
        assert thumb.size == size  # upright, aspect kept, longest side exactly thumb_size
        reference = pixels(result.image.resize(size, Image.Resampling.LANCZOS))
        # JPEG q85 of a noisy photo: a few levels off, and far closer than the mirrored image.
        assert mad(pixels(thumb), reference) < 6.0
        assert mad(pixels(thumb), reference[:, ::-1]) > 3 * mad(pixels(thumb), reference)


def test_thumb_size_parameter(corpus: tuple[Path, dict[str, str | None]]) -> None:
    result = load(corpus, "big_12mp.jpg", thumb_size=100)
    assert Image.open(io.BytesIO(result.thumbnail)).size == (100, 75)
    # A bigger thumbnail than the model needs drives the decode scale up.
    result = load(corpus, "big_12mp.jpg", thumb_size=600)
    assert result.image.size == (1000, 750)
    assert Image.open(io.BytesIO(result.thumbnail)).size == (600, 450)


# --- limits and warnings ------------------------------------------------------------------------


def test_large_but_legal_image_decodes_without_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    """Between MAX_IMAGE_PIXELS and twice that Pillow only warns: index it, keep stderr quiet.
    (The limit is lowered so that a 512x512 photo stands in for a 100 MP panorama.)"""
    data = encode(Image.fromarray(photo("astronaut")), "PNG")  # 262,144 pixels
    # (After loading the photo: skimage reads it through Pillow too, and would warn.)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 200_000)
    # Not pytest's recwarn: it puts simplefilter("always") in front of every filter, which is
    # exactly the configuration in which a user asked to see all warnings.
    with warnings.catch_warnings(record=True) as caught:
        result = load_photo(data)
    assert result.width == 512
    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]

    # An "error" filter put in front of ours (after load_photo installed it): still a reason,
    # never an exception of another type.
    with warnings.catch_warnings():
        load_photo(data)
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with pytest.raises(FileNotIndexableError, match=r"\(0\.3 MP, limit 0\.2 MP\): possible"):
            load_photo(data)

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100_000)
    with pytest.raises(FileNotIndexableError, match=r"\(0\.3 MP, limit 0\.2 MP\): possible"):
        load_photo(data)


# --- reading files ------------------------------------------------------------------------------


def test_read_file_reasons(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(b"abc")
    assert read_file(tmp_path / "a.jpg") == b"abc"
    with pytest.raises(FileNotIndexableError) as info:
        read_file(tmp_path / "gone.jpg")
    assert info.value.reason == "file disappeared while reading"
    with pytest.raises(FileNotIndexableError) as info:
        read_file(tmp_path)
    assert info.value.reason == "is a directory"
    (tmp_path / "loop.jpg").symlink_to(tmp_path / "loop.jpg")
    with pytest.raises(FileNotIndexableError) as info:
        read_file(tmp_path / "loop.jpg")
    assert info.value.reason == "symlink loop"
    with pytest.raises(FileNotIndexableError) as info:
        load_photo(tmp_path / "gone.jpg")
    assert info.value.reason == "file disappeared while reading"


# Runs as root, imports everything, then drops to nobody before touching the files. The brief's
# simpler `subprocess.run(..., user="nobody")` cannot work here: the venv's interpreter lives under
# /root (mode 0700), so nobody can't even exec it. Dropping privileges after start-up avoids
# copying or chown-ing an interpreter and works wherever the tests run as root.
_AS_NOBODY = textwrap.dedent(
    """
    import json, os, pwd, sys
    from pathlib import Path
    from desktop_search.errors import FileNotIndexableError
    from desktop_search.extract.images import load_photo, read_file

    # Decode one readable file first, as root: Pillow imports its format plugins lazily, and the
    # stdlib they need lives under /root, which nobody cannot read.
    load_photo(Path(json.loads(sys.argv[1])["control"]))
    nobody = pwd.getpwnam("nobody")
    os.setgroups([])
    os.setgid(nobody.pw_gid)
    os.setuid(nobody.pw_uid)
    out = {"euid": os.geteuid()}
    for label, path in json.loads(sys.argv[1]).items():
        for fn in (read_file, load_photo):
            try:
                fn(Path(path))
                out[f"{label}/{fn.__name__}"] = None
            except FileNotIndexableError as exc:
                out[f"{label}/{fn.__name__}"] = exc.reason
    print(json.dumps(out))
    """
)


def test_permission_denied(corpus: tuple[Path, dict[str, str | None]]) -> None:
    folder, _ = corpus
    payload = (folder / "UPPER.JPG").read_bytes()
    with tempfile.TemporaryDirectory(prefix="ds-perm-") as tmp:
        base = Path(tmp)
        base.chmod(0o755)  # traversable by anyone
        unreadable = base / "private.jpg"  # the file itself is 0600
        unreadable.write_bytes(payload)
        unreadable.chmod(0o600)
        locked_dir = base / "locked"  # the file is fine, its folder can't be entered
        locked_dir.mkdir()
        (locked_dir / "inside.jpg").write_bytes(payload)
        (locked_dir / "inside.jpg").chmod(0o644)
        locked_dir.chmod(0o700)
        readable = base / "public.jpg"  # control: proves the unprivileged side works at all
        readable.write_bytes(payload)
        readable.chmod(0o644)
        targets = {"file": str(unreadable), "dir": str(locked_dir / "inside.jpg")}
        targets["control"] = str(readable)

        if os.geteuid() != 0:
            unreadable.chmod(0o000)
            got = {}
            for label, path in targets.items():
                for fn in (read_file, load_photo):
                    try:
                        fn(Path(path))
                        got[f"{label}/{fn.__name__}"] = None
                    except FileNotIndexableError as exc:
                        got[f"{label}/{fn.__name__}"] = exc.reason
        else:
            got = run_dropping_privileges(_AS_NOBODY, json.dumps(targets), cwd=REPO)
            assert got.pop("euid") != 0

    assert got == {
        "file/read_file": "permission denied",
        "file/load_photo": "permission denied",
        "dir/read_file": "permission denied",
        "dir/load_photo": "permission denied",
        "control/read_file": None,
        "control/load_photo": None,
    }


# --- module contract ----------------------------------------------------------------------------


def test_image_extensions() -> None:
    expected = [".jpg", ".jpeg", ".jpe", ".png", ".webp", ".gif", ".tif", ".tiff", ".bmp"]
    expected += [".heic", ".heif", ".hif"]
    assert sorted(IMAGE_EXTENSIONS) == sorted(expected)
    assert isinstance(IMAGE_EXTENSIONS, frozenset)


def test_module_imports_only_what_it_may() -> None:
    tree = ast.parse(Path(images_module.__file__).read_text())
    allowed = {"numpy", "PIL", "pillow_heif", "desktop_search"} | set(sys.stdlib_module_names)
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    roots = {name.split(".")[0] for name in imported}
    assert roots <= allowed, roots - allowed
    own = {n for n in imported if n.startswith("desktop_search")}
    assert own <= {
        "desktop_search.errors",
        "desktop_search.extract.exif",
        "desktop_search.extract.vips_decode",  # PNG and WebP through libvips
    }
