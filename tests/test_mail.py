"""E-mail files: .eml and mbox messages, headers, bodies, attachments, damaged input."""

import random
from datetime import datetime, timedelta, timezone

import pytest

from desktop_search.errors import FileNotIndexableError
from desktop_search.extract.document import MAIL, MESSAGE
from desktop_search.extract.mail import extract_mail, read_mail
from desktop_search.extract.mail_html import html_to_text
from tests.make_mail import eml, mbox, photo_jpeg

ALICE = "Alice Example <alice@example.com>"
BOB = "Bob Builder <bob@example.com>"


def test_plain_message_headers_and_body():
    data = eml(
        "Quarterly numbers",
        ALICE,
        [BOB, "carol@example.com"],
        "Hi Bob,\n\nthe numbers look good this quarter.\n",
        cc="Dave <dave@example.com>",
        message_id="<q1.numbers@example.com>",
    )
    document = extract_mail(data, "numbers.eml")
    assert document.kind == MAIL
    assert document.title == "Quarterly numbers"
    assert document.created_at == "2024-03-05T14:30:00+01:00"
    assert document.notes == []
    [item] = document.items
    assert item.kind == MESSAGE
    assert item.text == "Quarterly numbers\n\nHi Bob, the numbers look good this quarter."
    assert item.title == "Quarterly numbers"
    assert item.started_at == "2024-03-05T14:30:00+01:00"
    assert item.senders == ("Alice Example", "alice@example.com")
    assert item.locator == {
        "message": 0,
        "message_id": "q1.numbers@example.com",
        "chunk": 0,
        "to": ["Bob Builder <bob@example.com>", "carol@example.com"],
        "cc": ["Dave <dave@example.com>"],
    }


def test_html_only_message_is_read_as_text():
    html = (
        "<html><head><title>Newsletter</title><style>p {color: red}</style></head><body>"
        "<p>Fish &amp; chips&nbsp;for &eacute;veryone &lt;3</p>"
        "<script>var tracking = 'SECRET';</script>"
        "<div>Second&#8203; line<br>third line</div></body></html>"
    )
    document = extract_mail(eml("Menu", ALICE, BOB, None, html=html), "menu.eml")
    [item] = document.items
    assert item.text == "Menu\n\nFish & chips for éveryone <3 Second line third line"
    assert "SECRET" not in item.text and "color" not in item.text
    assert "Newsletter" not in item.text


def test_html_to_text_keeps_paragraphs_and_line_breaks():
    html = "<h1>Title</h1><p>One&nbsp;two</p><p>Three<br/>Four</p><ul><li>a</li><li>b</li></ul>"
    assert html_to_text(html) == "Title\n\nOne two\n\nThree\nFour\n\na\nb"


def test_multipart_alternative_prefers_the_plain_part():
    data = eml("Both", ALICE, BOB, "plainversion text", html="<p>htmlversion text</p>")
    document, attachments = read_mail(data, "both.eml")
    assert "plainversion" in document.items[0].text
    assert "htmlversion" not in document.items[0].text
    assert attachments == []


def raw_message(headers: str, body: bytes = b"Body text.\n") -> bytes:
    return headers.replace("\n", "\r\n").encode("ascii") + b"\r\n" + body


def test_encoded_word_headers_are_decoded():
    data = raw_message(
        "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=\n"
        "From: =?iso-8859-1?q?J=F6rg_M=FCller?= <joerg@example.com>\n"
        "To: =?utf-8?b?w4lsb2R5?= <elody@example.com>\n"
        "Date: Tue, 2 Jan 2024 09:05:00 +0530\n"
    )
    [item] = extract_mail(data, "x.eml").items
    assert item.title == "Grüße aus Köln"
    assert item.senders == ("Jörg Müller", "joerg@example.com")
    assert item.locator["to"] == ["Élody <elody@example.com>"]
    assert item.started_at == "2024-01-02T09:05:00+05:30"


def test_raw_utf8_headers_are_decoded():
    headers = "Subject: Café\r\nFrom: Zoë <zoe@example.com>\r\n\r\nhi\r\n"
    [item] = extract_mail(headers.encode("utf-8"), "x.eml").items
    assert item.title == "Café"
    assert item.senders == ("Zoë", "zoe@example.com")


