"""Plain output on a real terminal passes on nothing a terminal would act on (issue 15, item 2).

Files whose names and contents hold escape sequences (OSC "set the title" ESC ] 0 ; ... BEL,
"clear the screen" ESC [ 2 J, the one-character CSI U+009B, DEL, a newline, a bidi override) are
indexed with the tiny CLIP model; then ``index``, ``search``, ``status``, ``doctor --check``,
``models list`` and ``watch`` run as real processes with stdout and stderr on a pty in raw mode
(the bytes exactly as the app wrote them). The only control bytes allowed are those the app
itself means: click's progress bar (``\\r`` with "hide the cursor", "show the cursor") and the
bold marks of matching words in search results.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
import tty
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from desktop_search.cli.common import printable, shown_path
from tests.bad_files import encode, photo
from tests.conftest_models import install_model_home
from tests.make_chats import whatsapp_export
from tests.make_mail import eml

# What the app itself writes to a terminal: click's progress bar starts each redraw with "\r" and
# "hide the cursor", and shows the cursor again at the end; search results mark words in bold.
APP_SEQUENCES = (b"\r\x1b[?25l", b"\x1b[?25h", b"\x1b[1m", b"\x1b[0m")
# Anything else a terminal acts on: C0 controls but tab and newline (ESC, BEL, CR, ...), DEL, C1
# controls (U+0080..U+009F, or such a byte that is not UTF-8, decoded as U+DC80..U+DC9F), the
# line/paragraph separators and the bidi embeddings, overrides and isolates.
UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\udc80-\udc9f]"
)

OSC_TITLE = "\x1b]0;PWNED\x07"
CLEAR = "\x1b[2J"
CSI8 = "\u009b"  # the 8-bit CSI: "\u009b2J" clears the screen on terminals that take C1 controls
WORD = "quokka"
# A name whose newline, unescaped, would print a result line of its own.
FORGED = "forged\n  9   9.999  text   FORGED-LINE.txt"
TITLE_NAME = f"title{OSC_TITLE}{CLEAR}.txt"
GONE_NAME = f"gone{OSC_TITLE}{CSI8}.txt"  # deleted before doctor --check, which names it
CAMERA = f"Cam{OSC_TITLE}era"  # EXIF strings are ASCII: no C1 control here
VANISHED_NAME = f"vanished{OSC_TITLE}{CSI8}.txt"  # a failure recorded with a raw reason


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain é 😀\ttab", "plain é 😀\ttab"),  # printable text and tab stay as they are
        ("a\nb\rc", "a\\nb\\rc"),
        (f"t{OSC_TITLE}{CLEAR}", "t\\x1b]0;PWNED\\x07\\x1b[2J"),
        ("nul\x00del\x7f", "nul\\x00del\\x7f"),
        ("c1\x85\x9b\x9d", "c1\\u0085\\u009b\\u009d"),
        ("bidi\u202etxt.exe \u2066x\u2069", "bidi\\u202etxt.exe \\u2066x\\u2069"),
        ("line\u2028para\u2029", "line\\u2028para\\u2029"),
        ("caf\udce9 \ud83d", "caf\\xe9 \\ud83d"),  # surrogates: a byte's escape, a lone half
        (42, "42"),
    ],
)
def test_printable_escapes_what_a_terminal_acts_on(text, shown):
    assert printable(text) == shown
    printable(text).encode("utf-8")  # always encodable


def test_shown_path_composes_readable_path_and_printable():
    assert shown_path(os.fsdecode(b"/p/caf\xe9\x1b[2J\n.jpg")) == "/p/caf\\xe9\\x1b[2J\\n.jpg"
    assert shown_path(Path("/p/ok.jpg")) == "/p/ok.jpg"


@dataclass
class Terminal:
    """A CLI process with stdout and stderr on a pty; ``output`` is every byte it wrote."""

    process: subprocess.Popen
    master: int
    output: bytes = b""

    def read(self, timeout: float) -> bool:
        """Read what is there within ``timeout``; False once the process closed the terminal."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError as error:  # Linux: EIO once every writer of the pty is gone
            if error.errno != errno.EIO:
                raise
            return False
        self.output += chunk
        return bool(chunk)

    def expect(self, pattern: bytes, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while pattern not in self.output:
            if time.monotonic() > deadline or not self.read(0.2):
                raise AssertionError(f"{pattern!r} not seen; output: {self.output!r}")

    def finish(self, timeout: float = 180.0) -> int:
        deadline = time.monotonic() + timeout
        while self.read(0.2):
            if time.monotonic() > deadline:
                self.process.kill()
                raise AssertionError(f"still running after {timeout} s: {self.output!r}")
        code = self.process.wait(timeout=30)
        os.close(self.master)
        return code


def start(home: Path, *args: str | Path) -> Terminal:
    master, slave = pty.openpty()
    tty.setraw(slave)  # no "\n" -> "\r\n": the bytes exactly as the app wrote them
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "160"}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "desktop_search", "--home", str(home), *map(os.fsdecode, args)],
        stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
    )  # fmt: skip
    os.close(slave)
    return Terminal(process, master)


