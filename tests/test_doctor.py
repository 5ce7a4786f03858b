"""`desktop-search doctor` on real library homes: indexed with the tiny CLIP model, then broken."""

import hashlib
import json
import os
import sqlite3
import time

import numpy as np
import pytest

from desktop_search.store.store import Store
from desktop_search.vectors.index import VectorIndex
from tests import test_cli_end_to_end as e2e
from tests.processes import writer_lock_held_elsewhere
from tests.test_cli_end_to_end import assert_one_line_error, expected_counts, json_lines, run

# The end-to-end fixtures: a home with the tiny CLIP model active, a fresh copy of the photos.
home, photo_folder, photos = e2e.home, e2e.photo_folder, e2e.photos


@pytest.fixture
def library(home, photos):
    """An indexed library home: (home, photo folder, model id)."""
    folder, _ = photos
    run(home, "index", folder)
    model = json.loads(run(home, "status", "--json").stdout)["model"]
    return home, folder, model


def doctor(home, *args, expect=0):
    return run(home, "doctor", *args, expect=expect)


def statuses(result):
    """{check name: (status, detail)} from `doctor --json`."""
    return {c["name"]: (c["status"], c["detail"]) for c in json.loads(result.stdout)["checks"]}


def connect(home):
    """A raw connection with foreign keys off, to break the database the way bugs and crashes do."""
    db = sqlite3.connect(home / "library.db", isolation_level=None)
    db.execute("PRAGMA foreign_keys=OFF")
    return db