@pytest.mark.parametrize(
    ("date_header", "expected"),
    [
        ("Date: Fri, 29 Dec 2023 23:59:59 -0800\n", "2023-12-29T23:59:59-08:00"),
        ("Date: 29 Dec 2023 23:59 GMT\n", "2023-12-29T23:59:00+00:00"),
        ("Date: Fri, 29 Dec 2023 23:59:59 -0000\n", "2023-12-29T23:59:59+00:00"),
        ("Date: next tuesday, probably\n", None),
        ("", None),
    ],
    ids=["offset", "gmt", "unknown-zone", "garbled", "missing"],
)
def test_date_header_becomes_iso_with_offset(date_header, expected):
    data = raw_message(f"Subject: When\nFrom: alice@example.com\n{date_header}")
    document = extract_mail(data, "when.eml")
    assert document.items[0].started_at == expected
    assert document.created_at == expected


def test_date_from_generator_with_other_zone():
    when = datetime(2022, 7, 1, 8, 0, 0, tzinfo=timezone(timedelta(hours=-4)))
    document = extract_mail(eml("Zone", ALICE, BOB, "text", date=when), "zone.eml")
    assert document.items[0].started_at == "2022-07-01T08:00:00-04:00"
    no_date = extract_mail(eml("None", ALICE, BOB, "text", date=None), "none.eml")
    assert no_date.items[0].started_at is None


def three_messages() -> list[bytes]:
    return [
        eml("First", ALICE, BOB, "Opening words.\n", message_id="<m1@example.com>"),
        eml(
            "Second",
            BOB,
            ALICE,
            "Some context.\n\nFrom the start it was clear.\n>From quoted already.\n",
            date=None,
            message_id="<m2@example.com>",
        ),
        eml("Third", "carol@example.com", ALICE, "Closing words.\n", message_id="<m3@example.com>"),
    ]


def test_mbox_with_three_messages():
    data = mbox(three_messages())
    assert b"\n>From the start" in data and b"\n>>From quoted" in data
    document = extract_mail(data, "Archive/Inbox.mbox")
    assert document.title == "Inbox"
    assert document.notes == []
    assert [item.locator["message"] for item in document.items] == [0, 1, 2]
    assert [item.locator["message_id"] for item in document.items] == [
        "m1@example.com",
        "m2@example.com",
        "m3@example.com",
    ]
    assert [item.title for item in document.items] == ["First", "Second", "Third"]
    second = document.items[1]
    assert second.text == (
        "Second\n\nSome context. From the start it was clear. >From quoted already."
    )
    assert second.senders == ("Bob Builder", "bob@example.com")
    assert second.started_at is None


def test_mbox_content_without_extension_and_unquoted_from_lines():
    # A sloppy writer left "From " unquoted in a body: it must not split the message.
    first = eml("One", ALICE, BOB, "Hello.\n\nFrom what I hear, all is well.\n")
    data = b"From alice@example.com Tue Mar  5 13:30:00 2024\n" + first + b"\n"
    data += b"From bob@example.com Tue Mar  5 14:30:00 2024\n" + eml("Two", BOB, ALICE, "Hi.\n")
    document = extract_mail(data, "Inbox")
    assert document.title == "Inbox"
    assert [item.title for item in document.items] == ["One", "Two"]
    assert "From what I hear" in document.items[0].text


def test_eml_with_an_envelope_line_is_one_message_titled_by_subject():
    data = b"From alice@example.com Tue Mar  5 13:30:00 2024\n" + eml("Saved", ALICE, BOB, "x")
    document = extract_mail(data, "saved.eml")
    assert document.title == "Saved"
    assert len(document.items) == 1


def test_long_body_is_chunked_with_the_subject_on_every_chunk():
    body = " ".join(f"Sentence {n} of the long report goes here." for n in range(200))
    document = extract_mail(eml("Long report", ALICE, BOB, body), "long.eml")
    assert len(document.items) > 3
    assert [item.locator["chunk"] for item in document.items] == list(range(len(document.items)))
    assert all(item.text.startswith("Long report\n\nSentence ") for item in document.items)
    assert "Sentence 199 of" in document.items[-1].text


