"""`doctor --check` after a kill -9: what an interrupted run leaves heals by itself, and is said
to be "normal" with the reason, not a problem (exit 0); a real problem still fails (exit 1).

The kill is real: an `index` process is SIGKILLed (the audit hook of test_poison_queue.py) while
it reads one file, after some batches committed and before it saved its vector index.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from PIL import Image

from tests.test_poison_queue import index_killing_on, poisoned_library


def run(home: Path, *args: object, expect: int = 0) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "desktop_search", "--home", str(home), *map(str, args)],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == expect, result.stdout + result.stderr
    return result


def checks(result: subprocess.CompletedProcess) -> dict[str, tuple[str, str]]:
    report = json.loads(result.stdout)
    return {check["name"]: (check["status"], check["detail"]) for check in report["checks"]}


def killed_in_the_middle(tmp_path: Path, tiny_clip_dir: Path) -> tuple[Path, Path, str]:
    """A library indexed once, then killed while indexing 100 new photos, after some batches
    committed and before it saved its vector index: (home, folder, model id)."""
    folder, poison, home, hooks = poisoned_library(tmp_path, tiny_clip_dir)
    poison.unlink()  # the first run indexes everything and saves its vector index
    run(home, "index", folder)
    for i in range(100):
        Image.new("RGB", (64, 48), (i * 2, 255 - i * 2, 7)).save(folder / f"q{i:03d}.jpg")
    # The last one: files are read a window ahead of the batches (2 x 16 + threads), so it is
    # opened only after several batches of 16 committed.
    killed = index_killing_on(folder / "q099.jpg", home, folder, hooks, indexer_too=True)
    assert killed.returncode == -9, killed.stderr
    with closing(sqlite3.connect(home / "library.db")) as connection:
        (done,) = connection.execute("SELECT count(*) FROM files WHERE path LIKE '%/q%'").fetchone()
    assert 16 <= done < 100, done  # killed in the middle
    model = json.loads(run(home, "status", "--json").stdout)["model"]
    return home, folder, model


def test_a_killed_run_leaves_nothing_doctor_calls_a_problem(tmp_path, tiny_clip_dir):
    home, folder, model = killed_in_the_middle(tmp_path, tiny_clip_dir)
    # What a kill in the middle of a save leaves (named as the writers name them): whether the
    # kill above landed in one is up to timing, so one of each is planted.
    shard = next(path for path in (home / "thumbnails").iterdir() if path.is_dir())
    planted = shard / f".{'ab' * 32}.jpg.999999-1.tmp", home / "vectors" / f"{model}.index.k.tmp"
    for leftover in planted:
        leftover.write_bytes(b"half written")
        leftover.chmod(0o600)  # as the writers create them
    result = run(home, "doctor", "--check", "--json")  # exit 0
    found = checks(result)
    assert found["temporary files"][0] == "normal"
    status, detail = found[f"vector index {model}"]
    assert status == "normal"
    assert detail.startswith("saved before the last ") and "change(s) of the database" in detail
    assert detail.endswith("searches catch it up by themselves")
    status, detail = found["interrupted runs"]
    assert status == "normal" and "were being read when an index run stopped" in detail
    assert "the next run reads each of them again" in detail
    report = json.loads(result.stdout)
    assert report["problem"] == 0 and report["normal"] >= 2
    assert set(report) == {"mode", "checks", "ok", "fixed", "problem", "normal"}

    lines = run(home, "doctor", "--check").stdout.splitlines()
    assert any(line.startswith(f"normal  vector index {model}: saved before") for line in lines)
    assert lines[-1].startswith("the library is consistent (")
    assert lines[-1].endswith(" normal: nothing to do, see their lines)")

    # A search catches the saved index up by itself; the next run deletes what the killed
    # one was writing and leaves nothing to say.
    run(home, "search", "--image", folder / "q050.jpg")
    run(home, "index", folder)
    after = checks(run(home, "doctor", "--check", "--json"))
    assert {name: status for name, (status, _) in after.items() if status != "ok"} == {}


def test_real_problems_still_fail_the_check(tmp_path, tiny_clip_dir):
    home, folder, model = killed_in_the_middle(tmp_path, tiny_clip_dir)
    payload = home / "vectors" / f"{model}.index"
    data = bytearray(payload.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte: damage no interrupted save leaves
    payload.write_bytes(bytes(data))
    found = checks(run(home, "doctor", "--check", "--json", expect=1))
    assert found[f"vector index {model}"][0] == "problem"
    assert "is corrupt" in found[f"vector index {model}"][1]

    run(home, "doctor")  # repaired: the kill's own traces stay normal
    assert run(home, "doctor", "--check").returncode == 0
    connection = sqlite3.connect(home / "library.db")
    connection.execute(
        "INSERT INTO files(path, root, kind, status, updated_at) "
        "VALUES ('/elsewhere/x.jpg', '/elsewhere', 'photo', 'failed', 'now')"
    )  # an orphan row: under no indexed folder
    connection.commit()
    connection.close()
    found = checks(run(home, "doctor", "--check", "--json", expect=1))
    assert found["files outside the indexed folders"][0] == "problem"
