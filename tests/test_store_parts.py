"""The store's parts on a real database file: a transaction over several parts, the doctor's
checks and their repairs, embeddings per model, file rows the doctor reads, query filters."""

import sqlite3
from datetime import date

import numpy as np
import pytest

from desktop_search.extract.document import CHUNK, Document, TextItem
from desktop_search.search.query import Filters
from desktop_search.store.checks import ForeignKeyViolation, UnindexedItem
from desktop_search.store.files import FileThumbnail
from desktop_search.store.records import DocumentRecord, FoundObject, PhotoRecord
from desktop_search.store.store import Store


@pytest.fixture
def store(tmp_path):
    opened = Store.open(tmp_path / "library.db")
    yield opened
    opened.close()


def photo(path: str, content_hash: str, root: str = "/photos", thumbnail: str | None = None):
    return PhotoRecord(path=path, root=root, size=10, mtime_ns=1, content_hash=content_hash,
                       width=4, height=3, thumbnail=thumbnail)  # fmt: skip


def note(path: str, text: str, root: str = "/notes") -> DocumentRecord:
    document = Document(kind="text", items=[TextItem(kind=CHUNK, text=text)])
    return DocumentRecord(path=path, root=root, size=len(text), mtime_ns=1, content_hash=path,
                          document=document)  # fmt: skip


