"""LibraryStatus (app/status.py): read from a real library, and the JSON of ``status --json``."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop_search.app.library import Library
from desktop_search.app.status import (
    Failure,
    FileCount,
    IndexerHeartbeat,
    LibraryStatus,
    ObjectCounts,
    QueueCounts,
)
from desktop_search.index.progress import Heartbeat

BAD_NAME = b"caf\xe9.jpg"  # Latin-1: not valid UTF-8
NOT_AN_IMAGE = "not an image or unsupported format"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Two photos, a text file, two files that are no image (one named in Latin-1) and a link
    pointing nowhere."""
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in ("a.jpg", "b.jpg"):
        pixels = rng.integers(0, 255, (64, 96, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / name, quality=90)
    (folder / "note.txt").write_text("a note about the garden shed", encoding="utf-8")
    (folder / "broken.jpg").write_bytes(b"not a jpeg at all")
    (Path(os.fsdecode(os.path.join(os.fsencode(folder), BAD_NAME)))).write_bytes(b"nope")
    (folder / "gone.jpg").symlink_to(tmp_path / "missing.jpg")
    return folder


@pytest.fixture
def library(tmp_path: Path, folder: Path):
    with Library.open(tmp_path / "home") as library:
        library.index([folder])
        yield library


def database_counts(home: Path) -> list[tuple[str, str, int]]:
    """What the files table holds, asked of the SQLite file itself."""
    with sqlite3.connect(home / "library.db") as db:
        return db.execute(
            "SELECT kind, status, count(*) FROM files GROUP BY kind, status ORDER BY kind, status"
        ).fetchall()


def test_the_counts_are_the_databases(library: Library, folder: Path) -> None:
    status = library.status()
    assert isinstance(status, LibraryStatus)
    assert status.home == str(library.paths.home)
    assert status.roots == [str(folder)]
    expected = [FileCount(*row) for row in database_counts(library.paths.home)]
    assert status.files == expected
    assert FileCount("photo", "indexed", 2) in status.files
    assert FileCount("photo", "failed", 2) in status.files
    assert (status.indexed(), status.indexed("photo"), status.indexed("text")) == (3, 2, 1)
    # No CLIP model: the photos are catalogued and wait for one; nobody indexes now.
    assert (status.model, status.embeddings, status.pending) == (None, 0, 2)
    assert status.queue == QueueCounts(waiting=0, retrying=0, parked=2)
    assert status.objects == ObjectCounts(detector=None)  # no detector installed
    assert status.indexer is None
    assert status.skipped_links == {"dangling": 1}


def test_failures_keep_the_exact_name(library: Library, folder: Path) -> None:
    failures = library.status().failures
    bad = os.fsdecode(os.path.join(os.fsencode(folder), BAD_NAME))
    assert failures == [
        Failure(str(folder / "broken.jpg"), NOT_AN_IMAGE),
        Failure(bad, NOT_AN_IMAGE),
    ]
    assert os.fsencode(failures[1].path).endswith(BAD_NAME)  # the bytes, for opening it


def test_the_status_is_frozen(library: Library) -> None:
    status = library.status()
    with pytest.raises(dataclasses.FrozenInstanceError):
        status.object_classes = []  # type: ignore[misc]  # a field, asked for: status(...)
    with pytest.raises(dataclasses.FrozenInstanceError):
        status.extra = 1  # type: ignore[attr-defined]  # nobody adds keys


def test_object_classes_only_when_asked(library: Library) -> None:
    assert library.status().object_classes is None
    assert library.status(object_classes=True).object_classes == []
    assert "object_classes" not in library.status(object_classes=True).to_json()


def test_to_json_is_what_status_json_printed(library: Library, folder: Path) -> None:
    """The keys, their order and the spelling of paths of ``status --json`` before the status
    was typed: scripts read it."""
    data = library.status().to_json()
    bad = os.path.join(os.fsencode(folder), BAD_NAME)
    assert list(data) == [
        "home", "model", "roots", "files", "embeddings", "pending", "text_model",
        "passages_pending", "photos_to_read", "objects", "queue", "indexer", "failures",
        "skipped_links",
    ]  # fmt: skip
    assert data == {
        "home": str(library.paths.home),
        "model": None,
        "roots": [str(folder)],
        "files": [{"kind": k, "status": s, "count": n}
                  for k, s, n in database_counts(library.paths.home)],  # fmt: skip
        "embeddings": 0,
        "pending": 2,
        "text_model": None,
        "passages_pending": 0,
        "photos_to_read": library.status().photos_to_read,
        "objects": {"total": 0, "photos": 0, "classes": {}, "detector": None, "pending": 0},
        "queue": {"waiting": 0, "retrying": 0, "parked": 2},
        "indexer": None,
        "failures": [
            {"path": str(folder / "broken.jpg"), "reason": NOT_AN_IMAGE},
            {"path": str(folder / "caf\\xe9.jpg"), "reason": NOT_AN_IMAGE,
             "path_base64": base64.b64encode(bad).decode("ascii")},
        ],  # fmt: skip
        "skipped_links": {"dangling": 1},
    }
    assert json.loads(json.dumps(data)) == data  # JSON all the way down


def test_another_process_heartbeat_is_typed_and_printed_as_published(
    library: Library, folder: Path
) -> None:
    unwatched = {str(folder): "network drive (nfs): changes made elsewhere are not announced"}
    heartbeat = Heartbeat(library.store, context=lambda: {"unwatched": unwatched})
    published = heartbeat.publish("idle", queued=3, retrying=1)
    indexer = library.status().indexer
    assert indexer == IndexerHeartbeat(
        pid=os.getpid(), state="idle", updated=published["updated"], done=0, total=0,
        rate=None, eta_seconds=None, unwatched=unwatched, queued=3, retrying=1,
    )  # fmt: skip
    assert library.status().to_json()["indexer"] == published  # same keys, same order
    assert list(library.status().to_json()["indexer"]) == list(published)

    # An indexing run publishes no queue counts and no folders: none appear.
    plain = Heartbeat(library.store).publish("indexing")
    indexer = library.status().indexer
    assert (indexer.state, indexer.queued, indexer.unwatched) == ("indexing", None, None)
    assert library.status().to_json()["indexer"] == plain
    heartbeat.clear()
    assert library.status().indexer is None
