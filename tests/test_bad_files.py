"""Every kind of odd input (tests/bad_files.py) indexed through the Library facade.

Nothing may crash. Every entry ends indexed, parked as failed with the right reason, or ignored; a
second run does no work and keeps the failures; the database stays sound. Names, times and
shapes that once aborted a whole run have their own tests at the end.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop_search.app.library import Library
from desktop_search.errors import FileNotIndexableError
from desktop_search.extract.images import MAX_FILE_BYTES, read_file
from desktop_search.index.report import IndexReport
from desktop_search.search.searcher import Query
from desktop_search.store.pathnames import from_db
from tests.bad_files import (
    MUTATIONS,
    ORIENTED_SIZE,
    SPARSE_SIZE,
    OddTree,
    add_permission_cases,
    encode,
    make_many_files,
    odd_tree,
    on_first_read,
    rewrite_in_place,
    small_jpeg,
    vanish,
)
from tests.conftest_models import install_model_home
from tests.processes import run_dropping_privileges

REPO = Path(__file__).resolve().parents[1]

# Every test here indexes: a FIFO opened for reading, or any other blocking read, would hang
# the run forever instead of failing it.
pytestmark = pytest.mark.timeout(180)


@dataclass
class Indexed:
    """One library after indexing the odd tree twice, with what each run left behind."""

    library: Library
    first: IndexReport
    second: IndexReport
    rows: dict[str, dict]  # relative path -> the files row after the first run
    failures: dict[str, str]  # relative path -> reason, from status() after the first run
    failures_again: dict[str, str]  # the same after the second run


def files_rows(library: Library, root: Path) -> dict[str, dict]:
    """The files rows keyed by relative path, as on disk (the database's spelling undone)."""
    cursor = library.store.db.execute("SELECT path, status, error, width, height FROM files")
    columns = [c[0] for c in cursor.description]
    rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return {os.path.relpath(from_db(row["path"]), root): row for row in rows}


def failures(library: Library, root: Path) -> dict[str, str]:
    found = library.status().failures
    return {os.path.relpath(f.path, root): f.reason for f in found}


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> OddTree:
    return odd_tree(tmp_path_factory.mktemp("odd") / "tree")


@pytest.fixture(scope="module")
def indexed(
    tree: OddTree, tiny_clip_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Indexed]:
    home = install_model_home(tmp_path_factory.mktemp("home"), tiny_clip_dir)
    with Library.open(home) as library:
        first = library.index([tree.root])
        rows = files_rows(library, tree.root)
        failed = failures(library, tree.root)
        second = library.index([tree.root])
        again = failures(library, tree.root)
        yield Indexed(library, first, second, rows, failed, again)


# --- the tree itself -----------------------------------------------------------------------------


def test_the_tree_has_at_least_30_kinds_and_each_is_on_disk(tree: OddTree) -> None:
    assert len(tree.kinds) >= 30, sorted(tree.kinds)
    assert len([k for k in tree.kinds if not k.startswith("payload: ")]) >= 30
    shown = {rel for paths in tree.kinds.values() for rel in paths}
    assert shown <= set(tree.expected) | tree.ignored
    assert not set(tree.expected) & tree.ignored
    missing = [
        rel for rel in [*tree.expected, *tree.ignored] if not os.path.lexists(tree.path(rel))
    ]
    assert missing == []
    required = ["dangling symlink", "symlink to itself", "FIFO named .jpg", "folder named .jpg"]
    required += ["sparse 5 GB file named .jpg", "truncated HEIC", "16-bit RGB PNG", "hard link"]
    required += ["file without read permission", "NFC and NFD spellings of one name"]
    required += ["name that is not UTF-8", "path longer than 1000 characters"]
    assert [k for k in required if k not in tree.kinds] == []
    deep = max(tree.expected, key=len)
    assert len(str(tree.path(deep))) > 1000
    assert os.path.getsize(tree.path("not_images/sparse_5gb.jpg")) == SPARSE_SIZE


# --- one index run over the tree -----------------------------------------------------------------


def test_good_entries_are_indexed_and_encoded(tree: OddTree, indexed: Indexed) -> None:
    good = sorted(rel for rel, want in tree.expected.items() if want is None)
    not_indexed = {rel: indexed.rows.get(rel) for rel in good}
    not_indexed = {rel: row for rel, row in not_indexed.items() if not row or row["error"]}
    assert not_indexed == {}
    assert all(indexed.rows[rel]["status"] == "indexed" for rel in good)
    status = indexed.library.status()
    assert status.pending == 0
    assert status.embeddings == len(good)


def test_bad_entries_are_parked_with_their_reason(tree: OddTree, indexed: Indexed) -> None:
    bad = {rel: want for rel, want in tree.expected.items() if want is not None}
    assert sorted(indexed.failures) == sorted(bad)
    wrong = {rel: got for rel, got in indexed.failures.items() if bad[rel] not in got}
    assert wrong == {}
    assert all(indexed.rows[rel]["status"] == "failed" for rel in bad)
    assert indexed.first.failed == len(bad)
    assert indexed.failures["not_images/sparse_5gb.jpg"] == "file too large (5.0 GB, limit 512 MB)"


def test_ignored_entries_never_reach_the_index(tree: OddTree, indexed: Indexed) -> None:
    # Exactly the expected paths: nothing ignored, nothing reached twice through a folder link.
    assert sorted(indexed.rows) == sorted(tree.expected)
    assert not tree.ignored & set(indexed.rows)


def test_second_run_decodes_nothing_and_keeps_the_failures(tree: OddTree, indexed: Indexed) -> None:
    again = indexed.second
    assert (again.decoded, again.encoded, again.new, again.changed) == (0, 0, 0, 0)
    assert (again.removed, again.failed, again.failures) == (0, 0, [])
    assert again.unchanged == len(tree.expected)
    assert indexed.failures_again == indexed.failures


def test_database_passes_integrity_check(indexed: Indexed) -> None:
    db = indexed.library.store.db
    assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_exif_orientation_swaps_the_stored_dimensions(indexed: Indexed) -> None:
    def size(rel: str) -> tuple[int, int]:
        return indexed.rows[rel]["width"], indexed.rows[rel]["height"]

    w, h = ORIENTED_SIZE
    values = (0, 2, 3, 4, 5, 6, 7, 8, 9, 65535)
    sizes = {n: size(f"orientation/orientation_{n}.jpg") for n in values}
    assert sizes == {n: (h, w) if n in (5, 6, 7, 8) else (w, h) for n in values}
    assert indexed.rows["geometry/wide.png"]["width"] == 30000
    assert indexed.rows["geometry/large_91mp.png"]["width"] == 13000


def test_name_search_takes_like_specials_literally(indexed: Indexed) -> None:
    def names(text: str) -> list[str]:
        hits = indexed.library.searcher().search_names(Query(text=text, limit=50))
        return sorted(os.path.basename(hit.path) for hit in hits)

    assert names("under_score") == ["under_score.jpg"]
    assert names("%_%") == ["%_%.jpg"]
    assert names("100%") == ["100% sure.jpg"]
    assert names("back\\slash") == ["back\\slash.jpg"]
    assert names("50%_off") == ["inside.jpg"]


# --- permissions, as an unprivileged user --------------------------------------------------------

# The child indexes once as root first, then drops to nobody: Python's stdlib lives under /root
# (mode 0700) here, so every module it imports lazily (Pillow's plugins, the thread pool) must be
# loaded before. Not root: it simply runs as the current, unprivileged user.
_INDEX_UNPRIVILEGED = textwrap.dedent(
    """
    import json, os, pwd, sys
    from pathlib import Path
    from desktop_search.app.library import Library

    warm_home, warm_folder, home, folder = map(Path, sys.argv[1:5])
    with Library.open(warm_home) as library:
        library.index([warm_folder])
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.setgroups([])
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)
    with Library.open(home) as library:
        library.index([folder])
        rows = library.store.db.execute("SELECT path, status, error FROM files").fetchall()
    print(json.dumps({"euid": os.geteuid(), "rows": rows}))
    """
)


def test_unreadable_entries_as_an_unprivileged_user() -> None:
    base = Path(tempfile.mkdtemp(prefix="ds-perm-"))
    try:
        base.chmod(0o755)  # pytest's tmp_path is 0700: nobody could not even get in
        tree = OddTree(base / "photos")
        tree.write(None, "public.jpg", small_jpeg(1))  # proves the unprivileged side works
        add_permission_cases(tree, privileged=False)
        (base / "warm").mkdir()
        (base / "warm" / "warm.jpg").write_bytes(small_jpeg(2))
        home = base / "home"
        home.mkdir()
        if os.geteuid() == 0:
            import pwd  # POSIX only, like everything this test does

            nobody = pwd.getpwnam("nobody")
            os.chown(home, nobody.pw_uid, nobody.pw_gid)
        args = [str(p) for p in (base / "warm-home", base / "warm", home, tree.root)]
        result = run_dropping_privileges(_INDEX_UNPRIVILEGED, *args, cwd=REPO)
    finally:
        for locked in base.glob("photos/special/*"):
            locked.chmod(0o755)
        shutil.rmtree(base)
    assert result["euid"] != 0
    got = {os.path.relpath(path, tree.root): row for path, *row in result["rows"]}
    assert sorted(got) == sorted(tree.expected)
    assert got["public.jpg"] == ["indexed", None]
    assert got["special/unreadable.jpg"] == ["failed", "permission denied"]
    # scan.py cannot stat() it: its own words, then the OS's.
    assert got["special/list_only/inside.jpg"][1].startswith("cannot read file information (")
    # A folder that cannot be listed hides what is in it: nothing is recorded about it.
    assert tree.ignored == {"special/locked/inside.jpg"}


# --- the size cap: refused without being read ----------------------------------------------------


def test_a_sparse_5gb_file_is_refused_without_reading_it(tree: OddTree) -> None:
    started = time.perf_counter()
    with pytest.raises(FileNotIndexableError) as info:
        read_file(tree.path("not_images/sparse_5gb.jpg"))
    assert info.value.reason == "file too large (5.0 GB, limit 512 MB)"
    assert time.perf_counter() - started < 1.0
    assert MAX_FILE_BYTES == 512 * 1024**2


def test_the_size_cap_is_inclusive(tmp_path: Path) -> None:
    path = tmp_path / "a.jpg"
    path.write_bytes(b"x" * 1000)
    assert read_file(path, max_bytes=1000) == b"x" * 1000
    with pytest.raises(FileNotIndexableError) as info:
        read_file(path, max_bytes=999)
    assert info.value.reason == "file too large (1000 bytes, limit 999 bytes)"


# --- many files ----------------------------------------------------------------------------------


# Indexing takes about 50 s of CPU on 2 cores (43-65 s wall with other work running), mostly
# decoding (each 16x16 image is scaled up to the model's 224x224) and the model. The timeout
# catches a pathological slowdown (a per-file query that grows with the library, a lock convoy),
# with room for a busy machine.
@pytest.mark.timeout(150)
def test_a_folder_of_10000_files_is_indexed_completely(tmp_path: Path, tiny_clip_dir: Path) -> None:
    names = make_many_files(tmp_path / "many")
    assert len(set(names)) == 10_000
    assert len({(tmp_path / "many" / name).read_bytes() for name in names[:100]}) == 100
    home = install_model_home(tmp_path / "home", tiny_clip_dir)
    with Library.open(home) as library:
        report = library.index([tmp_path / "many"])
        status = library.status()
        again = library.index([tmp_path / "many"])
    assert (report.new, report.failed, report.decoded) == (10_000, 0, 10_000)
    assert status.embeddings == 10_000 and status.pending == 0
    assert (again.unchanged, again.decoded) == (10_000, 0)


# --- helpers for files that change while being read ----------------------------------------------


def test_mutation_helpers_do_what_they_say(tmp_path: Path) -> None:
    original = encode(Image.new("RGB", (32, 32), (1, 2, 3)), "PNG")
    done = {}
    for name, make in MUTATIONS.items():
        path = tmp_path / f"{name.replace(' ', '_')}.png"
        path.write_bytes(original)
        inode = path.stat().st_ino
        make(path)()
        exists = path.exists()
        done[name] = (
            exists and path.is_dir(),
            exists and path.is_file() and path.stat().st_ino == inode,
            path.stat().st_size if exists and path.is_file() else None,
        )
    size = len(original)
    assert done == {
        "vanish": (False, False, None),
        "rewrite in place": (False, True, len(small_jpeg(999))),
        "replace atomically": (False, False, len(small_jpeg(998))),
        "truncate in place": (False, True, size // 2),
        "grow": (False, True, size + 4096),
        "turn into a folder": (True, False, None),
    }


def test_on_first_read_runs_the_action_once_before_or_after_reading(tmp_path: Path) -> None:
    path = tmp_path / "a.jpg"
    path.write_bytes(b"old")
    after = on_first_read(path, rewrite_in_place(path, b"new"), Path.read_bytes)
    assert [after(path), after(path)] == [b"old", b"new"]
    path.write_bytes(b"old")
    before = on_first_read(path, vanish(path), Path.read_bytes, before=True)
    with pytest.raises(FileNotFoundError):
        before(path)
    path.write_bytes(b"back")
    assert before(path) == b"back"  # once only


# --- names, times and shapes that once aborted a whole run ------------------------------


def test_a_name_that_is_not_utf8_is_indexed(tmp_path: Path) -> None:
    """Once parked with "rename the file"; tests/test_non_utf8_names.py has the rest."""
    folder = tmp_path / "photos"
    folder.mkdir()
    with open(os.path.join(os.fsencode(folder), b"caf\xe9.jpg"), "wb") as file:
        file.write(small_jpeg(7))
    (folder / "fine.jpg").write_bytes(small_jpeg(9))
    with Library.open(tmp_path / "home") as library:
        report = library.index([folder])
        again = library.index([folder])
        rows = files_rows(library, folder)
    assert rows[os.fsdecode(b"caf\xe9.jpg")]["status"] == "indexed"
    assert rows["fine.jpg"]["status"] == "indexed"
    assert (report.new, report.failed, again.failed, again.unchanged) == (2, 0, 0, 2)


def test_a_file_dated_2400_is_indexed(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    path = folder / "future.jpg"
    path.write_bytes(small_jpeg(8))
    year_2400 = 13_569_465_600 * 10**9
    os.utime(path, ns=(year_2400, year_2400))
    assert path.stat().st_mtime_ns == year_2400
    with Library.open(tmp_path / "home") as library:
        library.index([folder])
        rows = files_rows(library, folder)
    assert rows["future.jpg"]["status"] == "indexed"


# A 20000x2 PNG is 120 KB; preprocessing scales its short side to 224 before cropping, i.e. asks
# Pillow for a 2,240,000 x 224 image (2 GB, ~10 s here); a 65000x1 strip would need ~13 GB. The spy
# refuses intermediates over 50 MP, as a machine without that much memory would.
_MAX_RESIZE_PIXELS = 50_000_000


def test_a_strip_is_preprocessed_like_the_two_step_path_up_to_edge_resampling() -> None:
    from desktop_search.models.runtime.preprocess import ImageSpec, _resize_centre, _resize_shortest

    strip = Image.fromarray(
        (np.random.default_rng(0).random((90, 1800, 3)) * 255).astype(np.uint8)
    ).resize((1800, 90))  # smooth enough for resampling to agree
    spec = ImageSpec(size=64)
    one_step = np.asarray(_resize_centre(strip, 64, Image.Resampling.BICUBIC), dtype=float)
    scaled = _resize_shortest(strip, 64, Image.Resampling.BICUBIC)
    left = round((scaled.width - 64) / 2)
    two_step = np.asarray(scaled.crop((left, 0, left + 64, 64)), dtype=float)
    assert one_step.shape == two_step.shape == (spec.size, spec.size, 3)
    assert np.abs(one_step - two_step)[:, 2:-2].mean() < 2.0


def test_a_thin_strip_is_indexed_without_a_huge_intermediate(
    tmp_path: Path, tiny_clip_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    strip = Image.new("RGB", (20000, 2), (200, 100, 50))
    (folder / "strip.png").write_bytes(encode(strip, "PNG"))
    resize = Image.Image.resize

    def refusing_resize(image: Image.Image, size: tuple[int, int], *args, **kwargs):
        if size[0] * size[1] > _MAX_RESIZE_PIXELS:
            raise MemoryError(f"refused: a {size[0]}x{size[1]} intermediate")
        return resize(image, size, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "resize", refusing_resize)
    home = install_model_home(tmp_path / "home", tiny_clip_dir)
    with Library.open(home) as library:
        report = library.index([folder])
        rows = files_rows(library, folder)
    # Today: "unexpected error: refused ...", and queued to be retried as a passing error.
    assert rows.get("strip.png", {}).get("status") == "indexed", report.failures
