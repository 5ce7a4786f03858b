"""Test PDFs, generated with fpdf2: with a text layer, scanned (image only), encrypted, broken.

And written byte by byte (``raw_pdf``), files no generator would make, for the limits: FlateDecode
bombs in a page's content, an image or an inline image; forms nested and drawn many times; a page
tree listing one page object thousands of times; 1,000 pages of text in a moment.

Every function returns the file's bytes; ``write(path, data)`` saves them.
"""

from __future__ import annotations

import io
import math
import struct
import subprocess
import textwrap
import zlib
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


# ---------------------------------------------------------------------------------------------
# Hand-made PDFs for the limits: files a generator would never write, built byte by byte.

# Zeros deflate about 1,030:1; the bomb is made of 1 MB blocks compressed once and repeated.
_BOMB_BLOCK = 1 << 20
_ADLER_MOD = 65521


def raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF of ``objects``, the bodies of objects 1..n (object 1 the catalog), with a correct
    cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref,
    )  # fmt: skip
    return bytes(out)


def pdf_stream(entries: bytes, data: bytes) -> bytes:
    """A stream object's body: ``entries`` of its dictionary (without /Length) and ``data``."""
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (entries, len(data), data)


def zeros_deflated(size: int) -> bytes:
    """zlib data inflating to ``size`` zero bytes (a multiple of 1 MB), made in a moment: after a
    full flush the compressor starts afresh, so every 1 MB block compresses to the same bytes.
    1 GB of zeros takes about 1 MB; the checksum of n zeros is simply (n mod 65521) << 16 | 1."""
    if size <= 0 or size % _BOMB_BLOCK:
        raise ValueError(f"size must be a positive multiple of {_BOMB_BLOCK}, got {size}")
    compressor = zlib.compressobj(9)
    block = bytes(_BOMB_BLOCK)
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    end = compressor.flush(zlib.Z_FINISH)[:-4]  # the final empty block, without the checksum
    adler = ((size % _ADLER_MOD) << 16) | 1
    return first + again * (size // _BOMB_BLOCK - 1) + end + struct.pack(">I", adler)


def flate_bomb_pdf(inflated: int, where: str = "content") -> bytes:
    """A one-page PDF with a FlateDecode stream of about ``inflated / 1030`` bytes that inflates
    to ``inflated`` zero bytes. ``content``: the page's content stream (zeros are whitespace to a
    content parser); ``image``: an RGB image XObject the page draws whose declared size matches
    the inflated data (a square of side sqrt(inflated / 3))."""
    bomb = zeros_deflated(inflated)
    catalog = b"<< /Type /Catalog /Pages 2 0 R >>"
    tree = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
    if where == "content":
        page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>"
        return raw_pdf([catalog, tree, page, pdf_stream(b"/Filter /FlateDecode", bomb)])
    if where == "image":
        side = math.isqrt(inflated // 3)
        page = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
                b" /Resources << /XObject << /Im0 5 0 R >> >> >>")  # fmt: skip
        draw = pdf_stream(b"", b"q 595 0 0 842 0 0 cm /Im0 Do Q")
        image = pdf_stream(
            b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB"
            b" /BitsPerComponent 8 /Filter /FlateDecode" % (side, side),
            bomb,
        )
        return raw_pdf([catalog, tree, page, draw, image])
    raise ValueError(f"unknown place {where!r}: use 'content' or 'image'")


def _pdf_string(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("latin-1") + b")"


def _text_content(text: str, width: int = 90) -> bytes:
    """Helvetica 11 pt lines of ``text`` (Latin-1), wrapped at ``width`` characters."""
    lines = textwrap.wrap(text, width) or [""]
    shown = b" T* ".join(_pdf_string(line) + b" Tj" for line in lines)
    return b"BT /F1 11 Tf 14 TL 56 780 Td " + shown + b" ET"


_HELVETICA = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"


def text_pages_pdf(pages: list[str]) -> bytes:
    """A PDF with a text layer, one string per page, written directly (fpdf2 takes 40 s for
    1,000 pages; this a moment): Helvetica, no wrapping onto further pages."""
    count = len(pages)
    kids = b" ".join(b"%d 0 R" % (4 + 2 * n) for n in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count),
        _HELVETICA,
    ]
    for n, text in enumerate(pages):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R"
            b" /Resources << /Font << /F1 3 0 R >> >> >>" % (5 + 2 * n)
        )
        objects.append(pdf_stream(b"/Filter /FlateDecode", zlib.compress(_text_content(text))))
    return raw_pdf(objects)