def test_attachments_are_returned_with_their_message():
    pdf = b"%PDF-1.4\n% a tiny stand-in\n%%EOF\n"
    photo = photo_jpeg()
    notes = "Notizen für später\n".encode("cp1252")
    first = eml(
        "With files",
        ALICE,
        BOB,
        "See attached.",
        html="<p>See attached.</p>",
        attachments=[
            ("report.pdf", pdf, "application", "pdf"),
            ("astronaut.jpg", photo, "image", "jpeg"),
            ("notes.txt", notes, "text", "plain"),
        ],
        message_id="<files@example.com>",
    )
    second = eml("No files", BOB, ALICE, "Nothing here.")
    third = eml("A sheet", "carol@example.com", ALICE, "Numbers.", attachments=[
        ("C:\\Users\\carol\\sheet.csv", b"a,b\n1,2\n", "text", "csv"),
    ])  # fmt: skip
    document, attachments = read_mail(mbox([first, second, third]), "box.mbox")
    assert [(a.name, a.content_type, a.data, a.message) for a in attachments] == [
        ("report.pdf", "application/pdf", pdf, 0),
        ("astronaut.jpg", "image/jpeg", photo, 0),
        ("notes.txt", "text/plain", notes, 0),
        ("sheet.csv", "text/csv", b"a,b\n1,2\n", 2),
    ]
    report = attachments[0]
    assert report.message_id == "files@example.com"
    assert report.title == "With files"
    assert report.started_at == "2024-03-05T14:30:00+01:00"
    assert report.senders == ("Alice Example", "alice@example.com")
    assert document.items[0].text == "With files\n\nSee attached."  # not the attachments' text


def test_inline_image_and_attached_message():
    from email.message import EmailMessage

    photo = photo_jpeg()
    message = EmailMessage()
    message["Subject"] = "Look"
    message["From"] = ALICE
    message.set_content("Plain version.")
    message.add_alternative('<p>Look: <img src="cid:pic1"></p>', subtype="html")
    html_part = message.get_payload()[1]
    html_part.add_related(photo, maintype="image", subtype="jpeg", cid="<pic1>")
    forwarded = EmailMessage()
    forwarded["Subject"] = "Old news"
    forwarded["From"] = BOB
    forwarded.set_content("Forwarded body.")
    message.add_attachment(forwarded)
    _, attachments = read_mail(message.as_bytes(), "look.eml")
    assert [(a.name, a.content_type) for a in attachments] == [
        ("attachment-1.jpg", "image/jpeg"),
        ("Old news.eml", "message/rfc822"),
    ]
    assert attachments[0].data == photo
    assert b"Forwarded body." in attachments[1].data


def test_unknown_charset_does_not_lose_the_message():
    body = "Grüße, café".encode()
    data = raw_message(
        'Subject: Odd\nFrom: a@example.com\nContent-Type: text/plain; charset="x-bogus-8"\n'
        "Content-Transfer-Encoding: 8bit\n",
        body,
    )
    [item] = extract_mail(data, "odd.eml").items
    assert item.text == "Odd\n\nGrüße, café"


def test_wrong_charset_bytes_become_replacement_characters():
    data = raw_message(
        'Subject: Bad\nFrom: a@example.com\nContent-Type: text/plain; charset="utf-8"\n'
        "Content-Transfer-Encoding: 8bit\n",
        b"caf\xe9 ok",
    )
    [item] = extract_mail(data, "bad.eml").items
    assert item.text == "Bad\n\ncaf\ufffd ok"


def test_quoted_printable_and_base64_bodies():
    qp = raw_message(
        'Subject: QP\nFrom: a@example.com\nContent-Type: text/plain; charset="iso-8859-1"\n'
        "Content-Transfer-Encoding: quoted-printable\n",
        b"Sch=F6ne Gr=FC=DFe, a long line that is soft=\r\n-wrapped\r\n",
    )
    b64 = raw_message(
        'Subject: B64\nFrom: a@example.com\nContent-Type: text/plain; charset="utf-8"\n'
        "Content-Transfer-Encoding: base64\n",
        b"w4ljbGFpciBhdSBjaG9jb2xhdA==\r\n",
    )
    assert extract_mail(qp, "qp.eml").items[0].text == (
        "QP\n\nSchöne Grüße, a long line that is soft-wrapped"
    )
    assert extract_mail(b64, "b64.eml").items[0].text == "B64\n\nÉclair au chocolat"


def test_unreadable_message_in_mbox_is_noted_and_the_rest_kept():
    garbage = b"From nobody Tue Mar  5 13:30:00 2024\n\x00\x01\x02 binary junk\n\n"
    data = garbage + mbox(three_messages())
    document = extract_mail(data, "mixed.mbox")
    assert [item.title for item in document.items] == ["First", "Second", "Third"]
    assert [item.locator["message"] for item in document.items] == [1, 2, 3]
    assert document.notes == ["message 1: no e-mail headers, skipped"]


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (random.Random(7).randbytes(3000), "junk.eml"),
        (b"Just some notes I saved.\nNothing like an e-mail.\n", "notes.eml"),
        (photo_jpeg(), "photo.eml"),
        (b"From nobody Tue Mar  5 13:30:00 2024\nno headers here\n", "empty.mbox"),
    ],
    ids=["random", "plain-text", "jpeg", "mbox-without-messages"],
)
def test_garbage_is_not_an_email_file(data, name):
    with pytest.raises(FileNotIndexableError) as error:
        read_mail(data, name)
    assert error.value.reason.startswith("not an e-mail file: ")


