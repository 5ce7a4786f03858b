"""`desktop-search watch` in a real process, and what `status` says about it meanwhile."""

import json
import signal
import subprocess
import sys
import time

from click.testing import CliRunner
from PIL import Image
from skimage import data

from desktop_search.cli.root import cli


def run(home, *args, expect=0):
    result = CliRunner().invoke(cli, ["--home", str(home), *map(str, args)])
    assert result.exit_code == expect, result.output
    return result


def status(home) -> dict:
    return json.loads(run(home, "status", "--json").stdout)


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_watch_indexes_new_photos_reports_itself_and_stops_cleanly(model_home, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(data.astronaut()).save(photos / "astronaut.jpg")
    watcher = subprocess.Popen(
        [sys.executable, "-m", "desktop_search", "--home", str(model_home), "watch", str(photos)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        indexer = wait_for(lambda: status(model_home)["indexer"])
        assert indexer["pid"] == watcher.pid
        wait_for(lambda: status(model_home)["embeddings"] == 1)
        Image.fromarray(data.coffee()).save(photos / "coffee.jpg")
        wait_for(lambda: status(model_home)["embeddings"] == 2)
        # A second writer is refused in one line; reading works meanwhile.
        second = run(model_home, "index", photos, expect=1)
        assert "another desktop-search process is indexing" in second.output
        hits = run(model_home, "search", "--image", photos / "coffee.jpg", "--json").stdout
        assert json.loads(hits.splitlines()[0])["path"] == str(photos / "coffee.jpg")
        text = run(model_home, "status").stdout
        assert f"indexer: idle (process {watcher.pid})" in text
    finally:
        watcher.send_signal(signal.SIGTERM)
        out, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, err
    assert "watching 1 folder(s)" in err and "stopping" in err
    assert "1 new" in out and "traceback" not in (out + err).lower()
    after = status(model_home)
    assert after["indexer"] is None  # its heartbeat went with it
    assert after["queue"] == {"waiting": 0, "retrying": 0, "parked": 0}


def test_watch_without_folders_says_what_to_do(tmp_path):
    result = run(tmp_path / "home", "watch", expect=1)
    assert result.output.strip().startswith("error: no folders to watch yet")
    assert len(result.output.strip().splitlines()) == 1
