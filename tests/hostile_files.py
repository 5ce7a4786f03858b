"""The hostile files of issue 14 as one corpus, with what indexing each must give.

``hostile_tree(folder)`` writes them below ``folder`` and returns a ``HostileTree``: an
``OddTree`` (tests/bad_files.py: ``expected`` outcome per relative path, ``ignored``, ``kinds``)
plus a word a keyword search must find each readable document by, the note its extraction logs
when it is indexed only in part, and how many links of each kind the scan must skip.

=========  =====================================================================  ==========
folder     kinds                                                                  outcome
=========  =====================================================================  ==========
chat/      Telegram export with lone surrogate escapes ("\\ud83d"), one with      indexed
           "\\u0000" and other C0 escapes; a WhatsApp message that is one 1 MB
           "word" (over the message cap)
notes/     UTF-8 text with C0 controls; UTF-16 text holding NUL characters;       indexed
           one line with a 1 MB word
notes/     UTF-8 bytes with NULs in them (binary, not text)                       failed
mail/      a message with NUL and C0 controls in its subject and body; a one-     indexed
           line message that is a 1 MB word; an mbox whose first message is
           over the cap on a message's bytes (cut before parsing)
pdf/       a 1 MB FlateDecode bomb (1 GB of drawing instructions); one page       indexed
           object listed 10,000 times (declared pages)
photos/    9000 x 9000 float32 TIFF, 9000 x 9000 16-bit grey PNG (heavy_photos)   indexed
photos/    a 100000 x 100000 1-bit TIFF; a truncated JPEG, an empty one, text     failed
           named .jpg
links/     a link to a file inside the folder                                     indexed
links/     a link to a file outside the folder; a dangling link; a link to        skipped
           itself; two links pointing at each other                               (counted)
=========  =====================================================================  ==========

Sizes are kept small (about 13 MB on disk in all, the heavy photos a few hundred KB each) so
that one corpus goes through ``index``, ``watch`` and the live index within a test's budget.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from PIL import Image

from tests.bad_files import (
    REASON_NOT_IMAGE,
    REASON_TRUNCATED,
    OddTree,
    encode,
    heavy_photos,
    photo,
    small_jpeg,
)
from tests.make_chats import cut_emoji_export, escaped_telegram_export, whatsapp_export
from tests.make_mail import eml, mbox
from tests.make_pdfs import flate_bomb_pdf, shared_pages_pdf

GB = 1 << 30
# One "word" without a space: base64 as a mail or chat client pastes an attachment it failed to
# attach. Over the caps on a chat message (65,536 characters) and a mail message (100,000).
HUGE_WORD = ("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0123456789+/" * 22_000)[:1_000_000]
# Over the bytes of one message's text body that are parsed at all (mail_parts.py: 6,000,000).
MBOX_BODY_BYTES = 6_200_000
# Declared pages of the PDF whose page tree lists one page object again and again.
SHARED_PAGES = 10_000
HEAVY = ("float32.tif", "grey16.png", "bilevel_huge.tif")
WHEN = datetime(2024, 5, 1, 9, 30)

# What the extractors note when they index a file in part (logged by the indexer).
NOTE_CHAT_MESSAGE_CUT = "messages longer than 65,536 characters are indexed in part"
NOTE_MAIL_MESSAGE_CUT = "message 1: only the first 100,000 characters are indexed"
NOTE_PAGE_TOO_LARGE = "page 1 too large to render"
NOTE_PAGES_REPEAT = "pages repeat an earlier page (the same page object): read once"
REASON_BINARY = "not a text file (binary content)"


@dataclass
class HostileTree(OddTree):
    """What ``hostile_tree`` wrote (paths relative to ``root``, as in ``OddTree``)."""

    # path -> a word that a keyword search must find that file by (readable documents only)
    words: dict[str, str] = field(default_factory=dict)
    # path -> what its extraction notes when it is indexed in part (logged, not stored)
    notes: dict[str, str] = field(default_factory=dict)
    # "outside" | "dangling" | "loop" -> links the scan must skip and count (status shows them)
    skipped_links: Counter[str] = field(default_factory=Counter)
    # a word only the file outside the folder holds: a search for it must find nothing
    secret_word: str = "zebracorn"

    def document(self, kind: str | None, rel: str, payload: bytes, *, word: str | None = None,
                 note: str | None = None, outcome: str | None = None) -> None:  # fmt: skip
        self.write(kind, rel, payload, outcome)
        if word is not None:
            self.words[rel] = word
        if note is not None:
            self.notes[rel] = note

    def skip_link(self, kind: str, rel: str, target: str | Path, why: str) -> None:
        """A link the scan must not follow, counted in ``skipped_links[why]``."""
        self.path(rel).parent.mkdir(parents=True, exist_ok=True)
        self.path(rel).symlink_to(target)
        self.ignore(kind, rel)
        self.skipped_links[why] += 1

    @property
    def bad(self) -> dict[str, str]:
        return {rel: outcome for rel, outcome in self.expected.items() if outcome is not None}


def hostile_tree(folder: Path) -> HostileTree:
    """Write every hostile file of the table in the module docstring below ``folder``."""
    tree = HostileTree(Path(folder))
    tree.root.mkdir(parents=True, exist_ok=True)
    for add in (_add_chats, _add_notes, _add_mail, _add_pdfs, _add_photos, _add_links):
        add(tree)
    return tree


def _add_chats(tree: HostileTree) -> None:
    tree.document("chat export with lone surrogate escapes", "chat/result.json",
                  cut_emoji_export(), word="quokkaphone")  # fmt: skip
    controls = escaped_telegram_export("Escapes", [
        (WHEN, "Carla\x00", "the gazebo\x00 key\x1b[31m is\x07 under\x0b the mat\x7f \ud83d"),
        (WHEN, "Dmitri", "thanks\x08\x08 \udcff"),
    ])  # fmt: skip
    tree.document("chat export with NUL and C0 escapes", "chat/controls/result.json", controls,
                  word="gazebo")  # fmt: skip
    export = whatsapp_export([
        (WHEN, "Alice", "the lighthouse keeper sent this:"),
        (WHEN, "Alice", HUGE_WORD),
    ])  # fmt: skip
    tree.document("chat message that is one 1 MB word", "chat/WhatsApp Chat with Alice.txt",
                  export.encode(), word="lighthouse", note=NOTE_CHAT_MESSAGE_CUT)  # fmt: skip


def _add_notes(tree: HostileTree) -> None:
    # A few controls in enough text to stay text (over 1 % is binary), cleaned on the way in.
    lines = ["Ginger marmalade\x1b[1m recipe\x07 from grandmother\x0c"]
    lines += [f"Step {n}: stir the pot and wait a little longer than before." for n in range(20)]
    tree.document("text with C0 controls", "notes/controls.txt", "\n".join(lines).encode(),
                  word="marmalade")  # fmt: skip
    # NUL characters are legal in UTF-16 text: they reach the extractor, never the store.
    utf16 = "\ufeffPeriwinkle\x00 seeds go in\x01 the north bed.\n" + "Water them weekly.\n" * 10
    tree.document("UTF-16 text holding NUL characters", "notes/utf16_nul.txt",
                  utf16.encode("utf-16-le"), word="periwinkle")  # fmt: skip
    nul = b"Quince jelly\x00\x00 notes\x00 that a broken editor saved\x00\n" * 20
    tree.document("UTF-8 text with NUL bytes", "notes/nul_bytes.txt", nul, outcome=REASON_BINARY)
    tree.document("one line with a 1 MB word", "notes/huge_word.txt",
                  f"Zeppelin manifest follows.\n{HUGE_WORD}\n".encode(),
                  word="zeppelin")  # fmt: skip


def _raw_mail(subject: str, body: str) -> bytes:
    """A message written byte by byte: the email package would refuse controls in headers."""
    headers = (
        f"Subject: {subject}\nFrom: Alice <alice@example.com>\nTo: Bob <bob@example.com>\n"
        "Date: Tue, 5 Mar 2024 13:30:00 +0100\nContent-Type: text/plain; charset=utf-8\n\n"
    )
    return (headers + body).encode("utf-8")


def _add_mail(tree: HostileTree) -> None:
    tree.document("mail with NUL and C0 controls", "mail/controls.eml",
                  _raw_mail("Harpsichord\x00 tuning\x1b[0m", "The harpsichord\x00 needs\x07 "
                            "tuning\x0b before\x1f Friday.\x7f\n"),
                  word="harpsichord")  # fmt: skip
    tree.document("one-line mail that is one 1 MB word", "mail/huge_word.eml",
                  _raw_mail("Xylophone scan", HUGE_WORD), word="xylophone",
                  note=NOTE_MAIL_MESSAGE_CUT)  # fmt: skip
    line = "Nightly backup job: copied the same folder again, nothing to see here.\n"
    log = line * (MBOX_BODY_BYTES // len(line))
    archive = mbox([
        eml("Backup log", "cron@example.com", "bob@example.com", log),
        eml("Pelican sighting", "carla@example.com", "bob@example.com",
            "A pelican landed on the pier this morning."),
    ])  # fmt: skip
    tree.document("mbox with a message over the cap", "mail/Archive.mbox", archive,
                  word="pelican", note=NOTE_MAIL_MESSAGE_CUT)  # fmt: skip


def _add_pdfs(tree: HostileTree) -> None:
    # Nothing to read in it but its name: indexed, found by name, a note logged.
    tree.document("PDF with a FlateDecode bomb", "pdf/bomb.pdf", flate_bomb_pdf(1 * GB),
                  note=NOTE_PAGE_TOO_LARGE)  # fmt: skip
    tree.document("PDF declaring 10,000 shared pages", "pdf/shared_pages.pdf",
                  shared_pages_pdf(SHARED_PAGES, drawing="text"), word="again",
                  note=NOTE_PAGES_REPEAT)  # fmt: skip


def _add_photos(tree: HostileTree) -> None:
    heavy = {image.name: image for image in heavy_photos()}
    for name in HEAVY:
        image = heavy[name]
        tree.write(f"heavy photo: {name}", f"photos/{name}", image.write(image.size),
                   image.reason)  # fmt: skip
    # A few everyday broken ones (tests/bad_files.py's odd tree has them all).
    jpeg = small_jpeg(14)
    tree.write("truncated JPEG", "photos/truncated.jpg", jpeg[: len(jpeg) * 6 // 10],
               REASON_TRUNCATED)  # fmt: skip
    tree.write("empty file", "photos/empty.jpg", b"", "empty file (0 bytes)")
    tree.write("text named .jpg", "photos/receipt.jpg", b"Hardware store, 12.50\n" * 40,
               REASON_NOT_IMAGE)  # fmt: skip
    tree.write("fine photo", "photos/fine.jpg", small_jpeg(15))


def _add_links(tree: HostileTree) -> None:
    tree.document(None, "links/target.txt", b"The lantern room log, kept inside the folder.\n",
                  word="lantern")  # fmt: skip
    tree.link("link to a file inside the folder", "links/inside.txt", "target.txt")
    tree.words["links/inside.txt"] = "lantern"
    outside = tree.root.parent / f"{tree.root.name}-outside" / "secret.txt"
    outside.parent.mkdir(parents=True, exist_ok=True)
    outside.write_text(f"-----BEGIN OPENSSH PRIVATE KEY----- {tree.secret_word}\n")
    tree.skip_link("link to a file outside the folder", "links/secret.txt", outside, "outside")
    tree.skip_link("dangling link", "links/dangling.txt", "missing.txt", "dangling")
    tree.skip_link("link to itself", "links/self_loop.txt", "self_loop.txt", "loop")
    tree.skip_link("two links pointing at each other", "links/loop_a.txt", "loop_b.txt", "loop")
    tree.skip_link("two links pointing at each other", "links/loop_b.txt", "loop_a.txt", "loop")


def good_files(folder: Path, tag: str) -> tuple[Path, Path, str]:
    """A fine photo and a fine note with a word of their own, written after the bad files:
    (photo, note, the note's word). ``tag`` (letters only) keeps each call's bytes distinct."""
    folder.mkdir(parents=True, exist_ok=True)
    picture = folder / f"good_{tag}.jpg"
    crop = photo("coffee")[: 200 + len(tag) * 7, : 300 + sum(map(ord, tag)) % 97]
    picture.write_bytes(encode(Image.fromarray(crop), "JPEG", quality=90))
    word = f"goodnote{tag}"
    note = folder / f"good_{tag}.txt"
    note.write_text(f"A perfectly ordinary note about {word} and the weather.\n")
    return picture, note, word