def test_empty_mbox_is_an_empty_document():
    document, attachments = read_mail(b"", "Trash.mbox")
    assert (document.kind, document.title, document.items, attachments) == (
        MAIL,
        "Trash",
        [],
        [],
    )


def test_body_split_around_an_inline_image_is_read_whole():
    # Apple Mail: multipart/mixed [text, inline image, text]; both texts are the body.
    from email.message import EmailMessage

    message = EmailMessage()
    message["Subject"] = "Split"
    message["From"] = ALICE
    message.make_mixed()
    for text in ("Before the picture.", "After the picture."):
        part = EmailMessage()
        part.set_content(text)
        message.attach(part)
    picture = EmailMessage()
    picture.set_content(photo_jpeg(), maintype="image", subtype="jpeg", disposition="inline")
    message.get_payload().insert(1, picture)
    document, attachments = read_mail(message.as_bytes(), "split.eml")
    assert document.items[0].text == "Split\n\nBefore the picture. After the picture."
    assert [a.content_type for a in attachments] == ["image/jpeg"]


def test_mbox_with_crlf_line_endings():
    data = mbox(three_messages()).replace(b"\n", b"\r\n")
    document = extract_mail(data, "windows.mbox")
    assert [item.title for item in document.items] == ["First", "Second", "Third"]
    assert "From the start" in document.items[1].text


