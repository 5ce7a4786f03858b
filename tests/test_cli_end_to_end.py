"""End to end through the CLI: real photos, broken files, a real (tiny) int8 CLIP model."""

import json
import os
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner
from PIL import Image
from skimage import data

from desktop_search.cli.root import cli
from tests.bad_files import make_odd_photos
from tests.conftest_models import install_model_home
from tests.processes import writer_lock_held_elsewhere

PHOTOS = [
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "camera",
    "immunohistochemistry",
    "hubble_deep_field",
    "coins",
    "colorwheel",
]
# The odd-file corpus re-encodes astronaut, coffee, chelsea and rocket; these appear only once.
UNIQUE = ["camera", "immunohistochemistry", "hubble_deep_field", "colorwheel"]


def run(home, *args, expect=0):
    result = CliRunner().invoke(cli, ["--home", str(home), *map(str, args)])
    assert result.exit_code == expect, result.output
    return result


def json_lines(result):
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    for name in PHOTOS:
        Image.fromarray(getattr(data, name)()).save(folder / f"{name}.jpg", quality=92)
    odd = make_odd_photos(folder / "odd")
    return folder, odd


@pytest.fixture
def photos(tmp_path, photo_folder):
    """A fresh copy per test, so tests may delete and change files."""
    source, odd = photo_folder
    target = tmp_path / "photos"
    shutil.copytree(source, target, symlinks=True)
    return target, odd


@pytest.fixture
def home(tmp_path, tiny_clip_dir):
    """A library home with the tiny converted model installed and active."""
    return install_model_home(tmp_path / "home", tiny_clip_dir)


def expected_counts(odd):
    good_odd = sum(1 for reason in odd.values() if reason is None)
    return len(PHOTOS) + good_odd, len(odd) - good_odd


def test_index_reports_every_file_and_every_failure_with_a_reason(home, photos):
    folder, odd = photos
    good, bad = expected_counts(odd)
    report = json.loads(run(home, "index", folder, "--json").stdout)
    assert (report["new"], report["failed"], report["removed"]) == (good, bad, 0)
    assert report["encoded"] == good
    reasons = {os.path.basename(f["path"]): f["reason"] for f in report["failures"]}
    for name, expected in odd.items():
        if expected is None:
            assert name not in reasons
        else:
            assert expected in reasons[name], (name, reasons.get(name))

    status = json.loads(run(home, "status", "--json").stdout)
    assert {f["path"] for f in status["failures"]} == {f["path"] for f in report["failures"]}
    assert all(f["reason"] for f in status["failures"])
    indexed = sum(r["count"] for r in status["files"] if r["status"] == "indexed")
    assert indexed == good == status["embeddings"]


def test_image_query_with_an_indexed_photo_returns_it_first(home, photos):
    folder, _ = photos
    run(home, "index", folder)
    for name in UNIQUE:
        hits = json_lines(run(home, "search", "--image", folder / f"{name}.jpg", "--json"))
        assert hits[0]["path"] == str(folder / f"{name}.jpg")
        assert hits[0]["score"] == pytest.approx(1.0, abs=0.02)
        assert hits[0]["kind"] == "photo"
        assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_text_search_prints_a_table_and_respects_limit(home, photos):
    folder, _ = photos
    run(home, "index", folder)
    lines = run(home, "search", "a cat on a sofa", "--limit", "3").stdout.splitlines()
    assert lines[0].split() == ["#", "score", "kind", "path"]
    assert len(lines) == 4
    assert all(line.split()[2] == "photo" for line in lines[1:])
    hits = json_lines(run(home, "search", "a cat", "--limit", "2", "--json"))
    assert len(hits) == 2 and all(os.path.exists(h["path"]) for h in hits)
    assert all(os.path.exists(h["thumbnail"]) for h in hits)


def test_second_run_on_an_unchanged_tree_does_no_decoding_or_model_work(home, photos):
    folder, odd = photos
    first = json.loads(run(home, "index", folder, "--json").stdout)
    second = json.loads(run(home, "index", folder, "--json").stdout)
    assert (second["decoded"], second["encoded"], second["new"], second["changed"]) == (0, 0, 0, 0)
    assert second["unchanged"] == first["new"] + first["failed"]
    assert second["still_failing"] == first["failed"] > 0


