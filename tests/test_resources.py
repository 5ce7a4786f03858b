"""The files in resources/: icons that read on light and dark panels, a valid desktop entry and
AppStream metainfo, all installed as package data.

With DESKTOP_SEARCH_SCREENSHOTS=1 it saves docs/screenshots/icons.png: every icon at every size,
on a light and a dark background, to look at after changing an SVG.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import tomllib
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest
from PIL import Image, ImageDraw

from desktop_search.platform import resource_files
from desktop_search.platform.resource_files import (
    APP_ICON_SIZES,
    METAINFO_ID,
    TRAY_ICON_SIZES,
    TRAY_STATES,
)

REPO = Path(__file__).resolve().parents[1]
RESOURCES = REPO / "resources"
SCREENSHOTS = REPO / "docs" / "screenshots"
WHITE = (255, 255, 255)
NEAR_BLACK = (18, 18, 18)  # dark panels are rarely pure black
# WCAG 2.1 asks 3:1 of graphical objects against what is next to them (1.4.11, non-text
# contrast). A mark with a light body and a dark outline has some of each against any panel:
# this share of its painted pixels at least stands out by 3:1 on a white and on a near-black one.
LEAST_CONTRAST = 3.0
LEAST_SHARE = 0.35


def png(relative: str) -> Image.Image:
    with Image.open(RESOURCES / relative) as image:
        image.load()
        return image


def tray_png(state: str, size: int) -> Image.Image:
    return png(f"icons/tray/desktop-search-{state}-{size}.png")


def luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG relative luminance of sRGB colours (0-255, last axis RGB)."""
    c = rgb / 255.0
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return c[..., 0] * 0.2126 + c[..., 1] * 0.7152 + c[..., 2] * 0.0722


def standing_out(image: Image.Image, background: tuple[int, int, int]) -> float:
    """The share of the icon's painted pixels (alpha >= 50%) that, drawn on ``background``,
    differ from it by at least LEAST_CONTRAST:1."""
    pixels = np.asarray(image.convert("RGBA"), dtype=float)
    alpha = pixels[..., 3:4] / 255.0
    drawn = pixels[..., :3] * alpha + np.array(background, dtype=float) * (1 - alpha)
    ink, paper = luminance(drawn), luminance(np.array(background, dtype=float))
    ratio = (np.maximum(ink, paper) + 0.05) / (np.minimum(ink, paper) + 0.05)
    painted = pixels[..., 3] >= 128
    return float((ratio[painted] >= LEAST_CONTRAST).mean())


# -- the icons ------------------------------------------------------------------------------------


def test_every_icon_exists_at_its_size_on_a_transparent_square():
    icons = [(png(resource_files.app_icon_path(size)), size) for size in APP_ICON_SIZES]
    icons += [(tray_png(state, size), size) for state in TRAY_STATES for size in TRAY_ICON_SIZES]
    for image, size in icons:
        assert image.size == (size, size) and image.mode == "RGBA"
        assert image.getpixel((0, 0))[3] == 0  # no background of its own: the panel shows
        assert image.getchannel("A").getextrema()[1] == 255  # and a solid mark


@pytest.mark.parametrize("state", TRAY_STATES)
def test_each_tray_icon_reads_on_light_and_dark_panels(state):
    for size in TRAY_ICON_SIZES:
        image = tray_png(state, size)
        for background in (WHITE, NEAR_BLACK):
            share = standing_out(image, background)
            assert share >= LEAST_SHARE, f"{state} at {size} px on {background}: {share:.2f}"


def test_the_app_icon_reads_on_light_and_dark_backgrounds():
    for size in APP_ICON_SIZES:
        image = png(resource_files.app_icon_path(size))
        for background in (WHITE, NEAR_BLACK):
            assert standing_out(image, background) >= LEAST_SHARE, (size, background)


def test_the_tray_states_look_different_at_the_smallest_size():
    smallest = min(TRAY_ICON_SIZES)
    images = {state: np.asarray(tray_png(state, smallest), dtype=int) for state in TRAY_STATES}
    for a in TRAY_STATES:
        for b in TRAY_STATES:
            if a < b:  # at least a few pixels clearly apart
                differ = (np.abs(images[a] - images[b]).max(axis=2) > 96).sum()
                assert differ >= 8, (a, b, differ)


def test_the_svg_sources_are_drawings_on_their_grid():
    icons = RESOURCES / "icons"
    sources = [icons / "desktop-search.svg", icons / "desktop-search-16.svg",
               *(icons / "tray" / f"desktop-search-{s}.svg" for s in TRAY_STATES)]  # fmt: skip
    for source in sources:
        # Desktops tell an SVG by "<svg" in its first 256 bytes (shared-mime-info's magic); a
        # comment before it made rofi's and GTK's loaders refuse the installed scalable icon.
        assert 0 <= source.read_bytes().find(b"<svg") < 256, source
        root = ElementTree.parse(source).getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        width = root.get("width")
        assert root.get("viewBox") == f"0 0 {width} {width}", source
        assert not root.findall(".//{http://www.w3.org/2000/svg}text")  # no fonts needed
    assert os.access(RESOURCES / "generate-icons", os.X_OK)


