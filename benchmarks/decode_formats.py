"""Photo decoding per format: Pillow vs libvips (``load_photo``'s two decoders), one thread.

    python -m benchmarks.decode_formats [--rounds 3] [--synthetic 6] [--memory]

Times ``load_photo(data)`` (decode at just-above-model size + 256 px JPEG thumbnail, EXIF) with
``decoder="pillow"`` and with the default ``"auto"`` (libvips for 8-bit PNG and WebP) on the
same bytes, alternating A/B then B/A per file and round, so both see the same machine load; the
ratio is the number to compare. For JPEG and HEIC, which ``auto`` leaves with Pillow, the libvips
candidate is timed directly (shrink-on-load JPEG + the same thumbnail; HEIC where the wheel's
libheif can decode it) to show why.

Sets: ``benchmarks/.cache/photo-set-85`` (``benchmarks.photo_set``: screenshots, wallpapers,
phone photos, icons) when it is there, and a synthetic set: skimage.data photos upscaled to
8-16 MP with sensor-like noise, saved as PNG, WebP, JPEG and HEIC (cached).

``--memory``: peak RSS above the process's baseline per (format, decoder), each in a fresh
process, over the synthetic set plus one 96 MP PNG and WebP (a smooth 12000 x 8000 picture).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
import PIL
from PIL import Image

from benchmarks.common import CACHE
from desktop_search.extract import vips_decode
from desktop_search.extract.images import IMAGE_EXTENSIONS, load_photo, thumbnail_jpeg

PHOTO_SET = CACHE / "photo-set-85"
SYNTHETIC = CACHE / "decode-formats"
SKIMAGE = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle", "immunohistochemistry")
SIZES = ((3264, 2448), (4000, 3000), (4896, 3264))  # 8, 12, 16 MP
BIG = (12000, 8000)  # 96 MP, for --memory
MIN_SIDE, THUMB = 224, 256


def synthetic_set(count: int) -> list[Path]:
    """``count`` photos per format (PNG, WebP, JPEG, HEIC) of 8-16 MP, made once."""
    from skimage import data as skdata

    SYNTHETIC.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        name = SKIMAGE[i % len(SKIMAGE)]
        size = SIZES[i % len(SIZES)]
        wanted = {
            fmt: SYNTHETIC / f"{name}-{size[0]}x{size[1]}-{i}.{ext}"
            for fmt, ext in (("PNG", "png"), ("WEBP", "webp"), ("JPEG", "jpg"), ("HEIF", "heic"))
        }
        if all(path.exists() for path in wanted.values()):
            paths += wanted.values()
            continue
        arr = getattr(skdata, "stereo_motorcycle" if name == "motorcycle" else name)()
        if isinstance(arr, tuple):
            arr = arr[0]
        base = Image.fromarray(np.asarray(arr)[..., :3]).resize(size, Image.Resampling.BICUBIC)
        noisy = np.asarray(base).astype(np.int16)
        noisy += np.random.default_rng(i).normal(0, 4, noisy.shape).astype(np.int16)
        image = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
        for fmt, path in wanted.items():
            if not path.exists():
                options = {"quality": 90} if fmt in ("JPEG", "HEIF") else {}
                options |= {"quality": 85} if fmt == "WEBP" else {}
                image.save(path, format=fmt, **options)
            paths.append(path)
    return paths


def photo_set() -> list[Path]:
    if not (PHOTO_SET / "labels.json").exists():
        return []
    return sorted(
        p for p in PHOTO_SET.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
    )


def file_format(data: bytes) -> str:
    with Image.open(io.BytesIO(data)) as im:
        return {"MPO": "JPEG"}.get(im.format or "?", im.format or "?")


def vips_jpeg(data: bytes) -> Image.Image:
    """The libvips candidate for JPEG: shrink-on-load to the scale Pillow's draft picks (the
    largest of 1/8, 1/4, 1/2 keeping both sides >= 256), flattened to RGB, same thumbnail."""
    import pyvips

    with Image.open(io.BytesIO(data)) as im:
        width, height = im.size
    shrink = next((s for s in (8, 4, 2) if -(-width // s) >= THUMB and -(-height // s) >= THUMB), 1)
    image = pyvips.Image.jpegload_buffer(data, shrink=shrink, access="sequential")
    if image.bands == 1:
        image = image.bandjoin([image, image])
    rgb = Image.frombytes("RGB", (image.width, image.height), image.write_to_memory())
    thumbnail_jpeg(rgb, THUMB)
    return rgb


def vips_heif(data: bytes) -> Image.Image:
    """The libvips candidate for HEIC: a full decode (libheif has no reduced-scale decode),
    box-shrunk by 4. The pyvips-binary wheel's libheif has no HEVC decoder: this fails there."""
    import pyvips

    image = pyvips.Image.heifload_buffer(data, access="sequential").shrink(4, 4)
    return Image.frombytes("RGB", (image.width, image.height), image.write_to_memory())


