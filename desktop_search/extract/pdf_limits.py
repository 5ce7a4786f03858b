# Over 400 lines: one job: what a PDF page costs PDFium; its first 120 lines are measurements.
"""What one PDF may cost: pages read, pages OCR'd, and what PDFium may decode to draw a page.

pypdf stops decoding a stream at 75 MB; PDFium has no such limit and decodes whatever a page uses
when the page is loaded (to list what it draws) or rendered. Measured with pypdfium2 5.15:

- a 1 MB file whose page content is FlateDecode data inflating to 1 GB of zeros: 2.1 GB peak RSS
  and 16 s for its thumbnail and one look at the page (PDFium holds the content twice);
- an 8 x 8 inline image (``BI ... ID ... EI``) whose 250 KB of Flate data inflate to 256 MB:
  +670 MB (PDFium inflates all of it to find where the image ends);
- form XObjects three deep, each drawing the next 100 times (a 2.7 KB file): a million forms
  and paths parsed, 1.45 GB and 87 s; four deep runs out of memory.

So before PDFium loads a page, :class:`PageCost` adds up with pypdf what drawing it would make
PDFium decode, decoding no more than the budget itself (FlateDecode is inflated incrementally
and dropped as it comes), in two budgets:

- *content*: drawing instructions, which PDFium parses into objects: the page's content
  streams, and the content of every form XObject each time it is drawn (PDFium parses a form
  again for every ``Do``), plus a fixed cost per ``Do``; tiling patterns, Type 3 glyphs and
  annotation appearances once each; and inline images at their declared and inflated size
  (PDFium inflates them whole while parsing, and holds them 2.6 times over);
- *data*: everything else decoded: images at their declared size (width x height x bits per
  pixel), the fonts the page selects (``Tf``), colour profiles, functions, each counted once
  (PDFium keeps them per document). Only what is drawn or selected counts: many files share one
  resource dictionary holding every image and font of the document.

Only pages PDFium is asked to load are measured (page 1 for the thumbnail, pages without a text
layer, the page the preview shows); what pages share is measured once per file.
"""

from __future__ import annotations

import logging
import math
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pypdf
from pypdf.errors import LimitReachedError
from pypdf.filters import ASCII85Decode, ASCIIHexDecode, LZWDecode, RunLengthDecode
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    StreamObject,
)

log = logging.getLogger(__name__)

# Pages read per PDF. A long real manual has about 1,100 pages of text and is read whole; legal
# codes and catalogues reach a few thousand. pypdf reads about 6 ms a page of text (1,000 dense
# pages: 6 s of CPU), so this is under a minute of reading and some 15,000 passages to embed.
# Past it a file is not a document someone reads but a dump, or a page tree that lists one tiny
# page thousands of times.
MAX_PAGES = 5_000
# Pages rendered and read by OCR per PDF. OCR costs about 1-6 s a page (PP-OCRv4 on 2 cores,
# depending on how much text the page holds), so 100 pages is 2-10 minutes for one file: a
# scanned contract, statement or thesis is read whole; a scanned book gets its first 100 pages
# and a note, instead of holding an indexing thread for hours.
MAX_OCR_PAGES = 100
# Drawing instructions PDFium may parse for one page. 16 MB of short line segments (570,000
# paths, a dense map or CAD drawing) took 1.6 s to load, 5.8 s to draw at 1600 px and +128 MB;
# 16 MB of inline image data costs about +42 MB. Real pages of text hold 2-50 KB, vector
# drawings up to a few MB, inline images a few KB (a gray A4 scan at 300 dpi: 8.7 MB).
MAX_PAGE_CONTENT_BYTES = 16 << 20
# What one drawn XObject (``Do``) costs PDFium besides its content, counted in bytes of content:
# 100,000 draws of a one-line form took +125 MB (about 1.3 KB each), what 160 bytes of short
# line segments cost (16 MB: +128 MB). The content budget thus allows 100,000 draws.
DRAW_BYTES = 160
# Images, fonts and other data PDFium may decode for one page. A colour A4 scan at 600 dpi is
# 105 MB declared, at 300 dpi 26 MB; CJK fonts are up to 20 MB. PDFium streams a Flate or JPEG
# image and keeps it at the size drawn, but decodes all of it (256 MB declared: +37 MB; 1 GB:
# 3 s; an 8000 x 8000 JPEG 2000: +82 MB), and holds every font and colour profile whole.
MAX_PAGE_DATA_BYTES = 256 << 20
# Largest bitmap rendered, whatever size a caller asks for: 16 MP is 48-64 MB of pixels, twice
# a 4K screen. OCR renders 2.6 MP (1600 px on the long side), the preview at most 5.8 MP.
MAX_RENDER_MEGAPIXELS = 16.0
# PDFium stops following nested forms at 40 levels (kMaxFormLevel in its content parser) and
# skips a form that is already being drawn; the walk here does the same.
MAX_FORM_DEPTH = 40

