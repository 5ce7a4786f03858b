"""Document indexing of PDFs (issue 6): pages/s for text PDFs and for scanned (OCR) pages, and
the peak memory while indexing a 1,000-page PDF.

Inputs, generated once into ``benchmarks/.cache/documents`` (seeded, so every run reads the
same files): text PDFs of varied prose, 300-400 words a page (fpdf2, Helvetica 12 pt, as
``tests/make_pdfs.text_pdf`` writes them); a scanned PDF whose pages are images only (A4 at
150 dpi, 12 pt body text of 250-300 words, or large print with ``--scan-style large``:
``tests/make_pdfs.scanned_pdf``, about 100 words a page). The text model is the int8
all-MiniLM-L6-v2, converted once into ``--models-cache`` (shared with ``retrieval_eval``).
Every library home is new, under ``benchmarks/.cache``; no CLIP model is installed.

Measured (``--text``, ``--ocr``, ``--memory``; all three when none is given), each against a
baseline run in the same process, right before:

* text PDF: bare pypdf ``page.extract_text()`` over every page (baseline); ``extract_pdf``
  alone; the text model alone on the resulting passages; ``Library.index`` end to end (scan,
  extraction, chunking, FTS, encoding, vector index save), models loaded beforehand;
* OCR: every page rendered with pypdfium2 as ``extract_pdf`` renders it, then
  ``OcrEngine.read_text`` (baseline); ``Library.index`` end to end with OCR;
* memory: peak RSS (its ``VmHWM``) of a child process that opens a library, loads the text
  model and indexes a 1,000-page text PDF; baseline: the same child without the indexing.

The whole benchmark runs at nice 10, like ``desktop-search index``. Run:

    .venv/bin/python -m benchmarks.documents_pdf [--text] [--ocr] [--memory] [--pages 200]
        [--ocr-pages 20] [--memory-pages 1000] [--runs 3] [--scan-style body|large]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pypdf
import pypdfium2 as pdfium
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

from benchmarks.common import CACHE
from desktop_search.core.control import lower_process_priority
from desktop_search.core.items import IndexReport
from desktop_search.extract.pdf import OCR_LONG_SIDE, extract_pdf
from desktop_search.library import Library
from desktop_search.models.ocr import OcrEngine
from desktop_search.models.store import ModelStore
from tests.make_pdfs import A4_MM, SCAN_PIXELS, font_path, scanned_pdf, text_pdf

TEXT_MODEL = "all-minilm-l6-v2"
INPUTS = CACHE / "documents"
MIB = 1024 * 1024
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


# -- inputs ------------------------------------------------------------------------------------


def text_model_dir(cache: Path) -> Path:
    """The int8 all-MiniLM-L6-v2, converted once into ``cache`` (needs the convert extra)."""
    store = ModelStore(cache)
    if not store.has(TEXT_MODEL):
        print("converting all-MiniLM-L6-v2 to int8 ONNX (about a minute) ...", file=sys.stderr)
        store.import_text_model(name=TEXT_MODEL)
    return store.path(TEXT_MODEL)


def new_home(scratch: Path, model: Path) -> Path:
    """A new library home with only the text model installed (picked up as the text model)."""
    home = Path(tempfile.mkdtemp(prefix="home-", dir=scratch))
    shutil.copytree(model, home / "models" / TEXT_MODEL)
    return home


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


# -- shared measurements -----------------------------------------------------------------------


def index_folder(home: Path, folder: Path, ocr: bool = False) -> tuple[float, IndexReport]:
    """``Library.index([folder])`` in seconds, the models loaded beforehand (loading a model
    is a one-off per process, not indexing work)."""
    with Library.open(home) as library:
        model = library.text_tools.text_model()
        assert model is not None and model.info.id == TEXT_MODEL, "text model not picked up"
        model.encode(["load the model"])
        if ocr:
            read_text = library.text_tools.read_text()
            assert read_text is not None, "OCR is not installed (the ocr extra)"
            read_text(Image.new("RGB", (64, 64), "white"))
        started = time.perf_counter()
        report = library.index([folder])
        elapsed = time.perf_counter() - started
    assert report.documents == 1 and not report.failures, report
    return elapsed, report


def indexed_texts(home: Path) -> list[str]:
    """The text of every passage that has a text embedding."""
    with Library.open(home) as library:
        ids, _ = library.store.embeddings(TEXT_MODEL)
        return list(library.store.item_texts([int(i) for i in ids]).values())


def word_recall(expected: list[str], found: list[str], distinct: bool = False) -> float:
    """Share of the expected words found again, case-insensitive: with repeats, or of the
    distinct words (for indexed passages, which overlap and so repeat words)."""
    want, got = Counter(words(" ".join(expected))), Counter(words(" ".join(found)))
    if distinct:
        return len(want.keys() & got.keys()) / max(1, len(want))
    return sum((want & got).values()) / max(1, sum(want.values()))


def median(values: list[float]) -> float:
    return statistics.median(values)


def load_note(load_at_start: float) -> str:
    """The machine's 1-minute load average at the start and now: how shared the CPU was."""
    return f"load average {load_at_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"