def timed(fn: Callable[[bytes], object], data: bytes) -> float:
    start = time.perf_counter()
    fn(data)
    return time.perf_counter() - start


def compare(files: dict[str, bytes], rounds: int) -> dict[str, dict[str, list[float]]]:
    """format -> candidate -> seconds per file (the median of ``rounds``), A/B order alternating."""
    candidates: dict[str, Callable[[bytes], object]] = {
        "pillow": lambda data: load_photo(data, min_side=MIN_SIDE, thumb_size=THUMB,
                                          decoder="pillow"),
        "auto": lambda data: load_photo(data, min_side=MIN_SIDE, thumb_size=THUMB),
    }  # fmt: skip
    raw = {"JPEG": vips_jpeg, "HEIF": vips_heif}
    results: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for index, (name, data) in enumerate(sorted(files.items())):
        fmt = file_format(data)
        runs = dict(candidates)
        if fmt in raw:
            try:
                raw[fmt](data)
                runs["libvips"] = raw[fmt]
            except Exception as error:  # noqa: BLE001 - e.g. HEIC without an HEVC decoder
                results[fmt]["libvips failed"].append(0.0)
                print(f"  libvips cannot decode {name}: {str(error).splitlines()[-1]}")
        for fn in runs.values():
            fn(data)  # warm-up: imports, caches
        times: dict[str, list[float]] = defaultdict(list)
        for round_ in range(rounds):
            order = list(runs.items())
            if (round_ + index) % 2:
                order.reverse()
            for label, fn in order:
                times[label].append(timed(fn, data))
        for label, values in times.items():
            results[fmt][label].append(statistics.median(values))
        results[fmt]["megapixels"].append(_megapixels(data))
        photo = load_photo(data, min_side=MIN_SIDE, thumb_size=THUMB)
        results[fmt][f"decoded by {photo.decoded_by}"].append(1.0)
    return results


def _megapixels(data: bytes) -> float:
    with Image.open(io.BytesIO(data)) as im:
        return im.size[0] * im.size[1] / 1e6