def test_touched_but_identical_file_is_not_reencoded(home, photos):
    folder, _ = photos
    run(home, "index", folder)
    os.utime(folder / "coffee.jpg", ns=(1, 1))
    report = json.loads(run(home, "index", folder, "--json").stdout)
    assert (report["decoded"], report["encoded"], report["changed"]) == (0, 0, 0)


def test_changed_file_is_reencoded(home, photos):
    folder, _ = photos
    run(home, "index", folder)
    Image.fromarray(data.gravel()).save(folder / "coffee.jpg")
    report = json.loads(run(home, "index", folder, "--json").stdout)
    assert (report["changed"], report["encoded"]) == (1, 1)
    hits = json_lines(run(home, "search", "--image", folder / "coffee.jpg", "--json"))
    assert hits[0]["path"] == str(folder / "coffee.jpg")


def test_deleted_file_disappears_from_results(home, photos):
    folder, _ = photos
    run(home, "index", folder)
    query = folder.parent / "query.jpg"
    shutil.copy(folder / "rocket.jpg", query)
    (folder / "rocket.jpg").unlink()
    report = json.loads(run(home, "index", folder, "--json").stdout)
    assert report["removed"] == 1
    hits = json_lines(run(home, "search", "--image", query, "--json", "--limit", "50"))
    assert str(folder / "rocket.jpg") not in {h["path"] for h in hits}
    assert hits  # the others are still there


def test_index_without_folders_reindexes_the_known_ones(home, photos):
    folder, _ = photos
    run(home, "index", folder)
    (folder / "camera.jpg").unlink()
    report = json.loads(run(home, "index", "--json").stdout)
    assert report["removed"] == 1


def test_missing_vector_index_file_is_rebuilt_from_the_database(home, photos):
    folder, _ = photos
    run(home, "index", folder)
    for path in (home / "vectors").iterdir():
        path.unlink()
    hits = json_lines(run(home, "search", "--image", folder / "camera.jpg", "--json"))
    assert hits[0]["path"] == str(folder / "camera.jpg")
    assert list((home / "vectors").iterdir())  # the rebuilt index was saved for next time


# -- errors: one line on stderr, non-zero exit, no traceback ------------------------------


def assert_one_line_error(result, *fragments):
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0]


def test_without_a_model_photos_are_catalogued_then_encoded_once_one_is_there(
    tmp_path, photos, tiny_clip_dir
):
    folder, odd = photos
    good, bad = expected_counts(odd)
    home = tmp_path / "home"
    result = run(home, "index", folder, "--json")
    report = json.loads(result.stdout)
    assert (report["new"], report["failed"], report["encoded"]) == (good, bad, 0)
    assert "no CLIP model" in result.stderr
    assert json.loads(run(home, "status", "--json").stdout)["pending"] == good
    # Searchable by what is there: names and folders.
    hits = json_lines(run(home, "search", "hubble", "--json"))
    assert [os.path.basename(h["path"]) for h in hits] == ["hubble_deep_field.jpg"]
    assert os.path.exists(hits[0]["thumbnail"])
    image_query = run(home, "search", "--image", folder / "camera.jpg", expect=1)
    assert_one_line_error(image_query, "needs a CLIP model")
    # A model arrives: the pending photos are encoded then, without counting them as changed.
    shutil.copytree(tiny_clip_dir, home / "models" / "tiny-clip")
    result = run(home, "models", "use", "tiny-clip")
    assert f"0 new, 0 changed, {bad} unchanged" in result.stdout
    assert f"{good} photo(s) indexed before caught up (encoded with the model" in result.stdout
    report = json.loads(run(home, "index", "--json").stdout)
    assert (report["caught_up"], report["encoded"], report["decoded"]) == (0, 0, 0)
    assert json.loads(run(home, "status", "--json").stdout)["pending"] == 0
    hits = json_lines(run(home, "search", "--image", folder / "camera.jpg", "--json"))
    assert hits[0]["path"] == str(folder / "camera.jpg")