# Inflated in steps of this much, so a bomb never sits in memory beyond the budget + one step.
_STEP = 1 << 20
_FLATE = frozenset({"/FlateDecode", "/Fl"})
_TEXT_FILTERS = {
    "/ASCIIHexDecode": ASCIIHexDecode, "/AHx": ASCIIHexDecode,
    "/ASCII85Decode": ASCII85Decode, "/A85": ASCII85Decode,
}  # fmt: skip
_OTHER_FILTERS = {
    "/LZWDecode": LZWDecode, "/LZW": LZWDecode,
    "/RunLengthDecode": RunLengthDecode, "/RL": RunLengthDecode,
}  # fmt: skip
# Components per pixel of the colour spaces, by name (inline images use the short names).
_COMPONENTS = {
    "/DeviceGray": 1, "/CalGray": 1, "/G": 1, "/Indexed": 1, "/I": 1, "/Separation": 1,
    "/DeviceRGB": 3, "/CalRGB": 3, "/RGB": 3, "/Lab": 3,
    "/DeviceCMYK": 4, "/CMYK": 4,
}  # fmt: skip
_UNKNOWN_COMPONENTS = 4  # the most any colour space but DeviceN has
# Keys that lead out of what a page draws (to other pages, the outline, the document's
# structure); a walk from a page's resources never follows them.
_ELSEWHERE = frozenset({
    "/Parent", "/P", "/Dest", "/A", "/AA", "/Popup", "/IRT", "/Next", "/Prev", "/First",
    "/Last", "/Kids", "/Metadata", "/StructParent", "/StructParents", "/Pg", "/Thread", "/B",
})  # fmt: skip

# "/Name Do": an XObject drawn. Names end at whitespace or a delimiter.
_NAME = rb"/([^\s/\[\]()<>{}%]*)"
_DO = re.compile(_NAME + rb"\s*Do(?![^\s/\[\]()<>{}%])")
# "/Name 12 Tf": a font selected.
_TF = re.compile(_NAME + rb"\s+[-+]?(?:\d+\.?\d*|\.\d+)\s*Tf(?![^\s/\[\]()<>{}%])")
# An inline image: BI, its dictionary (short: a few entries), ID and one whitespace byte.
_INLINE = re.compile(rb"(?<![^\s\[\]()<>{}/%])BI\s(.{0,2000}?)(?<=\s)ID\s", re.DOTALL)
_TOKEN = re.compile(_NAME + rb"|\[|\]|[-+]?\d+(?:\.\d*)?|true|false")
_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")


@dataclass(frozen=True)
class PdfLimits:
    """What one PDF may cost (the module's constants; tests pass smaller ones)."""

    max_pages: int = MAX_PAGES
    max_ocr_pages: int = MAX_OCR_PAGES
    max_content_bytes: int = MAX_PAGE_CONTENT_BYTES
    max_data_bytes: int = MAX_PAGE_DATA_BYTES
    max_megapixels: float = MAX_RENDER_MEGAPIXELS