def run_on_tty(home: Path, *args: str | Path, expect: int = 0) -> bytes:
    terminal = start(home, *args)
    code = terminal.finish()
    assert code == expect, terminal.output
    assert_inert(terminal.output)
    return terminal.output


def assert_inert(output: bytes) -> None:
    """No byte a terminal acts on, except the app's own sequences."""
    rest = output
    for sequence in APP_SEQUENCES:
        rest = rest.replace(sequence, b"")
    text = rest.decode("utf-8", "surrogateescape")
    found = {match.group(): match.start() for match in UNSAFE.finditer(text)}
    assert not found, [(char, text[max(0, at - 60) : at + 20]) for char, at in found.items()]


def lines(output: bytes) -> list[str]:
    return output.decode("utf-8", "surrogateescape").split("\n")


@dataclass
class Indexed:
    home: Path
    folder: Path
    index_output: bytes


def _hostile_folder(folder: Path) -> None:
    """Text files, a mail, a chat export and a photo whose names and contents hold escape
    sequences, and a file that fails."""
    notes = folder / "notes"
    notes.mkdir(parents=True)
    (notes / TITLE_NAME).write_text(f"{WORD} title note", encoding="utf-8")
    (notes / FORGED).write_text(f"{WORD} forged note", encoding="utf-8")
    (notes / f"csi{CSI8}31m.txt").write_text(f"{WORD} csi note", encoding="utf-8")
    (notes / "del\x7fname.txt").write_text(f"{WORD} del note", encoding="utf-8")
    (notes / "bidi\u202etxt.exe.txt").write_text(f"{WORD} bidi note", encoding="utf-8")
    (notes / GONE_NAME).write_text(f"{WORD} gone note", encoding="utf-8")
    # Not UTF-8: the byte 0x9B (C1 CSI in Latin-1) and an ESC in the name's bytes.
    (notes / os.fsdecode(b"raw\x9b\x1b[2Jbyte.txt")).write_text(f"{WORD} raw", encoding="utf-8")
    # Contents: extraction turns C0 controls into spaces; C1 controls are text to it.
    body = f"{WORD} body {OSC_TITLE} and {CSI8}2J csi and \x7f del\n"
    (notes / "contents.txt").write_text(body, encoding="utf-8")
    attachment = (f"att{CSI8}2J.txt", f"{WORD} attached".encode(), "text", "plain")
    mail = eml(f"{WORD} {OSC_TITLE} subject", f"Mallory {CSI8}31m <mallory@example.com>",
               "bob@example.com", f"{WORD} mail body {OSC_TITLE} {CSI8}2J",
               attachments=[attachment])  # fmt: skip
    (folder / "mail").mkdir()
    (folder / "mail" / f"message{OSC_TITLE}.eml").write_bytes(mail)
    message = (datetime(2024, 5, 1, 9, 30), f"Eve{CSI8}2J", f"{WORD} chat {CSI8}31m")
    chat = whatsapp_export([message])
    (folder / "chat").mkdir()
    (folder / "chat" / "WhatsApp Chat with Eve.txt").write_text(chat, encoding="utf-8")
    exif = Image.Exif()
    exif[0x010F] = "Make"
    exif[0x0110] = CAMERA
    (folder / "photos").mkdir()
    picture = Image.fromarray(photo("astronaut"))
    (folder / "photos" / f"photo{OSC_TITLE}{CLEAR}.jpg").write_bytes(
        encode(picture, "JPEG", exif=exif.tobytes())
    )
    (folder / "photos" / f"broken{OSC_TITLE}{CSI8}.jpg").write_text("not a photo")  # fails


