"""Pictures with text for the benchmark photo set: screenshots (rendered app windows, with or
without text) and photos of text at an angle (receipts, signs, slides warped onto a photo).

Every function takes a seeded ``random.Random`` and returns the picture and the lines of text it
drew (empty for a picture without text), so ``labels.json`` says exactly which words are there.
Text is drawn at sizes people read on a screen (13 px and up at 1x); anything smaller would not
count as "has text" for an OCR recall check.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

# Screen sizes people take screenshots on (1-8 MP): laptops, desktops, 4K, two phones.
SCREENS: tuple[tuple[int, int], ...] = (
    (1366, 768), (1920, 1080), (1920, 1200), (2560, 1440), (2880, 1800), (3840, 2160),
    (1170, 2532), (1080, 2400),
)

# Words and sentences the renderings draw from: plain English, what chats, documents, receipts
# and signs hold. Kept inline so the set needs nothing but the packages it names.
SENTENCES: tuple[str, ...] = (
    "Are we still meeting at the station tomorrow morning?",
    "The quarterly report is attached, please review the budget section.",
    "Don't forget to water the tomatoes while we are away.",
    "Flight 482 to Lisbon now boarding at gate 12.",
    "Can you send me the photos from the wedding?",
    "The invoice for March was paid on the 14th.",
    "Dinner is at seven, bring the salad if you can.",
    "Meeting notes: migrate the database, then update the dashboard.",
    "Our landlord says the heating will be fixed on Friday.",
    "Remember the passport renewal appointment next Tuesday.",
    "The museum is closed on Mondays except in August.",
    "Thanks for the birthday card, the kids loved it!",
    "Train delayed by twenty minutes due to signal failure.",
    "Please confirm your address before we ship the parcel.",
    "Hiking route: follow the river north for three kilometres.",
    "Grandma's lemon cake needs two cups of flour and four eggs.",
    "The concert tickets arrive by email one week before the show.",
    "Server backup completed with no errors at 03:12.",
    "Weekly groceries: apples, bread, coffee, rice and cheese.",
    "Your library books are due back on the 21st of June.",
)
RECEIPT_ITEMS: tuple[tuple[str, float], ...] = (
    ("OAT MILK 1L", 1.89), ("SOURDOUGH BREAD", 3.20), ("BANANAS 1KG", 1.35),
    ("COFFEE BEANS", 8.99), ("CHEDDAR 200G", 2.75), ("TOMATOES", 2.10), ("OLIVE OIL", 6.49),
    ("PASTA 500G", 1.15), ("GREEK YOGURT", 2.45), ("DISH SOAP", 2.99), ("APPLES 6PK", 2.60),
    ("ORANGE JUICE", 3.05), ("BASMATI RICE", 4.25), ("DARK CHOCOLATE", 1.99),
)
STORES: tuple[str, ...] = ("CORNER MARKET", "GREEN GROCER", "CITY PHARMACY", "HARBOUR CAFE")
SIGNS: tuple[tuple[str, ...], ...] = (
    ("PLATFORM 4",), ("NO PARKING", "MON-FRI 8-18"), ("MAIN STREET",), ("EXIT",),
    ("OPEN", "9:00 - 17:30"), ("BUS STOP", "LINE 42"), ("CITY MUSEUM", "TICKETS"),
    ("WET FLOOR",), ("BAKERY",), ("PRIVATE ROAD",),
)


@dataclass(frozen=True)
class Fonts:
    """TrueType fonts unpacked from Debian's fonts-dejavu-core and fonts-liberation2."""

    sans: Path
    bold: Path
    mono: Path
    serif: Path

    @classmethod
    def under(cls, root: Path) -> Fonts:
        dejavu = root / "usr/share/fonts/truetype/dejavu"
        liberation = root / "usr/share/fonts/truetype/liberation2"
        return cls(
            sans=liberation / "LiberationSans-Regular.ttf",
            bold=dejavu / "DejaVuSans-Bold.ttf",
            mono=dejavu / "DejaVuSansMono.ttf",
            serif=liberation / "LiberationSerif-Regular.ttf",
        )

    def font(self, which: str, size: int) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(str(getattr(self, which)), size)


def _colour(rng: random.Random, low: int = 0, high: int = 255) -> tuple[int, int, int]:
    return (rng.randint(low, high), rng.randint(low, high), rng.randint(low, high))