LIMITS = PdfLimits()


def render_scale(width: float, height: float, long_side: int, max_megapixels: float) -> float:
    """The scale that fits a page of ``width`` x ``height`` points in ``long_side`` pixels and
    keeps its bitmap (sides rounded up, as pypdfium2 does) within ``max_megapixels``."""
    width, height = max(width, 1.0), max(height, 1.0)
    budget = max_megapixels * 1_000_000
    scale = min(long_side / max(width, height), math.sqrt(budget / (width * height)))
    while scale > 0 and math.ceil(width * scale) * math.ceil(height * scale) > budget:
        scale *= 0.99  # the rounding of a side added a row or a column too many
    return scale


def _megabytes(size: int) -> str:
    return f"{size / (1 << 20):g} MB"


class _OverBudget(Exception):
    """What exceeds which budget (the text of the note)."""


@dataclass
class _Content:
    """A content stream measured: its decoded size, what it draws and with which fonts, and
    its inline images' data."""

    size: int  # more than the content budget when measuring stopped there
    draws: Counter[str]  # XObject names drawn with Do, and how often
    fonts: frozenset[str]  # font names selected with Tf
    inline: int  # bytes its inline images decode to (declared pixels + inflated data)


class _Tally:
    """One page's costs so far; raises _OverBudget as soon as one exceeds its budget."""

    def __init__(self, limits: PdfLimits) -> None:
        self.limits = limits
        self.content = 0
        self.data = 0
        self.counted: set[Any] = set()  # data streams and resource dictionaries seen

    def add_content(self, size: int) -> None:
        self.content += size
        if self.content > self.limits.max_content_bytes:
            limit = _megabytes(self.limits.max_content_bytes)
            raise _OverBudget(f"more than {limit} of drawing instructions")

    def add_data(self, size: int) -> None:
        self.data += size
        if self.data > self.limits.max_data_bytes:
            limit = _megabytes(self.limits.max_data_bytes)
            raise _OverBudget(f"more than {limit} of images, fonts and other data")

    def first_time(self, key: Any) -> bool:
        if key in self.counted:
            return False
        self.counted.add(key)
        return True