def _record_failure_quoting_its_name(home: Path, folder: Path) -> None:
    """A failure whose reason quotes the file's name as it is, controls and all: no extractor
    words one so today (each quotes names through repr, or cleans C0 controls away; C1 ones
    stay), but a reason is text from an exception, and status must print any of them safely."""
    from desktop_search.app.library import Library

    path = str(folder / "notes" / VANISHED_NAME)
    with Library.open(home) as opened:
        opened.store.files.record_failure(path, str(folder), "text", 1, 1,
                                    f"cannot read {VANISHED_NAME}: {CLEAR}gone")  # fmt: skip


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, tiny_clip_dir: Path) -> Indexed:
    root = tmp_path_factory.mktemp("terminal")
    folder = root / "files"
    _hostile_folder(folder)
    home = install_model_home(root / "home", tiny_clip_dir)
    # -v: the log lines name files too (each failure, each note of a partly indexed file).
    terminal = start(home, "-v", "index", folder)
    assert terminal.finish() == 0, terminal.output
    _record_failure_quoting_its_name(home, folder)
    return Indexed(home, folder, terminal.output)  # checked by test_index_output_...


def test_index_output_escapes_names_and_reasons(library: Indexed):
    assert_inert(library.index_output)
    text = library.index_output.decode("utf-8", "surrogateescape")
    # A bar per phase was drawn (photos, documents: tests/test_index_phases.py).
    assert "photos  [" in text and b"\r\x1b[?25l" in library.index_output
    assert "11 new" in text and "1 failed" in text
    # The failure, named, escaped visibly: ESC as \x1b, BEL as \x07, C1 CSI as \u009b; in
    # the report and in the log line (-v) of the indexer.
    failed = "broken\\x1b]0;PWNED\\x07\\u009b.jpg: not an image"
    photos = library.folder / "photos"
    assert f"  failed: {photos}/{failed}" in text
    assert f"INFO desktop_search.index.indexer: cannot index {photos}/{failed}" in text


def test_search_results_show_names_snippets_and_senders_escaped(library: Indexed):
    output = run_on_tty(library.home, "search", WORD, "--limit", "50")
    text = output.decode("utf-8", "surrogateescape")
    assert "title\\x1b]0;PWNED\\x07\\x1b[2J.txt" in text
    assert "csi\\u009b31m.txt" in text
    assert "del\\x7fname.txt" in text
    assert "bidi\\u202etxt.exe.txt" in text
    assert "raw\\x9b\\x1b[2Jbyte.txt" in text  # readable_path's \x9b (a byte), then printable's
    assert "\\u009b2J csi" in text  # a snippet
    assert "from Mallory \\u009b31m" in text or "Mallory \\u009b31m" in text  # the mail's sender
    assert "Eve\\u009b2J" in text  # the chat's sender
    assert "\x1b[1m" in text  # matching words in bold: the app's own marks are kept
    # The newline in a name is shown as \n: the forged line is part of the real one.
    assert "forged\\n  9   9.999  text   FORGED-LINE.txt" in text
    for line in lines(output):
        if "FORGED-LINE" in line:
            assert "forged\\n" in line, line
    _assert_result_lines(output)


def _assert_result_lines(output: bytes) -> None:
    """Every line is the header, a result (rank, score, kind, path) or indented under one."""
    result = re.compile(r"^ {0,2}\d+ +\d+\.\d{3}  \S+ +\S")
    for line in lines(output):
        if line and not line.startswith("  #   score") and not line.startswith(" " * 17):
            assert result.match(line), line


