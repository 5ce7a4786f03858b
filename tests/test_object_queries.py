"""Region queries: one object (or a drawn region) of a query image, from the CLI.

No real CLIP weights are available here, so the image tower is the test's ``pixel-clip``
(tests/conftest_models.py: an 8x8 colour layout, randomly projected): near-identical pixels
give near-identical embeddings. A query with the astronaut alone must find the composite in
which she is a small object, above every photo without her.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from desktop_search.cli.root import cli
from desktop_search.errors import QueryError
from desktop_search.search.searcher import Query
from tests.conftest_models import install_model_home
from tests.object_photos import composite, install_detector, needs_yolox, overlap, photo

pytestmark = needs_yolox

CONTROLS = ("rocket", "coffee", "chelsea", "camera", "coins", "grass")


@pytest.fixture(scope="module")
def indexed(tmp_path_factory, pixel_clip_dir) -> tuple[Path, Path]:
    """(library home, query image): controls and the composite indexed once for the module."""
    root = tmp_path_factory.mktemp("object_queries")
    home = install_model_home(root / "home", pixel_clip_dir)
    install_detector(home)
    folder = root / "photos"
    folder.mkdir()
    for name in CONTROLS:
        photo(name).save(folder / f"{name}.jpg", quality=92)
    scene, _ = composite()
    scene.save(folder / "launch-day.jpg", quality=92)
    query = root / "query" / "astronaut.jpg"  # not indexed: only the composite holds her
    query.parent.mkdir()
    photo("astronaut").save(query, quality=92)
    run(home, "index", folder)
    return home, query


def run(home: Path, *args, expect: int = 0):
    result = CliRunner().invoke(cli, ["--home", str(home), *map(str, args)])
    assert result.exit_code == expect, result.output
    return result


def json_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_objects_lists_what_the_query_image_holds(indexed):
    home, query = indexed
    (person,) = json_lines(run(home, "objects", query, "--json").output)
    assert person["object"] == 1 and person["label"] == "person"  # numbered like the window
    x, y, w, h = person["box"]
    assert 0 <= x < 40 and 0 <= y < 40 and w > 300 and h > 450  # she fills the 512 px photo
    table = run(home, "objects", query).output
    assert table.splitlines()[1].split()[:3] == ["1", f"{person['score']:.2f}", "person"]


def test_an_object_of_the_query_image_finds_the_photo_where_it_is_small(indexed):
    home, query = indexed
    hits = json_lines(run(home, "search", "--image", query, "--object", "1", "--json").output)
    assert Path(hits[0]["path"]).name == "launch-day.jpg"  # above every control
    assert hits[0]["item_kind"] == "object" and hits[0]["object_label"] == "person"
    _, pasted = composite()
    assert overlap(hits[0]["box"], pasted) > 0.8
    assert {Path(hit["path"]).stem for hit in hits[1:]} == set(CONTROLS)
    # The whole query image matches too, but the object's crop is closer than her whole photo.
    whole = json_lines(run(home, "search", "--image", query, "--json").output)
    assert hits[0]["score"] >= whole[0]["score"] - 1e-6


def test_a_region_is_the_same_query_as_the_object_with_that_box(indexed):
    home, query = indexed
    (person,) = json_lines(run(home, "objects", query, "--json").output)
    region = ",".join(str(value) for value in person["box"])
    by_region = json_lines(run(home, "search", "--image", query, "--region", region,
                               "--json").output)  # fmt: skip
    by_object = json_lines(run(home, "search", "--image", query, "--object", "1", "--json").output)
    assert [hit["path"] for hit in by_region] == [hit["path"] for hit in by_object]
    assert Path(by_region[0]["path"]).name == "launch-day.jpg"


def test_the_table_says_where_the_object_is(indexed):
    home, query = indexed
    output = run(home, "search", "--image", query, "--object", "1").output
    first = output.splitlines()[1:3]
    assert first[0].endswith("launch-day.jpg")
    assert first[1].strip().startswith("person at ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--object", "3"), "has no object 3 (objects: 1 person)"),
        (("--region", "5000,5000,10,10"), "lies outside the 512x512 query image"),
        (("--object", "1", "--region", "1,1,5,5"), "either --object or --region"),
        (("--region", "1,2,3"), "give four numbers x,y,w,h"),
        (("--region", "1,2,0,3"), "width and height must be more than 0"),
    ],
)
def test_bad_region_queries_say_what_to_do(indexed, args, message):
    home, query = indexed
    result = run(home, "search", "--image", query, *args, expect=2)  # a usage error
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_a_region_needs_an_image():
    with pytest.raises(QueryError, match="needs a query image"):
        Query("cat", region=(0, 0, 10, 10))


def test_without_a_detector_objects_says_how_to_install_one(tmp_path, tiny_clip_dir):
    home = install_model_home(tmp_path / "home", tiny_clip_dir)
    image = tmp_path / "astronaut.jpg"
    photo("astronaut").save(image)
    result = run(home, "objects", image, expect=1)
    assert "needs the object detector" in result.output
    assert "models import-detector" in result.output


def test_import_detector_rejects_a_file_that_is_no_detector(tmp_path, tiny_clip_dir):
    home = install_model_home(tmp_path / "home", tiny_clip_dir)
    bogus = tmp_path / "yolox.onnx"
    bogus.write_bytes(b"not a model at all")
    result = run(home, "models", "import-detector", bogus, expect=1)
    assert "yolox.onnx" in result.output and "Traceback" not in result.output
    assert not (home / "models" / "yolox-nano").exists()


def test_has_option_and_status_counts_from_the_cli(indexed):
    home, _ = indexed
    hits = json_lines(run(home, "search", "--has", "cup", "--json").output)
    assert [Path(hit["path"]).name for hit in hits] == ["coffee.jpg"]
    status = run(home, "status").output
    counts = json.loads(run(home, "status", "--json").output)["objects"]
    assert counts["classes"]["person"] >= 2 and counts["classes"]["cup"] == 1  # camera, launch
    assert f"objects: {counts['total']} in {counts['photos']} photo(s): " in status
    assert "cup 1" in status


def test_the_detector_cannot_become_the_clip_model(indexed):
    home, _ = indexed
    result = run(home, "models", "use", "yolox-nano", expect=1)
    assert "yolox-nano is a detector model, not a CLIP model" in result.output
    assert json.loads(run(home, "status", "--json").output)["model"] == "pixel-clip"


def test_a_damaged_detector_is_reported_and_photos_are_still_indexed(tmp_path, tiny_clip_dir):
    home = install_model_home(tmp_path / "home", tiny_clip_dir)
    install_detector(home)
    (onnx,) = (home / "models" / "yolox-nano").glob("*.onnx")
    onnx.write_bytes(onnx.read_bytes()[:5000])  # cut short, as by a full disk
    folder = tmp_path / "photos"
    folder.mkdir()
    photo("coffee").save(folder / "coffee.jpg")
    indexed = run(home, "index", folder, "--json").output.splitlines()
    (report,) = [json.loads(line) for line in indexed if line.startswith("{")]
    assert (report["new"], report["failed"], report["objects"]) == (1, 0, 0)
    assert any("yolox-nano cannot be used" in line for line in indexed)  # the log says why
    result = run(home, "objects", folder / "coffee.jpg", expect=1)
    assert "the object detector yolox-nano cannot be opened" in result.output.splitlines()[-1]
    assert "Traceback" not in result.output
