"""Issue 19's evaluation set: long, real documents that no one here wrote, fetched reproducibly.

    .venv/bin/python -m benchmarks.long_docs_set            # -> benchmarks/.cache/long-docs/set/
    .venv/bin/python -m benchmarks.long_docs_set --pages    # also print every page's word count

Sources (Debian 12 packages, ``apt-get download`` + ``dpkg-deb -x`` into
``benchmarks/.cache/long-docs/``, as ``benchmarks/photo_set.py`` does for its wallpapers):

- ``r-doc-pdf``: six of R's manuals (An Introduction to R, R Data Import/Export, the R Language
  Definition, Writing R Extensions, R Installation and Administration, the R FAQ);
- ``gnuplot-doc``: the gnuplot 5.4 manual (311 pages);
- ``octave-doc``: the GNU Octave manual (1,158 pages) and the liboctave reference;
- ``libpython3.11-testsuite``: the 47 e-mail messages of Python's ``email`` package tests
  (``test/test_email/data/msg_*.txt``: real RFC 822 messages and MIME layouts, with a mailing
  list digest and two bounces among them), copied as ``.eml`` files so the app reads them as
  mail. No Debian 12 package found ships a mailing-list archive in mbox form (see the README).

The set's folder holds exactly these files; ``manifest.json`` beside it records each package's
version and the sha256 of its .deb, and per file its source, bytes, sha256 and (PDFs) pages.
``pages/<file>.json`` holds each PDF's text per page as pypdf extracts it (cleaned as
``desktop_search/extract/pdf.py`` stores it: NFKC, line-end hyphens joined): what the queries
in ``long_docs_queries.py`` were judged against, and what their paraphrase check reads. Pages
are numbered from 1, as the app's locators (``{"page": N}``) are.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python benchmarks/long_docs_set.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import CACHE, fetch_debs  # noqa: E402

ROOT = CACHE / "long-docs"
DEBS = ROOT / "debs"
UNPACKED = ROOT / "root"
SET = ROOT / "set"
PAGES = ROOT / "pages"
# How pages' text is cleaned (``page_texts``); the cached pages are made again when it changes.
# 2: line-end hyphens joined, C1 controls and invisible characters removed (issue 19).
PAGE_TEXT = 2
MANIFEST = ROOT / "manifest.json"

PACKAGES: tuple[str, ...] = ("r-doc-pdf", "gnuplot-doc", "octave-doc", "libpython3.11-testsuite")

_R = "usr/share/R/doc/manual"
# Name in the set -> (package, path inside it). Short, stable names: the queries refer to them.
# R's fullrefman (2,415 pages of help pages) is left out: the set went up to 1,118
# pages, and at about 3 passages a page it alone would double the indexing time.
PDFS: dict[str, tuple[str, str]] = {
    "manuals/R-intro.pdf": ("r-doc-pdf", f"{_R}/R-intro.pdf"),
    "manuals/R-data.pdf": ("r-doc-pdf", f"{_R}/R-data.pdf"),
    "manuals/R-lang.pdf": ("r-doc-pdf", f"{_R}/R-lang.pdf"),
    "manuals/R-exts.pdf": ("r-doc-pdf", f"{_R}/R-exts.pdf"),
    "manuals/R-admin.pdf": ("r-doc-pdf", f"{_R}/R-admin.pdf"),
    "manuals/R-FAQ.pdf": ("r-doc-pdf", f"{_R}/R-FAQ.pdf"),
    "manuals/gnuplot.pdf": ("gnuplot-doc", "usr/share/doc/gnuplot/gnuplot.pdf"),
    "manuals/octave.pdf": ("octave-doc", "usr/share/doc/octave/octave.pdf"),
    "manuals/liboctave.pdf": ("octave-doc", "usr/share/doc/octave/liboctave.pdf"),
}
MAIL_SOURCE = ("libpython3.11-testsuite", "usr/lib/python3.11/test/test_email/data")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_packages() -> dict[str, dict[str, str]]:
    """Download and unpack ``PACKAGES`` once; returns package -> {version, deb, sha256}."""
    return {
        package: {"version": version, "deb": deb.name, "sha256": sha256(deb)}
        for package, (deb, version) in fetch_debs(PACKAGES, DEBS, UNPACKED).items()
    }


def page_texts(path: Path) -> list[str]:
    """Each page's text as the app stores it: pypdf's extraction, cleaned as the app cleans it
    (``clean_page_text``: NFKC, words hyphenated at line ends joined), so a judge reads and the
    paraphrase check compares the indexed words."""
    import pypdf

    from desktop_search.extract.page_text import clean_page_text

    reader = pypdf.PdfReader(str(path), strict=False)
    texts = []
    for page in reader.pages:
        try:
            text = page.extract_text() or ""
        except Exception as exc:  # a page pypdf cannot read is empty for the app too
            print(f"warning: {path.name}: a page unreadable ({exc})", file=sys.stderr)
            text = ""
        texts.append(clean_page_text(text))
    return texts


def build(force: bool = False) -> dict:
    """The set in ``SET`` and its manifest (made if missing); returns the manifest. Pages' text
    made by an older cleaning (``PAGE_TEXT``) is made again from the set's PDFs."""
    if MANIFEST.exists() and SET.exists() and not force:
        manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
        if manifest.get("page_text") != PAGE_TEXT:
            for name in PDFS:
                texts = page_texts(SET / name)
                (PAGES / f"{Path(name).name}.json").write_text(json.dumps(texts), encoding="utf-8")
            manifest["page_text"] = PAGE_TEXT
            MANIFEST.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        return manifest
    packages = fetch_packages()
    partial = ROOT / ".set.partial"
    shutil.rmtree(partial, ignore_errors=True)
    files: dict[str, dict] = {}
    for name, (package, source) in PDFS.items():
        target = partial / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(UNPACKED / source, target)
        texts = page_texts(target)
        PAGES.mkdir(parents=True, exist_ok=True)
        (PAGES / f"{Path(name).name}.json").write_text(json.dumps(texts), encoding="utf-8")
        files[name] = {"package": package, "source": source, "pages": len(texts),
                       "bytes": target.stat().st_size, "sha256": sha256(target)}  # fmt: skip
    package, folder = MAIL_SOURCE
    for message in sorted((UNPACKED / folder).glob("msg_*.txt")):
        name = f"mail/python-email-{message.stem}.eml"
        target = partial / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(message, target)
        files[name] = {"package": package, "source": f"{folder}/{message.name}",
                       "bytes": target.stat().st_size, "sha256": sha256(target)}  # fmt: skip
    manifest = {
        "set": "long-docs", "generator": "benchmarks/long_docs_set.py", "distribution": "Debian 12",
        "packages": packages,
        "pdfs": sum(1 for n in files if n.endswith(".pdf")),
        "pdf_pages": sum(f.get("pages", 0) for f in files.values()),
        "mail_messages": sum(1 for n in files if n.endswith(".eml")),
        "files": files,
        "page_text": PAGE_TEXT,
    }  # fmt: skip
    shutil.rmtree(SET, ignore_errors=True)
    partial.rename(SET)
    MANIFEST.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def load_pages(name: str) -> list[str]:
    """The judged text of the set's PDF ``name`` (e.g. ``manuals/R-intro.pdf``), page 1 first."""
    return json.loads((PAGES / f"{Path(name).name}.json").read_text(encoding="utf-8"))


