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
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pypdf
import pypdfium2 as pdfium
from PIL import Image

from benchmarks.common import CACHE, TEXT_MODEL, home_with_text_model, text_model_folder
from benchmarks.documents_inputs import prose_pages, scanned_pdf_file, text_pdf_file, words
from desktop_search.app.library import Library
from desktop_search.extract.pdf import OCR_LONG_SIDE, extract_pdf
from desktop_search.index.control import lower_process_priority
from desktop_search.index.report import IndexReport
from desktop_search.models.runtime.ocr import OcrEngine

MIB = 1024 * 1024


# -- shared measurements -----------------------------------------------------------------------


def new_home(scratch: Path, model: Path) -> Path:
    """A new library home with only the text model installed."""
    return home_with_text_model(Path(tempfile.mkdtemp(prefix="home-", dir=scratch)), model)


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
        ids, _ = library.store.embeddings.of_model(TEXT_MODEL)
        return list(library.store.reads.item_texts([int(i) for i in ids]).values())


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
    from desktop_search.models.runtime.text import TextModel

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
from desktop_search.app.library import Library
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
    model_dir = text_model_folder(args.models_cache)
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
