"""Calibration inputs for the int8 fidelity gates (``quantize.py``, ``text_import.py``), generated
here offline and deterministically: procedural images (gradients, noise, shapes, text), built-in
captions and sentences.
Users have no test photos, and the gate runs on their machines.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

CALIBRATION_TEXTS: tuple[str, ...] = (
    "a photo of a dog",
    "two cats sleeping on a red sofa",
    "sunset over the mountains, 2019",
    "a plate of spaghetti with tomato sauce",
    "children playing football in the park",
    "a bicycle leaning against a brick wall",
    "snow-covered pine trees in winter",
    "a crowded street market at night",
    "close-up of a yellow flower with a bee",
    "an old lighthouse on a rocky coast",
    "my passport and boarding pass",
    "screenshot of a spreadsheet with quarterly numbers",
    "handwritten shopping list on a notepad",
    "a birthday cake with candles",
    "birthday party 🎂🎉",
    "wedding photo, bride and groom dancing",
    "a red sports car parked by the road",
    "aerial view of a city with skyscrapers",
    "a cup of coffee on a wooden table",
    "hiking trail through a green forest",
    "the Eiffel Tower at night",
    "a diagram of a neural network",
    "receipt from the grocery store",
    "baby sleeping in a crib",
    "fireworks over a lake",
    "a horse running on a beach",
    "Café au lait à Paris",
    "東京の夜景",
    "Straße in Berlin im Regen",
    "una playa tropical con palmeras",
    "кошка на подоконнике",
    "A VERY LOUD HEADLINE!!!",
    "what's up? it's 3:45pm -- $12.99 (approx.) #tag @user",
    "2024-01-01 12:00",
    "",
    "a very long description of a busy kitchen with pots, pans and people cooking " * 4,
    "black and white portrait of an old man",
    "a map of Europe",
    "document scan: invoice number 12345",
    "a blurry photo taken by accident",
)


# ~50 varied texts the sentence model's gate runs on: the kinds of text the app indexes
# (documents, notes, messages, emails, code, OCR output, queries), several languages, a text long
# enough to be truncated, and the empty string. Tests use a different set.
SENTENCE_TEXTS: tuple[str, ...] = (
    "How do I reset my router password?",
    "Meeting moved to Thursday 3pm, same room.",
    "Invoice #2023-114: 3 x consulting days at EUR 850, due within 30 days.",
    "The mitochondria is the powerhouse of the cell.",
    "Can you pick up milk and eggs on the way home?",
    "Quarterly revenue grew 12% year over year, driven by subscriptions.",
    "lol that's hilarious 😂😂",
    "Dear Sir or Madam, I am writing to complain about the late delivery of my order.",
    "def fibonacci(n): return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)",
    "SELECT name, email FROM users WHERE created_at > '2024-01-01';",
    "The patient presented with a persistent dry cough and mild fever.",
    "Flight LH 456 from Frankfurt to Boston departs at 10:35 from gate B44.",
    "Remember to water the tomatoes twice a week during summer.",
    "The court ruled that the contract was void due to misrepresentation.",
    "happy birthday!!! 🎂🎉 hope you have a great day",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "ok",
    "?",
    "",
    "   ",
    "Wi-Fi password: hunter2 (don't share)",
    "Le train pour Lyon part à 8h15 du quai numéro 3.",
    "Die Besprechung wurde auf nächsten Montag verschoben.",
    "El informe anual está disponible en la página web de la empresa.",
    "Мы встретимся у входа в музей в полдень.",
    "明日の会議は午後二時からです。",
    "我们下周去北京旅游。",
    "مرحبا، كيف حالك اليوم؟",
    "Ο καιρός σήμερα είναι ηλιόλουστος.",
    "naïve café résumé façade coöperate",
    "TODO: refactor the parser, add tests, update CHANGELOG.md",
    "Error: connection refused (ECONNREFUSED) at 127.0.0.1:5432",
    "Chapter 3. The Industrial Revolution began in Britain in the late 18th century.",
    "Preheat the oven to 180°C and bake for 25 minutes until golden.",
    "The quick brown fox jumps over the lazy dog.",
    "Your package has been shipped and will arrive on Monday.",
    "Please find attached the signed lease agreement for the apartment.",
    "Gradient descent minimises a loss function by following its negative gradient.",
    "We hiked to the summit and watched the sunrise above the clouds.",
    "Tax return 2022 - deductions: home office, commuting, donations.",
    "https://example.com/docs/getting-started?lang=en#install",
    "john.doe@example.com wrote: thanks, see you tomorrow",
    "1234 5678 9012 3456",
    "Minutes of the board meeting, 14 March: budget approved, hiring freeze lifted.",
    "The sonnet compares the beloved to a summer's day and finds summer lacking.",
    "Scan of page 2: TOTAL DUE 45.90 VISA ****1234 THANK YOU FOR SHOPPING",
    "Symptoms of dehydration include thirst, dark urine and dizziness.",
    "My flight got cancelled, I'll take the night train instead.",
    (
        "Long report. "
        + "The committee reviewed the proposal in detail, discussed the risks of the migration "
        "to the new accounting system, the training needs of the staff, the timeline for the "
        "first quarter and the budget for external consultants, and agreed to revisit the "
        "matter after the pilot in the Berlin office has been evaluated. " * 6
    ),
    (
        "Notes from the lecture on the history of computing: Babbage's analytical engine, "
        "Lovelace's notes, Turing's 1936 paper, ENIAC, the transistor, integrated circuits, "
        "the microprocessor, personal computers and the rise of the internet."
    ),
)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the fixed bitmap font
        return ImageFont.load_default()


def _random_color(rng: np.random.Generator) -> tuple[int, int, int]:
    return tuple(int(v) for v in rng.integers(0, 256, size=3))  # type: ignore[return-value]


def _gradient(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    t = (xx * np.cos(angle) + yy * np.sin(angle)) / (w * abs(np.cos(angle)) + h * np.sin(angle))
    a, b = rng.uniform(0, 255, size=(2, 3))
    return a + (b - a) * t[..., None]


def _smooth_noise(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    scale = int(rng.choice([4, 8, 16, 32]))
    small = rng.uniform(0, 255, size=(max(2, h // scale), max(2, w // scale), 3)).astype(np.uint8)
    return np.asarray(
        Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC), dtype=np.float32
    )


def _draw_shapes(draw: ImageDraw.ImageDraw, rng: np.random.Generator, w: int, h: int) -> None:
    for _ in range(int(rng.integers(2, 8))):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        x1, y1 = x0 + int(rng.integers(w // 10, w // 2)), y0 + int(rng.integers(h // 10, h // 2))
        kind = int(rng.integers(0, 3))
        if kind == 0:
            draw.ellipse((x0, y0, x1, y1), fill=_random_color(rng))
        elif kind == 1:
            draw.rectangle((x0, y0, x1, y1), fill=_random_color(rng))
        else:
            points = [(int(rng.integers(0, w)), int(rng.integers(0, h))) for _ in range(3)]
            draw.polygon(points, fill=_random_color(rng))


def _draw_text(draw: ImageDraw.ImageDraw, rng: np.random.Generator, w: int, h: int) -> None:
    words = " ".join(CALIBRATION_TEXTS[int(i)] for i in rng.integers(0, 26, size=3))
    size = int(rng.integers(12, 40))
    font = _font(size)
    color = _random_color(rng)
    for line, y in enumerate(range(int(rng.integers(0, size)), h, int(size * 1.4))):
        start = (line * 17) % max(1, len(words))
        draw.text((int(rng.integers(0, w // 8 + 1)), y), words[start:] + words[:start], fill=color,
                  font=font)  # fmt: skip


def calibration_images(count: int = 40, seed: int = 0) -> list[Image.Image]:
    """Deterministic, varied synthetic images: gradients, shapes, noise, stripes, text, scenes.

    Sizes and aspect ratios vary (portrait, landscape, small, large) so resizing and cropping
    are exercised too. Generated, not shipped: no photo data in the package, same set everywhere.
    """
    rng = np.random.default_rng(seed)
    images = []
    for i in range(count):
        w, h = (int(v) for v in rng.integers(96, 640, size=2))
        kind = i % 6
        if kind == 0:  # gradient with shapes
            base = _gradient(rng, w, h)
        elif kind == 1:  # smooth noise texture (foliage, clouds, sand)
            base = _smooth_noise(rng, w, h)
        elif kind == 2:  # stripes / checkerboard
            yy, xx = np.mgrid[0:h, 0:w]
            period = int(rng.integers(4, 40))
            if rng.random() < 0.5:
                mask = ((xx // period + yy // period) % 2).astype(np.float32)
            else:
                mask = ((xx + yy * rng.uniform(-1, 1)) // period % 2).astype(np.float32)
            a, b = rng.uniform(0, 255, size=(2, 3))
            base = a + (b - a) * mask[..., None]
        elif kind == 3:  # a page of text
            base = np.full((h, w, 3), rng.uniform(200, 255), dtype=np.float32)
        elif kind == 4:  # a "landscape": sky, ground, a sun
            base = np.zeros((h, w, 3), dtype=np.float32)
            horizon = int(h * rng.uniform(0.3, 0.7))
            base[:horizon] = _gradient(rng, w, horizon)
            base[horizon:] = _smooth_noise(rng, w, h - horizon)
        else:  # plain colour with noise (dark, bright, saturated)
            base = np.broadcast_to(rng.uniform(0, 255, size=3), (h, w, 3)).astype(np.float32)
        image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
        draw = ImageDraw.Draw(image)
        if kind in (0, 4, 5):
            _draw_shapes(draw, rng, w, h)
        if kind == 3 or (kind == 0 and rng.random() < 0.5):
            _draw_text(draw, rng, w, h)
        if rng.random() < 0.3:
            image = image.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.5, 3))))
        pixels = np.asarray(image, dtype=np.float32)
        pixels = pixels + rng.normal(0, rng.uniform(0, 15), size=pixels.shape)
        images.append(Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB"))
    return images