def query(home, sql, *params):
    db = connect(home)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def snapshot(home):
    """Every file of the home with a digest of its bytes (the lock file aside)."""
    return {
        str(path.relative_to(home)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(home.rglob("*"))
        if path.is_file() and path.name != "writer.lock"
    }


def first_hit(home, image):
    return json_lines(run(home, "search", "--image", image, "--json"))[0]["path"]


def test_a_clean_library_is_all_ok(library):
    home, _, model = library
    result = doctor(home)
    lines = result.stdout.splitlines()
    assert lines[0] == "ok      database integrity"
    assert all(line.startswith("ok      ") for line in lines[:-1])
    assert f"ok      vector index {model}" in lines
    assert lines[-1] == f"the library is consistent ({len(lines) - 1} checks ok)"
    report = json.loads(doctor(home, "--check", "--json").stdout)
    assert report["mode"] == "check"
    assert (report["ok"], report["fixed"], report["problem"]) == (len(lines) - 1, 0, 0)


def test_a_deleted_vector_index_is_rebuilt(library):
    home, folder, model = library
    for path in (home / "vectors").iterdir():
        path.unlink()
    check = statuses(doctor(home, "--check", "--json", expect=1))
    assert check[f"vector index {model}"][0] == "problem"
    assert "is missing" in check[f"vector index {model}"][1]
    assert not list((home / "vectors").iterdir())  # --check changed nothing

    line = f"fixed   vector index {model}: rebuilt from the database (is missing (no {model}.json))"
    assert line in doctor(home).stdout.splitlines()
    assert doctor(home, "--check").stdout.splitlines()[-1].startswith("the library is consistent")
    assert first_hit(home, folder / "camera.jpg") == str(folder / "camera.jpg")


@pytest.mark.parametrize("wrong", ["fewer ids", "other vectors"])
def test_an_index_file_with_wrong_contents_is_rebuilt(library, wrong):
    home, folder, model = library
    store = Store.open(home / "library.db")
    ids, vectors = store.embeddings.of_model(model)
    if wrong == "fewer ids":
        ids, vectors = ids[:3], vectors[:3]
        expected = f"held 3 vectors, database {len(store.embeddings.of_model(model)[0])}"
    else:  # the same ids, other vectors: the count guard of vectors/spaces.py passes it
        vectors = np.random.default_rng(0).normal(size=vectors.shape).astype(np.float32)
        expected = "sampled vectors differ from the database"
    path = home / "vectors" / f"{model}.index"
    VectorIndex.build(vectors.shape[1], ids, vectors).save(path, store.generation(model))

    assert expected in statuses(doctor(home, "--json"))[f"vector index {model}"][1]
    saved = VectorIndex.load(path, dim=vectors.shape[1], generation=store.generation(model))
    assert np.array_equal(saved.ids(), store.embeddings.of_model(model)[0])
    store.close()
    assert doctor(home, "--check").exit_code == 0
    hubble = folder / "hubble_deep_field.jpg"
    assert first_hit(home, hubble) == str(hubble)


def break_references(home, folder, model):
    """Orphans of every kind, written with foreign keys off (as a bug or an old version might)."""
    db = connect(home)
    vector = np.ones(64, dtype=np.float16).tobytes()
    (colorwheel,) = db.execute(
        "SELECT id FROM files WHERE path = ?", [str(folder / "colorwheel.jpg")]
    ).fetchone()
    db.executescript(
        f"""
        DELETE FROM files WHERE path = '{folder / "camera.jpg"}';  -- its item stays behind
        DELETE FROM items WHERE file_id = {colorwheel};  -- the file stays, its embedding too
        INSERT INTO queue(path, root, queued_at) VALUES ('/elsewhere/q.jpg', '/elsewhere', 0);
        INSERT INTO files(path, root, kind, status, updated_at)
            VALUES ('/elsewhere/x.jpg', '/elsewhere', 'photo', 'failed', 'now');
        """
    )
    db.execute("INSERT INTO embeddings VALUES (999999, ?, ?)", [model, vector])
    db.close()


def test_orphans_are_deleted_and_the_index_follows(library):
    home, folder, model = library
    break_references(home, folder, model)
    result = statuses(doctor(home, "--json"))
    assert result["foreign keys"] == (
        "fixed",
        "deleted 2 embedding(s) whose item is gone, 1 item(s) whose file is gone",
    )
    assert result["indexed files without items"][0] == "fixed"
    assert str(folder / "colorwheel.jpg") in result["indexed files without items"][1]
    assert result["files outside the indexed folders"][0] == "fixed"
    assert result["queue entries outside the indexed folders"][0] == "fixed"
    assert result[f"vector index {model}"][0] == "fixed"  # the removals made it stale

    assert query(home, "PRAGMA foreign_key_check") == []
    assert query(home, "SELECT count(*) FROM embeddings WHERE item_id = 999999") == [(0,)]
    assert query(home, "SELECT path FROM queue") == []
    paths = {row[0] for row in query(home, "SELECT path FROM files")}
    assert not paths & {"/elsewhere/x.jpg", str(folder / "colorwheel.jpg")}
    assert doctor(home, "--check").exit_code == 0
    # What was forgotten comes back as new with the next run.
    assert json.loads(run(home, "index", "--json").stdout)["new"] == 2
    assert first_hit(home, folder / "colorwheel.jpg") == str(folder / "colorwheel.jpg")


def test_a_missing_thumbnail_queues_its_file(library):
    home, folder, _ = library
    camera = str(folder / "camera.jpg")
    (thumbnail,) = query(home, "SELECT thumbnail FROM files WHERE path = ?", camera)[0]
    (home / "thumbnails" / thumbnail).unlink()
    lines = doctor(home).stdout.splitlines()
    fixed = f"fixed   thumbnails: 1 file(s) have no thumbnail file ({camera}): queued for the next"
    assert f"{fixed} index run" in lines
    assert query(home, "SELECT path, root, attempts FROM queue") == [(camera, str(folder), 0)]
    # Queued already: a second check has nothing left to do about it.
    again = statuses(doctor(home, "--check", "--json"))
    assert again["thumbnails"] == ("ok", "1 missing, queued for the next index run")


def test_leftover_temporary_files_are_deleted(library):
    home, _, model = library
    old = time.time() - 2 * 3600
    leftovers = [
        home / "vectors" / f"{model}.index.k2j3h4.tmp",
        home / "vectors" / f"{model}.json.a8d7f6.tmp",
        home / "thumbnails" / "ab" / ".abcdef.jpg.123-456.tmp",
        home / "library.db.x1y2z3.tmp",
        home / "models" / f".{model}.tmp-q9w8e7" / "visual.onnx",
    ]
    kept = [
        home / "models" / ".other.tmp-r5t6y7" / "visual.onnx",  # recent: an install may be running
        home / "models" / ".downloads" / "some-model" / "model.onnx.part",  # resumable download
    ]
    for path in leftovers + kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"partial")
    for path in (leftovers[-1], leftovers[-1].parent):
        os.utime(path, (old, old))

    status, detail = statuses(doctor(home, "--json"))["temporary files"]
    assert (status, detail.split(" (")[0]) == ("fixed", "deleted 5 left by interrupted saves")
    assert not any(path.exists() for path in leftovers)
    assert not leftovers[-1].parent.exists()
    assert all(path.exists() for path in kept)
    assert statuses(doctor(home, "--check", "--json"))["temporary files"] == ("ok", "")


