"""A file that kills the process reading it (a segfault in a native decoder, an OOM kill) is
parked, not retried first for ever; the rest of the library is indexed.

The "crash" is real: every Python process of the run has an audit hook (sitecustomize) that
SIGKILLs the process the moment it opens the chosen file, as a decoder crashing on it would.
Files are read in reader processes (index/readers.py), so that kills a reader; in "indexer" mode
the hook kills the indexer too (as the OOM killer may pick the indexer instead of the reader).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from PIL import Image

from desktop_search.app.library import Library
from desktop_search.index.indexer import REASON_KILLED_READER
from desktop_search.store.queue import MAX_CLAIMS
from tests.conftest_models import install_model_home

# Installed in every Python process of the run through sitecustomize (children too, as a
# decoder's crash would happen in whichever process reads the file).
SITECUSTOMIZE = """
import os, signal, sys
POISON = os.environ.get("TEST_POISON_PATH")
KILL_INDEXER = os.environ.get("TEST_POISON_KILLS_INDEXER") == "1"
def _indexer_pid():
    # A reader's parent is the forkserver, whose parent is the indexer.
    with open(f"/proc/{os.getppid()}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])
def _die_on_poison(event, args):
    if POISON and event == "open" and isinstance(args[0], str) and args[0] == POISON:
        if KILL_INDEXER:
            os.kill(_indexer_pid(), signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)
sys.addaudithook(_die_on_poison)
"""


def index_killing_on(
    poison: Path, home: Path, folder: Path, hooks: Path, *, indexer_too: bool = False
) -> subprocess.CompletedProcess:
    repo = Path(__file__).resolve().parents[1]
    return subprocess.run(
        [sys.executable, "-m", "desktop_search", "--home", str(home), "index", str(folder),
         "--json"],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": f"{hooks}{os.pathsep}{repo}",
             "TEST_POISON_PATH": str(poison),
             "TEST_POISON_KILLS_INDEXER": "1" if indexer_too else "0"},
    )  # fmt: skip


def poisoned_library(
    tmp_path: Path, tiny_clip_dir: Path, n: int = 40
) -> tuple[Path, Path, Path, Path]:
    """(folder of n photos, the poison among them, a home with the tiny model, hooks folder)."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(n):
        Image.new("RGB", (64, 48), (i * 6, 255 - i * 6, 128)).save(folder / f"p{i:02d}.jpg")
    poison = folder / "p05.jpg"  # early in the queue: its decode-ahead window holds innocents
    home = install_model_home(tmp_path / "home", tiny_clip_dir)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE)
    return folder, poison, home, hooks


def test_a_file_that_kills_its_reader_is_parked_at_once_and_the_rest_indexed(
    tmp_path, tiny_clip_dir
):
    folder, poison, home, hooks = poisoned_library(tmp_path, tiny_clip_dir)

    run = index_killing_on(poison, home, folder, hooks)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["failed"] == 1
    with Library.open(home) as library:
        status = library.status()
        failures = dict(library.store.reads.failures())
        assert library.store.queue.suspects() == [] and len(library.store.queue) == 0
    assert list(failures) == [str(poison)]
    assert "crashed the reader" in failures[str(poison)]
    assert status.embeddings == 39  # every other photo, including the poison's neighbours

    # The person asks for it again (e.g. after updating a decoder): no hook, it is indexed.
    done = subprocess.run(
        [sys.executable, "-m", "desktop_search", "--home", str(home), "index", "--retry-failed",
         "--json"], capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with Library.open(home) as library:
        assert library.status().embeddings == 40 and dict(library.store.reads.failures()) == {}


def test_a_file_the_indexer_itself_keeps_dying_on_is_parked_after_max_claims(
    tmp_path, tiny_clip_dir
):
    folder, poison, home, hooks = poisoned_library(tmp_path, tiny_clip_dir, n=12)

    # Each run dies while the poison is being read: first among others (a window of claims),
    # then alone, MAX_CLAIMS times; the run after that parks it without reading it.
    runs = [index_killing_on(poison, home, folder, hooks, indexer_too=True)
            for _ in range(MAX_CLAIMS + 2)]  # fmt: skip
    assert [run.returncode for run in runs[:-1]] == [-signal.SIGKILL] * (MAX_CLAIMS + 1)
    assert runs[-1].returncode == 0, runs[-1].stderr
    with Library.open(home) as library:
        failures = dict(library.store.reads.failures())
        assert library.store.queue.suspects() == [] and len(library.store.queue) == 0
        assert library.status().embeddings == 11
    assert list(failures) == [str(poison)]
    assert failures[str(poison)] == REASON_KILLED_READER


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
