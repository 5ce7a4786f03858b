"""Input generators of the document benchmarks (``documents_pdf``, ``documents_chat``): varied
prose from templates, text PDFs and scanned PDFs of it, written once into
``benchmarks/.cache/documents`` (seeded, so every run reads the same files)."""

from __future__ import annotations

import random
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

from benchmarks.common import CACHE
from tests.make_pdfs import A4_MM, SCAN_PIXELS, font_path, scanned_pdf, text_pdf

INPUTS = CACHE / "documents"
BODY_FONT_PX = 25  # 12 pt at 150 dpi
BODY_MARGIN_PX = 150


# -- prose -------------------------------------------------------------------------------------

# Varied everyday prose from templates: reports, letters, minutes. Latin-1 only (Helvetica),
# with names, figures and dates, so keyword index and tokenizer see realistic text.
_SUBJECTS = (
    "the committee", "our team", "the landlord", "Dr. Keller", "the new supplier",
    "most customers", "the city council", "the insurance company", "my sister",
    "the project lead", "the school board", "Mr. Okafor", "the auditors", "the museum staff",
    "the engineers in Lyon", "the tenants' association", "Ms. Lindqvist", "the night shift",
)  # fmt: skip
_VERBS = (
    "reviewed", "postponed", "approved", "questioned", "measured", "described", "compared",
    "rejected", "signed", "repaired", "translated", "published", "renewed", "estimated",
    "cancelled", "documented", "inspected", "negotiated", "recalculated", "archived",
)  # fmt: skip
_ADJECTIVES = (
    "quarterly", "revised", "annual", "preliminary", "detailed", "overdue", "confidential",
    "expensive", "unusual", "standard", "temporary", "final", "damaged", "missing", "shared",
    "municipal", "electrical", "medical", "seasonal", "historical", "digital", "careful",
)  # fmt: skip
_NOUNS = (
    "budget", "heating repair", "contract", "survey", "invoice", "roof", "timetable",
    "warranty", "inventory", "tax return", "lease", "prescription", "exhibition", "bridge",
    "software update", "delivery", "pension plan", "kitchen", "report", "harvest", "catalogue",
    "school trip", "insurance claim", "water meter", "staff rota", "garden fence", "vaccine",
)  # fmt: skip
_TAILS = (
    "before the meeting in {month}", "after a long discussion", "on {day} {month} {year}",
    "because the figures did not add up", "despite the delays at the border",
    "with a margin of {pct} percent", "for about {amount} EUR", "as the contract requires",
    "without telling anyone in advance", "while the heating was being replaced",
    "at the office in Zurich", "once the weather improved", "for the second time this year",
)  # fmt: skip
_SENTENCES = (
    "{S} {V} the {A} {N} {T}.",
    "{T}, {S} {V} the {A} {N}.",
    "{S} said that {S2} had {V} the {N}, although {S3} {V2} the {A} {N2} {T}.",
    "According to {S}, the {N} was {A} and the {A2} {N2} had to be {V} {T}.",
    "Nobody expected the {A} {N} to be {V} so quickly, least of all {S}.",
    "Was the {N} really {V} {T}, or did {S} only say so?",
    "In {year}, {S} {V} the {N} and {V2} the {A} {N2} soon after.",
)
_MONTHS = ("January", "March", "April", "June", "July", "September", "October", "December")


def _sentence(rng: random.Random) -> str:
    fill = {
        "S": rng.choice(_SUBJECTS), "S2": rng.choice(_SUBJECTS), "S3": rng.choice(_SUBJECTS),
        "V": rng.choice(_VERBS), "V2": rng.choice(_VERBS), "A": rng.choice(_ADJECTIVES),
        "A2": rng.choice(_ADJECTIVES), "N": rng.choice(_NOUNS), "N2": rng.choice(_NOUNS),
        "month": rng.choice(_MONTHS), "day": rng.randint(1, 28), "year": rng.randint(1998, 2025),
        "pct": f"{rng.uniform(0.5, 40):.1f}", "amount": f"{rng.randint(40, 90000):,}",
    }  # fmt: skip
    fill["T"] = rng.choice(_TAILS).format(**fill)
    text = rng.choice(_SENTENCES).format(**fill)
    return text[0].upper() + text[1:]


def page_text(rng: random.Random, number: int, target_words: int) -> str:
    """A heading and paragraphs of 3-6 sentences, about ``target_words`` words in all."""
    title = f"{number}. {rng.choice(_ADJECTIVES).title()} {rng.choice(_NOUNS)}"
    paragraphs, count = [title], len(title.split())
    while count < target_words:
        paragraph = []
        for _ in range(rng.randint(3, 6)):
            paragraph.append(_sentence(rng))
            count += len(paragraph[-1].split())
            if count >= target_words:
                break
        paragraphs.append(" ".join(paragraph))
    return "\n".join(paragraphs)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


# -- PDFs --------------------------------------------------------------------------------------


def cached_pdf(name: str, make: Callable[[], bytes]) -> Path:
    """``INPUTS/name/name.pdf``, written by ``make()`` the first time; alone in its folder so
    that indexing the folder indexes just this file."""
    path = INPUTS / name / f"{name}.pdf"
    if not path.exists():
        started = time.perf_counter()
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(make())
        temporary.rename(path)  # not .pdf until complete: an interrupted run leaves no half file
        print(f"wrote {path.name} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return path


def text_pdf_file(pages: int) -> Path:
    return cached_pdf(f"text-{pages}p", lambda: text_pdf(prose_pages(pages, seed=pages)))


def prose_pages(count: int, seed: int, low: int = 300, high: int = 400) -> list[str]:
    rng = random.Random(seed)
    return [page_text(rng, n + 1, rng.randint(low, high)) for n in range(count)]


def body_scan(text: str) -> Image.Image:
    """A page of 12 pt body text as a 150 dpi scanner sees it: black on white, A4."""
    image = Image.new("L", SCAN_PIXELS, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(font_path()), BODY_FONT_PX)
    width, y = SCAN_PIXELS[0] - 2 * BODY_MARGIN_PX, BODY_MARGIN_PX
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            if line and draw.textlength(f"{line} {word}", font=font) > width:
                draw.text((BODY_MARGIN_PX, y), line, font=font, fill=0)
                line, y = word, y + int(BODY_FONT_PX * 1.45)
            else:
                line = f"{line} {word}".strip()
        draw.text((BODY_MARGIN_PX, y), line, font=font, fill=0)
        y += int(BODY_FONT_PX * 2.2)
    if y > SCAN_PIXELS[1] - BODY_MARGIN_PX:
        raise ValueError("page text does not fit on one scanned page")
    return image


def body_scanned_pdf(pages: list[str]) -> bytes:
    pdf = FPDF(format="A4")
    for text in pages:
        pdf.add_page()
        pdf.image(body_scan(text), x=0, y=0, w=A4_MM[0], h=A4_MM[1])
    return bytes(pdf.output())


def scanned_pdf_file(pages: int, style: str) -> tuple[Path, list[str]]:
    """The scanned PDF and the text of its pages (what OCR should read)."""
    if style == "body":
        texts = prose_pages(pages, seed=1000 + pages, low=250, high=300)
        return cached_pdf(f"scan-body-{pages}p", lambda: body_scanned_pdf(texts)), texts
    texts = prose_pages(pages, seed=2000 + pages, low=80, high=95)
    return cached_pdf(f"scan-large-{pages}p", lambda: scanned_pdf(texts)), texts