class PageCost:
    """Checks pages of one PDF before PDFium loads them. What was measured of a stream that
    pages share (fonts, images, forms) is kept for the next page."""

    def __init__(self, limits: PdfLimits = LIMITS) -> None:
        self.limits = limits
        self._contents: dict[tuple[int, int], _Content] = {}
        self._data: dict[tuple[int, int], int] = {}

    def too_large(self, page: pypdf.PageObject) -> str | None:
        """Why PDFium must not load ``page`` ("more than 16 MB of drawing instructions"), or
        None. Parts pypdf cannot read cost nothing: PDFium cannot draw them either."""
        tally = _Tally(self.limits)
        try:
            resources = _resolve(page.get("/Resources"))
            self._draw(tally, page.get("/Contents"), resources, 1, ())
            for annotation in _items(page.get("/Annots")):
                appearances = _resolve(_get(annotation, "/AP"))
                for key in ("/N", "/R", "/D"):
                    for stream in _appearance_streams(_get(appearances, key)):
                        own = _resolve(stream.get("/Resources")) or resources
                        self._draw(tally, stream, own, 1, ())
        except _OverBudget as over:
            return str(over)
        except Exception as exc:  # what cannot be measured is not handed to PDFium either
            log.debug("page resources cannot be measured", exc_info=True)
            return f"its resources cannot be measured ({type(exc).__name__})"
        return None

    # -- drawing: content streams and the XObjects they draw ---------------------------------

    def _draw(
        self, tally: _Tally, contents: Any, resources: Any, times: int, forms: tuple[Any, ...]
    ) -> None:
        """Count ``contents`` (a stream or an array of them) drawn ``times`` times with
        ``resources``, and everything it draws. ``forms``: the forms being drawn (outermost
        first), never followed again."""
        draws: Counter[str] = Counter()
        fonts: set[str] = set()
        for stream in _streams(contents):
            measured = self._content(stream)
            tally.add_content((measured.size + measured.inline) * times)
            draws.update(measured.draws)
            fonts |= measured.fonts
        self._resources(tally, resources, forms)
        font_resources = _resolve(_get(resources, "/Font"))
        for name in sorted(fonts):
            self._walk(tally, _get(font_resources, "/" + name), resources, forms)
        xobjects = _resolve(_get(resources, "/XObject"))
        for name, count in draws.items():
            tally.add_content(DRAW_BYTES * count * times)
            xobject = _resolve(_get(xobjects, "/" + name))
            if not isinstance(xobject, StreamObject):
                continue  # PDFium skips a name it cannot find
            subtype = xobject.get("/Subtype")
            if subtype == "/Image":
                self._image(tally, xobject)
            elif subtype == "/Form":
                key = _key(xobject)
                if key in forms or len(forms) >= MAX_FORM_DEPTH:
                    continue
                own = _resolve(xobject.get("/Resources")) or resources
                self._draw(tally, xobject, own, times * count, (*forms, key))

    def _content(self, stream: StreamObject) -> _Content:
        """A content stream's size, the XObjects it draws and its inline images' data."""
        key = _ref(stream)
        if key is not None and key in self._contents:
            return self._contents[key]
        budget = self.limits.max_content_bytes
        size, data = _decode(stream, budget, keep=True)
        if data is None or size > budget:
            measured = _Content(size, Counter(), frozenset(), 0)
        else:
            measured = _Content(
                size,
                Counter(_unescape(name) for name in _DO.findall(data)),
                frozenset(_unescape(name) for name in _TF.findall(data)),
                _inline_images(data, budget),
            )
        if key is not None:
            self._contents[key] = measured
        return measured

    def _image(self, tally: _Tally, image: StreamObject) -> None:
        """An image XObject (and its masks), once per page."""
        if not tally.first_time(("image", _key(image))):
            return
        tally.add_data(self._image_bytes(image))
        for mask in ("/SMask", "/Mask"):
            found = _resolve(image.get(mask))
            if isinstance(found, StreamObject):
                self._image(tally, found)
        self._walk(tally, image.get("/ColorSpace"), None, ())

    def _image_bytes(self, image: StreamObject) -> int:
        """Its declared size, plus what its filters before the image codec decode to (PDFium
        decodes those whole, and streams the last one)."""
        key = _ref(image)
        if key is not None and key in self._data:
            return self._data[key]
        declared = _declared_size(
            image.get("/Width"), image.get("/Height"), image.get("/BitsPerComponent"),
            image.get("/ColorSpace"), image.get("/ImageMask"),
        )  # fmt: skip
        filters = _filters(image)
        before_codec = 0
        if len(filters) > 1:
            before_codec, _ = _decode_chain(
                _raw(image), filters[:-1], self.limits.max_data_bytes, keep=False
            )
        size = declared + before_codec
        if key is not None:
            self._data[key] = size
        return size

    # -- resources: fonts, patterns, shadings, colour spaces, graphics states ----------------

    def _resources(self, tally: _Tally, resources: Any, forms: tuple[Any, ...]) -> None:
        if not isinstance(resources, DictionaryObject) or not tally.first_time(
            ("resources", _key(resources))
        ):
            return
        for name, value in resources.items():
            # XObjects count when they are drawn, fonts when they are selected.
            if name not in ("/XObject", "/Font", "/ProcSet"):
                self._walk(tally, value, resources, forms)

    def _walk(self, tally: _Tally, start: Any, resources: Any, forms: tuple[Any, ...]) -> None:
        """Every stream under ``start`` (a font, a pattern, a graphics state...): forms, tiling
        patterns and Type 3 glyphs are drawn (once), images counted as images, any other stream
        (a font file, an ICC profile, a function, a mesh) as data of its decoded size."""
        pending: list[tuple[Any, bool, Any]] = [(start, False, resources)]
        while pending:
            value, glyph, scope = pending.pop()
            found = _resolve(value)
            if not isinstance(found, DictionaryObject | ArrayObject):
                continue
            if not tally.first_time(("walked", _key(found))):
                continue
            if isinstance(found, ArrayObject):
                pending.extend((item, False, scope) for item in found)
                continue
            if isinstance(found, StreamObject) and self._stream(tally, found, glyph, scope, forms):
                continue  # drawn or an image: its entries were followed as PDFium will
            own = _resolve(found.get("/Resources")) or scope
            for name, item in found.items():
                if name == "/CharProcs":  # a Type 3 font's glyphs: content streams
                    glyphs = _resolve(item)
                    if isinstance(glyphs, DictionaryObject):
                        pending.extend((procedure, True, own) for procedure in glyphs.values())
                elif name == "/Resources":
                    self._resources(tally, _resolve(item), forms)
                elif name not in _ELSEWHERE and name != "/XObject":
                    pending.append((item, False, own))

    def _stream(
        self, tally: _Tally, stream: StreamObject, glyph: bool, resources: Any,
        forms: tuple[Any, ...],
    ) -> bool:  # fmt: skip
        """Count one stream met in a walk; True when it was drawn or counted as an image."""
        subtype = stream.get("/Subtype")
        if glyph or subtype == "/Form" or stream.get("/PatternType") == 1:
            key = _key(stream)
            if key not in forms and len(forms) < MAX_FORM_DEPTH:
                own = _resolve(stream.get("/Resources")) or resources
                self._draw(tally, stream, own, 1, (*forms, key))
            return True
        if subtype == "/Image":
            self._image(tally, stream)
            return True
        tally.add_data(self._data_size(stream))
        return False

    def _data_size(self, stream: StreamObject) -> int:
        key = _ref(stream)
        if key is not None and key in self._data:
            return self._data[key]
        size, _ = _decode(stream, self.limits.max_data_bytes, keep=False)
        if key is not None:
            self._data[key] = size
        return size


