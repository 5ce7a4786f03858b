"""The SQLite store: migrations, photos with embeddings, failures, removal, generations."""

import sqlite3

import numpy as np
import pytest

from desktop_search.errors import StoreError
from desktop_search.store.records import PhotoRecord
from desktop_search.store.schema import SCHEMA_MIGRATIONS, migrations
from desktop_search.store.store import Store


@pytest.fixture
def store(tmp_path):
    opened = Store.open(tmp_path / "library.db")
    yield opened
    opened.close()


def photo(path: str, content_hash: str = "abc", size: int = 10) -> PhotoRecord:
    return PhotoRecord(
        path=path,
        root="/photos",
        size=size,
        mtime_ns=1,
        content_hash=content_hash,
        width=4,
        height=3,
        taken_at="2020-01-02T03:04:05",
        camera="Cam X",
        gps=(1.5, -2.5),
        thumbnail="ab/abc.jpg",
    )


def unit(n: int, dim: int = 8, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_new_database_is_in_wal_mode_with_all_migrations(tmp_path, store):
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert [m.name for m in migrations.applied(store.db)] == SCHEMA_MIGRATIONS
    assert {"files", "items", "embeddings", "roots", "meta", "queue", "vector_log"} <= set(
        store.db.table_names()
    )


def test_a_version_1_database_is_upgraded_step_by_step_keeping_its_data(tmp_path):
    import sqlite_utils

    from desktop_search.store.schema import m001_initial

    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    old.execute("PRAGMA foreign_keys=ON")
    m001_initial(old)
    old.execute(
        "CREATE TABLE _sqlite_migrations (migration_set TEXT, name TEXT, applied_at TEXT, "
        "PRIMARY KEY (migration_set, name))"
    )
    old.execute("INSERT INTO _sqlite_migrations VALUES ('desktop_search', 'm001_initial', 'x')")
    old.execute(
        "INSERT INTO files(path, root, kind, status, updated_at) "
        "VALUES ('/p/a.jpg', '/p', 'photo', 'indexed', 'x')"
    )
    old.conn.commit()
    old.close()
    upgraded = Store.open(path)
    assert [m.name for m in migrations.applied(upgraded.db)] == SCHEMA_MIGRATIONS
    assert upgraded.db.execute("SELECT path FROM files").fetchall() == [("/p/a.jpg",)]
    assert len(upgraded.queue) == 0
    upgraded.close()


def test_reopening_applies_nothing_twice(tmp_path, store):
    store.files.save_photos([photo("/photos/a.jpg")], unit(1), "m")
    store.close()
    again = Store.open(tmp_path / "library.db")
    assert len(migrations.applied(again.db)) == len(SCHEMA_MIGRATIONS) == 8
    assert again.embeddings.count("m") == 1
    again.close()


def test_database_from_a_newer_version_is_refused(tmp_path, store):
    store.db.execute(
        "INSERT INTO _sqlite_migrations(migration_set, name, applied_at) "
        "VALUES ('desktop_search', 'm999_future', 'now')"
    )
    store.db.conn.commit()
    store.close()
    with pytest.raises(StoreError, match="newer desktop-search"):
        Store.open(tmp_path / "library.db")


def test_garbage_database_file_gives_a_store_error(tmp_path):
    path = tmp_path / "library.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="cannot open the library database"):
        Store.open(path)


def test_embeddings_round_trip_as_float16(store):
    vectors = unit(3)
    ids, replaced = store.files.save_photos(
        [photo(f"/photos/{n}.jpg", content_hash=str(n)) for n in range(3)], vectors, "m"
    )
    assert replaced == []
    loaded_ids, loaded = store.embeddings.of_model("m")
    assert loaded_ids.tolist() == ids
    assert loaded.dtype == np.float32
    np.testing.assert_allclose(loaded, vectors, atol=1e-3)
    blob = store.db.execute("SELECT vector FROM embeddings LIMIT 1").fetchone()[0]
    assert len(blob) == 8 * 2  # float16


def test_metadata_is_kept(store):
    (item_id,), _ = store.files.save_photos([photo("/photos/a.jpg")], unit(1), "m")
    record = store.reads.hits([item_id])[item_id]
    assert record["path"] == "/photos/a.jpg"
    assert record["taken_at"] == "2020-01-02T03:04:05"
    assert record["camera"] == "Cam X"
    row = store.db.execute("SELECT gps_lat, gps_lon, status FROM files").fetchone()
    assert row == (1.5, -2.5, "indexed")


def test_saving_a_changed_photo_replaces_its_item(store):
    (first,), _ = store.files.save_photos([photo("/photos/a.jpg")], unit(1), "m")
    (second,), replaced = store.files.save_photos(
        [photo("/photos/a.jpg", "new")], unit(1, seed=1), "m"
    )
    assert replaced == [first]
    assert second != first
    assert store.embeddings.count("m") == 1
    assert store.db.execute("SELECT count(*) FROM items").fetchone()[0] == 1


def test_failure_is_recorded_and_drops_old_items(store):
    (item_id,), _ = store.files.save_photos([photo("/photos/a.jpg")], unit(1), "m")
    removed = store.files.record_failure("/photos/a.jpg", "/photos", "photo", 5, 2, "truncated")
    assert removed == [item_id]
    assert list(store.reads.failures()) == [("/photos/a.jpg", "truncated")]
    assert store.embeddings.count("m") == 0


def test_removing_paths_cascades_to_items_and_embeddings(store):
    ids, _ = store.files.save_photos(
        [photo("/photos/a.jpg", "1"), photo("/photos/b.jpg", "2")], unit(2), "m"
    )
    assert store.files.remove_paths(["/photos/a.jpg"]) == [ids[0]]
    assert store.embeddings.count("m") == 1
    assert store.db.execute("SELECT count(*) FROM items").fetchone()[0] == 1


def test_every_change_bumps_the_generation(store):
    assert store.generation("m") == 0
    store.files.save_photos([photo("/photos/a.jpg")], unit(1), "m")
    after_save = store.generation("m")
    assert after_save > 0
    store.files.remove_paths(["/photos/a.jpg"])
    assert store.generation("m") > after_save


def test_file_states_only_below_the_folder(store):
    store.files.save_photos([photo("/photos/a.jpg", "1")], unit(1), "m")
    store.files.save_photos([photo("/photos-other/b.jpg", "2")], unit(1), "m")
    states = store.files.file_states("/photos", "m")
    assert list(states) == ["/photos/a.jpg"]
    assert states["/photos/a.jpg"].has_embedding
    assert not store.files.file_states("/photos", "other-model")["/photos/a.jpg"].has_embedding


def test_failed_transaction_leaves_nothing_behind(store):
    with pytest.raises(ValueError):
        # Two photos but one vector: zip(strict=True) fails after the first insert.
        photos = [photo("/photos/a.jpg", "1"), photo("/photos/b.jpg", "2")]
        store.files.save_photos(photos, unit(1), "m")
    assert store.db.execute("SELECT count(*) FROM files").fetchone()[0] == 0
    assert store.generation("m") == 0


def test_readers_see_committed_data_while_a_writer_is_open(tmp_path, store):
    store.files.save_photos([photo("/photos/a.jpg")], unit(1), "m")
    reader = sqlite3.connect(tmp_path / "library.db")
    assert reader.execute("SELECT count(*) FROM files").fetchone()[0] == 1
    reader.close()


def test_a_write_outside_a_transaction_does_not_swallow_later_ones(tmp_path, store):
    store.queue.add([("/photos/a.jpg", "/photos"), ("/photos/b.jpg", "/photos")])
    store.queue.discard(["/photos/a.jpg"])  # a lone statement, no atomic() around it
    store.files.save_photos([photo("/photos/b.jpg")], unit(1), "m")
    other = sqlite3.connect(tmp_path / "library.db")  # another process's view
    try:
        assert other.execute("SELECT count(*) FROM files").fetchone() == (1,)
        assert other.execute("SELECT count(*) FROM queue").fetchone() == (0,)
    finally:
        other.close()
    assert not store.db.conn.in_transaction


def test_a_photo_library_from_before_documents_gets_its_names_into_the_keyword_index(tmp_path):
    """Schema step m004 on a library of schema step m003: every photo becomes findable by name."""
    import sqlite3

    import sqlite_utils

    from desktop_search.store.schema import migrations as steps

    path = tmp_path / "old.db"
    old = sqlite_utils.Database(sqlite3.connect(str(path), isolation_level=None))
    steps.apply(old, stop_before="m004_documents")
    old.execute(
        "INSERT INTO files(id, path, root, kind, status, updated_at) "
        "VALUES (1, '/photos/Beach day.jpg', '/photos', 'photo', 'indexed', 'now')"
    )
    old.execute("INSERT INTO items(id, file_id, kind) VALUES (7, 1, 'photo')")
    old.close()
    store = Store.open(path)
    rows = store.db.execute("SELECT rowid, name FROM item_text WHERE item_text MATCH 'beach'")
    assert rows.fetchall() == [(7, "Beach day.jpg")]
    store.close()
