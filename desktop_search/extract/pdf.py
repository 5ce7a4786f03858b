"""PDF files: text per page (pypdf), OCR of pages without a text layer, page rendering (PDFium).

Each page's text is chunked (:func:`~desktop_search.extract.chunking.chunk_text`) into items
located by their 1-based page number. Pages with (almost) no extractable text, typically scans,
are rendered and read by the OCR function the caller passes. Pages are processed one by one and
nothing rendered is kept, so memory stays flat on a 1,000-page file. A page that fails is noted
and skipped; only a file that cannot be opened at all raises FileNotIndexableError.

No file may cost more than :mod:`~desktop_search.extract.pdf_limits` allows: at most
MAX_PAGES pages are read and MAX_OCR_PAGES rendered for OCR; a page object the page tree lists
again (a few hundred bytes can declare 10,000 pages that way) is read once; and PDFium loads a
page (to see what it draws, to render it) only after :class:`PageCost` found what it would
decode within budget. Every cap that applies leaves a note.

PDFium is not thread-safe, not even across different documents, and the indexer extracts in a
thread pool while the GUI renders previews: every PDFium call here holds :data:`PDFIUM_LOCK`
(anything else in the app calling PDFium must take it too). OCR runs outside the lock.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pypdf
import pypdfium2 as pdfium
from PIL import Image
from pypdf.errors import DependencyError, FileNotDecryptedError

from desktop_search.errors import DesktopSearchError, FileNotIndexableError
from desktop_search.extract.chunking import chunk_text
from desktop_search.extract.document import CHUNK, PDF, Document, ReadText, TextItem
from desktop_search.extract.page_text import clean_page_text
from desktop_search.extract.pdf_limits import LIMITS, PageCost, PdfLimits, render_scale

log = logging.getLogger(__name__)

PDFIUM_LOCK = threading.RLock()

# Pages are rendered for OCR with this long side: about 140 dpi on A4, enough for body text.
OCR_LONG_SIDE = 1600
# A page with fewer letters and digits than this in its text layer counts as having none
# (a scan often carries a stray page number or a scanner's stamp as text).
MIN_TEXT_LAYER_CHARS = 20
# pypdf logs a warning for every defect it works around ("Multiple definitions in dictionary",
# "Ignoring wrong pointing object"); real-world folders have thousands. Only its errors reach
# the app's log (unless the app set a level for "pypdf" itself); a page that really cannot be
# read shows up in the file's notes.
_PYPDF_LOGGER = logging.getLogger("pypdf")
if _PYPDF_LOGGER.level == logging.NOTSET:
    _PYPDF_LOGGER.setLevel(logging.ERROR)

# pypdf keeps every object it parsed (content streams decoded) for the reader's lifetime, about
# 15 KB per page of plain text and far more for rich pages. Dropping that cache every so many
# pages bounds memory; not after every page, as shared fonts would be parsed again each time.
FORGET_EVERY_PAGES = 25

_ENCRYPTED = "encrypted PDF (password protected)"
def _short(exc: BaseException) -> str:
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    detail = detail[:120]
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def _open_reader(data: bytes) -> pypdf.PdfReader:
    """A pypdf reader with the document decrypted if it opens without a password."""
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
    except Exception as exc:  # pypdf raises many kinds on broken input
        raise FileNotIndexableError(f"damaged PDF: {_short(exc)}") from exc
    if reader.is_encrypted:
        try:
            decrypted = reader.decrypt("")
        except DependencyError as exc:  # AES without the cryptography package
            raise FileNotIndexableError(f"encrypted PDF (cannot decrypt: {_short(exc)})") from exc
        except Exception as exc:  # an encryption handler pypdf does not implement
            raise FileNotIndexableError(f"encrypted PDF (cannot decrypt: {_short(exc)})") from exc
        if decrypted == pypdf.PasswordType.NOT_DECRYPTED:
            raise FileNotIndexableError(_ENCRYPTED)
    return reader


def _page_count(reader: pypdf.PdfReader) -> int:
    try:
        count = len(reader.pages)
    except FileNotDecryptedError as exc:
        raise FileNotIndexableError(_ENCRYPTED) from exc
    except Exception as exc:
        raise FileNotIndexableError(f"damaged PDF: {_short(exc)}") from exc
    if count == 0:
        raise FileNotIndexableError("damaged PDF: no pages")
    return count


def _metadata(reader: pypdf.PdfReader, notes: list[str]) -> tuple[str | None, str | None]:
    """The document's title and creation time (ISO 8601), when the file says."""
    try:
        info = reader.metadata
        if info is None:
            return None, None
        title = " ".join(clean_page_text(str(info.title or "")).split()) or None
    except Exception as exc:
        notes.append(f"metadata unreadable ({_short(exc)})")
        return None, None
    try:
        created = info.creation_date
    except Exception:  # a malformed date string is common and harmless
        created = None
    return title, created.isoformat(timespec="seconds") if created else None