# -- decoding within a budget --------------------------------------------------------------


def _raw(stream: StreamObject) -> bytes:
    # The stream's bytes as stored (decrypted, still encoded): what PDFium will decode.
    # pypdf's own decoders read the same attribute.
    return stream._data


def _filters(stream: DictionaryObject) -> list[str]:
    found = _resolve(stream.get("/Filter"))
    if isinstance(found, ArrayObject):
        return [str(_resolve(item)) for item in found]
    return [str(found)] if isinstance(found, NameObject) else []


def _decode(stream: StreamObject, budget: int, *, keep: bool) -> tuple[int, bytes | None]:
    return _decode_chain(_raw(stream), _filters(stream), budget, keep=keep)


def _decode_chain(
    data: bytes, filters: list[str], budget: int, *, keep: bool
) -> tuple[int, bytes | None]:
    """The size ``data`` decodes to through ``filters``, more than ``budget`` when decoding
    stopped there, and (if ``keep``) the decoded bytes. An image codec or an unknown filter
    ends the chain: what it makes is counted from the image's declared size."""
    for index, name in enumerate(filters):
        last = index == len(filters) - 1
        try:
            if name in _FLATE:
                size, inflated = _inflate(data, budget, keep=keep or not last)
                if inflated is None:
                    return size, None
                data = inflated
            elif name in _TEXT_FILTERS:  # these only shrink
                data = _TEXT_FILTERS[name].decode(data)
            elif name in _OTHER_FILTERS:  # rare; pypdf stops them at 75 MB
                data = _OTHER_FILTERS[name].decode(data)
            else:
                break
        except LimitReachedError:
            return budget + 1, None
        except Exception:  # damaged data: PDFium decodes no more of it than pypdf can
            log.debug("a %s stream does not decode", name, exc_info=True)
            break
        if len(data) > budget:
            return len(data), None
    return len(data), data


