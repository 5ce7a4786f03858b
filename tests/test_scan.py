"""Walking folders: what is indexed, what is skipped."""

import os

from desktop_search.index.scan import scan

EXTENSIONS = {".jpg", ".png"}


def names(root, **kw):
    return sorted(
        os.path.relpath(f.path, root) for f in scan(root, EXTENSIONS, **kw) if not f.error
    )


def touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")


def test_skips_hidden_system_and_resource_fork_entries(tmp_path):
    for rel in [
        "a.jpg",
        "sub/b.PNG",
        ".git/c.jpg",
        "node_modules/d.jpg",
        ".Trash/e.jpg",
        "sub/._f.jpg",
        "notes.txt",
        ".hidden.jpg",
    ]:
        touch(tmp_path / rel)
    assert names(tmp_path) == ["a.jpg", "sub/b.PNG"]


def test_exclude_patterns_match_names_and_paths(tmp_path):
    for rel in ["keep.jpg", "tmp/skip.jpg", "draft.part.jpg"]:
        touch(tmp_path / rel)
    assert names(tmp_path, exclude=["*/tmp", "*.part.jpg"]) == ["keep.jpg"]


def test_symlinked_folders_are_not_followed_but_linked_files_are(tmp_path):
    touch(tmp_path / "real/a.jpg")
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "link.jpg").symlink_to(tmp_path / "real/a.jpg")
    assert names(tmp_path) == ["link.jpg", "real/a.jpg"]


def test_broken_links_and_loops_are_counted_and_fifo_skipped(tmp_path):
    (tmp_path / "gone.jpg").symlink_to(tmp_path / "missing.jpg")
    (tmp_path / "loop.jpg").symlink_to(tmp_path / "loop.jpg")
    os.mkfifo(tmp_path / "pipe.jpg")
    found = list(scan(tmp_path, EXTENSIONS))
    assert [(os.path.basename(f.path), f.error, f.skipped) for f in found] == [
        ("gone.jpg", None, "dangling"), ("loop.jpg", None, "loop"),
    ]  # fmt: skip


def test_a_link_to_a_file_outside_the_folder_is_not_followed(tmp_path):
    secret = tmp_path / "home/.ssh/id_rsa.txt"
    touch(secret)
    touch(tmp_path / "photos/real.jpg")
    (tmp_path / "photos/key.txt").symlink_to(secret)
    (tmp_path / "photos/inside.jpg").symlink_to(tmp_path / "photos/real.jpg")
    found = {os.path.basename(f.path): f.skipped for f in scan(tmp_path / "photos", {".jpg",
                                                                                    ".txt"})}
    assert found == {"key.txt": "outside", "inside.jpg": None, "real.jpg": None}


def test_size_and_mtime_are_reported(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"12345")
    (entry,) = scan(tmp_path, EXTENSIONS)
    assert entry.size == 5
    assert entry.mtime_ns == os.stat(tmp_path / "a.jpg").st_mtime_ns
    assert entry.root == str(tmp_path)


def test_a_single_file_can_be_a_root(tmp_path):
    touch(tmp_path / "a.jpg")
    (entry,) = scan(tmp_path / "a.jpg", EXTENSIONS)
    assert entry.path == str(tmp_path / "a.jpg")
