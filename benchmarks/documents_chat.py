"""Chat exports (issue 6): messages/s for a 100,000-message WhatsApp export.

The input is ``tests/make_chats.big_whatsapp_export`` (seeded: short and long messages,
multi-line ones, media and system lines, pauses), written once into
``benchmarks/.cache/documents`` as "WhatsApp Chat with Alice.txt", alone in its folder. The
text model and library homes are those of ``documents_pdf``; the process runs at nice 10.

Measured, the baseline in the same run right before:

* baseline: read the file, decode it as UTF-8, split it into lines;
* extraction: read, decode, ``extract_chat_text`` (parse, group into conversation windows);
* ``Library.index`` end to end: scan, extraction, FTS, encoding every window, vector index
  save (the text model loaded beforehand); the windows/s it encoded.

Encoding the windows is nearly all of the end-to-end time; ``documents_pdf`` measures the text
model alone on a PDF's passages (timing it alone here would take as long again). Run:

    .venv/bin/python -m benchmarks.documents_chat [--messages 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import CACHE, text_model_folder
from benchmarks.documents_inputs import INPUTS
from benchmarks.documents_pdf import index_folder, load_note, new_home
from desktop_search.extract.chat import extract_chat_text
from desktop_search.extract.chat_whatsapp import parse_whatsapp
from desktop_search.index.control import lower_process_priority
from tests.make_chats import big_whatsapp_export

CHAT_NAME = "WhatsApp Chat with Alice.txt"


def chat_file(messages: int) -> Path:
    path = INPUTS / f"whatsapp-{messages}" / CHAT_NAME
    if not path.exists():
        started = time.perf_counter()
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")  # not .txt until complete
        temporary.write_text(big_whatsapp_export(messages), encoding="utf-8")
        temporary.rename(path)
        print(f"wrote {path.name} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return path


def bare_lines(path: Path) -> tuple[float, int]:
    started = time.perf_counter()
    lines = path.read_bytes().decode("utf-8").splitlines()
    return time.perf_counter() - started, len(lines)


def extraction(path: Path) -> tuple[float, list[str]]:
    started = time.perf_counter()
    document = extract_chat_text(path.read_bytes().decode("utf-8"), path.name)
    return time.perf_counter() - started, [item.text for item in document.items]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="runs of the baseline and extraction")
    parser.add_argument("--index-runs", type=int, default=1, help="runs of the end-to-end index")
    parser.add_argument("--models-cache", type=Path, default=CACHE / "models")
    args = parser.parse_args()
    lower_process_priority()  # as `desktop-search index`; see documents_pdf
    load = os.getloadavg()[0]
    model_dir = text_model_folder(args.models_cache)
    path = chat_file(args.messages)
    parsed = len(parse_whatsapp(path.read_text(encoding="utf-8")))
    bare, extract = [], []
    for _ in range(args.runs):
        seconds, lines = bare_lines(path)
        bare.append(seconds)
        seconds, windows = extraction(path)
        extract.append(seconds)
    e2e = []
    with tempfile.TemporaryDirectory(dir=CACHE) as scratch:
        for _ in range(args.index_runs):
            home = new_home(Path(scratch), model_dir)
            seconds, report = index_folder(home, path.parent)
            assert report.passages == len(windows), (report.passages, len(windows))
            e2e.append(seconds)
            shutil.rmtree(home)
    n, base = args.messages, statistics.median(bare)
    size = path.stat().st_size / 1024 / 1024
    words_each = sum(len(text.split()) for text in windows) / len(windows)
    average = f"{n / len(windows):.1f} messages, {words_each:.0f} words each on average"
    print(f"### WhatsApp export: {n:,} messages ({parsed:,} parsed), {lines:,} lines, "
          f"{size:.1f} MiB -> {len(windows):,} windows ({average})\n")  # fmt: skip
    print(f"medians of {args.runs} run(s), end to end of {args.index_runs}; {load_note(load)}\n")
    print("| work | seconds | messages/s | time vs baseline |")
    print("|---|---|---|---|")
    rows = [
        ("baseline: read + decode UTF-8 + split lines", base),
        ("read + decode + `extract_chat_text` (parse, windows)", statistics.median(extract)),
        ("`Library.index` end to end (extract, FTS, encode, save)", statistics.median(e2e)),
    ]
    for label, seconds in rows:
        print(f"| {label} | {seconds:.2f} | {n / seconds:,.0f} | {seconds / base:,.0f}x |")
    end_to_end = statistics.median(e2e)
    print(
        f"\nend to end: {len(windows) / end_to_end:.1f} windows/s; extraction is "
        f"{statistics.median(extract) / end_to_end:.1%} of it"
    )


if __name__ == "__main__":
    main()