def test_the_package_data_holds_every_shipped_file():
    """pyproject.toml's globs for desktop_search.resources cover every file of resources/ that
    the app reads, and importlib.resources finds them (the package is installed)."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = config["tool"]["setuptools"]
    assert setuptools["package-dir"][resource_files.PACKAGE] == "resources"
    globs = setuptools["package-data"][resource_files.PACKAGE]
    shipped = [path.relative_to(RESOURCES).as_posix() for path in RESOURCES.rglob("*")
               if path.is_file() and "__pycache__" not in path.parts]  # fmt: skip
    left_out = [name for name in shipped if not any(fnmatch.fnmatch(name, g) for g in globs)]
    assert sorted(left_out) == ["__init__.py", "generate-icons"]  # a module, and a tool
    for size in APP_ICON_SIZES:
        assert resource_files.app_icon_png(size).startswith(b"\x89PNG")
    paused = RESOURCES / "icons/tray/desktop-search-paused-22.png"
    assert resource_files.tray_icon_png("paused", 22) == paused.read_bytes()
    assert "Exec=desktop-search gui" in resource_files.desktop_file_text()
    assert METAINFO_ID.encode() in resource_files.metainfo_bytes()


# -- the desktop entry and the metainfo ----------------------------------------------------------


def test_the_desktop_entry_names_the_icon_and_the_window():
    keys = dict(line.split("=", 1) for line in resource_files.desktop_file_text().splitlines()
                if "=" in line)  # fmt: skip
    # Icon: the themed name install-desktop-entry installs; StartupWMClass: the class Qt gives
    # the window (its application name), so docks match window and entry on X11.
    assert keys["Icon"] == keys["StartupWMClass"] == resource_files.APP_ID
    metainfo = ElementTree.fromstring(resource_files.metainfo_bytes())
    assert metainfo.findtext("id") == METAINFO_ID
    assert metainfo.findtext("launchable") == resource_files.DESKTOP_FILE
    for image in metainfo.iter("image"):  # the screenshots are the ones in docs/
        name = image.text.rsplit("/docs/screenshots/", 1)[1]
        assert (SCREENSHOTS / name).is_file(), name


def validator(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        pytest.skip(f"{tool} is not installed (Debian: desktop-file-utils, appstream)")
    return found


def test_desktop_file_validate_accepts_the_entry():
    entry = RESOURCES / resource_files.DESKTOP_FILE
    done = subprocess.run([validator("desktop-file-validate"), str(entry)],
                          capture_output=True, text=True)  # fmt: skip
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_appstreamcli_validates_the_metainfo():
    metainfo = RESOURCES / resource_files.METAINFO_FILE
    command = [validator("appstreamcli"), "validate", "--no-net", "--pedantic", str(metainfo)]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    # Pedantic notes allowed: the id's capitals (io.github.x.DesktopSearch is the usual form).
    problems = [line for line in done.stdout.splitlines() if line[:2] in ("E:", "W:", "I:")]
    assert problems == [], done.stdout


# -- to look at -----------------------------------------------------------------------------------


def contact_sheet() -> Image.Image:
    """Every icon at every size (up to 128 px), on a light and a dark half; the small sizes also
    magnified 4x without smoothing, to judge their pixels."""
    rows: list[list[Image.Image]] = [
        [png(resource_files.app_icon_path(s)) for s in APP_ICON_SIZES if s <= 128],
        *([tray_png(state, s) for s in TRAY_ICON_SIZES] for state in TRAY_STATES),
    ]
    for row in rows:
        row += [im.resize((im.width * 4, im.height * 4), Image.NEAREST) for im in list(row)
                if im.width <= 24]  # fmt: skip
    pad = 12
    widths = [sum(im.width + pad for im in row) + pad for row in rows]
    heights = [max(im.height for im in row) + pad for row in rows]
    half = Image.new("RGBA", (max(widths), sum(heights) + pad), (0, 0, 0, 0))
    top = pad
    for row, height in zip(rows, heights, strict=True):
        left = pad
        for im in row:
            half.alpha_composite(im, (left, top + (height - pad - im.height) // 2))
            left += im.width + pad
        top += height
    sheet = Image.new("RGBA", (half.width * 2, half.height), WHITE + (255,))
    ImageDraw.Draw(sheet).rectangle((half.width, 0, sheet.width, sheet.height),
                                    fill=NEAR_BLACK + (255,))  # fmt: skip
    sheet.alpha_composite(half, (0, 0))
    sheet.alpha_composite(half, (half.width, 0))
    return sheet.convert("RGB")


def test_the_contact_sheet_can_be_made():
    sheet = contact_sheet()
    assert sheet.width > 600
    if os.environ.get("DESKTOP_SEARCH_SCREENSHOTS") == "1":
        sheet.save(SCREENSHOTS / "icons.png", optimize=True)