def test_a_message_longer_than_the_cap_is_indexed_in_part_with_a_note():
    from desktop_search.extract.mail import MAX_MESSAGE_CHARS

    line = "Log line with alpha and some more words to make it long enough.\n"
    body = line * (MAX_MESSAGE_CHARS // len(line) + 200) + "omega at the very end\n"
    document = extract_mail(eml("Server log", ALICE, BOB, body), "log.eml")
    assert document.notes == [
        f"message 1: only the first {MAX_MESSAGE_CHARS:,} characters are indexed"
    ]
    assert "omega" not in document.items[-1].text
    indexed = sum(len(item.text.split("\n\n", 1)[1]) for item in document.items)
    assert MAX_MESSAGE_CHARS * 0.9 <= indexed <= MAX_MESSAGE_CHARS * 1.3  # chunks overlap a bit


def test_a_huge_html_body_is_converted_only_in_part():
    from desktop_search.extract.mail import MAX_MESSAGE_CHARS

    paragraph = "<p style='margin:0;padding:0;font-family:Arial'>One short paragraph.</p>\n"
    html = paragraph * (MAX_MESSAGE_CHARS * 12 // len(paragraph))  # ~1.2 M characters of HTML
    document = extract_mail(eml("News", ALICE, BOB, None, html=html), "news.eml")
    assert document.notes == [
        f"message 1: only the first {MAX_MESSAGE_CHARS:,} characters are indexed"
    ]
    assert document.items[0].text.startswith("News\n\nOne short paragraph.")


def test_an_mbox_stops_at_the_file_cap_with_a_note(monkeypatch):
    from desktop_search.extract import mail

    monkeypatch.setattr(mail, "MAX_MAIL_FILE_CHARS", 2_000)
    sentence = "Sentence number {} of a longish message body with words. "
    messages = [eml(f"Message {n}", ALICE, BOB, sentence.format(n) * 10) for n in range(10)]
    document = extract_mail(mbox(messages), "Archive.mbox")
    read = {item.locator["message"] for item in document.items}
    assert read == {0, 1, 2, 3}  # ~600 characters each: the fourth passes 2,000
    assert document.notes == [
        "only the first 4 messages are indexed (the limit of 2,000 characters or 20,000 "
        "passages was reached)"
    ]
    monkeypatch.setattr(mail, "MAX_MAIL_FILE_CHARS", 10_000_000)
    monkeypatch.setattr(mail, "MAX_MAIL_FILE_PASSAGES", 3)
    document = extract_mail(mbox(messages), "Archive.mbox")
    assert {item.locator["message"] for item in document.items} == {0, 1, 2}
    assert document.notes[0].startswith("only the first 3 messages are indexed")


def test_mbox_messages_are_read_one_at_a_time():
    """Each message's attachments go to the caller as it is read, not all at the end, and the
    mbox is split lazily: a large mailbox is never held in memory twice."""
    from desktop_search.extract.mail_parts import iter_mbox

    messages = [
        eml(f"Message {n}", ALICE, BOB, f"Body {n}.",
            attachments=[(f"file{n}.txt", f"attached {n}".encode(), "text", "plain")])
        for n in range(3)
    ]  # fmt: skip
    data = b"\n\n" + mbox(messages)  # leading blank lines are fine
    raws = iter_mbox(data)
    assert next(raws).count(b"Subject: Message 0") == 1 and next(raws) and next(raws)
    assert next(raws, None) is None
    taken = []

    def take(document, attachments):
        taken.append((len(document.items), [a.name for a in attachments]))

    document, returned = read_mail(data, "box.mbox", take)
    assert taken == [(1, ["file0.txt"]), (2, ["file1.txt"]), (3, ["file2.txt"])]
    assert returned == []


def test_absurd_headers_are_cut_before_they_are_parsed():
    """The email package parses a header in time quadratic in its length (a 200 KB subject took
    2 s, 1 MB about a minute): values are cut when read, and again to what is worth repeating."""
    import time

    from desktop_search.extract.mail import MAX_HEADER_CHARS, MAX_RECIPIENTS

    subject = "word " * 40_000  # 200 KB on one line
    recipients = ", ".join(f"person{n}@example.com" for n in range(20_000))  # 460 KB
    started = time.perf_counter()
    document = extract_mail(raw_message(f"Subject: {subject}\nFrom: {ALICE}\nTo: {recipients}\n"),
                            "spam.eml")  # fmt: skip
    assert time.perf_counter() - started < 10  # about 1 s
    [item] = document.items
    assert len(item.title) <= MAX_HEADER_CHARS
    assert len(item.locator["to"]) == MAX_RECIPIENTS
    assert item.text.endswith("…\n\nBody text.")  # the subject heading the passage is shortened
    # A header block beyond MAX_HEADER_BLOCK_BYTES is damage: only its start is parsed.
    started = time.perf_counter()
    document = extract_mail(raw_message(f"Subject: {subject * 10}\nFrom: {ALICE}\n"), "x.eml")
    assert time.perf_counter() - started < 10
    assert document.items[0].title.startswith("word word")
    assert document.notes == ["message 1: only the first 100,000 characters are indexed"]


def test_a_huge_single_part_message_is_cut_before_parsing():
    """Only as much of a text body is parsed as can be read: the email package holds a dozen
    copies' worth of a message while parsing it (a 50 MB body took 620 MB)."""
    from desktop_search.extract.mail_parts import MAX_TEXT_BODY_BYTES, bounded_message

    body = ("Zürich " * (MAX_TEXT_BODY_BYTES // 4)).encode()  # ~10 MB, no line end
    raw = raw_message(f"Subject: Big\nFrom: {ALICE}\nContent-Type: text/plain; charset=utf-8\n",
                      body)  # fmt: skip
    bounded = bounded_message(raw)
    assert len(bounded) < MAX_TEXT_BODY_BYTES + 200 < len(raw)
    bounded.decode("utf-8")  # not cut inside a character
    document = extract_mail(raw, "big.eml")
    assert document.items[0].text.startswith("Big\n\nZürich Zürich")  # read as UTF-8
    assert document.notes == ["message 1: only the first 100,000 characters are indexed"]
    # A message with attachments is left whole (an attached file can be large).
    mixed = eml("Files", ALICE, BOB, "See attached.", attachments=[("big.bin", body, "application",
                                                                   "octet-stream")])  # fmt: skip
    assert bounded_message(mixed) == mixed


@pytest.mark.parametrize("unclosed", ["<a ", '<a href="x" ', "<a b='", "<a\n", "</a", "<!--"])
def test_html_with_tags_that_never_close_is_read_in_linear_time(unclosed):
    # html.parser scanned the rest of the document for every "<" no ">" follows: "<a " x 8,000
    # took 18 s (x 2,000 1.6 s); such a "<" is text, and stays so.
    import time

    started = time.perf_counter()
    text = html_to_text("<p>Intro</p>" + unclosed * 100_000)
    assert time.perf_counter() - started < 10  # about 0.3 s
    assert text.startswith("Intro")
    assert html_to_text("<p>x < y and <b") == "x < y and <b"