def report(title: str, results: dict[str, dict[str, list[float]]]) -> None:
    print(f"\n{title}\n")
    print("| format | files | MP avg | Pillow s | auto s (libvips where it wins) | speed-up "
          "| libvips candidate s | decoded by libvips |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    total = {"pillow": 0.0, "auto": 0.0}
    for fmt, r in sorted(results.items()):
        pillow, auto = sum(r["pillow"]), sum(r["auto"])
        total["pillow"] += pillow
        total["auto"] += auto
        raw = f"{sum(r['libvips']):.2f}" if r.get("libvips") else "-"
        if r.get("libvips failed"):
            raw = "cannot decode"
        count = len(r["pillow"])
        print(
            f"| {fmt} | {count} | {statistics.mean(r['megapixels']):.1f} | {pillow:.2f} | "
            f"{auto:.2f} | {pillow / auto:.2f}x | {raw} | {len(r.get('decoded by vips', []))} |"
        )
    print(
        f"| all | | | {total['pillow']:.2f} | {total['auto']:.2f} | "
        f"{total['pillow'] / total['auto']:.2f}x | | |"
    )


# -- memory ----------------------------------------------------------------------------------

_MEMORY_CHILD = """
import json, resource, sys
from pathlib import Path
from desktop_search.extract.images import load_photo
decoder, paths = sys.argv[1], json.loads(sys.argv[2])
datas = [Path(p).read_bytes() for p in paths]
# Warm-up on a tiny picture of the same format (libraries loaded), then the baseline.
load_photo(Path(sys.argv[3]).read_bytes(), decoder=decoder)
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) * 1024
# VmHWM is a high-water mark: reset it to the current RSS (Linux >= 4.0).
open("/proc/self/clear_refs", "w").write("5")
base = rss()
for data in datas:
    load_photo(data, decoder=decoder, min_side=224, thumb_size=256)
print(json.dumps({"peak_above_base": rss() - base}))
"""


def memory(paths: list[Path]) -> None:
    big = [_big_file("PNG"), _big_file("WEBP")]
    groups: dict[str, list[Path]] = defaultdict(list)
    for path in paths:
        groups[file_format(path.read_bytes())].append(path)
    for path in big:
        groups[f"{file_format(path.read_bytes())} 96 MP"].append(path)
    print("\nPeak RSS above the process's baseline (MB), one fresh process per cell\n")
    print("| files | Pillow | auto |")
    print("|---|---|---|")
    for label, members in sorted(groups.items()):
        fmt = label.split()[0]
        tiny = (
            SYNTHETIC / f"tiny.{ {'PNG': 'png', 'WEBP': 'webp', 'JPEG': 'jpg'}.get(fmt, 'heic') }"
        )
        if not tiny.exists():
            Image.new("RGB", (64, 48), (90, 120, 30)).save(tiny, format=fmt)
        cells = []
        for decoder in ("pillow", "auto"):
            run = subprocess.run(
                [sys.executable, "-c", _MEMORY_CHILD, decoder,
                 json.dumps([str(p) for p in members]), str(tiny)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            cells.append(json.loads(run.stdout)["peak_above_base"] / 1e6)
        print(f"| {label} ({len(members)}) | {cells[0]:.0f} | {cells[1]:.0f} |")


def _big_file(fmt: str) -> Path:
    path = SYNTHETIC / f"big-{BIG[0]}x{BIG[1]}.{fmt.lower()}"
    if not path.exists():
        from skimage import data as skdata

        image = Image.fromarray(skdata.astronaut()).resize(BIG, Image.Resampling.BILINEAR)
        image.save(path, format=fmt, **({"quality": 85} if fmt == "WEBP" else {}))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--synthetic", type=int, default=6, help="photos per format")
    parser.add_argument("--memory", action="store_true")
    args = parser.parse_args()
    if not vips_decode.available():
        sys.exit("libvips is not available here (pip install pyvips pyvips-binary)")
    import pyvips

    synthetic = synthetic_set(args.synthetic)
    print(
        f"{platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; Pillow {PIL.__version__}, "
        f"libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}; one thread; "
        f"load_photo(min_side={MIN_SIDE}, thumb_size={THUMB}); median of {args.rounds} rounds, "
        "A/B order alternating"
    )
    real = photo_set()
    if real:
        results = compare({str(p.relative_to(PHOTO_SET)): p.read_bytes() for p in real},
                          args.rounds)  # fmt: skip
        report(f"photo-set-85 ({len(real)} files, benchmarks.photo_set)", results)
    results = compare({p.name: p.read_bytes() for p in synthetic}, args.rounds)
    report(f"synthetic: skimage photos at 8-16 MP ({len(synthetic)} files)", results)
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:.0f} MB")
    if args.memory:
        memory(synthetic)


if __name__ == "__main__":
    main()