def test_check_reports_every_problem_and_changes_nothing(library):
    home, folder, model = library
    break_references(home, folder, model)
    (home / "vectors" / f"{model}.index").unlink()
    (home / "vectors" / "x.index.abc.tmp").write_bytes(b"")
    (home / "vectors" / "x.index.abc.tmp").chmod(0o600)  # as the app writes them (mkstemp)
    before = snapshot(home)
    result = doctor(home, "--check", expect=1)
    problems = [line for line in result.stdout.splitlines() if line.startswith("problem ")]
    assert [line.split(":")[0] for line in problems] == [
        "problem foreign keys",
        "problem indexed files without items",
        "problem files outside the indexed folders",
        "problem queue entries outside the indexed folders",
        f"problem vector index {model}",
        "problem files on disk",  # /elsewhere/x.jpg
    ]
    # A leftover of an interrupted save is harmless: reported, not a problem.
    assert any(
        line.startswith("normal  temporary files: 1 left") for line in result.stdout.splitlines()
    )
    assert result.stdout.splitlines()[-1].startswith("6 problem(s)")
    assert snapshot(home) == before


def corrupt_page_of(home, name):
    """Overwrite the page header of table or index ``name`` (after a checkpoint, so the damage
    is in the main file) and check SQLite sees it."""
    db = connect(home)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    (page,) = db.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", [name]).fetchone()
    (size,) = db.execute("PRAGMA page_size").fetchone()
    db.close()
    with open(home / "library.db", "r+b") as f:
        f.seek((page - 1) * size)
        f.write(b"\xff" * 12)
    db = connect(home)
    with pytest.raises(sqlite3.DatabaseError, match="malformed"):
        db.execute("PRAGMA integrity_check").fetchall()
    db.close()


def test_a_damaged_table_is_rebuilt_from_the_readable_rows(library, photos):
    home, folder, model = library
    good, _ = expected_counts(photos[1])
    corrupt_page_of(home, "embeddings")
    damaged = (home / "library.db").read_bytes()
    check = statuses(doctor(home, "--check", "--json", expect=1))
    assert check["database integrity"][0] == "problem"
    assert "malformed" in check["database integrity"][1]
    assert (home / "library.db").read_bytes() == damaged

    status, detail = statuses(doctor(home, "--json"))["database integrity"]
    assert status == "fixed"
    assert "unreadable rows of embeddings were lost" in detail
    (aside,) = home.glob("library.db.corrupt-*")
    assert aside.name in detail and aside.read_bytes() == damaged
    assert query(home, "PRAGMA integrity_check") == [("ok",)]
    # Only the embeddings are gone: the photos stay catalogued, waiting to be encoded again.
    assert json.loads(run(home, "status", "--json").stdout)["pending"] == good
    assert json.loads(run(home, "index", "--json").stdout)["caught_up"] == good
    assert doctor(home, "--check").exit_code == 0
    assert first_hit(home, folder / "camera.jpg") == str(folder / "camera.jpg")


def test_a_damaged_index_page_is_rebuilt_without_losing_anything(library):
    home, folder, model = library
    files = "SELECT path, content_hash FROM files ORDER BY path"
    before = query(home, files), query(home, "SELECT * FROM sqlite_sequence")
    corrupt_page_of(home, "files_content_hash")
    detail = statuses(doctor(home, "--json"))["database integrity"][1]
    assert "nothing was lost" in detail
    assert (query(home, files), query(home, "SELECT * FROM sqlite_sequence")) == before
    assert query(home, "PRAGMA integrity_check") == [("ok",)]
    assert first_hit(home, folder / "camera.jpg") == str(folder / "camera.jpg")


def test_a_database_sqlite_cannot_open_is_reported_with_what_to_do(library):
    home, _, _ = library
    with open(home / "library.db", "r+b") as f:
        f.write(b"not a database!!")
    for args in ([], ["--check"]):
        result = doctor(home, *args, expect=1)
        (line, summary) = result.stdout.splitlines()
        assert line.startswith("problem database integrity: cannot open ")
        assert "file is not a database" in line and "move it aside" in line
        assert result.stderr == ""
    assert (home / "library.db").read_bytes().startswith(b"not a database!!")


def test_repair_needs_the_writer_lock_but_check_does_not(library):
    home, _, _ = library
    with writer_lock_held_elsewhere(home):
        assert_one_line_error(doctor(home, expect=1), "another desktop-search process")
        assert doctor(home, "--check").exit_code == 0
