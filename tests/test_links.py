"""Symbolic links in indexed folders: a link to a file outside them is not indexed (a secret or a
system file must not become searchable); dangling links and loops are counted, not failures."""

from __future__ import annotations

import json

from click.testing import CliRunner

from desktop_search.cli.root import cli


def run(home, *args):
    result = CliRunner().invoke(cli, ["--home", str(home), *map(str, args)])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_links_out_of_the_folder_are_skipped_and_said_once_in_status(tmp_path):
    secret = tmp_path / "dotssh" / "id_rsa.txt"
    secret.parent.mkdir()
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY----- zebracorn\n")
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "shopping.txt").write_text("milk, eggs and a zebracorn plush\n")
    (notes / "key.txt").symlink_to(secret)
    (notes / "mirror.txt").symlink_to(notes / "shopping.txt")  # inside: indexed like the file
    (notes / "gone.txt").symlink_to(notes / "missing.txt")
    (notes / "loop.txt").symlink_to(notes / "loop.txt")
    home = tmp_path / "home"
    report = json.loads(run(home, "index", notes, "--json"))
    assert (report["new"], report["failed"]) == (2, 0)
    assert report["skipped_links"] == {"outside": 1, "dangling": 1, "loop": 1}
    hits = [json.loads(line)["path"] for line in run(home, "search", "zebracorn", "--json")
            .splitlines()]  # fmt: skip
    assert str(notes / "key.txt") not in hits and str(notes / "shopping.txt") in hits
    status = run(home, "status")
    assert "skipped: 1 symbolic link(s) to files outside the indexed folders" in status
    assert "could not be indexed" not in status
    status_json = json.loads(run(home, "status", "--json"))
    assert status_json["skipped_links"]["outside"] == 1 and status_json["failures"] == []