@contextmanager
def _pdfium_document(data: bytes) -> Iterator[pdfium.PdfDocument]:
    with PDFIUM_LOCK:
        document = pdfium.PdfDocument(data)
    try:
        yield document
    finally:
        with PDFIUM_LOCK:
            document.close()


def _render(
    document: pdfium.PdfDocument, index: int, long_side: int, max_megapixels: float
) -> Image.Image:
    """Page ``index`` (0-based) as an RGB image whose longer side is at most ``long_side``, and
    of at most ``max_megapixels`` whatever the page's shape. Only for a page that passed
    :func:`_check_page`."""
    with PDFIUM_LOCK:
        page = document[index]
        try:
            width, height = page.get_size()
            bitmap = page.render(scale=render_scale(width, height, long_side, max_megapixels))
            try:
                image = bitmap.to_pil()
                # Copy out of PDFium's buffer (a BGR bitmap already is a copy) before closing it.
                image = image.convert("RGB") if image.mode != "RGB" else image.copy()
            finally:
                bitmap.close()
        finally:
            page.close()
    if max(image.size) > long_side:  # rounding up in the renderer
        image.thumbnail((long_side, long_side))
    return image


def _too_large_reason(number: int, reason: str) -> str:
    return f"page {number} too large to render ({reason})"


def _check_page(reader: pypdf.PdfReader, cost: PageCost, number: int) -> None:
    """Raise FileNotIndexableError unless PDFium may load page ``number`` (1-based)."""
    try:
        page = reader.pages[number - 1]
    except Exception as exc:
        raise FileNotIndexableError(
            f"damaged PDF: page {number} unreadable ({_short(exc)})"
        ) from exc
    reason = cost.too_large(page)
    if reason is not None:
        raise FileNotIndexableError(_too_large_reason(number, reason))


def render_page(data: bytes, page: int, size: int, limits: PdfLimits = LIMITS) -> Image.Image:
    """Page ``page`` (1-based) of a PDF rendered in RGB to fit in ``size`` x ``size`` pixels
    (and ``limits.max_megapixels``). A page whose drawing would decode more than ``limits``
    allow raises FileNotIndexableError("page N too large to render (...)")."""
    return _render_page(data, None, PageCost(limits), page, size)


def _render_page(
    data: bytes, reader: pypdf.PdfReader | None, cost: PageCost, page: int, size: int
) -> Image.Image:
    """render_page with the file's reader and measurements, when the caller has them."""
    if size < 1:
        raise ValueError(f"size must be positive, got {size}")
    try:
        with _pdfium_document(data) as document:
            count = len(document)
            if not 1 <= page <= count:
                raise FileNotIndexableError(f"the PDF has no page {page} ({count} pages)")
            _check_page(reader or _open_reader(data), cost, page)
            return _render(document, page - 1, size, cost.limits.max_megapixels)
    except FileNotIndexableError:
        raise
    except pdfium.PdfiumError as exc:
        if exc.err_code == pdfium.raw.FPDF_ERR_PASSWORD:
            raise FileNotIndexableError(_ENCRYPTED) from exc
        raise FileNotIndexableError(f"damaged PDF: {_short(exc)}") from exc
    except Exception as exc:  # PDFium bindings raise a few other kinds on odd pages
        raise FileNotIndexableError(f"damaged PDF: {_short(exc)}") from exc