# -- text PDFs ---------------------------------------------------------------------------------


def bare_pypdf(data: bytes, pages: int) -> float:
    started = time.perf_counter()
    reader = pypdf.PdfReader(io.BytesIO(data))
    for page in reader.pages:
        page.extract_text()
    elapsed = time.perf_counter() - started
    assert len(reader.pages) == pages, f"{len(reader.pages)} pages, not {pages}: text overflowed"
    return elapsed


def extraction_only(data: bytes) -> tuple[float, list[str]]:
    started = time.perf_counter()
    document = extract_pdf(data)
    return time.perf_counter() - started, [item.text for item in document.items]


def encode_only(model_dir: Path, texts: list[str]) -> float:
    from desktop_search.models.text import TextModel

    model = TextModel(model_dir)
    model.encode(["load the model"])
    started = time.perf_counter()
    for start in range(0, len(texts), 64):  # the batches the indexer's text pass encodes
        model.encode(texts[start : start + 64])
    elapsed = time.perf_counter() - started
    model.release()
    return elapsed


def bench_text(pages: int, runs: int, model_dir: Path, scratch: Path) -> None:
    path = text_pdf_file(pages)
    data = path.read_bytes()
    bare, extract, encode, e2e = [], [], [], []
    for _ in range(runs):
        bare.append(bare_pypdf(data, pages))
        seconds, passages = extraction_only(data)
        extract.append(seconds)
        encode.append(encode_only(model_dir, passages))
        home = new_home(scratch, model_dir)
        seconds, report = index_folder(home, path.parent)
        e2e.append(seconds)
        assert report.passages == len(passages), (report.passages, len(passages))
        shutil.rmtree(home)
    base = median(bare)
    total_words = len(words(" ".join(prose_pages(pages, seed=pages))))
    print(f"\n### Text PDF: {pages} pages, {total_words / pages:.0f} words a page, "
          f"{len(data) / MIB:.1f} MiB, {len(passages)} passages; "
          f"medians of {runs} run(s)\n")  # fmt: skip
    print("| work | seconds | pages/s | time vs bare pypdf |")
    print("|---|---|---|---|")
    rows = [
        ("baseline: bare pypdf `page.extract_text()`", base),
        ("`extract_pdf` (pypdf + cleanup + chunking + page-1 thumbnail)", median(extract)),
        (f"text model alone: encode the {len(passages)} passages (batches of 64)", median(encode)),
        ("`Library.index` end to end (extract, FTS, encode, save)", median(e2e)),
    ]
    for label, seconds in rows:
        print(f"| {label} | {seconds:.2f} | {pages / seconds:.1f} | {seconds / base:.1f}x |")
    print(f"\nall runs, end to end (s): {', '.join(f'{s:.2f}' for s in e2e)}")


# -- OCR pages ---------------------------------------------------------------------------------


def bare_ocr(data: bytes) -> tuple[float, list[str]]:
    """Render every page as ``extract_pdf`` does for OCR, read it with a loaded engine."""
    engine = OcrEngine()
    engine.load()
    texts = []
    started = time.perf_counter()
    document = pdfium.PdfDocument(data)
    for page in document:
        width, height = page.get_size()
        bitmap = page.render(scale=OCR_LONG_SIDE / max(width, height))
        texts.append(engine.read_text(bitmap.to_pil().convert("RGB")))
    document.close()
    elapsed = time.perf_counter() - started
    engine.release()
    return elapsed, texts


def bench_ocr(pages: int, style: str, model_dir: Path, scratch: Path) -> None:
    path, truth = scanned_pdf_file(pages, style)
    base, base_texts = bare_ocr(path.read_bytes())
    home = new_home(scratch, model_dir)
    seconds, report = index_folder(home, path.parent, ocr=True)
    found = indexed_texts(home)
    shutil.rmtree(home)
    per_page = len(words(" ".join(truth))) / pages
    print(f"\n### Scanned PDF: {pages} pages of {style} text, about {per_page:.0f} words a page, "
          f"rendered at {OCR_LONG_SIDE} px long side; one run\n")  # fmt: skip
    base_found, e2e_found = (
        word_recall(truth, texts, distinct=True) for texts in (base_texts, found)
    )
    print("| work | seconds | pages/s | time vs bare OCR | distinct words found |")
    print("|---|---|---|---|---|")
    print(f"| baseline: pypdfium2 render + `OcrEngine.read_text` | {base:.1f} | "
          f"{pages / base:.2f} | 1.0x | {base_found:.1%} |")  # fmt: skip
    print(f"| `Library.index` end to end ({report.passages} passages) | {seconds:.1f} | "
          f"{pages / seconds:.2f} | {seconds / base:.2f}x | {e2e_found:.1%} |")  # fmt: skip
    repeats = word_recall(truth, base_texts)
    print(f"\nthe baseline's OCR read {repeats:.1%} of the words (counting repeats)")


