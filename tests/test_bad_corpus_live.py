"""Issue 14's hostile files through all three indexers: `index`, `watch` and the app's live index.

The corpus (tests/hostile_files.py) is written once and copied for each leg. Each leg must finish
(or keep running), index every good file (a good photo and a good note written after the bad
files are searchable), park every bad file with its reason, skip and count the links it must not
follow, and not spin once the work is done. Then ``doctor`` must agree with ``status`` file by
file: every file status counts or lists is one of the corpus, in the state the corpus says, and
doctor finds nothing wrong with any of them. (tests/bad_files.py's odd tree goes through `index`
in tests/test_bad_files.py; its 12 MP photos would take this file past its time budget.)
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import pytest
from click.testing import CliRunner, Result

from desktop_search.app.library import Library
from desktop_search.app.live import LiveIndex, LiveStatus
from desktop_search.cli.root import cli
from desktop_search.search.searcher import Query
from desktop_search.store.files import FileRows
from tests.bad_files import OddTree, add_permission_cases, small_jpeg
from tests.conftest_models import install_model_home
from tests.hostile_files import HostileTree, good_files, hostile_tree
from tests.processes import run_dropping_privileges
from tests.test_live_index import wait_for

REPO = Path(__file__).resolve().parents[1]
# Each leg indexes the whole corpus (about 3 s of work); a hang must fail, not stall the suite.
pytestmark = pytest.mark.timeout(180)

# Parts of the corpus in place before a watcher starts (its first scan takes them in, links and
# all, so that it counts the links it skips); the others arrive while it runs.
BEFORE_START = ("links", "chat", "photos")
SETTLE = 0.3  # the live index's wait for a file to be written (the app's default is 1 s)
QUIET_SECONDS = 2.0  # how long a finished indexer is watched for work it should not do
SETTLED_SECONDS = 1.5  # nothing new for this long (over the watch's 1 s settle): it has settled
LATE_LOOKS = 3  # rounds of work after every file has its outcome (late events of those files)
# Tries of one bad file: a file copied in while the watcher runs may be read half-written (a new
# folder is scanned at once) and again once its writes settled; never more.
MAX_TRIES = 2
WORK_TIMEOUT = 90.0  # the whole corpus indexed; about 5 s on a busy 2-core machine


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> HostileTree:
    """Written once; each leg copies it."""
    return hostile_tree(tmp_path_factory.mktemp("corpus") / "tree")


@pytest.fixture
def parked(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times each path was parked as failed in this process: one per attempt that
    ended in a failure (every failure is recorded through ``FileRows.record_failure``)."""
    counts: Counter[str] = Counter()
    record = FileRows.record_failure

    def counting(self: FileRows, path: str, *args: object, **kwargs: object) -> list[int]:
        counts[path] += 1
        return record(self, path, *args, **kwargs)

    monkeypatch.setattr(FileRows, "record_failure", counting)
    return counts


@dataclass
class Goods:
    """The good files written after the bad ones."""

    photo: Path
    note: Path
    word: str
    rels: list[str] = field(default_factory=list)


def copy_part(corpus: HostileTree, folder: Path, part: str) -> None:
    """One top-level folder of the corpus into ``folder``, links as links (a relative one keeps
    pointing where it did, the absolute one outside stays outside)."""
    shutil.copytree(corpus.path(part), folder / part, symlinks=True, dirs_exist_ok=True)


def write_goods(folder: Path, tag: str) -> Goods:
    photo, note, word = good_files(folder / "good", tag)
    return Goods(photo, note, word, [os.path.relpath(p, folder) for p in (photo, note)])


def run(home: Path, *args: object, expect: int | None = 0) -> Result:
    result = CliRunner().invoke(cli, ["--home", str(home), *map(str, args)])
    if expect is not None:
        assert result.exit_code == expect, result.output
    return result


def status_of(home: Path) -> dict:
    return json.loads(run(home, "status", "--json").stdout)


def files_rows(home: Path, folder: Path) -> dict[str, tuple[str, str | None]]:
    """{path relative to ``folder``: (status, reason)}: every file the library knows."""
    with Library.open(home) as library:
        rows = library.store.db.execute("SELECT path, status, error FROM files").fetchall()
    return {os.path.relpath(path, folder): (status, error) for path, status, error in rows}


def expected_outcomes(corpus: HostileTree, goods: Goods) -> dict[str, str | None]:
    return {**corpus.expected, **dict.fromkeys(goods.rels)}