def _inflate(data: bytes, budget: int, *, keep: bool) -> tuple[int, bytes | None]:
    """How many bytes zlib ``data`` inflates to (up to ``budget`` + 1), and those bytes if
    ``keep`` and within the budget. Stops at the end of the zlib stream, as PDFium does."""
    for wbits in (zlib.MAX_WBITS, -zlib.MAX_WBITS):  # some writers leave out the zlib header
        inflater = zlib.decompressobj(wbits)
        size, parts, pending = 0, [], data
        try:
            while pending and size <= budget and not inflater.eof:
                chunk = inflater.decompress(pending, min(_STEP, budget + 1 - size))
                if not chunk and len(inflater.unconsumed_tail) == len(pending):
                    break  # no progress: truncated input
                size += len(chunk)
                if keep:
                    parts.append(chunk)
                pending = inflater.unconsumed_tail
            if not pending and not inflater.eof and size <= budget:
                rest = inflater.flush()  # the input is used up: at most a few matches are left
                size += len(rest)
                if keep:
                    parts.append(rest)
        except zlib.error:
            if size == 0 and wbits > 0:
                continue
        if size > budget:
            return size, None
        return size, b"".join(parts) if keep else None
    return 0, b"" if keep else None


# -- inline images and declared sizes ------------------------------------------------------


def _inline_images(content: bytes, budget: int) -> int:
    """Bytes the inline images of ``content`` decode to: their declared pixels, plus what
    their data inflates to (PDFium inflates it all to find where the image ends)."""
    total = 0
    for match in _INLINE.finditer(content):
        entries = _inline_dictionary(match.group(1))
        total += _declared_size(
            entries.get("/W", entries.get("/Width")),
            entries.get("/H", entries.get("/Height")),
            entries.get("/BPC", entries.get("/BitsPerComponent")),
            entries.get("/CS", entries.get("/ColorSpace")),
            entries.get("/IM", entries.get("/ImageMask")),
        )  # fmt: skip
        filters = entries.get("/F", entries.get("/Filter"))
        filters = filters if isinstance(filters, list) else [filters] if filters else []
        names = [_INLINE_FILTERS.get(name, name) for name in filters if isinstance(name, str)]
        if names:
            # The data starts after "ID" and one whitespace byte; zlib, LZW and RunLength data
            # say where they end, ASCII85 and hex data end at "~>" and ">".
            data = content[match.end() :]
            end = {"/ASCII85Decode": b"~>", "/ASCIIHexDecode": b">"}.get(names[0])
            if end is not None and end in data:
                data = data[: data.index(end) + len(end)]
            size, _ = _decode_chain(data, names, budget, keep=False)
            total += size
        if total > budget:
            break
    return total


_INLINE_FILTERS = {"/Fl": "/FlateDecode", "/AHx": "/ASCIIHexDecode", "/A85": "/ASCII85Decode",
                   "/LZW": "/LZWDecode", "/RL": "/RunLengthDecode"}  # fmt: skip


def _inline_dictionary(text: bytes) -> dict[str, Any]:
    """``/W 8 /H 8 /CS /G /F [/A85 /Fl]`` as {"/W": 8, ..., "/F": ["/A85", "/Fl"]}."""
    values: list[Any] = []
    stack: list[list[Any]] = []
    for token in _TOKEN.finditer(text):
        raw = token.group(0)
        if raw == b"[":
            stack.append([])
            continue
        if raw == b"]":
            if stack:
                done = stack.pop()
                (stack[-1] if stack else values).append(done)
            continue
        if raw.startswith(b"/"):
            value: Any = "/" + _unescape(token.group(1))
        elif raw in (b"true", b"false"):
            value = raw == b"true"
        else:
            value = float(raw)
        (stack[-1] if stack else values).append(value)
    entries: dict[str, Any] = {}
    for key, value in zip(values[::2], values[1::2], strict=False):
        if isinstance(key, str):
            entries[key] = value
    return entries


