"""File paths as text: the database's spelling, the keyword index's, and people's.

In memory a path is the ``str`` Python's os functions give. A name that is not valid UTF-8 (a
Latin-1 "café.jpg" from an old camera or a Windows zip) holds each byte that does not decode as
a lone surrogate U+DC80..U+DCFF ("surrogateescape"), so ``open()``, ``os.stat()`` and the
decoders use it as it is. Such a string cannot cross every border, though: sqlite3 refuses to
bind it (UnicodeEncodeError), Qt silently drops the surrogates, JSON readers other than Python's
reject them, and a terminal cannot print them. At each border it takes another spelling:

* the database (``to_db`` / ``from_db``): one injective, reversible mapping into valid Unicode
  that leaves every valid name without U+FFFF as it is (existing rows stay). A surrogate
  becomes U+FFFF and its code point in four hex digits, and a literal U+FFFF (a noncharacter,
  in no real name in practice) is doubled. No character's spelling starts another's (a
  prefix code), so the mapping keeps prefixes: "below this folder" is the same test on both
  sides, and a folder's rows move with SQL string operations.
* people (``readable_path``): the exact bytes, with \\x escapes for those that are not UTF-8.
* JSON (``path_json``): the readable path, plus ``path_base64`` (the exact bytes) for such
  names.
* the keyword index (``name_keywords``): the readable name, plus the bytes read as Latin-1, the
  likeliest encoding of such a name ("café" finds "caf\\xe9.jpg").
"""

from __future__ import annotations

import base64
import os
import re

ESCAPE = "\uffff"
_SPECIAL = re.compile("[\ud800-\udfff\uffff]")
# Only what to_db writes: a doubled escape, or one before a surrogate's lower-case hex digits.
_ESCAPED = re.compile("\uffff(\uffff|d[89a-f][0-9a-f]{2})")
_BYTES = re.compile("[\udc80-\udcff]")  # what "surrogateescape" makes of undecodable bytes


def to_db(path: str) -> str:
    """The spelling of ``path`` in the database: valid Unicode, the same for any ordinary name."""
    if path.isascii():  # the common case, at C speed
        return path
    return _SPECIAL.sub(_escape, path)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return ESCAPE + ESCAPE if char == ESCAPE else f"{ESCAPE}{ord(char):04x}"


def from_db(text: str) -> str:
    """The path a database spelling stands for (``to_db`` undone)."""
    if ESCAPE not in text:
        return text
    return _ESCAPED.sub(_unescape, text)


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    return ESCAPE if code == ESCAPE else chr(int(code, 16))


def is_utf8(path: str) -> bool:
    """Is ``path`` valid Unicode (a name that was valid UTF-8 on disk)?"""
    if path.isascii():
        return True
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def exact_bytes(path: str) -> bytes:
    """The bytes of the name on disk (what ``open()`` passes to the system)."""
    try:
        return os.fsencode(path)
    except UnicodeEncodeError:  # a surrogate no file system gave (built by hand): keep it too
        return path.encode("utf-8", "surrogatepass")


def readable_path(path: str | os.PathLike[str]) -> str:
    """``path`` for people: as it is when valid, else its bytes with \\x escapes where they
    are not UTF-8 ("caf\\xe9.jpg"). Never opened: use the path itself for that."""
    text = os.fspath(path)
    if is_utf8(text):
        return text
    return exact_bytes(text).decode("utf-8", "backslashreplace")


def path_json(path: str) -> dict[str, str]:
    """The JSON fields of a path: ``path`` readable, and ``path_base64`` (standard base64 of the
    exact bytes) only for a name that is not valid UTF-8."""
    if is_utf8(path):
        return {"path": path}
    raw = base64.b64encode(exact_bytes(path)).decode("ascii")
    return {"path": readable_path(path), "path_base64": raw}


def name_keywords(path: str) -> str:
    """The keyword-index text of the file name of ``path`` (valid Unicode)."""
    name = os.path.basename(path)
    if is_utf8(name):
        return name
    latin1 = _BYTES.sub(lambda match: chr(ord(match.group()) - 0xDC00), name)
    latin1 = latin1.encode("utf-8", "replace").decode("utf-8")  # any other surrogate: "?"
    return f"{readable_path(name)} {latin1}"