def has_outcome(row: tuple[str, str | None], outcome: str | None) -> bool:
    """Is a (status, reason) row what ``outcome`` (None: indexed; else a reason) says?"""
    state, reason = row
    if outcome is None:
        return state == "indexed" and reason is None
    return state == "failed" and outcome in (reason or "")


# --- what every leg must leave behind -------------------------------------------------------------


def assert_outcomes(home: Path, folder: Path, corpus: HostileTree, goods: Goods) -> None:
    """Each file of the corpus indexed or parked with its reason; nothing else known."""
    expected = expected_outcomes(corpus, goods)
    rows = files_rows(home, folder)
    assert sorted(rows) == sorted(expected)  # the ignored links included: never recorded
    wrong = {rel: row for rel, row in rows.items() if not has_outcome(row, expected[rel])}
    assert wrong == {}, {rel: (expected[rel], row) for rel, row in wrong.items()}


def assert_doctor_finds_nothing(home: Path) -> None:
    report = json.loads(run(home, "doctor", "--check", "--json", expect=None).stdout)
    # "normal": a state that heals by itself (a vector file the live index saves later).
    problems = [check for check in report["checks"] if check["status"] not in ("ok", "normal")]
    assert problems == [] and report["problem"] == 0


def assert_doctor_agrees_with_status(home: Path, folder: Path, corpus: HostileTree) -> None:
    """``status`` and ``doctor`` on the same library, file by file."""
    status = status_of(home)
    rows = files_rows(home, folder)
    # Every file status lists as failed is a failed row, with the row's reason, and back.
    listed = {os.path.relpath(f["path"], folder): f["reason"] for f in status["failures"]}
    assert listed == {rel: reason for rel, (state, reason) in rows.items() if state == "failed"}
    # Its counts are the rows', kind by kind.
    counted = Counter({(r["kind"], r["status"]): r["count"] for r in status["files"]})
    with Library.open(home) as library:
        kinds = Counter(library.store.db.execute("SELECT kind, status FROM files").fetchall())
    assert counted == kinds
    assert sum(counted.values()) == len(rows)
    # Nothing waits, nothing is only catalogued, every link skipped is counted once.
    parked = sum(state == "failed" for state, _ in rows.values())
    assert status["queue"] == {"waiting": 0, "retrying": 0, "parked": parked}
    assert status["pending"] == 0
    assert Counter(status["skipped_links"]) == corpus.skipped_links
    # Doctor checks (read only) the same library: no problem at all...
    assert_doctor_finds_nothing(home)
    # ... and what its file checks look at holds for each file status counts: on disk (not
    # "missing from disk") and inside an indexed folder (not "outside the indexed folders").
    roots = [Path(root) for root in status["roots"]]
    assert roots == [folder]
    gone = [rel for rel in rows if not os.path.exists(folder / rel)]
    outside = [rel for rel in rows if rel.startswith(os.pardir)]
    assert (gone, outside) == ([], [])


def assert_searchable(home: Path, folder: Path, corpus: HostileTree, goods: Goods) -> None:
    """Every readable document by its word, the good files, and never the file outside."""
    with Library.open(home) as library:

        def found(text: str) -> set[str]:
            hits = library.search(Query(text=text, mode="keyword", limit=50))
            return {os.path.relpath(hit.path, folder) for hit in hits}

        missed = {rel: word for rel, word in corpus.words.items() if rel not in found(word)}
        assert missed == {}
        assert found(corpus.secret_word) == set()
        assert found(goods.word) == {os.path.relpath(goods.note, folder)}
        [best] = library.search(Query(image=goods.photo, limit=1))
        assert best.path == str(goods.photo)


def assert_all(home: Path, folder: Path, corpus: HostileTree, goods: Goods) -> None:
    assert_outcomes(home, folder, corpus, goods)
    assert_searchable(home, folder, corpus, goods)
    assert_doctor_agrees_with_status(home, folder, corpus)


def all_done(home: Path, folder: Path, corpus: HostileTree, goods: Goods) -> Callable[[], bool]:
    """For ``wait_for``: every file of the corpus has its final outcome and nothing waits (a
    file read while it was being copied may have been parked, and is read again once written)."""
    expected = expected_outcomes(corpus, goods)

    def done() -> bool:
        queue = status_of(home)["queue"]
        rows = files_rows(home, folder)
        final = set(rows) == set(expected) and all(
            has_outcome(row, expected[rel]) for rel, row in rows.items()
        )  # fmt: skip
        return final and not queue["waiting"] and not queue["retrying"]

    return done