def test_search_by_name_photo_and_filters(library: Indexed):
    output = run_on_tty(library.home, "search", "forged")
    assert "forged\\n  9   9.999  text   FORGED-LINE.txt" in output.decode()
    _assert_result_lines(output)
    attached = run_on_tty(library.home, "search", "attached")
    assert "attachment att\\u009b2J.txt" in attached.decode()  # its name, in the locator
    photos = run_on_tty(library.home, "search", "an astronaut", "--type", "photo")
    assert "photo\\x1b]0;PWNED\\x07\\x1b[2J.jpg" in photos.decode()
    # No result for a filter that quotes what was typed: named, escaped.
    nothing = run_on_tty(library.home, "search", f'{WORD} in:"nowhere{OSC_TITLE}"')
    assert "no results for these filters" in nothing.decode()
    assert "nowhere\\x1b]0;PWNED\\x07" in nothing.decode()
    # An error quoting what was typed: one line, escaped.
    error = run_on_tty(library.home, "search", f"type:x{OSC_TITLE}", expect=2)
    assert error.decode().startswith("error: unknown type 'x\\x1b]0;pwned\\x07'")
    assert error.count(b"\n") == 1
    # With --debug, the traceback too (run_on_tty checks every byte).
    traceback = run_on_tty(library.home, "--debug", "search", f"type:x{OSC_TITLE}", expect=2)
    assert b"Traceback" in traceback


def test_json_stays_exact(library: Indexed):
    output = run_on_tty(library.home, "search", WORD, "--limit", "50", "--json")
    paths = {json.loads(line)["path"] for line in output.decode().splitlines()}
    assert str(library.folder / "notes" / TITLE_NAME) in paths
    assert str(library.folder / "notes" / FORGED) in paths
    photos = run_on_tty(library.home, "search", "an astronaut", "--type", "photo", "--json")
    hit = json.loads(photos.decode().splitlines()[0])
    assert hit["camera"] == f"Make {CAMERA}"


def test_status_names_failures_escaped(library: Indexed):
    text = run_on_tty(library.home, "status").decode("utf-8", "surrogateescape")
    assert "broken\\x1b]0;PWNED\\x07\\u009b.jpg: not an image" in text
    vanished = "vanished\\x1b]0;PWNED\\x07\\u009b.txt"
    assert f"{vanished}: cannot read {vanished}: \\x1b[2Jgone" in text


def test_doctor_check_names_missing_files_escaped(library: Indexed):
    (library.folder / "notes" / GONE_NAME).unlink()
    text = run_on_tty(library.home, "doctor", "--check", expect=1).decode()
    assert "gone\\x1b]0;PWNED\\x07\\u009b.txt" in text


def test_models_list_shows_model_json_as_text(library: Indexed, tmp_path: Path):
    home = tmp_path / "home"
    shutil.copytree(library.home / "models", home / "models")
    hostile = home / "models" / "hostile"
    hostile.mkdir()
    (hostile / "model.json").write_text(json.dumps({
        "id": f"evil{OSC_TITLE}", "kind": f"clip{CSI8}", "precision": f"int8{CLEAR}",
        "source": {"commit": f"{OSC_TITLE}abcdef"},
    }))  # fmt: skip
    unreadable = home / "models" / f"broken{OSC_TITLE}"  # logged as skipped, with its name
    unreadable.mkdir()
    (unreadable / "model.json").write_text("{")
    text = run_on_tty(home, "models", "list").decode()
    assert "evil\\x1b]0;PWNED\\x07" in text
    assert "broken\\x1b]0;PWNED\\x07" in text


def test_watch_lines_escape_names_and_reasons(library: Indexed):
    terminal = start(library.home, "watch", library.folder)
    try:
        terminal.expect(b"Ctrl+C stops")
        time.sleep(1.0)  # let the first rescan settle before the new files arrive
        (library.folder / "notes" / f"new{OSC_TITLE}{CSI8}.txt").write_text(f"{WORD} new")
        (library.folder / "photos" / f"late{OSC_TITLE}{CSI8}.jpg").write_text("no photo")
        terminal.expect(b"late\\x1b]0;PWNED\\x07\\u009b.jpg: not an image", timeout=120)
    finally:
        terminal.process.send_signal(signal.SIGINT)
        code = terminal.finish()
    assert code == 0, terminal.output
    assert_inert(terminal.output)
    assert b"stopping" in terminal.output