# -- peak memory -------------------------------------------------------------------------------


# The child: only what indexing needs (no benchmark or test helpers), its own peak RSS at the
# end. VmHWM, not the parent's ru_maxrss from wait4: Linux counts the forked parent's pages
# (before exec) in the child's ru_maxrss, and this parent has held OCR models and large PDFs.
CHILD = """
import json, sys, time
from desktop_search.library import Library
home, folder = sys.argv[1], sys.argv[2] or None
started = time.perf_counter()
result = {}
with Library.open(home) as library:
    library.text_tools.text_model().encode(["load the model"])
    result["ready_s"] = time.perf_counter() - started
    if folder:
        started = time.perf_counter()
        report = library.index([folder])
        result.update(index_s=time.perf_counter() - started, passages=report.passages,
                      documents=report.documents, failures=len(report.failures))
with open("/proc/self/status") as status:
    hwm = next(line for line in status if line.startswith("VmHWM:"))
result["peak_mib"] = int(hwm.split()[1]) / 1024
print(json.dumps(result))
"""


def run_child(home: Path, folder: Path | None) -> dict:
    """Open the library at ``home`` in a new process, load the text model and index ``folder``
    (unless None); returns what the child measured (seconds, counts, peak RSS in MiB)."""
    command = [sys.executable, "-c", CHILD, str(home), str(folder or "")]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"child failed ({done.returncode}): {done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_memory(pages: int, model_dir: Path, scratch: Path) -> None:
    path = text_pdf_file(pages)
    home = new_home(scratch, model_dir)
    baseline = run_child(home, None)
    shutil.rmtree(home)
    home = new_home(scratch, model_dir)
    indexed = run_child(home, path.parent)
    shutil.rmtree(home)
    assert indexed["documents"] == 1 and indexed["failures"] == 0, indexed
    extra = indexed["peak_mib"] - baseline["peak_mib"]
    print(f"\n### Peak memory: indexing a {pages}-page text PDF "
          f"({path.stat().st_size / MIB:.1f} MiB) in a child process; one run\n")  # fmt: skip
    print("| child process | peak RSS MiB | index seconds | pages/s |")
    print("|---|---|---|---|")
    print(f"| baseline: open library, load the text model | {baseline['peak_mib']:.0f} | - | - |")
    print(f"| same, then `Library.index` ({indexed['passages']} passages) | "
          f"{indexed['peak_mib']:.0f} | {indexed['index_s']:.1f} | "
          f"{pages / indexed['index_s']:.1f} |")  # fmt: skip
    print(f"\nindexing added {extra:+.0f} MiB to the peak "
          f"({indexed['peak_mib'] / baseline['peak_mib']:.2f}x the baseline)")  # fmt: skip


# -- main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--text", action="store_true", help="text PDF pages/s")
    parser.add_argument("--ocr", action="store_true", help="scanned (OCR) pages/s")
    parser.add_argument("--memory", action="store_true", help="peak RSS, 1,000-page PDF")
    parser.add_argument("--pages", type=int, default=200, help="pages of the text PDF")
    parser.add_argument("--ocr-pages", type=int, default=20)
    parser.add_argument("--scan-style", choices=["body", "large"], default="body")
    parser.add_argument("--memory-pages", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3, help="runs of the text PDF measurements")
    parser.add_argument("--models-cache", type=Path, default=CACHE / "models")
    args = parser.parse_args()
    # As `desktop-search index` does: the whole process (baselines included) at nice 10. The
    # indexer lowers its worker threads to nice 10 anyway; a baseline left at nice 0 would get
    # more of a shared, busy CPU than the indexer's threads and flatter itself.
    lower_process_priority()
    load = os.getloadavg()[0]
    everything = not (args.text or args.ocr or args.memory)
    model_dir = text_model_dir(args.models_cache)
    print(f"{os.cpu_count()} cores; int8 {TEXT_MODEL}; no CLIP model installed")
    with tempfile.TemporaryDirectory(dir=CACHE) as scratch:
        if args.text or everything:
            bench_text(args.pages, args.runs, model_dir, Path(scratch))
        if args.ocr or everything:
            bench_ocr(args.ocr_pages, args.scan_style, model_dir, Path(scratch))
        if args.memory or everything:
            bench_memory(args.memory_pages, model_dir, Path(scratch))
    print(f"\n{load_note(load)}")


if __name__ == "__main__":
    main()