def drawn_pages_pdf(count: int) -> bytes:
    """``count`` distinct page objects without text that all draw one shared content stream (a
    frame and a diagonal): a small file of pages that each look like a page for OCR."""
    kids = b" ".join(b"%d 0 R" % (4 + n) for n in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count),
        pdf_stream(b"", b"50 50 495 742 re 50 50 m 545 792 l S"),
    ]
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R >>"
    objects += [page] * count
    return raw_pdf(objects)


def shared_pages_pdf(count: int, drawing: str = "paths") -> bytes:
    """A PDF whose page tree lists one page object ``count`` times: a few hundred bytes that
    declare ``count`` pages. The page draws ``paths`` (a frame and a diagonal, as text turned
    into outlines would) or an ``image`` (a small grey square, as a scan), without text, so each
    occurrence looks like a page for OCR; or ``text``: one line of text."""
    kids = b" ".join([b"3 0 R"] * count)
    catalog = b"<< /Type /Catalog /Pages 2 0 R >>"
    tree = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count)
    if drawing == "text":
        page = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
                b" /Resources << /Font << /F1 5 0 R >> >> >>")  # fmt: skip
        line = _text_content("A page the page tree lists again and again, with its own words.")
        return raw_pdf([catalog, tree, page, pdf_stream(b"", line), _HELVETICA])
    if drawing == "paths":
        page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>"
        frame = pdf_stream(b"", b"50 50 495 742 re 50 50 m 545 792 l S")
        return raw_pdf([catalog, tree, page, frame])
    if drawing == "image":
        page = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
                b" /Resources << /XObject << /Im0 5 0 R >> >> >>")  # fmt: skip
        draw = pdf_stream(b"", b"q 495 0 0 742 50 50 cm /Im0 Do Q")
        image = pdf_stream(
            b"/Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceGray"
            b" /BitsPerComponent 8", bytes([128]) * 64,
        )  # fmt: skip
        return raw_pdf([catalog, tree, page, draw, image])
    raise ValueError(f"unknown drawing {drawing!r}: use 'paths', 'image' or 'text'")


def nested_forms_pdf(levels: int, fan_out: int) -> bytes:
    """A one-page PDF of form XObjects ``levels`` deep, each drawing the next ``fan_out`` times
    (the page draws the first as often), the last a single line: fan_out ** levels lines from
    a few KB."""
    catalog = b"<< /Type /Catalog /Pages 2 0 R >>"
    tree = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
    page = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
            b" /Resources << /XObject << /F 5 0 R >> >> >>")  # fmt: skip
    objects = [catalog, tree, page, pdf_stream(b"", b"/F Do\n" * fan_out)]
    for level in range(levels):
        form = b"/Type /XObject /Subtype /Form /BBox [0 0 595 842]"
        if level < levels - 1:
            next_form = b" /Resources << /XObject << /F %d 0 R >> >>" % (6 + level)
            objects.append(pdf_stream(form + next_form, b"/F Do\n" * fan_out))
        else:
            objects.append(pdf_stream(form, b"10 10 m 500 800 l S"))
    return raw_pdf(objects)


def inline_image_bomb_pdf(inflated: int) -> bytes:
    """A one-page PDF whose content draws an 8 x 8 inline image (BI ... ID ... EI) whose
    FlateDecode data inflates to ``inflated`` zero bytes (the content stream itself is not
    compressed, so only the inline image's data can tell)."""
    content = (b"q 595 0 0 842 0 0 cm BI /W 8 /H 8 /BPC 8 /CS /G /F /Fl ID "
               + zeros_deflated(inflated) + b"\nEI Q")  # fmt: skip
    catalog = b"<< /Type /Catalog /Pages 2 0 R >>"
    tree = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>"
    return raw_pdf([catalog, tree, page, pdf_stream(b"", content)])