def _layer_text(page: pypdf.PageObject, number: int, notes: list[str]) -> str | None:
    try:
        return clean_page_text(page.extract_text() or "")
    except Exception as exc:  # pypdf fails in many ways on odd pages; the others still count
        log.debug("page %d: text extraction failed", number, exc_info=True)
        notes.append(f"page {number}: text unreadable ({_short(exc)})")
        return None


def _letters(text: str) -> int:
    return sum(char.isalnum() for char in text)


# What a scan (or text drawn as outlines) can hide in: anything drawn that is not text.
_DRAWN = (
    pdfium.raw.FPDF_PAGEOBJ_IMAGE,
    pdfium.raw.FPDF_PAGEOBJ_PATH,
    pdfium.raw.FPDF_PAGEOBJ_SHADING,
)


class _PageReader:
    """Reads pages' text: the text layer, or OCR of the rendered page when the layer is (almost)
    empty and the page draws something else: an image, or paths (text converted to outlines).
    A short page of text alone ("Thank you.") or an empty page is taken as it is."""

    def __init__(
        self, data: bytes, read_text: ReadText | None, notes: list[str], cost: PageCost
    ) -> None:
        self.data = data
        self.read_text = read_text
        self.notes = notes
        self.cost = cost  # checks every page before PDFium loads it
        self.ocr_pages = 0  # pages rendered for OCR so far
        self.not_read = 0  # pages without a text layer past the OCR cap
        self._pdfium: pdfium.PdfDocument | None = None  # opened when a page needs a look

    def text(self, page: pypdf.PageObject, number: int) -> tuple[str, bool]:
        """The page's text and whether it came from OCR."""
        layer = _layer_text(page, number, self.notes)
        text = layer or ""
        if _letters(text) >= MIN_TEXT_LAYER_CHARS:
            return text, False
        if self.read_text is not None and self.ocr_pages >= self.cost.limits.max_ocr_pages:
            self.not_read += 1  # PDFium is not even asked what the page draws: that costs too
            return text, False
        too_large = self.cost.too_large(page)
        if too_large is not None:
            self.notes.append(_too_large_reason(number, too_large))
            return text, False
        # A page pypdf could not read is worth OCR whatever it draws.
        if layer is not None and not self._draws(number):
            return text, False
        if self.read_text is None:
            if layer is not None:  # an unreadable page is already in the notes
                self.notes.append(f"page {number} has no text layer (OCR not available)")
            return text, False
        read = self._ocr(number)
        if read is not None and _letters(read) > _letters(text):
            return read, True
        return text, False

    def _document(self) -> pdfium.PdfDocument:
        if self._pdfium is None:
            with PDFIUM_LOCK:
                self._pdfium = pdfium.PdfDocument(self.data)
        return self._pdfium

    def _draws(self, number: int) -> bool:
        """Whether page ``number`` draws anything besides text (True when PDFium cannot tell)."""
        try:
            document = self._document()
            with PDFIUM_LOCK:
                page = document[number - 1]
                try:
                    return any(True for _ in page.get_objects(filter=_DRAWN, max_depth=3))
                finally:
                    page.close()
        except Exception:
            log.debug("page %d: cannot list its objects", number, exc_info=True)
            return True

    def _ocr(self, number: int) -> str | None:
        self.ocr_pages += 1
        try:
            image = _render(
                self._document(), number - 1, OCR_LONG_SIDE, self.cost.limits.max_megapixels
            )
        except Exception as exc:
            self.notes.append(f"page {number}: cannot render for OCR ({_short(exc)})")
            return None
        try:
            return clean_page_text(self.read_text(image)) if self.read_text else None
        except DesktopSearchError as exc:  # the OCR engine cannot load: stop asking it
            self.notes.append(f"page {number}: OCR not available ({exc})")
            self.read_text = None
        except Exception as exc:
            log.debug("page %d: OCR failed", number, exc_info=True)
            self.notes.append(f"page {number}: OCR failed ({_short(exc)})")
        return None

    def finish(self) -> None:
        """Note the pages the OCR cap left unread."""
        if self.not_read:
            self.notes.append(
                f"OCR stopped after {self.cost.limits.max_ocr_pages} pages (the most read per "
                f"PDF): {self.not_read} more pages without a text layer were not read"
            )

    def close(self) -> None:
        if self._pdfium is not None:
            with PDFIUM_LOCK:
                self._pdfium.close()
            self._pdfium = None