def unit(n: int, dim: int = 8, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def raw(tmp_path) -> sqlite3.Connection:
    """Another connection to the same file, without foreign keys: how damage gets in."""
    return sqlite3.connect(tmp_path / "library.db", isolation_level=None)


def test_a_transaction_over_several_parts_commits_all_or_nothing(store):
    with pytest.raises(RuntimeError), store.transaction():
        store.files.save_photos([photo("/photos/a.jpg", "a")], unit(1), "m")
        store.objects.save_objects("/photos/a.jpg", [FoundObject("dog", 0.9, (0, 0, 2, 2))],
                                   None, None, "detector+m")  # fmt: skip
        store.texts.save_document(note("/notes/a.txt", "lighthouse keeper"), None, None)
        assert store.in_transaction
        raise RuntimeError("a failure half-way: nothing of the above may stay")
    assert not store.in_transaction
    assert store.files.paths() == [] and store.embeddings.count("m") == 0
    assert store.generation("m") == 0
    with store.transaction():
        store.files.save_photos([photo("/photos/a.jpg", "a")], unit(1), "m")
        store.texts.save_document(note("/notes/a.txt", "lighthouse keeper"), None, None)
    assert sorted(store.files.paths()) == ["/notes/a.txt", "/photos/a.jpg"]
    assert store.reads.keyword_search("lighthouse", Filters(), 10) != []


def test_embeddings_per_model(store):
    vectors = unit(2)
    ids, _ = store.files.save_photos(
        [photo("/photos/a.jpg", "a"), photo("/photos/b.jpg", "b")], vectors, "m"
    )
    store.files.save_photos([photo("/photos/c.jpg", "c")], unit(1, dim=4), "small")
    assert store.embeddings.dimensions() == {"m": 8, "small": 4}
    assert store.embeddings.item_ids("m").tolist() == sorted(ids)
    assert store.embeddings.item_ids("m").dtype == np.int64
    assert store.embeddings.count("m") == 2 and store.embeddings.count("none") == 0
    found = store.embeddings.of_items([ids[1], 10**9], "m")
    assert list(found) == [ids[1]]
    assert np.allclose(found[ids[1]], vectors[1], atol=1e-3)  # stored as float16
    assert np.allclose(store.embeddings.vector_of(ids[0], "m"), vectors[0], atol=1e-3)
    assert store.embeddings.vector_of(ids[0], "small") is None
    all_ids, all_vectors = store.embeddings.of_model("m")
    assert all_ids.tolist() == sorted(ids) and all_vectors.shape == (2, 8)
    # Saving for items that went meanwhile keeps only the ones still there.
    assert store.embeddings.save("text", [ids[0], 10**9], unit(2)) == [ids[0]]
    assert store.embeddings.count("text") == 1


def test_file_rows_the_doctor_reads(store):
    store.files.save_photos([photo("/photos/a.jpg", "a", thumbnail="aa/a.jpg"),
                             photo("/photos/b.jpg", "b")], None, None)  # fmt: skip
    store.queue.add([("/photos/c.jpg", "/photos"), ("/photos/b.jpg", "/photos")])
    assert sorted(store.files.paths()) == ["/photos/a.jpg", "/photos/b.jpg"]
    assert store.files.with_thumbnails() == [FileThumbnail("/photos/a.jpg", "/photos", "aa/a.jpg")]
    assert store.queue.paths() == ["/photos/c.jpg", "/photos/b.jpg"]
    states = store.files.file_states("/photos", None)
    assert states["/photos/a.jpg"].size == 10
    with store.transaction():
        store.files.mark_changed(["/photos/a.jpg"])
    changed = store.files.file_states("/photos", None)["/photos/a.jpg"]
    assert (changed.size, changed.content_hash) == (None, None)
    assert store.files.file_states("/photos", None)["/photos/b.jpg"].size == 10


def test_foreign_key_violations_are_found_and_deleted(store, tmp_path):
    ids, _ = store.files.save_photos([photo("/photos/a.jpg", "a")], unit(1), "m")
    assert store.checks.foreign_key_violations() == []
    with raw(tmp_path) as damage:
        damage.execute("INSERT INTO items(file_id, kind) VALUES (12345, 'photo')")
        damage.execute("INSERT INTO embeddings(item_id, model, vector) VALUES (777, 'm', x'00')")
    found = store.checks.foreign_key_violations()
    assert sorted(v.table for v in found) == ["embeddings", "items"]
    assert all(isinstance(v, ForeignKeyViolation) for v in found)
    with store.transaction():
        store.checks.delete_violations(found)
    assert store.checks.foreign_key_violations() == []
    assert store.embeddings.item_ids("m").tolist() == ids  # the sound rows stay


def test_files_without_items_and_outside_the_roots(store, tmp_path):
    store.files.add_roots(["/photos"])
    store.files.save_photos([photo("/photos/a.jpg", "a"), photo("/photos/b.jpg", "b"),
                             photo("/elsewhere/c.jpg", "c", root="/elsewhere"),
                             photo("/single.jpg", "d", root="/single.jpg")],
                            None, None)  # fmt: skip
    store.queue.add([("/photos/q.jpg", "/photos"), ("/elsewhere/q.jpg", "/elsewhere")])
    assert store.checks.indexed_without_items() == []
    with raw(tmp_path) as damage:
        damage.execute("DELETE FROM items WHERE file_id = (SELECT id FROM files "
                       "WHERE path = '/photos/b.jpg')")  # fmt: skip
    assert store.checks.indexed_without_items() == ["/photos/b.jpg"]
    roots = store.files.roots()
    # A file indexed by name (its root is its own path) belongs to no folder: never outside.
    assert store.checks.files_outside(roots) == ["/elsewhere/c.jpg"]
    assert store.checks.queued_outside(roots) == ["/elsewhere/q.jpg"]
    assert sorted(store.checks.files_outside([])) == [
        "/elsewhere/c.jpg", "/photos/a.jpg", "/photos/b.jpg"]  # fmt: skip


def test_keyword_rows_without_items_and_items_without_rows(store, tmp_path):
    (photo_item,), _ = store.files.save_photos([photo("/photos/a.jpg", "a")], None, None)
    (passage,), _ = store.texts.save_document(note("/notes/n.txt", "harbour"), None, None)
    assert store.checks.keyword_orphans() == [] and store.checks.unindexed_items() == []
    with raw(tmp_path) as damage:
        damage.execute("DELETE FROM item_text WHERE rowid IN (?, ?)", [photo_item, passage])
        damage.execute("INSERT INTO item_text(rowid, name, title, body) "
                       "VALUES (999, 'x', NULL, '')")  # fmt: skip
    assert store.checks.keyword_orphans() == [999]
    assert sorted(store.checks.unindexed_items(), key=lambda item: item.item_id) == [
        UnindexedItem(photo_item, "photo", "/photos/a.jpg", "/photos"),
        UnindexedItem(passage, CHUNK, "/notes/n.txt", "/notes"),
    ]
    with store.transaction():
        store.checks.delete_keyword_rows([999])
        store.texts.index_text(photo_item, "a jpg", None, "")
    assert store.checks.keyword_orphans() == []
    assert [item.item_id for item in store.checks.unindexed_items()] == [passage]


def test_integrity_check_of_a_sound_file(store):
    assert store.checks.integrity_check() == ["ok"]


def test_reads_take_the_query_parsers_filters(store):
    store.texts.save_document(note("/notes/a.txt", "harbour lights"), None, None)
    store.texts.save_document(note("/work/b.txt", "harbour cranes", root="/work"), None, None)
    everywhere = store.reads.keyword_search("harbour", Filters(), 10)
    in_notes = store.reads.keyword_search("harbour", Filters(folders=("/notes",)), 10)
    assert len(everywhere) == 2 and len(in_notes) == 1
    assert store.reads.hits(in_notes)[in_notes[0]]["path"] == "/notes/a.txt"
    assert store.reads.recent_items(Filters(after=date(2999, 1, 1)), 10) == []
    assert store.reads.filter_items(everywhere, Filters(types=frozenset({"text"}))) == set(
        everywhere
    )
