"""The file that got a library stuck for good: a chat export whose text holds a lone UTF-16
surrogate (a valid JSON escape, as real exports have when an emoji was cut in half). It made every
`index` die and `watch` retry it in a hot loop; now it is indexed, and so is everything else."""

from __future__ import annotations

import json
import time
from pathlib import Path

from click.testing import CliRunner
from PIL import Image

from desktop_search.app.live import LiveIndex
from desktop_search.cli.root import cli
from tests.make_chats import cut_emoji_export


def folder_with_the_bad_export(tmp_path: Path) -> Path:
    folder = tmp_path / "stuff"
    (folder / "chat").mkdir(parents=True)
    (folder / "chat" / "result.json").write_bytes(cut_emoji_export())
    (folder / "note.txt").write_text("the marmalade recipe\n")
    Image.new("RGB", (64, 64), (200, 30, 30)).save(folder / "red.png")
    return folder


def run(home: Path, *args: object) -> str:
    result = CliRunner().invoke(cli, ["--home", str(home), *map(str, args)])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_index_reads_the_export_and_everything_else(tmp_path, model_home):
    folder = folder_with_the_bad_export(tmp_path)
    report = json.loads(run(model_home, "index", folder, "--json"))
    assert (report["new"], report["failed"]) == (3, 0), report
    hits = [json.loads(line) for line in run(model_home, "search", "quokkaphone", "--json",
                                             "--mode", "keyword").splitlines()]  # fmt: skip
    assert hits and hits[0]["path"].endswith("result.json")
    again = json.loads(run(model_home, "index", folder, "--json"))
    assert (again["unchanged"], again["failed"]) == (3, 0)


def test_the_live_index_takes_it_in_without_a_failing_step(tmp_path, model_library):
    folder = tmp_path / "watched"
    folder.mkdir()
    model_library.index([folder])
    live = LiveIndex(model_library, settle=0.2)
    states: list[str] = []
    live.subscribe(lambda status: states.append(status.state))
    live.start()
    try:
        source = folder_with_the_bad_export(tmp_path)
        for path in sorted(source.rglob("*")):
            target = folder / path.relative_to(source)
            if path.is_dir():
                target.mkdir(exist_ok=True)
            else:
                target.write_bytes(path.read_bytes())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with model_library.reader() as reader:
                rows = reader.store.db.execute(
                    "SELECT count(*) FROM files WHERE status = 'indexed'"
                ).fetchone()[0]
            if rows == 3 and live.status().state == "idle":
                break
            time.sleep(0.1)
        assert rows == 3
    finally:
        live.stop()
    assert "error" not in states