def _fit(photo: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``photo`` cropped to the aspect of ``size`` and resized to it."""
    width, height = photo.size
    target = size[0] / size[1]
    if width / height > target:
        crop = int(height * target)
        box = ((width - crop) // 2, 0, (width - crop) // 2 + crop, height)
    else:
        crop = int(width / target)
        box = (0, (height - crop) // 2, width, (height - crop) // 2 + crop)
    return photo.crop(box).resize(size, Image.Resampling.BILINEAR)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and font.getlength(candidate) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    return lines + [line] if line else lines


def screenshot(
    rng: random.Random, fonts: Fonts, wallpaper: Image.Image, photo: Image.Image, with_text: bool
) -> tuple[Image.Image, list[str]]:
    """A screenshot at one of ``SCREENS``: an app window drawn over ``wallpaper``, showing
    ``photo`` in a web page or an image viewer. With text: a chat, a document, a terminal or
    a web page; without: an image viewer or a desktop with a dock (shapes only, no labels)."""
    width, height = rng.choice(SCREENS)
    scale = max(1, round(min(width, height) / 1000))  # 2x on HiDPI screens and phones
    canvas = _fit(wallpaper, (width, height))
    draw = ImageDraw.Draw(canvas)
    if not with_text:
        return _textless(rng, canvas, draw, photo, scale), []
    layout = rng.choice(("chat", "document", "terminal", "web"))
    margin = rng.randint(0, 60) * scale
    box = (margin, margin, width - margin, height - margin)
    dark = layout == "terminal" or rng.random() < 0.3
    draw.rectangle(box, fill=(30, 30, 34) if dark else (250, 250, 250))
    draw.rectangle((box[0], box[1], box[2], box[1] + 36 * scale), fill=(60, 60, 66))
    ink = (230, 230, 230) if dark else (25, 25, 25)
    size = rng.randint(14, 18) * scale
    font = fonts.font("mono" if layout == "terminal" else "sans", size)
    title_font = fonts.font("bold", size + 2 * scale)
    title = {"chat": "Messages", "document": "Notes.odt", "terminal": "Terminal",
             "web": "Travel guide"}[layout]
    lines = [title]
    draw.text((box[0] + 12 * scale, box[1] + 8 * scale), title, font=title_font,
              fill=(240, 240, 240))
    x, y = box[0] + 24 * scale, box[1] + 60 * scale
    text_width = box[2] - box[0] - 48 * scale
    if layout == "web":
        hero = _fit(photo, (text_width, min(height // 3, text_width // 2)))
        canvas.paste(hero, (x, y))
        y += hero.height + 20 * scale
    while y < box[3] - 3 * size:
        sentence = rng.choice(SENTENCES)
        if layout == "terminal":
            sentence = f"$ echo '{sentence}'"
        if layout == "chat":
            wrapped = _wrap(sentence, font, int(text_width * 0.6))
            right = rng.random() < 0.5
            bubble_w = max(int(font.getlength(w)) for w in wrapped) + 24 * scale
            bx = box[2] - 24 * scale - bubble_w if right else x
            bubble_h = len(wrapped) * int(size * 1.3) + 16 * scale
            draw.rounded_rectangle((bx, y, bx + bubble_w, y + bubble_h), radius=12 * scale,
                                   fill=(0, 120, 255) if right else (225, 225, 230))
            for i, line in enumerate(wrapped):
                draw.text((bx + 12 * scale, y + 8 * scale + i * int(size * 1.3)), line,
                          font=font, fill=(255, 255, 255) if right else (20, 20, 20))
            lines += wrapped
            y += bubble_h + 12 * scale
            continue
        for line in _wrap(sentence, font, text_width):
            draw.text((x, y), line, font=font, fill=ink)
            lines.append(line)
            y += int(size * 1.4)
        y += size // 2
    return canvas, lines


def _textless(
    rng: random.Random, canvas: Image.Image, draw: ImageDraw.ImageDraw, photo: Image.Image,
    scale: int,
) -> Image.Image:
    width, height = canvas.size
    if rng.random() < 0.5:  # an image viewer: dark chrome, the photo, toolbar glyphs
        draw.rectangle((0, 0, width, height), fill=(24, 24, 24))
        shown = photo.copy()
        shown.thumbnail((width - 80 * scale, height - 140 * scale))
        canvas.paste(shown, ((width - shown.width) // 2, 70 * scale))
        for i in range(6):
            cx = width // 2 + (i - 3) * 56 * scale
            draw.ellipse((cx, height - 50 * scale, cx + 28 * scale, height - 22 * scale),
                         outline=(200, 200, 200), width=2 * scale)
        return canvas
    dock_w = rng.randint(6, 12) * 64 * scale  # a desktop: wallpaper and a dock of app icons
    x0 = max(0, (width - dock_w) // 2)
    draw.rounded_rectangle((x0, height - 90 * scale, x0 + dock_w, height - 10 * scale),
                           radius=18 * scale, fill=(40, 40, 48))
    for i in range(dock_w // (64 * scale)):
        x = x0 + 8 * scale + i * 64 * scale
        draw.rounded_rectangle((x, height - 82 * scale, x + 52 * scale, height - 30 * scale),
                               radius=12 * scale, fill=_colour(rng, 40, 230))
    return canvas


def _paper(rng: random.Random, fonts: Fonts, kind: str) -> tuple[Image.Image, list[str]]:
    """The object with text, upright, RGBA: a receipt, a sign or a slide."""
    if kind == "receipt":
        font = fonts.font("mono", 30)
        items = rng.sample(RECEIPT_ITEMS, rng.randint(4, 8))
        total = sum(price for _, price in items)
        lines = [rng.choice(STORES), f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"]
        lines += [f"{name:<16}{price:>6.2f}" for name, price in items]
        lines += [f"{'TOTAL':<16}{total:>6.2f}", "THANK YOU"]
        paper = Image.new("RGBA", (520, 60 + 46 * len(lines)), (246, 244, 236, 255))
        draw = ImageDraw.Draw(paper)
        for i, line in enumerate(lines):
            draw.text((24, 30 + 46 * i), line, font=font, fill=(40, 40, 40))
        return paper, lines
    if kind == "sign":
        lines = list(rng.choice(SIGNS))
        font = fonts.font("bold", 110)
        width = int(max(font.getlength(line) for line in lines)) + 120
        background, ink = rng.choice((((20, 70, 160), "white"), ((10, 110, 60), "white"),
                                       ((240, 240, 235), (20, 20, 20)), ((200, 30, 30), "white")))
        sign = Image.new("RGBA", (width, 80 + 140 * len(lines)), (*background, 255))
        draw = ImageDraw.Draw(sign)
        draw.rectangle((12, 12, sign.width - 13, sign.height - 13), outline=ink, width=8)
        for i, line in enumerate(lines):
            draw.text((60, 40 + 140 * i), line, font=font, fill=ink)
        return sign, lines
    font, head = fonts.font("sans", 44), fonts.font("bold", 72)
    sentences = rng.sample(SENTENCES, 3)
    slide = Image.new("RGBA", (1600, 900), (252, 252, 252, 255))
    draw = ImageDraw.Draw(slide)
    lines = ["Project update"]
    draw.text((80, 60), lines[0], font=head, fill=(20, 40, 120))
    y = 200
    for sentence in sentences:
        for line in _wrap(sentence, font, 1400):
            draw.text((100, y), line, font=font, fill=(30, 30, 30))
            lines.append(line)
            y += 64
        y += 30
    return slide, lines


def _perspective_coeffs(
    dest: list[tuple[float, float]], src: list[tuple[float, float]]
) -> list[float]:
    """The 8 coefficients of ``Image.transform(PERSPECTIVE)`` mapping ``dest`` onto ``src``."""
    rows = []
    for (x, y), (u, v) in zip(dest, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    rhs = np.array([c for point in src for c in point], dtype=np.float64)
    return list(np.linalg.solve(np.array(rows, dtype=np.float64), rhs))


def text_photo(
    rng: random.Random, fonts: Fonts, background: Image.Image, size: tuple[int, int]
) -> tuple[Image.Image, list[str]]:
    """A photo of a receipt, a sign or a slide: the object rendered upright, turned by up to
    30 degrees, its corners pulled for perspective, laid on ``background`` (fitted to ``size``),
    then a little blur and sensor noise like a phone photo."""
    kind = rng.choice(("receipt", "sign", "slide"))
    paper, lines = _paper(rng, fonts, kind)
    photo = _fit(background, size).convert("RGBA")
    width, height = size
    # The object covers 35-65% of the photo's short side: near enough to read, as people shoot.
    extent = rng.uniform(0.35, 0.65) * min(width, height)
    ratio = extent / max(paper.size)
    half_w, half_h = paper.width * ratio / 2, paper.height * ratio / 2
    cx = rng.uniform(0.35, 0.65) * width
    cy = rng.uniform(0.35, 0.65) * height
    angle = np.radians(rng.uniform(-30, 30))
    cos, sin = np.cos(angle), np.sin(angle)
    dest = []
    for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        px = sx * half_w * rng.uniform(0.85, 1.0)
        py = sy * half_h * rng.uniform(0.85, 1.0)
        dest.append((cx + px * cos - py * sin, cy + px * sin + py * cos))
    src = [(0.0, 0.0), (paper.width, 0.0), (paper.width, paper.height), (0.0, paper.height)]
    warped = paper.transform(size, Image.Transform.PERSPECTIVE, _perspective_coeffs(dest, src),
                             Image.Resampling.BICUBIC, fillcolor=(0, 0, 0, 0))
    photo.alpha_composite(warped)
    photo = photo.convert("RGB").filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.4)))
    return photo, lines