def settle(events_since: Callable[[float], list], busy: Callable[[], bool]) -> float:
    """Wait until nothing has happened for SETTLED_SECONDS and nothing is under way (a round of
    work tells only once it ends); return that moment. An indexer that spins never gets there
    (``wait_for`` fails)."""

    def quiet_since() -> float | None:
        """the indexer went quiet (a spinning one never does)"""
        now = time.monotonic()
        return now if not events_since(now - SETTLED_SECONDS) and not busy() else None

    return wait_for(quiet_since, timeout=30, interval=0.2)


# --- (a) `desktop-search index` -------------------------------------------------------------------


def test_index_takes_in_the_corpus_and_doctor_agrees_with_status(
    corpus: HostileTree, tiny_clip_dir: Path, tmp_path: Path, parked: Counter[str]
) -> None:
    folder = tmp_path / "files"
    for part in sorted(p.name for p in corpus.root.iterdir()):
        copy_part(corpus, folder, part)
    goods = write_goods(folder, "index")  # after the bad ones: last in the queue
    home = install_model_home(tmp_path / "home", tiny_clip_dir)
    indexed = run(home, "--verbose", "index", folder, "--json")  # logs on stderr
    first = json.loads(indexed.stdout)
    tried = dict(parked)
    second = json.loads(run(home, "index", folder, "--json").stdout)
    expected = expected_outcomes(corpus, goods)
    good = sum(outcome is None for outcome in expected.values())
    assert (first["new"], first["failed"]) == (good, len(corpus.bad))
    assert first["skipped_links"] == dict(corpus.skipped_links)
    # Each bad file is tried once; a second run has nothing to do and tries none again.
    assert tried == {str(folder / rel): 1 for rel in corpus.bad}
    assert (second["unchanged"], second["new"], second["failed"]) == (len(expected), 0, 0)
    assert parked == tried
    # What was left out of a file indexed in part is said (logged) with the file's path.
    said = indexed.stderr.splitlines()
    unsaid = {rel: note for rel, note in corpus.notes.items()
              if not any(str(folder / rel) in line and note in line for line in said)}  # fmt: skip
    assert unsaid == {}
    assert_all(home, folder, corpus, goods)


# --- (b) `desktop-search watch` -------------------------------------------------------------------


class Lines:
    """A child's output lines as they come, with the time each came (read on a thread)."""

    def __init__(self, stream: TextIO) -> None:
        self.lines: list[tuple[float, str]] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: TextIO) -> None:
        for line in stream:
            self.lines.append((time.monotonic(), line.rstrip("\n")))

    def since(self, moment: float) -> list[str]:
        return [line for at, line in list(self.lines) if at >= moment]

    def text(self) -> str:
        return "\n".join(line for _, line in list(self.lines))

    def join(self) -> None:
        self._thread.join(10)