def description(manifest: dict) -> list[str]:
    """Markdown rows: one per PDF (package, version, pages) and one for the mail."""
    rows = ["| file | package (version) | pages / messages | MB |", "|---|---|---|---|"]
    for name, facts in manifest["files"].items():
        if name.endswith(".pdf"):
            version = manifest["packages"][facts["package"]]["version"]
            rows.append(f"| `{name}` | {facts['package']} ({version}) | {facts['pages']:,} | "
                        f"{facts['bytes'] / 1e6:.1f} |")  # fmt: skip
    mail = [f for n, f in manifest["files"].items() if n.endswith(".eml")]
    if mail:
        package = mail[0]["package"]
        version = manifest["packages"][package]["version"]
        rows.append(f"| `mail/python-email-msg_*.eml` | {package} ({version}) | {len(mail)} | "
                    f"{sum(f['bytes'] for f in mail) / 1e6:.2f} |")  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="make the set again")
    parser.add_argument("--pages", action="store_true", help="print words per page")
    args = parser.parse_args()
    manifest = build(args.force)
    print(f"{SET}: {manifest['pdfs']} PDFs, {manifest['pdf_pages']:,} pages, "
          f"{manifest['mail_messages']} e-mail messages")  # fmt: skip
    print("\n".join(description(manifest)))
    if args.pages:
        for name in PDFS:
            counts = [len(text.split()) for text in load_pages(name)]
            print(name, counts)


if __name__ == "__main__":
    main()
