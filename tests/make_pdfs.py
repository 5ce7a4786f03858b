"""Test PDFs, generated with fpdf2: with a text layer, scanned (image only), encrypted, broken.

Every function returns the file's bytes; ``write(path, data)`` saves them.
"""

from __future__ import annotations

import io
import subprocess
from datetime import datetime
from functools import cache
from pathlib import Path

import pypdf
from fpdf import FPDF
from fpdf.enums import EncryptionMethod
from PIL import Image, ImageDraw, ImageFont

A4_MM = (210, 297)
# Scanned pages: A4 at 150 dpi, text drawn large so that OCR reads it without trouble.
SCAN_PIXELS = (1240, 1754)
SCAN_FONT_PX = 56
SCAN_MARGIN_PX = 100
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path("/Library/Fonts"))


def write(path: str | Path, data: bytes) -> Path:
    path = Path(path)
    path.write_bytes(data)
    return path


@cache
def font_path() -> Path | None:
    """A TrueType sans font on this machine (DejaVu Sans preferred), or None."""
    try:
        found = subprocess.run(
            ["fc-list", "--format", "%{file}\n"], capture_output=True, text=True, timeout=10
        ).stdout.split()
        candidates = [Path(p) for p in found if p.endswith(".ttf")]
    except (OSError, subprocess.SubprocessError):
        candidates = []
    if not candidates:
        candidates = [p for d in FONT_DIRS if d.is_dir() for p in d.rglob("*.ttf")]
    candidates.sort(key=lambda p: (p.name != "DejaVuSans.ttf", "Sans" not in p.name, p.name))
    return candidates[0] if candidates else None


def pillow_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A TrueType sans font from the system if there is one, else Pillow's built-in font."""
    path = font_path()
    if path is not None:
        try:
            return ImageFont.truetype(str(path), size)
        except OSError:
            pass
    return ImageFont.load_default(size=size)


def _new_pdf(title: str | None, created: datetime | None) -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    if title is not None:
        pdf.set_title(title)
    if created is not None:
        pdf.set_creation_date(created)
    return pdf


def _set_text_font(pdf: FPDF, text: str) -> None:
    """Helvetica for Latin-1 text; a TrueType font (embedded) for anything else."""
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        path = font_path()
        if path is None:
            raise RuntimeError("no TrueType font on this machine for non-Latin-1 text") from None
        pdf.add_font("TestSans", fname=str(path))
        pdf.set_font("TestSans", size=12)
        return
    pdf.set_font("Helvetica", size=12)


def text_pdf(pages: list[str], title: str | None = None, created: datetime | None = None) -> bytes:
    """A PDF with a real text layer, one string per page (long strings wrap; a string too long
    for one page continues on extra pages). An empty string makes a blank page."""
    pdf = _new_pdf(title, created)
    for text in pages:
        pdf.add_page()
        _set_text_font(pdf, text)
        if text:
            pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


def scan_image(text: str, size: tuple[int, int] = SCAN_PIXELS) -> Image.Image:
    """``text`` drawn black on white, large and clear, wrapped to the page width."""
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = pillow_font(SCAN_FONT_PX)
    width = size[0] - 2 * SCAN_MARGIN_PX
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}".strip()
            if line and draw.textlength(candidate, font=font) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    y = SCAN_MARGIN_PX
    for line in lines:
        draw.text((SCAN_MARGIN_PX, y), line, font=font, fill=0)
        y += int(SCAN_FONT_PX * 1.6)
    return image


def scanned_pdf(pages: list[str], title: str | None = None) -> bytes:
    """A PDF whose pages are only images of rendered text, as a scanner makes: no text layer."""
    pdf = _new_pdf(title, None)
    for text in pages:
        pdf.add_page()
        pdf.image(scan_image(text), x=0, y=0, w=A4_MM[0], h=A4_MM[1])
    return bytes(pdf.output())


def encrypted_pdf(
    text: str,
    password: str,
    *,
    owner_password: str = "owner-secret",
    aes: bool = False,
) -> bytes:
    """A one-page text PDF encrypted with ``password`` as the user password. An empty
    ``password`` gives a PDF that opens without one (only the owner password restricts it)."""
    pdf = _new_pdf(None, None)
    method = EncryptionMethod.AES_128 if aes else EncryptionMethod.RC4
    pdf.set_encryption(owner_password, user_password=password, encryption_method=method)
    pdf.add_page()
    _set_text_font(pdf, text)
    pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


def join_pdfs(*parts: bytes) -> bytes:
    """One PDF with the pages of ``parts`` in order (e.g. a typed page, then a scanned one)."""
    writer = pypdf.PdfWriter()
    for part in parts:
        writer.append(pypdf.PdfReader(io.BytesIO(part)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def broken_pdf(kind: str = "truncated") -> bytes:
    """A PDF nothing can read. ``truncated``: a real 3-page PDF cut in half (the catalog and
    cross-reference table at the end are lost); ``garbage``: a PDF header followed by noise."""
    if kind == "truncated":
        whole = text_pdf([f"Page {n} of a file that was cut short." for n in (1, 2, 3)])
        return whole[: len(whole) // 2]
    if kind == "garbage":
        noise = bytes((i * 7919 + 13) % 251 for i in range(4000))
        return b"%PDF-1.7\n" + noise + b"\n%%EOF\n"
    raise ValueError(f"unknown kind {kind!r}: use 'truncated' or 'garbage'")
