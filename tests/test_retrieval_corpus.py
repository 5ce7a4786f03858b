"""The retrieval benchmark's corpus: its files are readable and its labels keep their rules."""

from __future__ import annotations

import email
import email.policy
import re
from collections import Counter
from pathlib import Path

import pytest
from pypdf import PdfReader

from benchmarks import retrieval_corpus
from benchmarks.retrieval_corpus import (
    DOCUMENTS,
    KEYWORD,
    QUERIES,
    QUERY_TYPES,
    SEMANTIC,
    Case,
    check_corpus,
    write_corpus,
)
from benchmarks.retrieval_records import ChatFile, MailFile, PdfFile, clean

WHATSAPP_LINE = re.compile(r"^\d\d/\d\d/\d{4}, \d\d:\d\d - ")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    write_corpus(folder)
    return folder


def test_composition() -> None:
    assert 45 <= len(DOCUMENTS) <= 70
    kinds = Counter(type(doc) for doc in DOCUMENTS)
    assert kinds[PdfFile] >= 10 and kinds[MailFile] >= 10 and kinds[ChatFile] >= 1
    assert len(QUERIES) >= 36
    per_type = Counter(case.type for case in QUERIES)
    assert set(per_type) == set(QUERY_TYPES)
    assert max(per_type.values()) - min(per_type.values()) <= 3


def test_every_file_is_written(corpus: Path) -> None:
    written = sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*") if p.is_file())
    assert written == sorted(doc.path for doc in DOCUMENTS)


def test_pdfs_have_their_pages_and_text(corpus: Path) -> None:
    for doc in (doc for doc in DOCUMENTS if isinstance(doc, PdfFile)):
        reader = PdfReader(corpus / doc.path)
        assert len(reader.pages) == len(doc.pages), doc.path
        assert reader.metadata.title == doc.title
        for page, source in zip(reader.pages, doc.pages, strict=True):
            last_line = clean(source).splitlines()[-1]
            assert _squeeze(last_line) in _squeeze(page.extract_text()), (doc.path, last_line)


def test_mails_parse_with_headers_body_and_attachment(corpus: Path) -> None:
    for doc in (doc for doc in DOCUMENTS if isinstance(doc, MailFile)):
        raw = (corpus / doc.path).read_bytes()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert message["Subject"] == doc.subject
        assert message["From"] and message["To"] and message["Date"].datetime.tzinfo
        body = message.get_body(("plain", "html")).get_content()
        first_line = clean(doc.body).splitlines()[0]
        assert first_line.split()[-1] in body, doc.path
        attachments = [part.get_filename() for part in message.iter_attachments()]
        expected = [Path(doc.attachment.path).name] if doc.attachment else []
        assert attachments == expected
    html_only = [doc for doc in DOCUMENTS if isinstance(doc, MailFile) and doc.html == "only"]
    assert html_only, "at least one HTML-only mail"


def test_attachment_is_a_readable_pdf(corpus: Path, tmp_path: Path) -> None:
    doc = next(doc for doc in DOCUMENTS if isinstance(doc, MailFile) and doc.attachment)
    message = email.message_from_bytes(
        (corpus / doc.path).read_bytes(), policy=email.policy.default
    )
    pdf = tmp_path / "attached.pdf"
    pdf.write_bytes(next(message.iter_attachments()).get_content())
    assert "KX19 ZTE" in PdfReader(pdf).pages[0].extract_text()


def test_chats_are_android_whatsapp_exports(corpus: Path) -> None:
    for doc in (doc for doc in DOCUMENTS if isinstance(doc, ChatFile)):
        assert Path(doc.path).name.startswith("WhatsApp Chat with ")
        lines = (corpus / doc.path).read_text(encoding="utf-8").splitlines()
        dated = [line for line in lines if WHATSAPP_LINE.match(line)]
        assert len(dated) >= 0.8 * len(lines) and WHATSAPP_LINE.match(lines[0])
        assert all(": " in line[20:] or "encrypted" in line for line in dated)


def test_the_labels_keep_their_rules() -> None:
    check_corpus()


def test_a_semantic_query_sharing_a_word_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    tenancy = "Home/Tenancy/tenancy agreement 14 Elmwood Road.pdf"
    # "rented" shares its stem with "rent" in the agreement.
    case = Case("x1", SEMANTIC, "rules of the rented home", {tenancy: 2})
    monkeypatch.setattr(retrieval_corpus, "QUERIES", (case,))
    with pytest.raises(ValueError, match="x1: semantic query shares words"):
        check_corpus()


def test_a_keyword_query_with_incomplete_labels_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Five files name the car; labelling only one of them is an error.
    case = Case("x2", KEYWORD, "KX19 ZTE", {"Car/MOT 2024 advisories.txt": 2})
    monkeypatch.setattr(retrieval_corpus, "QUERIES", (case,))
    with pytest.raises(ValueError, match="x2: files with all its tokens"):
        check_corpus()


def _squeeze(text: str) -> str:
    return " ".join(text.split())