def test_unwritable_home(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run(blocker / "home", "status", expect=1)
    assert_one_line_error(result, "cannot write to the library folder", "--home")


def test_unknown_option(tmp_path):
    result = run(tmp_path, "search", "--colour", "red", expect=2)
    assert_one_line_error(result, "--colour", "--help")


def test_unreadable_query_image(home, photos, tmp_path):
    folder, _ = photos
    run(home, "index", folder)
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    result = run(home, "search", "--image", bad, expect=2)
    assert_one_line_error(result, "cannot use", "query image")
    missing = run(home, "search", "--image", tmp_path / "nope.jpg", expect=2)
    assert_one_line_error(missing, "nope.jpg")


def test_missing_folder_changes_nothing(home, photos, tmp_path):
    folder, _ = photos
    run(home, "index", folder)
    result = run(home, "index", tmp_path / "not-there", expect=1)
    assert_one_line_error(result, "folder not found")
    assert json.loads(run(home, "index", folder, "--json").stdout)["removed"] == 0


def test_database_locked_by_another_writer(home, photos):
    folder, _ = photos
    with writer_lock_held_elsewhere(home):
        result = run(home, "index", folder, expect=1)
        assert_one_line_error(result, "another desktop-search process is indexing")
        assert run(home, "status").exit_code == 0  # reading still works


def test_debug_shows_the_traceback(tmp_path):
    result = run(tmp_path / "home", "--debug", "index", tmp_path / "missing", expect=1)
    assert "Traceback" in result.stderr


def test_search_process_imports_no_torch_and_no_qt(home, photos):
    folder, _ = photos
    run(home, "index", folder)
    probe = (
        "import atexit, sys\n"
        "heavy = ('torch', 'open_clip', 'transformers', 'onnx', 'PySide6')\n"
        "atexit.register(lambda: print('loaded:', [m for m in heavy if m in sys.modules],"
        " file=sys.stderr))\n"
        "from desktop_search.cli.root import main\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, "--home", str(home), "search", "a cat", "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    hits = [json.loads(line) for line in result.stdout.splitlines()]
    assert hits and all(hit["kind"] == "photo" for hit in hits)
    assert "loaded: []" in result.stderr


def test_stale_or_corrupt_vector_index_file_is_not_trusted(home, photos, tmp_path):
    folder, _ = photos
    run(home, "index", folder)
    saved = tmp_path / "old-vectors"
    shutil.copytree(home / "vectors", saved)
    Image.fromarray(data.gravel()).save(folder / "gravel.jpg")
    run(home, "index", folder)
    # An index file from before the last run (as after a crash): stale, so rebuilt.
    shutil.rmtree(home / "vectors")
    shutil.copytree(saved, home / "vectors")
    hits = json_lines(run(home, "search", "--image", folder / "gravel.jpg", "--json"))
    assert hits[0]["path"] == str(folder / "gravel.jpg")
    # Garbage in every index file: rebuilt as well.
    for path in (home / "vectors").iterdir():
        path.write_bytes(b"\0garbage" * 100)
    hits = json_lines(run(home, "search", "--image", folder / "gravel.jpg", "--json"))
    assert hits[0]["path"] == str(folder / "gravel.jpg")


def test_identical_copies_and_nested_folders_are_each_indexed_once(home, photos):
    folder, odd = photos
    for n in range(20):  # identical bytes decoded in parallel share one thumbnail file
        shutil.copy(folder / "camera.jpg", folder / f"camera-copy{n}.jpg")
    report = json.loads(run(home, "index", folder, folder / "odd", "--json").stdout)
    good, bad = expected_counts(odd)
    # A copy read after an identical file's batch committed reuses its embedding ("copied"):
    # how many do depends on timing (a loaded machine reads fewer ahead of the batches).
    assert (report["new"] + report["copied"], report["failed"]) == (good + 20, bad)
    assert report["copied"] <= 20  # the first of the identical files is read, not copied
    status = json.loads(run(home, "status", "--json").stdout)
    assert status["roots"] == [str(folder)]  # the nested folder is covered by its parent
    again = json.loads(run(home, "index", "--json").stdout)
    assert again["unchanged"] == good + 20 + bad and again["decoded"] == 0


def test_the_same_folder_spelt_differently_is_one_folder(home, photos, monkeypatch):
    folder, odd = photos
    monkeypatch.chdir(folder / "odd")
    first = json.loads(run(home, "index", "../../photos/", "--json").stdout)
    again = json.loads(run(home, "index", folder, "--json").stdout)
    assert (again["new"], again["removed"], again["decoded"]) == (0, 0, 0)
    assert again["unchanged"] == first["new"] + first["failed"]
    assert json.loads(run(home, "status", "--json").stdout)["roots"] == [str(folder)]


def test_no_arguments_prints_help_without_a_display(tmp_path, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    result = CliRunner().invoke(cli, [])
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: ") and "  index " in result.stdout
