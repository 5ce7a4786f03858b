"""Objects at index time: YOLOX-nano (the shared copy) on real photos, CLIP crops, labels as
keywords, ``has:`` filters, status counts, catching up and switching off."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from desktop_search.app.library import Library
from desktop_search.errors import QueryError
from desktop_search.search.searcher import Query
from tests.conftest_models import install_model_home
from tests.object_photos import (
    composite,
    install_detector,
    needs_yolox,
    overlap,
    photo,
    write_photos,
)

pytestmark = needs_yolox


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    write_photos(folder)
    scene, _ = composite()
    scene.save(folder / "launch-day.jpg", quality=92)
    return folder


@pytest.fixture
def object_home(tmp_path: Path, tiny_clip_dir: Path) -> Path:
    home = install_model_home(tmp_path / "home", tiny_clip_dir)
    install_detector(home)
    return home


def object_rows(home: Path) -> list[tuple]:
    """(file name, label, encoded) per object item, from the database itself."""
    with sqlite3.connect(home / "library.db") as db:
        rows = db.execute(
            "SELECT f.path, i.label, EXISTS (SELECT 1 FROM embeddings e WHERE e.item_id = i.id) "
            "FROM items i JOIN files f ON f.id = i.file_id WHERE i.kind = 'object' "
            "ORDER BY f.path, i.id"
        ).fetchall()
    return [(Path(path).name, label, bool(encoded)) for path, label, encoded in rows]


def test_index_finds_objects_with_boxes_labels_and_crops(object_home, photos):
    with Library.open(object_home) as library:
        report = library.index([photos])
        rows = object_rows(object_home)
        labels = {(name, label) for name, label, _ in rows}
        assert {("astronaut.jpg", "person"), ("coffee.jpg", "cup"),
                ("launch-day.jpg", "person")} <= labels  # fmt: skip
        assert not [row for row in rows if row[0] == "rocket.jpg"]  # nothing YOLOX knows there
        assert report.objects == len(rows)
        # The astronaut fills most of her photo: that is the photo's own embedding, no crop.
        # The cup (a third of the photo) and the small pasted astronaut get one each.
        encoded = {(name, label) for name, label, is_encoded in rows if is_encoded}
        assert ("astronaut.jpg", "person") not in encoded
        assert {("coffee.jpg", "cup"), ("launch-day.jpg", "person")} <= encoded
        # The vector index holds photos and encoded objects: one vector per embedding row.
        assert len(library.vectors(library.clip())) == 4 + len(encoded)
        counts = library.status().objects
        assert counts.classes["person"] == 2 and counts.classes["cup"] == 1
        assert counts.photos == 3 and counts.pending == 0
        assert counts.detector == "yolox-nano"


def test_a_label_is_a_keyword_and_the_hit_carries_the_box(object_home, photos):
    with Library.open(object_home) as library:
        library.index([photos])
        hits = library.search(Query("person", mode="keyword"))
        by_name = {Path(hit.path).name: hit for hit in hits}
        assert set(by_name) == {"astronaut.jpg", "launch-day.jpg"}
        small = by_name["launch-day.jpg"]
        assert small.item_kind == "object" and small.object_label == "person"
        _, pasted = composite()
        assert overlap(small.box, pasted) > 0.8  # in the composite's full-size pixels
        assert small.box[2] < 0.4 * small.width  # a small object, not the scene
        assert small.to_json()["box"] == list(small.box)


def test_has_filter_alone_and_with_words(object_home, photos):
    with Library.open(object_home) as library:
        library.index([photos])
        names = lambda hits: sorted(Path(hit.path).name for hit in hits)  # noqa: E731
        assert names(library.search(Query("has:person"))) == ["astronaut.jpg", "launch-day.jpg"]
        assert names(library.search(Query("has:cups"))) == ["coffee.jpg"]  # plural is fine
        assert names(library.search(Query("has:person has:cup"))) == []  # every class
        assert names(library.search(Query("launch has:people", mode="keyword"))) == [
            "launch-day.jpg"
        ]
        hybrid = library.search(Query("launch has:people"))  # CLIP brings the other person
        assert [Path(hit.path).name for hit in hybrid][0] == "launch-day.jpg"
        assert names(hybrid) == ["astronaut.jpg", "launch-day.jpg"]
        assert dict(library.store.objects.object_classes())["person"] == 2
        with pytest.raises(QueryError, match="no object class 'unicorn'"):
            library.search(Query("has:unicorn"))


def test_switched_off_finds_no_objects(object_home, photos):
    with Library.open(object_home) as library:
        library.settings_service.set_detect_objects(False)
    with Library.open(object_home) as library:
        report = library.index([photos])
        assert report.new == 4 and report.objects == 0
        assert library.status().objects.detector is None
    assert object_rows(object_home) == []


def test_a_detector_installed_later_catches_up_without_encoding_photos_again(
    tmp_path, tiny_clip_dir, photos
):
    home = install_model_home(tmp_path / "home", tiny_clip_dir)
    with Library.open(home) as library:
        assert library.index([photos]).encoded == 4
        assert library.status().objects.detector is None
    install_detector(home)
    with Library.open(home) as library:
        assert library.status().objects.pending == 4
        report = library.index([])
        assert (report.caught_up, report.encoded, report.new) == (4, 0, 0)
        assert {"person", "cup"} <= {label for _, label, _ in object_rows(home)}
        again = library.index([])
        assert (again.unchanged, again.caught_up, again.objects) == (4, 0, 0)
        # The caught-up crops are searchable: the in-memory index has them.
        embedded = library.store.embeddings.count(library.clip().info.id)
        assert len(library.vectors(library.clip())) == embedded > 4


def test_a_changed_photo_replaces_its_objects(object_home, photos):
    with Library.open(object_home) as library:
        library.index([photos])
        model = library.clip().info.id
        photo("chelsea").save(photos / "coffee.jpg", quality=90)  # same name, a cat now
        report = library.index([photos])
        assert report.changed == 1
        coffee = {label for name, label, _ in object_rows(object_home) if name == "coffee.jpg"}
        assert coffee == {"cat"}
        index = library.vectors(library.clip())
        ids, _ = library.store.embeddings.of_model(model)
        assert sorted(index.ids().tolist()) == ids.tolist()  # no stale crop left in the index


def test_a_copy_keeps_the_objects_of_its_source(object_home, photos):
    with Library.open(object_home) as library:
        library.index([photos])
        shutil.copyfile(photos / "coffee.jpg", photos / "coffee-copy.jpg")
        report = library.index([photos])
        assert report.copied == 1 and report.objects == 0  # nothing detected again
        rows = object_rows(object_home)
        assert [r[1:] for r in rows if r[0] == "coffee-copy.jpg"] == [
            r[1:] for r in rows if r[0] == "coffee.jpg"
        ]
        assert library.index([photos]).unchanged == 5  # and it is not looked at again
        hits = library.search(Query("cup", mode="keyword"))
        assert sorted(Path(hit.path).name for hit in hits) == ["coffee-copy.jpg", "coffee.jpg"]


def test_crops_are_squares_with_context_inside_the_image():
    from desktop_search.models.runtime.preprocess import crop_with_context

    image = photo("coffee")  # 600 x 400
    tall = crop_with_context(image, (500, 100, 50, 200))
    assert tall.size[0] == tall.size[1] == round(200 * 1.3)
    # Moved inside the image rather than padded: the right edge is the image's right edge.
    right_column = np.asarray(tall)[:, -1]
    assert np.array_equal(right_column, np.asarray(image)[70:330, -1])
    huge = crop_with_context(image, (0, 0, 600, 400))  # larger than the image: grey padding
    assert huge.size == (780, 780)
    assert tuple(np.asarray(huge)[0, 0]) == (124, 116, 104)


def test_a_photo_saved_into_a_watched_folder_gets_its_objects(object_home, tmp_path):
    from desktop_search.app.live import LiveIndex
    from tests.test_live_index import wait_for

    folder = tmp_path / "watched"
    write_photos(folder, ("rocket",))
    with Library.open(object_home) as library:
        library.index([folder])
        service = LiveIndex(library, settle=0.3)
        service.start()
        try:
            wait_for(lambda: service.status().state == "idle")
            photo("coffee").save(folder / "breakfast.jpg", quality=92)
            wait_for(lambda: library.status().objects.classes.get("cup") == 1, timeout=20)
            with library.reader() as reader:
                (hit,) = reader.search(Query("has:cup"))
            assert Path(hit.path).name == "breakfast.jpg"
        finally:
            service.stop()
        assert not service.running


def test_a_moved_photo_keeps_its_objects(object_home, photos):
    with Library.open(object_home) as library:
        library.index([photos])
        before = [row[1:] for row in object_rows(object_home) if row[0] == "coffee.jpg"]
        (photos / "coffee.jpg").rename(photos / "breakfast.jpg")
        report = library.index([photos])
        assert (report.moved, report.objects, report.encoded) == (1, 0, 0)
        after = [row[1:] for row in object_rows(object_home) if row[0] == "breakfast.jpg"]
        assert after == before and ("cup", True) in after
        (hit,) = library.search(Query("has:cup"))
        assert Path(hit.path).name == "breakfast.jpg"