@pytest.fixture
def watcher(tmp_path: Path, tiny_clip_dir: Path) -> Iterator[Callable[[Path], subprocess.Popen]]:
    """Starts `desktop-search watch FOLDER` in a child; stops it (SIGTERM) if the test did not."""
    children: list[subprocess.Popen] = []

    def start(folder: Path) -> subprocess.Popen:
        home = install_model_home(tmp_path / "home", tiny_clip_dir)
        child = subprocess.Popen(
            [sys.executable, "-m", "desktop_search", "--home", str(home), "watch", str(folder)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
            env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        children.append(child)
        return child

    yield start
    for child in children:
        if child.poll() is None:
            child.kill()
            child.wait(30)


def test_watch_keeps_running_through_the_corpus_and_doctor_agrees(
    corpus: HostileTree, watcher: Callable[[Path], subprocess.Popen], tmp_path: Path
) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    for part in BEFORE_START:
        copy_part(corpus, folder, part)
    child = watcher(folder)
    home = tmp_path / "home"
    out, err = Lines(child.stdout), Lines(child.stderr)
    try:
        wait_for(lambda: status_of(home)["indexer"], timeout=WORK_TIMEOUT)
        arrived = {rel for rel in corpus.expected if rel.split("/")[0] in BEFORE_START}
        wait_for(lambda: set(files_rows(home, folder)) >= arrived, timeout=WORK_TIMEOUT)
        # The rest arrives while it runs, then the good files after all the bad ones.
        for part in sorted(p.name for p in corpus.root.iterdir() if p.name not in BEFORE_START):
            copy_part(corpus, folder, part)
        goods = write_goods(folder, "watch")
        wait_for(all_done(home, folder, corpus, goods), timeout=WORK_TIMEOUT, interval=0.3)
        assert_searchable(home, folder, corpus, goods)  # while it runs
        assert_doctor_finds_nothing(home)  # while it runs, before it saved its vector index
        # Done. A watcher may look once more (a new folder is scanned at once, the writes of
        # its files settle a second later); then it must sit still, where one that retried a
        # file again and again would print a report line per try and show itself busy.
        done_at = time.monotonic()

        def reports(since: float) -> list[str]:
            return [line for line in out.since(since) if line.startswith("[")]

        quiet_from = settle(reports, lambda: status_of(home)["indexer"]["state"] != "idle")
        states = []
        while time.monotonic() - quiet_from < QUIET_SECONDS:
            states.append(status_of(home)["indexer"]["state"])
            time.sleep(0.2)
        assert reports(quiet_from) == [] and set(states) == {"idle"}
        assert len(reports(done_at)) <= LATE_LOOKS, out.since(done_at)
        assert child.poll() is None, err.text()
    finally:
        child.send_signal(signal.SIGTERM)
        child.wait(60)
        out.join()
        err.join()
    assert child.returncode == 0, err.text()
    assert "traceback" not in (out.text() + err.text()).lower()
    # Every failure is printed: each bad file was tried, and no file more than MAX_TRIES times.
    failed = [line.split(": ")[1] for line in out.text().splitlines()
              if line.startswith("  failed: ")]  # fmt: skip
    tries = Counter(os.path.relpath(path, folder) for path in failed)
    assert set(tries) >= set(corpus.bad) and max(tries.values()) <= MAX_TRIES, tries
    assert "warning:" not in err.text()  # a failing step would say "warning: indexing failed"
    assert_outcomes(home, folder, corpus, goods)
    assert_doctor_agrees_with_status(home, folder, corpus)


# --- (c) the app's live index ---------------------------------------------------------------------


def test_the_live_index_takes_in_the_corpus_backs_off_and_doctor_agrees(
    corpus: HostileTree, model_home: Path, tmp_path: Path, parked: Counter[str]
) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    for part in BEFORE_START:
        copy_part(corpus, folder, part)
    published: list[tuple[float, LiveStatus]] = []
    with Library.open(model_home) as library:
        # As the app does: a live index on the library, then the folder the person chose.
        live = LiveIndex(library, settle=SETTLE)
        live.subscribe(lambda status: published.append((time.monotonic(), status)))
        live.start()
        try:
            live.rescan([folder])
            arrived = {rel for rel in corpus.expected if rel.split("/")[0] in BEFORE_START}
            wait_for(lambda: set(files_rows(model_home, folder)) >= arrived, WORK_TIMEOUT)
            for part in sorted(p.name for p in corpus.root.iterdir() if p.name not in BEFORE_START):
                copy_part(corpus, folder, part)
            goods = write_goods(folder, "live")
            wait_for(all_done(model_home, folder, corpus, goods), WORK_TIMEOUT, interval=0.3)
            assert_searchable(model_home, folder, corpus, goods)  # while it runs
            assert_doctor_finds_nothing(model_home)
            # Done: at most a late look or two (see the watch test), then nothing at all, where
            # a file retried in a loop, or a failing step without a pause, would show as steps
            # published meanwhile.
            done_at = time.monotonic()

            def steps(since: float) -> list[str]:
                return [status.state for at, status in list(published)
                        if at >= since and status.state not in ("idle", "stopped")]  # fmt: skip

            quiet_from = settle(steps, lambda: live.status().state != "idle")
            time.sleep(QUIET_SECONDS)
            assert steps(quiet_from) == []
            reports = [(at, s.last_report) for at, s in list(published) if s.last_report]
            current = [report for at, report in reports if at < done_at][-1:]
            looks = {id(report) for at, report in reports if at >= done_at} - set(map(id, current))
            assert len(looks) <= LATE_LOOKS
            assert live.running
        finally:
            live.stop()
    errors = [status.error for _, status in published if status.state == "error"]
    assert errors == []  # no step failed: one bad file never stops the live index
    assert published[-1][1].state == "stopped"
    tries = Counter({os.path.relpath(path, folder): n for path, n in parked.items()})
    assert set(tries) >= set(corpus.bad) and max(tries.values()) <= MAX_TRIES, tries
    assert_outcomes(model_home, folder, corpus, goods)
    assert_doctor_agrees_with_status(model_home, folder, corpus)


def test_the_live_index_keeps_the_links_status_shows_current(tmp_path: Path) -> None:
    """The links not followed, as ``status`` counts them, after the live index's scans: all of
    them after a scan of every folder, a new folder's added, a rescan of a known one alone
    changes nothing (which of the counted links were in it is not known)."""
    home, first, second = tmp_path / "home", tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
        (folder / "note.txt").write_text(f"A note in {folder.name}.\n")
    (first / "dangling.txt").symlink_to("missing.txt")
    (second / "self.txt").symlink_to("self.txt")
    scans: list[str] = []

    def skipped() -> dict[str, int]:
        return status_of(home)["skipped_links"]

    def rescanned(folders: list[Path], live: LiveIndex) -> None:
        """Rescan ``folders`` and wait until that scan is over."""
        scans.clear()
        live.rescan(folders)
        wait_for(lambda: "scanning" in scans and live.status().state == "idle")

    with Library.open(home) as library:
        library.index([first])
        (first / "dangling.txt").unlink()  # gone since: the next full scan must not count it
        live = LiveIndex(library, settle=SETTLE)
        live.subscribe(lambda status: scans.append(status.state))
        live.start()
        try:
            wait_for(lambda: skipped() == {})  # the start scans every indexed folder
            rescanned([second], live)
            assert skipped() == {"loop": 1}  # a new folder: its links added
            (first / "gone.txt").symlink_to("missing.txt")
            rescanned([first], live)
            assert skipped() == {"loop": 1}
        finally:
            live.stop()
        live = LiveIndex(library, settle=SETTLE)
        live.start()
        try:
            wait_for(lambda: skipped() == {"loop": 1, "dangling": 1})
        finally:
            live.stop()


# --- files the user may not look at --------------------------------------------------------------

# Asks status and doctor about a library as an unprivileged user (root may look at anything).
# Both run as root first: Python's stdlib lives under /root (mode 0700) here, so every module
# imported lazily must be loaded before the privileges go (as in tests/test_bad_files.py).
_AS_NOBODY = textwrap.dedent(
    """
    import json, os, pwd, sys
    from click.testing import CliRunner
    from desktop_search.cli.root import cli

    home = sys.argv[1]

    def run(*args):
        return CliRunner().invoke(cli, ["--home", home, *args])

    run("status", "--json"), run("doctor", "--check", "--json")
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        for parent, folders, files in os.walk(home):  # the library is the user's own
            for name in [".", *folders, *files]:
                os.chown(os.path.join(parent, name), nobody.pw_uid, nobody.pw_gid)
        os.setgroups([])
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)
    status, doctor = run("status", "--json"), run("doctor", "--check", "--json")
    print(json.dumps({"euid": os.geteuid(), "status": json.loads(status.stdout),
                      "doctor": json.loads(doctor.stdout)}))
    """
)


def test_doctor_agrees_with_status_on_files_the_user_may_not_look_at() -> None:
    """Files indexed, then closed to their user (a folder that can be listed but not entered, one
    that cannot even be listed, a file without read permission): status lists them indexed, and
    doctor must not call them missing from disk. They are there: an index run parks them with a
    reason, it does not forget them, so doctor's advice to run one would never help."""
    base = Path(tempfile.mkdtemp(prefix="ds-doctor-perm-"))
    try:
        base.chmod(0o755)  # pytest's tmp_path is 0700: nobody could not even get in
        tree = OddTree(base / "files")
        tree.write(None, "public.jpg", small_jpeg(1))
        add_permission_cases(tree, privileged=True)  # root indexes them all
        home = base / "home"
        with Library.open(home) as library:
            library.index([tree.root])
        result = run_dropping_privileges(_AS_NOBODY, str(home), cwd=REPO)
    finally:
        for locked in base.glob("files/special/*"):
            locked.chmod(0o755)
        shutil.rmtree(base)
    if os.geteuid() == 0:
        assert result["euid"] != 0
    indexed = sum(row["count"] for row in result["status"]["files"] if row["status"] == "indexed")
    assert (indexed, result["status"]["failures"]) == (len(tree.expected), [])
    problems = [check for check in result["doctor"]["checks"] if check["status"] != "ok"]
    assert problems == []
