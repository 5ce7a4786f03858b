"""Photos with text and without, for the text-in-photos gate (tests and benchmarks/photo_text_gate).

With text, rendered with Pillow and a TrueType font the way such photos look in a Pictures folder:
a desktop screenshot (light and dark), a phone chat screenshot, a slide, a receipt photographed
on a table, a sign rotated and warped in perspective onto a photo, a printed page photographed at
an angle, a captioned photo (a meme). Without: real photos from skimage.data (and, for the
benchmark, any folder of real photos), flat colours and gradients.

Every maker takes a ``seed`` (deterministic) and a ``scale`` (1.0: the pixel sizes of a real
screen, phone or camera; tests use smaller ones to stay fast) and returns a :class:`TextPhoto`
whose ``words`` are words printed large enough that OCR reads them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from skimage import data as skdata

from tests.make_pdfs import FONT_DIRS, font_path

WORDS = (
    "invoice", "garden", "lantern", "copper", "harbour", "violin", "meadow", "pepper", "orbit",
    "canyon", "marble", "walnut", "ticket", "bakery", "museum", "ferry", "station", "window",
    "planet", "forest", "silver", "cotton", "summer", "winter", "coffee", "market", "bridge",
    "castle", "river", "island", "rocket", "butter", "pencil", "yellow", "purple", "orange",
    "kettle", "ladder", "mirror", "pocket", "saddle", "tunnel", "valley", "wizard", "zipper",
    "anchor", "beacon", "cactus", "delta", "engine", "falcon", "glacier", "hammer", "igloo",
    "jacket", "kayak", "lemon", "magnet", "napkin", "oyster",
)  # fmt: skip
# skimage.data's colour and grey photos without text (page, text and logo hold some).
PLAIN_PHOTOS = (
    "astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry",
    "retina", "cat", "brick", "grass", "gravel", "camera", "moon", "coins", "clock", "cell",
    "stereo_motorcycle",
)  # fmt: skip


@dataclass
class TextPhoto:
    """A picture and how it is saved; ``words``: words in it that OCR should read (none for a
    photo without text)."""

    name: str
    image: Image.Image
    words: tuple[str, ...] = ()
    format: str = "JPEG"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def has_text(self) -> bool:
        return bool(self.words)

    @property
    def suffix(self) -> str:
        return {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}[self.format]

    def encoded(self) -> bytes:
        out = BytesIO()
        options = {"quality": 90} if self.format in ("JPEG", "WEBP") else {}
        self.image.convert("RGB").save(out, format=self.format, **options)
        return out.getvalue()

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.name}{self.suffix}"
        path.write_bytes(self.encoded())
        return path


@cache
def _font_file(bold: bool, mono: bool) -> Path | None:
    wanted = "DejaVuSans" + ("Mono" if mono else "") + ("-Bold" if bold else "") + ".ttf"
    for folder in FONT_DIRS:
        if folder.is_dir():
            for path in folder.rglob(wanted):
                return path
    return font_path()


def font(size: int, *, bold: bool = False, mono: bool = False) -> ImageFont.ImageFont:
    path = _font_file(bold, mono)
    size = max(6, round(size))
    if path is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(str(path), size)


def photo(name: str) -> Image.Image:
    """A skimage.data photo as RGB."""
    array = getattr(skdata, name)()
    if isinstance(array, tuple):  # stereo_motorcycle: (left, right, disparity)
        array = array[0]
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    return Image.fromarray(array).convert("RGB")


def _sentence(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(count))


def _scaled(size: tuple[int, int], scale: float) -> tuple[int, int]:
    return max(32, round(size[0] * scale)), max(32, round(size[1] * scale))


# -- screens -----------------------------------------------------------------------------------


def screenshot(seed: int = 0, scale: float = 1.0, *, dark: bool = False) -> TextPhoto:
    """A desktop screenshot: title bar, a sidebar list and paragraphs at screen text sizes
    (15-18 px at 1920x1080, PNG)."""
    rng = random.Random(seed)
    width, height = _scaled(rng.choice([(1920, 1080), (2560, 1440), (1366, 768)]), scale)
    k = width / 1920
    back, ink, panel = ((30, 31, 34), (225, 225, 225), (45, 46, 50)) if dark else (
        (250, 250, 250), (30, 30, 30), (236, 238, 242))
    image = Image.new("RGB", (width, height), back)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 40 * k), fill=panel)
    title = f"{rng.choice(WORDS).title()} - Notes"
    draw.text((20 * k, 10 * k), title, font=font(20 * k, bold=True), fill=ink)
    draw.rectangle((0, 40 * k, 300 * k, height), fill=panel)
    for i in range(min(20, int((height / k - 80) / 36))):
        draw.text((24 * k, (70 + 36 * i) * k), rng.choice(WORDS).title(), font=font(18 * k),
                  fill=ink)  # fmt: skip
    heading = rng.sample(WORDS, 2)
    draw.text((340 * k, 70 * k), " ".join(heading).title(), font=font(34 * k, bold=True),
              fill=ink)  # fmt: skip
    y = 140 * k
    body = font(17 * k)
    while y < height - 40 * k:
        draw.text((340 * k, y), _sentence(rng, rng.randint(8, 14)), font=body, fill=ink)
        y += 28 * k
        if rng.random() < 0.15:
            y += 24 * k
    return TextPhoto(f"screenshot-{'dark' if dark else 'light'}-{seed}", image, tuple(heading),
                     "PNG")  # fmt: skip


def terminal(seed: int = 0, scale: float = 1.0) -> TextPhoto:
    """A terminal window of small print only: 15 px monospaced lines at 1920x1080 (PNG), 1-2 px
    high in a 256 px thumbnail, where no detector finds them."""
    rng = random.Random(seed)
    width, height = _scaled((1920, 1080), scale)
    k = width / 1920
    image = Image.new("RGB", (width, height), (24, 24, 28))
    draw = ImageDraw.Draw(image)
    mono, words, y = font(15 * k, mono=True), [], 20 * k
    while y < height - 30 * k:
        line = _sentence(rng, rng.randint(4, 12))
        words += line.split()
        draw.text((20 * k, y), f"$ echo {line}", font=mono, fill=(210, 210, 210))
        y += 22 * k
    return TextPhoto(f"terminal-{seed}", image, tuple(words[:2]), "PNG")


def chat_screenshot(seed: int = 0, scale: float = 1.0) -> TextPhoto:
    """A phone chat screenshot: bubbles of 40 px text on 1080x2340 (PNG)."""
    rng = random.Random(seed)
    width, height = _scaled((1080, 2340), scale)
    k = width / 1080
    image = Image.new("RGB", (width, height), (236, 229, 221))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 200 * k), fill=(7, 94, 84))
    name = rng.choice(WORDS).title()
    draw.text((180 * k, 80 * k), name, font=font(52 * k, bold=True), fill="white")
    y, words = 260 * k, [name.lower()]
    text_font = font(40 * k)
    while y < height - 300 * k:
        mine = rng.random() < 0.5
        line = _sentence(rng, rng.randint(2, 4))
        words += line.split()
        left = 500 * k if mine else 40 * k
        draw.rounded_rectangle((left, y, left + 540 * k, y + 110 * k), radius=24 * k,
                               fill=(220, 248, 198) if mine else "white")  # fmt: skip
        draw.text((left + 30 * k, y + 30 * k), line, font=text_font, fill=(20, 20, 20))
        y += 150 * k
    return TextPhoto(f"chat-{seed}", image, tuple(words[:3]), "PNG")


def slide(seed: int = 0, scale: float = 1.0) -> TextPhoto:
    """A presentation slide exported as an image: a title and bullets (1920x1080, JPEG)."""
    rng = random.Random(seed)
    width, height = _scaled((1920, 1080), scale)
    k = width / 1920
    colour = rng.choice([(18, 52, 86), (250, 250, 245), (120, 30, 40)])
    ink = "white" if sum(colour) < 400 else (20, 20, 20)
    image = Image.new("RGB", (width, height), colour)
    draw = ImageDraw.Draw(image)
    title = rng.sample(WORDS, 2)
    draw.text((120 * k, 100 * k), " ".join(title).title(), font=font(84 * k, bold=True),
              fill=ink)  # fmt: skip
    for i in range(4):
        draw.ellipse((130 * k, (330 + 140 * i) * k, 150 * k, (350 + 140 * i) * k), fill=ink)
        draw.text((190 * k, (310 + 140 * i) * k), _sentence(rng, 4), font=font(52 * k), fill=ink)
    return TextPhoto(f"slide-{seed}", image, tuple(title), "JPEG")


# -- photographs of text -----------------------------------------------------------------------


def _perspective_coefficients(source: list[tuple[float, float]],
                              target: list[tuple[float, float]]) -> list[float]:  # fmt: skip
    """Pillow's PERSPECTIVE coefficients mapping ``target`` corners back to ``source`` ones."""
    rows, values = [], []
    for (x, y), (u, v) in zip(target, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        values += [u, v]
    return list(np.linalg.solve(np.asarray(rows, float), np.asarray(values, float)))


def paste_warped(scene: Image.Image, card: Image.Image, corners: list[tuple[float, float]],
                 *, blur: float = 0.6) -> Image.Image:  # fmt: skip
    """``card`` drawn onto ``scene`` with its corners at ``corners`` (clockwise from top-left),
    as a camera sees a flat thing at an angle; slightly soft, like a photograph."""
    w, h = card.size
    coefficients = _perspective_coefficients([(0, 0), (w, 0), (w, h), (0, h)], corners)
    warped = card.convert("RGB").transform(scene.size, Image.Transform.PERSPECTIVE, coefficients,
                                           Image.Resampling.BICUBIC)  # fmt: skip
    mask = Image.new("L", card.size, 255).transform(scene.size, Image.Transform.PERSPECTIVE,
                                                    coefficients, Image.Resampling.BILINEAR)
    out = scene.copy()
    out.paste(warped.filter(ImageFilter.GaussianBlur(blur)), (0, 0), mask)
    return out


def _scene(name: str, size: tuple[int, int], rng: random.Random) -> Image.Image:
    """A real photo as the background, upscaled to a camera's size."""
    return photo(name).resize(size, Image.Resampling.BICUBIC)


def _jitter(corners: list[tuple[float, float]], rng: random.Random, amount: float
            ) -> list[tuple[float, float]]:  # fmt: skip
    return [(x + rng.uniform(-amount, amount), y + rng.uniform(-amount, amount))
            for x, y in corners]


def _rotated_quad(centre: tuple[float, float], size: tuple[float, float], degrees: float
                  ) -> list[tuple[float, float]]:  # fmt: skip
    cx, cy = centre
    w, h = size
    angle = np.deg2rad(degrees)
    cos, sin = np.cos(angle), np.sin(angle)
    return [(cx + x * cos - y * sin, cy + x * sin + y * cos)
            for x, y in [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]]


def sign(seed: int = 0, scale: float = 1.0, *, degrees: float | None = None,
         background: str | None = None, share: float | None = None) -> TextPhoto:  # fmt: skip
    """A sign (one or two words on a board) rotated 15-30 degrees and warped in perspective onto
    a real photo (4000x3000 at scale 1, JPEG). ``share``: the sign's width over the photo's."""
    rng = random.Random(seed)
    width, height = _scaled((4000, 3000), scale)
    scene = _scene(background or rng.choice(["rocket", "coffee", "chelsea", "astronaut"]),
                   (width, height), rng)  # fmt: skip
    words = tuple(rng.sample(WORDS, rng.choice([1, 2])))
    colours = rng.choice([((0, 90, 40), "white"), ((250, 210, 0), "black"),
                          ((200, 20, 30), "white"), ((245, 245, 240), (20, 20, 20)),
                          ((20, 60, 140), "white")])
    text = " ".join(words).upper()
    letters = font(120, bold=True)
    left, top, right, bottom = letters.getbbox(text)
    card = Image.new("RGB", (right - left + 120, bottom - top + 120), colours[0])
    ImageDraw.Draw(card).text((60 - left, 60 - top), text, font=letters, fill=colours[1])
    share = share or rng.uniform(0.3, 0.5)
    degrees = degrees if degrees is not None else rng.choice([-1, 1]) * rng.uniform(15, 30)
    size = (width * share, width * share * card.height / card.width)
    centre = (rng.uniform(0.35, 0.65) * width, rng.uniform(0.35, 0.65) * height)
    corners = _jitter(_rotated_quad(centre, size, degrees), rng, 0.08 * size[1])
    return TextPhoto(f"sign-{seed}", paste_warped(scene, card, corners, blur=1.0 * scale), words,
                     extra={"degrees": f"{degrees:.0f}"})  # fmt: skip


def receipt(seed: int = 0, scale: float = 1.0) -> TextPhoto:
    """A till receipt (monospaced lines) photographed on a table at a slight angle
    (3000x4000 at scale 1, JPEG)."""
    rng = random.Random(seed)
    width, height = _scaled((3000, 4000), scale)
    scene = _scene(rng.choice(["brick", "gravel", "coffee", "grass"]), (width, height), rng)
    shop = rng.choice(WORDS).upper()
    items = rng.sample(WORDS, 8)
    lines = [f"{shop} STORE", "", *[f"{w.title():<14}{rng.uniform(1, 40):>8.2f}" for w in items],
             "", f"{'TOTAL':<14}{rng.uniform(40, 200):>8.2f}", "THANK YOU"]
    mono = font(44, mono=True)
    card = Image.new("RGB", (720, 110 + 62 * len(lines)), (248, 246, 240))
    draw = ImageDraw.Draw(card)
    for i, line in enumerate(lines):
        draw.text((50, 50 + 62 * i), line, font=mono, fill=(40, 40, 45))
    share = rng.uniform(0.45, 0.6)
    size = (width * share, width * share * card.height / card.width)
    size = (size[0] * min(1, 0.9 * height / size[1]), min(size[1], 0.9 * height))
    corners = _jitter(_rotated_quad((width / 2, height / 2), size, rng.uniform(-12, 12)), rng,
                      0.04 * size[0])  # fmt: skip
    return TextPhoto(f"receipt-{seed}", paste_warped(scene, card, corners, blur=0.8 * scale),
                     (shop.lower(), "total"))  # fmt: skip


def page(seed: int = 0, scale: float = 1.0) -> TextPhoto:
    """A printed page of paragraphs photographed from above at an angle (4000x3000, JPEG)."""
    rng = random.Random(seed)
    width, height = _scaled((4000, 3000), scale)
    scene = _scene(rng.choice(["brick", "coffee", "camera"]), (width, height), rng)
    card = Image.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(card)
    title = rng.sample(WORDS, 2)
    draw.text((100, 110), " ".join(title).title(), font=font(64, bold=True), fill="black")
    body = font(34)
    for i in range(34):
        draw.text((100, 240 + 42 * i), _sentence(rng, 8), font=body, fill=(30, 30, 30))
    size = (height * 0.85 * card.width / card.height, height * 0.85)
    corners = _rotated_quad((width / 2, height / 2), size, rng.uniform(-25, 25))
    corners[0] = (corners[0][0] + 0.08 * size[0], corners[0][1])  # the far edge looks shorter
    corners[1] = (corners[1][0] - 0.08 * size[0], corners[1][1])
    return TextPhoto(f"page-{seed}", paste_warped(scene, card, corners, blur=0.8 * scale),
                     tuple(title))  # fmt: skip


def meme(seed: int = 0, scale: float = 1.0) -> TextPhoto:
    """A photo captioned in bold white letters outlined in black (1200x900, JPEG)."""
    rng = random.Random(seed)
    width, height = _scaled((1200, 900), scale)
    image = photo(rng.choice(["chelsea", "cat", "astronaut", "coffee"])).resize((width, height))
    draw = ImageDraw.Draw(image)
    words = rng.sample(WORDS, 3)
    letters = font(96 * width / 1200, bold=True)
    for text, y in ((" ".join(words[:2]).upper(), 0.04), (words[2].upper(), 0.8)):
        draw.text((0.06 * width, y * height), text, font=letters, fill="white",
                  stroke_width=max(1, round(4 * width / 1200)), stroke_fill="black")
    return TextPhoto(f"meme-{seed}", image, tuple(words))


TEXT_MAKERS: dict[str, Callable[..., TextPhoto]] = {
    "screenshot": screenshot, "screenshot-dark": lambda seed=0, scale=1.0: screenshot(
        seed, scale, dark=True), "terminal": terminal, "chat": chat_screenshot, "slide": slide,
    "sign": sign,
    "receipt": receipt, "page": page, "meme": meme,
}  # fmt: skip


def text_photos(per_kind: int = 1, scale: float = 1.0) -> list[TextPhoto]:
    """``per_kind`` photos of each kind with text."""
    return [make(seed, scale) for make in TEXT_MAKERS.values() for seed in range(per_kind)]


# -- without text ------------------------------------------------------------------------------


def plain_photo(name: str, scale: float = 1.0, *, size: tuple[int, int] = (4000, 3000),
                fmt: str = "JPEG") -> TextPhoto:  # fmt: skip
    """A skimage.data photo upscaled to a camera's size, as a photo without text."""
    source = photo(name)
    aspect = source.width / source.height
    width = round(size[0] * scale)
    image = source.resize((width, max(32, round(width / aspect))), Image.Resampling.BICUBIC)
    return TextPhoto(f"plain-{name}", image, (), fmt)


def flat(colour: tuple[int, int, int], scale: float = 1.0) -> TextPhoto:
    return TextPhoto(f"flat-{colour[0]}-{colour[1]}-{colour[2]}",
                     Image.new("RGB", _scaled((1920, 1080), scale), colour), (), "PNG")


def gradient(scale: float = 1.0) -> TextPhoto:
    width, height = _scaled((2560, 1440), scale)
    x = np.linspace(0, 1, width)[None, :, None]
    y = np.linspace(0, 1, height)[:, None, None]
    rgb = np.concatenate([40 + 180 * x + 0 * y, 60 + 120 * y + 0 * x, 200 - 120 * x * y], axis=2)
    return TextPhoto("gradient", Image.fromarray(rgb.astype(np.uint8)), (), "PNG")


def plain_photos(scale: float = 1.0) -> list[TextPhoto]:
    """skimage.data's photos without text, a flat colour and a gradient."""
    return [*(plain_photo(name, scale) for name in PLAIN_PHOTOS),
            flat((32, 96, 160), scale), gradient(scale)]  # fmt: skip