def _declared_size(width: Any, height: Any, bits: Any, space: Any, mask: Any) -> int:
    """Bytes of an image of these dictionary entries, decoded (rows rounded up to bytes)."""
    width, height = _number(width), _number(height)
    per_pixel = 1 if _flag(mask) else (_number(bits) or 8) * _components(space)
    return height * math.ceil(width * per_pixel / 8)


def _components(space: Any) -> int:
    space = _resolve(space)
    if isinstance(space, list) and space:  # a pypdf ArrayObject, or an inline image's list
        family = str(_resolve(space[0]))
        if family == "/ICCBased" and len(space) > 1:
            profile = _resolve(space[1])
            count = _number(profile.get("/N")) if isinstance(profile, DictionaryObject) else 0
            return count or _UNKNOWN_COMPONENTS
        if family == "/DeviceN" and len(space) > 1:
            names = _resolve(space[1])
            return len(names) if isinstance(names, list) and names else _UNKNOWN_COMPONENTS
        return _COMPONENTS.get(family, _UNKNOWN_COMPONENTS)
    if isinstance(space, str):
        return _COMPONENTS.get(space, _UNKNOWN_COMPONENTS)
    return _UNKNOWN_COMPONENTS  # none given (JPEG 2000 says it in its own data), or unreadable


# -- pypdf objects, read defensively -------------------------------------------------------


def _resolve(value: Any) -> Any:
    """The object behind a reference; None for one pypdf cannot read (PDFium cannot either)."""
    try:
        return value.get_object() if isinstance(value, IndirectObject) else value
    except Exception:
        log.debug("an object of the page cannot be read", exc_info=True)
        return None


def _get(container: Any, key: str) -> Any:
    return container.get(key) if isinstance(container, DictionaryObject) else None


def _items(value: Any) -> Iterator[Any]:
    found = _resolve(value)
    if isinstance(found, ArrayObject):
        yield from (_resolve(item) for item in found)


def _streams(contents: Any) -> Iterator[StreamObject]:
    found = _resolve(contents)
    candidates: Iterable[Any] = _items(found) if isinstance(found, ArrayObject) else [found]
    yield from (stream for stream in candidates if isinstance(stream, StreamObject))


def _appearance_streams(value: Any) -> Iterator[StreamObject]:
    """An appearance: a stream, or a dictionary of streams by state ("/On", "/Off")."""
    found = _resolve(value)
    if isinstance(found, StreamObject):
        yield found
    elif isinstance(found, DictionaryObject):
        for state in found.values():
            stream = _resolve(state)
            if isinstance(stream, StreamObject):
                yield stream


def _ref(value: Any) -> tuple[int, int] | None:
    """Where the object is in the file, which is the same for every page that uses it."""
    reference = getattr(value, "indirect_reference", None)
    if reference is None:
        return None
    return reference.idnum, reference.generation


def _key(value: Any) -> Any:
    # Within one page, an object without a reference (written inline) is itself.
    return _ref(value) or id(value)


def _number(value: Any) -> int:
    try:
        number = int(_resolve(value))
    except (TypeError, ValueError, OverflowError):
        return 0
    return max(number, 0)


def _flag(value: Any) -> bool:
    value = _resolve(value)
    return bool(value) if isinstance(value, BooleanObject | bool) else False


def _unescape(name: bytes) -> str:
    """A name as written (``Im#20a``) as pypdf spells its key (``Im a``)."""
    return _HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), name).decode("latin-1")
