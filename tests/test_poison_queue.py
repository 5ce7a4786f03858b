"""A file that kills the indexer (a segfault in a native decoder, an OOM kill) is parked, not
retried first for ever; the rest of the library is indexed.

The "crash" is real: every Python process of the run has an audit hook (sitecustomize) that
SIGKILLs the process the moment it opens the chosen file, as a decoder crashing on it would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from PIL import Image

from desktop_search.library import Library
from tests.conftest_models import install_model_home

# Installed in every Python process of the run through sitecustomize (children too, as a
# decoder's crash would happen in whichever process reads the file).
SITECUSTOMIZE = """
import os, signal, sys
POISON = os.environ.get("TEST_POISON_PATH")
def _die_on_poison(event, args):
    if POISON and event == "open" and isinstance(args[0], str) and args[0] == POISON:
        os.kill(os.getpid(), signal.SIGKILL)
sys.addaudithook(_die_on_poison)
"""


def index_killing_on(
    poison: Path, home: Path, folder: Path, hooks: Path
) -> subprocess.CompletedProcess:
    repo = Path(__file__).resolve().parents[1]
    return subprocess.run(
        [sys.executable, "-m", "desktop_search", "--home", str(home), "index", str(folder),
         "--json"],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": f"{hooks}{os.pathsep}{repo}",
             "TEST_POISON_PATH": str(poison)},
    )  # fmt: skip


def test_a_file_that_kills_the_indexer_is_parked_and_the_rest_indexed(tmp_path, tiny_clip_dir):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(40):
        Image.new("RGB", (64, 48), (i * 6, 255 - i * 6, 128)).save(folder / f"p{i:02d}.jpg")
    poison = folder / "p05.jpg"  # early in the queue: its decode-ahead window holds innocents
    home = install_model_home(tmp_path / "home", tiny_clip_dir)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE)

    # The first run dies reading it among others; the next one reads the suspects in a child
    # process: the child dies on the poison, the run goes on and parks it.
    first, second = (index_killing_on(poison, home, folder, hooks) for _ in range(2))
    assert first.returncode == -signal.SIGKILL
    assert second.returncode == 0, second.stderr
    report = json.loads(second.stdout)
    assert report["failed"] == 1
    with Library.open(home) as library:
        status = library.status()
        failures = dict(library.store.failures())
        assert library.store.queue.suspects() == [] and len(library.store.queue) == 0
    assert list(failures) == [str(poison)]
    assert "crashed the reader" in failures[str(poison)]
    assert status["embeddings"] == 39  # every other photo, including the poison's neighbours

    # The person asks for it again (e.g. after updating a decoder): no hook, it is indexed.
    done = subprocess.run(
        [sys.executable, "-m", "desktop_search", "--home", str(home), "index", "--retry-failed",
         "--json"], capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with Library.open(home) as library:
        assert library.status()["embeddings"] == 40 and dict(library.store.failures()) == {}


def test_a_clean_run_leaves_no_claims(tmp_path, tiny_clip_dir):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(5):
        Image.new("RGB", (32, 32), (i, i, i)).save(folder / f"p{i}.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not really")
    home = install_model_home(tmp_path / "home", tiny_clip_dir)
    with Library.open(home) as library:
        report = library.index([folder])
        assert (report.new, report.failed) == (5, 1)
        assert library.store.queue.suspects() == []
