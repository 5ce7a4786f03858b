"""Forgetting leaves no trace: a forgotten folder's (or deleted file's) rows, text, keyword-index
words, embeddings, vectors, thumbnails, queue entries and failures are gone, and its text is no
longer in the bytes of ``library.db`` or its write-ahead log (secure_delete, the keyword index
rewritten, the log emptied). Real library homes with the tiny CLIP model, real SQLite files.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from desktop_search.app.library import Library
from desktop_search.cli.root import cli
from desktop_search.vectors.index import VectorIndex

MARKER = b"quokkazephyr"  # in one note's text only: never in a name, a path or a title


def run(home: Path, *args: object, expect: int = 0):
    result = CliRunner().invoke(cli, ["--home", str(home), *map(str, args)])
    assert result.exit_code == expect, result.output
    return result


def make_folder(folder: Path) -> Path:
    folder.mkdir()
    Image.new("RGB", (96, 64), (200, 30, 30)).save(folder / "red.jpg", quality=90)
    Image.new("RGB", (96, 64), (30, 30, 200)).save(folder / "blue.jpg", quality=90)
    (folder / "broken.jpg").write_bytes(b"not a photo")  # parked with a reason
    (folder / "notes.txt").write_text(
        f"Shopping list\n\nBread, milk and the word {MARKER.decode()} nobody else wrote.\n"
    )
    return folder


@pytest.fixture
def folders(model_home: Path, tmp_path: Path) -> tuple[Path, Path]:
    """(the folder to forget, a folder that stays), both indexed."""
    gone, kept = make_folder(tmp_path / "private"), tmp_path / "kept"
    kept.mkdir()
    Image.new("RGB", (96, 64), (30, 200, 30)).save(kept / "green.jpg", quality=90)
    with Library.open(model_home) as library:
        library.index([gone, kept])
    return gone, kept


def database_bytes(home: Path) -> bytes:
    """library.db and its write-ahead log (if any), as a copy of the files would hold them."""
    wal = home / "library.db-wal"
    return (home / "library.db").read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def checkpoint(home: Path) -> None:
    connection = sqlite3.connect(home / "library.db")
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def rows_under(home: Path, folder: Path) -> dict[str, int]:
    connection = sqlite3.connect(home / "library.db")
    like = f"{folder}/%"
    try:
        return {
            table: connection.execute(
                f"SELECT count(*) FROM {table} WHERE path LIKE ? OR path = ?", [like, str(folder)]
            ).fetchone()[0]
            for table in ("files", "queue", "roots")
        } | {
            "keyword rows": connection.execute(
                "SELECT count(*) FROM item_text WHERE item_text MATCH ?", [MARKER.decode()]
            ).fetchone()[0],
        }
    finally:
        connection.close()


def plant_hnsw_index(home: Path) -> dict[int, bytes]:
    """Save the model's index as a large library has it (an HNSW graph: a removed vector stays
    in it, marked deleted); returns each item's float32 vector bytes."""
    with Library.open(home) as library:
        model = library.active_model_name
        ids, vectors = library.store.embeddings.of_model(model)
        index = VectorIndex.build(vectors.shape[1], ids, vectors, exact_below=1)
        assert index.mode == "hnsw"
        index.save(home / "vectors" / f"{model}.index", library.store.generation(model))
    unit = vectors / np.linalg.norm(vectors, axis=1)[:, None]  # as the index holds them
    return {int(i): v.astype(np.float32).tobytes() for i, v in zip(ids, unit, strict=True)}


def vectors_in_files(home: Path, vectors: dict[int, bytes], ids: list[int]) -> list[int]:
    """Those of ``ids`` whose vector's bytes are in a file of the home's vectors folder."""
    saved = b"".join(path.read_bytes() for path in (home / "vectors").iterdir())
    return [i for i in ids if i in vectors and vectors[i] in saved]


def item_ids_under(home: Path, folder: Path) -> list[int]:
    connection = sqlite3.connect(home / "library.db")
    try:
        rows = connection.execute(
            "SELECT i.id FROM items i JOIN files f ON f.id = i.file_id WHERE f.path LIKE ?",
            [f"{folder}/%"],
        )
        return [row[0] for row in rows]
    finally:
        connection.close()


def test_forgetting_a_folder_leaves_no_trace(model_home, folders):
    gone, kept = folders
    home = model_home
    vectors = plant_hnsw_index(home)
    forgotten = item_ids_under(home, gone)
    # The two photos have a CLIP vector, in the saved file.
    assert len(vectors_in_files(home, vectors, forgotten)) == 2
    with Library.open(home) as library:
        library.store.queue.add([(str(gone / "later.jpg"), str(gone))])  # waiting in the queue
        thumbnails = {
            library.thumbnails.path(row[0])
            for row in library.store.db.execute(
                "SELECT thumbnail FROM files WHERE thumbnail IS NOT NULL AND path LIKE ?",
                [f"{gone}/%"],
            )
        }
    checkpoint(home)
    assert MARKER in database_bytes(home)  # the note's text was in the file
    assert rows_under(home, gone) == {"files": 4, "queue": 1, "roots": 1, "keyword rows": 1}
    assert len(thumbnails) == 2 and all(path.is_file() for path in thumbnails)

    result = run(home, "forget", gone)
    assert result.stdout == f"forgot 4 file(s) of {gone}\n"

    assert rows_under(home, gone) == {"files": 0, "queue": 0, "roots": 0, "keyword rows": 0}
    assert not any(path.exists() for path in thumbnails)
    assert MARKER not in database_bytes(home)  # not even in free pages or the log
    checkpoint(home)
    assert MARKER not in database_bytes(home)
    # No vector of a forgotten item in any saved file (an HNSW graph keeps removed ones).
    assert vectors_in_files(home, vectors, forgotten) == []
    status = json.loads(run(home, "status", "--json").stdout)
    assert status["roots"] == [str(kept)]
    assert status["failures"] == []  # broken.jpg's reason went with its folder
    with Library.open(home) as library:  # what stays is found as before
        model = library.active_model_name
        index = library.vectors(library.clip())
        assert sorted(index.ids().tolist()) == library.store.embeddings.of_model(model)[0].tolist()
    assert run(home, "doctor", "--check").exit_code == 0


def test_a_deleted_note_leaves_no_words_behind(model_home, folders):
    gone, _ = folders
    home = model_home
    checkpoint(home)
    assert MARKER in database_bytes(home)
    (gone / "notes.txt").unlink()
    report = json.loads(run(home, "index", "--json").stdout)
    assert report["removed"] == 1
    checkpoint(home)
    assert MARKER not in database_bytes(home)
    assert rows_under(home, gone)["keyword rows"] == 0


def test_forgetting_a_folder_that_is_not_indexed_changes_nothing(model_home, folders, tmp_path):
    gone, _ = folders
    home = model_home
    before = rows_under(home, gone)
    result = run(home, "forget", gone / "sub", expect=1)
    assert result.stderr.startswith(f"error: not an indexed folder: {gone / 'sub'}")
    assert "'desktop-search status' lists the indexed folders" in result.stderr
    assert rows_under(home, gone) == before