def _thumbnail(
    data: bytes, reader: pypdf.PdfReader, cost: PageCost, size: int, notes: list[str]
) -> Image.Image | None:
    try:
        return _render_page(data, reader, cost, 1, size)
    except FileNotIndexableError as error:
        notes.append(f"no thumbnail: {error.reason}")
    except Exception as exc:
        notes.append(f"no thumbnail: page 1 cannot be rendered ({_short(exc)})")
    return None


def _object_id(page: pypdf.PageObject) -> tuple[int, int] | None:
    """Where the page object is in the file (None for a page written inline in the tree)."""
    reference = page.indirect_reference
    return None if reference is None else (reference.idnum, reference.generation)


def extract_pdf(
    data: bytes,
    *,
    read_text: ReadText | None = None,
    thumbnail_size: int = 256,
    limits: PdfLimits = LIMITS,
) -> Document:
    """The text of a PDF as page-located chunks, with title, creation time, page count and a
    thumbnail of page 1. ``read_text`` (OCR) reads pages without a text layer; without it they
    are skipped with a note. Raises FileNotIndexableError for encrypted or unreadable files.
    ``limits``: what the file may cost (pages read, pages OCR'd, what PDFium decodes)."""
    reader = _open_reader(data)
    document = Document(kind=PDF, pages=_page_count(reader))
    document.title, document.created_at = _metadata(reader, document.notes)
    cost = PageCost(limits)  # one per file: fonts and images pages share are measured once
    document.thumbnail = _thumbnail(data, reader, cost, thumbnail_size, document.notes)
    pages = _PageReader(data, read_text, document.notes, cost)
    # Each page object is read once: the page tree may list the same one again and again (it
    # must not, but a 1 KB file can so declare 10,000 pages for OCR). Its text is the same, so
    # a repeat adds nothing to find and is left out.
    first_seen: dict[tuple[int, int], int] = {}
    repeats = 0
    try:
        for number in range(1, min(document.pages, limits.max_pages) + 1):
            try:
                page = reader.pages[number - 1]
            except Exception as exc:
                document.notes.append(f"page {number}: unreadable ({_short(exc)})")
                continue
            key = _object_id(page)
            if key is not None and first_seen.setdefault(key, number) != number:
                repeats += 1
                continue
            text, from_ocr = pages.text(page, number)
            locator = {"page": number, "ocr": True} if from_ocr else {"page": number}
            document.items.extend(
                TextItem(kind=CHUNK, text=chunk, locator=dict(locator), title=document.title)
                for chunk in chunk_text(text)
            )
            if number % FORGET_EVERY_PAGES == 0:
                reader.resolved_objects.clear()  # re-read from the file when needed again
        pages.finish()
    finally:
        pages.close()
    if repeats:
        document.notes.append(
            f"{repeats} pages repeat an earlier page (the same page object): read once"
        )
    if document.pages > limits.max_pages:
        document.notes.append(
            f"only the first {limits.max_pages:,} of {document.pages:,} pages are indexed"
        )
    return document
