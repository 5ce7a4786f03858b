"""File names that are not valid UTF-8 are indexed like any other (issue 14, item 6).

Such names come from old cameras, Windows zips and Latin-1 systems: ``b"caf\\xe9.jpg"``. Python
spells them with lone surrogates (``os.fsdecode``), which SQLite cannot hold; the store keeps
their exact bytes through ``store/pathnames.py``. Through the CLI on real folders with the tiny
CLIP model: indexed, found, opened by the path search returns, shown readably, with the exact
bytes in JSON, kept across moves and renames (also by the live index), forgotten when deleted,
and not "gone" for the doctor. Then the store's spelling of arbitrary paths, property-based.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop_search.app.library import Library
from desktop_search.app.live import LiveIndex
from desktop_search.cli.root import cli
from desktop_search.platform.open_at import open_command
from desktop_search.search.searcher import Query
from desktop_search.store.pathnames import ESCAPE, from_db, readable_path, to_db
from desktop_search.store.schema import migrations
from desktop_search.store.store import Store
from tests.bad_files import small_jpeg
from tests.conftest_models import install_model_home

NOTES = b"Field notes\n\nThe zanzibarite sample was found near the river bend.\n"
# name on disk -> what it holds. A Latin-1 name, its valid UTF-8 twin, a text document, a name
# with a literal U+FFFF (the store's escape character) spelling what a surrogate's escape looks
# like, the name whose escape that is, and a folder whose own name is not UTF-8.
NAMES: dict[bytes, bytes] = {
    b"caf\xe9.jpg": small_jpeg(1),
    "café.jpg".encode(): small_jpeg(2),
    b"\xff\xfe.txt": NOTES,
    "x\uffffdce9.jpg".encode(): small_jpeg(3),
    b"x\xe9.jpg": small_jpeg(4),
    b"dir\xe9/inside.jpg": small_jpeg(5),
}
BROKEN = b"broken\xe9.jpg"  # not an image: fails, and is listed under a readable name


def real(folder: Path, name: bytes) -> str:
    """The path as the os functions give it (surrogates for the bytes that are not UTF-8)."""
    return os.fsdecode(os.path.join(os.fsencode(folder), name))


def run(home: Path, *args: str, expect: int = 0):
    result = CliRunner().invoke(cli, ["--home", str(home), *args])
    assert result.exit_code == expect, result.output
    return result


def json_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    try:
        for name, data in {**NAMES, BROKEN: b"not an image at all"}.items():
            path = os.path.join(os.fsencode(folder), name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as file:
                file.write(data)
    except (OSError, UnicodeError) as error:  # macOS and Windows refuse such names
        pytest.skip(f"this file system cannot hold a name that is not UTF-8: {error}")
    return folder


@pytest.fixture
def home(tmp_path: Path, tiny_clip_dir: Path, folder: Path) -> Path:
    """A library with ``folder`` indexed by the CLI (the tiny CLIP model installed)."""
    home = install_model_home(tmp_path / "home", tiny_clip_dir)
    report = json.loads(run(home, "index", str(folder), "--json").stdout)
    assert (report["new"], report["failed"]) == (len(NAMES), 1), report
    return home


def item_of(home: Path, path: str) -> int | None:
    with Library.open(home) as library:
        return library.store.reads.item_id_of_path(path)


def test_every_name_is_indexed_under_its_own_bytes(home: Path, folder: Path) -> None:
    with Library.open(home) as library:
        states = library.store.files.file_states(str(folder), library.active_model_name)
        stored = [row[0] for row in library.store.db.execute("SELECT path FROM files")]
    assert {path: state.status for path, state in states.items()} == {
        **{real(folder, name): "indexed" for name in NAMES},
        real(folder, BROKEN): "failed",
    }
    assert all(states[real(folder, name)].has_embedding for name in NAMES if b".jpg" in name)
    # Valid UTF-8 text in the database; a valid name is stored as it is.
    assert all(path.encode("utf-8") for path in stored)
    assert str(folder / "café.jpg") in stored
    again = json.loads(run(home, "index", str(folder), "--json").stdout)
    assert (again["new"], again["unchanged"], again["removed"]) == (0, len(NAMES) + 1, 0)


def test_search_returns_the_path_that_opens_the_real_file(home: Path, folder: Path) -> None:
    notes = real(folder, b"\xff\xfe.txt")
    with Library.open(home) as library:
        (hit,) = library.search(Query(text="zanzibarite", mode="keyword"))
        photo = real(folder, b"caf\xe9.jpg")
        by_image = library.search(Query(image=Path(photo), limit=len(NAMES)))
    assert hit.path == notes
    with open(hit.path, "rb") as file:
        assert file.read() == NOTES
    assert by_image[0].path == photo  # its own embedding: the best match
    assert {h.path for h in by_image} == {real(folder, n) for n in NAMES if b".jpg" in n}
    # Opened at its line by a viewer: the command names the file by its own bytes.
    command = open_command(hit.path, {"line": 3}, which=lambda name: f"/usr/bin/{name}",
                           platform="linux", default_app="org.gnome.gedit.desktop")  # fmt: skip
    assert command is not None and os.fsencode(command[-1]) == os.fsencode(notes)


def test_json_gives_a_readable_path_and_the_exact_bytes(home: Path, folder: Path) -> None:
    (data,) = json_lines(run(home, "search", "zanzibarite", "--mode", "keyword", "--json").stdout)
    assert data["path"] == f"{folder}/\\xff\\xfe.txt"
    exact = base64.b64decode(data["path_base64"], validate=True)
    assert exact == os.fsencode(folder) + b"/\xff\xfe.txt"
    with open(exact, "rb") as file:  # the bytes open the file
        assert file.read() == NOTES

    photo = real(folder, b"caf\xe9.jpg")
    hits = json_lines(run(home, "search", "--image", photo, "--json", "--limit", "9").stdout)
    by_path = {hit["path"]: hit for hit in hits}
    assert base64.b64decode(by_path[f"{folder}/caf\\xe9.jpg"]["path_base64"]) == os.fsencode(photo)
    assert "path_base64" not in by_path[str(folder / "café.jpg")]  # only where it is needed
    assert f"{folder}/x\uffffdce9.jpg" in by_path and f"{folder}/x\\xe9.jpg" in by_path
    # A folder filter (a full path, or a folder's name) with a name that is not UTF-8.
    for where in (real(folder, b"dir\xe9"), os.fsdecode(b"dir\xe9")):
        inside = json_lines(run(home, "search", "--image", photo, "--in", where, "--json").stdout)
        assert [hit["path"] for hit in inside] == [f"{folder}/dir\\xe9/inside.jpg"]


def test_plain_output_shows_readable_names(home: Path, folder: Path) -> None:
    lines = run(home, "search", "zanzibarite", "--mode", "keyword").stdout
    assert f"{folder}/\\xff\\xfe.txt" in lines and "[zanzibarite]" in lines
    status = run(home, "status").stdout
    assert f"  {folder}/broken\\xe9.jpg: " in status
    assert "1 file(s) could not be indexed" in status
    data = json.loads(run(home, "status", "--json").stdout)
    (failure,) = data["failures"]
    assert failure["path"] == f"{folder}/broken\\xe9.jpg"
    assert base64.b64decode(failure["path_base64"]) == os.fsencode(real(folder, BROKEN))
    indexed = sum(row["count"] for row in data["files"] if row["status"] == "indexed")
    assert indexed == len(NAMES)
    # Tried again, the broken file is named readably by index too, and in its JSON.
    report = run(home, "index", str(folder), "--retry-failed").stdout
    assert f"failed: {folder}/broken\\xe9.jpg: " in report
    (failure,) = json.loads(run(home, "index", "--retry-failed", "--json").stdout)["failures"]
    assert failure["path"] == f"{folder}/broken\\xe9.jpg"
    assert base64.b64decode(failure["path_base64"]) == os.fsencode(real(folder, BROKEN))


def test_the_keyword_index_holds_readable_names(home: Path, folder: Path) -> None:
    with Library.open(home) as library:
        names = [row[0] for row in library.store.db.execute("SELECT name FROM item_text")]
        # The bytes read as Latin-1 are keywords too: "café" finds the Latin-1 name as well.
        found = {hit.path for hit in library.search(Query(text="café", mode="keyword"))}
    assert "caf\\xe9.jpg café.jpg" in names and "café.jpg" in names
    assert all(name.encode("utf-8") for name in names)
    assert found == {real(folder, b"caf\xe9.jpg"), str(folder / "café.jpg")}


def test_renamed_and_moved_files_keep_their_items(home: Path, folder: Path) -> None:
    photo, inside = real(folder, b"caf\xe9.jpg"), real(folder, b"dir\xe9/inside.jpg")
    before = {path: item_of(home, path) for path in (photo, inside)}
    renamed = real(folder, b"caf\xe9 \xe0 Paris.jpg")
    moved = real(folder, b"dir\xe9\xe9/inside.jpg")
    os.rename(photo, renamed)
    os.rename(os.path.dirname(inside), os.path.dirname(moved))
    report = json.loads(run(home, "index", str(folder), "--json").stdout)
    assert (report["moved"], report["new"], report["removed"], report["encoded"]) == (2, 0, 0, 0)
    assert (item_of(home, renamed), item_of(home, moved)) == (before[photo], before[inside])
    assert item_of(home, photo) is None and item_of(home, inside) is None


def test_a_deleted_file_is_forgotten_and_the_doctor_agrees(home: Path, folder: Path) -> None:
    check = json.loads(run(home, "doctor", "--check", "--json").stdout)
    assert check["problem"] == 0, check
    on_disk = next(c for c in check["checks"] if c["name"] == "files on disk")
    assert on_disk["status"] == "ok"

    gone = real(folder, b"x\xe9.jpg")
    os.unlink(gone)
    check = json.loads(run(home, "doctor", "--check", "--json", expect=1).stdout)
    (on_disk,) = [c for c in check["checks"] if c["status"] == "problem"]
    assert on_disk["name"] == "files on disk" and f"{folder}/x\\xe9.jpg" in on_disk["detail"]

    report = json.loads(run(home, "index", str(folder), "--json").stdout)
    assert report["removed"] == 1
    assert item_of(home, gone) is None
    assert item_of(home, real(folder, "x\uffffdce9.jpg".encode())) is not None  # its look-alike
    assert json.loads(run(home, "doctor", "--check", "--json").stdout)["problem"] == 0


def test_the_live_index_follows_renames_moves_and_deletes(home: Path, folder: Path) -> None:
    photo, inside = real(folder, b"caf\xe9.jpg"), real(folder, b"dir\xe9/inside.jpg")
    before = {path: item_of(home, path) for path in (photo, inside)}
    renamed = real(folder, b"caf\xe9-2.jpg")
    moved = real(folder, b"\xe9t\xe9/inside.jpg")
    with Library.open(home) as library:
        live = LiveIndex(library, settle=0.3)
        live.start()
        try:
            wait_for(lambda: live.status().state == "idle")
            os.rename(photo, renamed)
            os.rename(os.path.dirname(inside), os.path.dirname(moved))
            wait_for(lambda: item_of(home, renamed) == before[photo])
            wait_for(lambda: item_of(home, moved) == before[inside])
            with open(real(folder, b"new\xe9.jpg"), "wb") as file:
                file.write(small_jpeg(6))
            wait_for(lambda: item_of(home, real(folder, b"new\xe9.jpg")))
            os.unlink(renamed)
            wait_for(lambda: item_of(home, renamed) is None)
        finally:
            live.stop()
    assert item_of(home, photo) is None and item_of(home, inside) is None
    assert json.loads(run(home, "doctor", "--check", "--json").stdout)["problem"] == 0


def wait_for(condition, timeout: float = 15.0):  # noqa: ANN001 - any callable
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    raise AssertionError(f"not true within {timeout} s")


# --- the store's spelling of paths ---------------------------------------------------------

PROPERTIES = settings(
    max_examples=150,
    deadline=None,
    database=None,  # no example database written into the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# A new database per example (its migrations run): ~0.1 s each, so fewer examples; each holds
# up to eight paths of one to three weighted segments.
STORE_PROPERTIES = settings(PROPERTIES, max_examples=40)
# Any code point but NUL (no path holds one), weighted towards the escape character, escaped
# bytes, other lone surrogates and the hex digits of an escape.
CHARACTER = st.one_of(
    st.sampled_from([ESCAPE, "\udce9", "\udcff", "\udc80", "\ud800", "\udfff", "d", "c", "e", "9"]),
    st.characters(exclude_categories=(), exclude_characters="\x00"),
)
TEXT = st.text(CHARACTER, max_size=12)
# One name in a folder: no separator, never empty.
SEGMENT = st.text(
    st.one_of(CHARACTER.filter(lambda c: c not in "/\\"), st.just("é")), min_size=1, max_size=6
)


@PROPERTIES
@given(TEXT, TEXT)
def test_the_database_spelling_is_valid_reversible_and_keeps_prefixes(a: str, b: str) -> None:
    for text in (a, b):
        spelt = to_db(text)
        spelt.encode("utf-8")  # raises on a surrogate: SQLite could not bind it
        assert from_db(spelt) == text
    assert to_db(b).startswith(to_db(a)) == b.startswith(a)
    assert (to_db(a) == to_db(b)) == (a == b)


@PROPERTIES
@given(st.text(st.characters(codec="utf-8", exclude_characters="\x00\uffff"), max_size=20))
def test_a_valid_name_is_stored_as_it_is(name: str) -> None:
    assert to_db(name) == name and readable_path(name) == name


@STORE_PROPERTIES
@given(
    st.lists(st.lists(SEGMENT, min_size=1, max_size=3), min_size=1, max_size=8, unique_by=tuple),
    st.data(),
)
def test_the_store_keeps_any_path_exactly(tmp_path: Path, parts: list, data: st.DataObject):
    store = Store.open(Path(tempfile.mkdtemp(dir=tmp_path)) / "library.db")  # one per example
    try:
        root = "/r"
        paths = ["/".join([root, *segments]) for segments in parts]
        for path in paths:
            store.files.record_failure(path, root, "photo", 1, 2, "a reason")
        store.queue.add([(path, root) for path in paths])
        assert {path for path, _ in store.reads.failures()} == set(paths)
        assert set(store.files.file_states_of(paths, None)) == set(paths)
        assert {entry.path for entry in store.queue.ready(100, now=time.time() + 1)} == set(paths)

        # "Below this folder" and a folder's move, compared with the same on Python strings.
        folder = "/".join([root, *data.draw(st.sampled_from(parts))[:1]])
        below = {p for p in paths if p == folder or p.startswith(folder + "/")}
        assert set(store.files.file_states(folder, None)) == below
        target = "/moved/" + data.draw(SEGMENT)
        store.files.move_folder(folder, target, "/moved")
        after = {target + p[len(folder) :] if p in below else p for p in paths}
        assert {path for path, _ in store.reads.failures()} == after
        assert {entry.path for entry in store.queue.ready(100, now=time.time() + 1)} == after
        assert {from_db(p) for (p,) in store.db.execute("SELECT path FROM files")} == after
    finally:
        store.close()


def test_libraries_from_before_are_respelt_once(tmp_path: Path) -> None:
    """A name holding U+FFFF was stored as it is: the upgrade doubles it (one holding two
    first, so the unique paths never clash); a file parked for its name is found again."""
    store = Store.open(tmp_path / "library.db")
    one, two = "/r/a\uffff.jpg", "/r/a\uffff\uffff.jpg"
    with store.db.atomic():
        for path in (one, two, "/r/caf\\xe9.jpg"):  # as the earlier versions stored them
            store.db.execute(
                "INSERT INTO files(path, root, kind, status, error, updated_at) "
                "VALUES (?, '/r\uffff', 'photo', ?, ?, '')",
                [path, *(("failed", _OLD_REASON) if "\\x" in path else ("indexed", None))],
            )
        store.db.execute(
            "INSERT INTO queue(path, root, queued_at) VALUES (?, '/r\uffff', 0)", [two]
        )
        store.db.execute("INSERT INTO roots(path, added_at) VALUES ('/r\uffff', '')")
        store.db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm007_exact_path_names'")
    store.close()
    upgraded = Store.open(tmp_path / "library.db")
    try:
        assert [m.name for m in migrations.applied(upgraded.db)][-1] == "m007_exact_path_names"
        rows = upgraded.db.execute("SELECT path, root FROM files ORDER BY path").fetchall()
        assert [(from_db(p), from_db(r)) for p, r in rows] == [(one, "/r\uffff"), (two, "/r\uffff")]
        assert upgraded.files.roots() == ["/r\uffff"]
        assert [entry.path for entry in upgraded.queue.ready(10)] == [two]
        assert list(upgraded.reads.failures()) == []  # the \\x spelling is gone
    finally:
        upgraded.close()


_OLD_REASON = "file name is not valid UTF-8 (rename the file to index it)"
