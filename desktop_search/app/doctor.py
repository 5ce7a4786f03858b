# Over 400 lines: one job: the checks `doctor` runs (about 20), each beside its repair.
"""Check that the parts of a library home agree with each other, and repair what can be repaired.

The SQLite store is the source of truth; vector index files, thumbnails and the work queue are
derived from it. Each check returns a :class:`CheckResult`: ok, fixed, problem, or *normal*: a
state an interrupted (or running) index run leaves that heals by itself or does no harm (a saved
vector index behind the database, which searches catch up; files an index run was reading when
it was killed, which the next run reads again; thumbnails and words of forgotten files waiting
for the next clean-up). Only problems make ``doctor --check`` fail; each line says why. Checking
only reads; repairing runs under the library's writer lock, so no indexer works meanwhile.

Meant for a Library opened for the purpose (the CLI's): a repair may replace ``library.store``
and rewrite index files that other open Library objects have loaded already.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import sqlite3
import stat
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from desktop_search.app.doctor_keywords import keyword_index_problems
from desktop_search.app.library import Library
from desktop_search.app.salvage import rebuild_database
from desktop_search.config import Paths
from desktop_search.errors import IndexFileError, StoreError
from desktop_search.index.progress import Heartbeat
from desktop_search.platform import private
from desktop_search.store.pathnames import readable_path
from desktop_search.store.queue import MAX_CLAIMS
from desktop_search.store.schema import DROPPED_TEXT, DROPPED_THUMBNAILS
from desktop_search.store.store import Store
from desktop_search.vectors.index import VectorIndex
from desktop_search.vectors.spaces import catch_up

log = logging.getLogger(__name__)

OK, FIXED, PROBLEM = "ok", "fixed", "problem"
# Not a problem: heals by itself or is harmless (the detail says which and why).
NORMAL = "normal"
STATUSES = (OK, FIXED, PROBLEM, NORMAL)  # the order of the JSON counts

# How many stored vectors are compared with the index (cosine of each with its own entry): enough
# to catch an index saved from other vectors, cheap on 100k items.
VECTOR_SAMPLE = 32
# Stored vectors are float16, the index may hold the float32 originals: their cosine is ~0.9999.
MIN_COSINE = 0.99
# Model installs do not take the writer lock: a recent work folder may belong to one running now.
MODEL_WORK_MIN_AGE = 3600.0

START_OVER = (
    "move it aside (e.g. add .broken to its name) and run 'desktop-search index FOLDER' to "
    "build the library again; your photos are not touched"
)
_EXAMPLES = 3  # paths named in a detail line


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: ``status`` is ok, normal, fixed or problem; ``detail`` says
    what (for normal: why nothing needs doing)."""

    name: str
    status: str
    detail: str = ""

    def line(self) -> str:
        return f"{self.status:<8}{self.name}" + (f": {self.detail}" if self.detail else "")

    def to_json(self) -> dict:
        return {"name": self.name, "status": self.status, "detail": self.detail}


@dataclass
class DoctorReport:
    """Every check's result; ``repair`` tells whether repairs were made or only reported."""

    repair: bool
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def problems(self) -> list[CheckResult]:
        return [check for check in self.checks if check.status == PROBLEM]

    def counts(self) -> dict[str, int]:
        counts = Counter(check.status for check in self.checks)
        return {status: counts[status] for status in STATUSES}

    def summary(self) -> str:
        counts = self.counts()
        normal = (
            f", {counts[NORMAL]} normal: nothing to do, see their lines" if counts[NORMAL] else ""
        )
        if not counts[FIXED] and not counts[PROBLEM]:
            return f"the library is consistent ({counts[OK]} checks ok{normal})"
        if not self.repair:
            return (
                f"{counts[PROBLEM]} problem(s), {counts[OK]} ok{normal}: run 'desktop-search "
                "doctor' to repair (each line says what it would do)"
            )
        return f"{counts[FIXED]} fixed, {counts[PROBLEM]} problem(s) left, {counts[OK]} ok{normal}"

    def to_json(self) -> dict:
        return {
            "mode": "repair" if self.repair else "check",
            "checks": [check.to_json() for check in self.checks],
            **self.counts(),
        }


def run_doctor(library: Library, *, repair: bool) -> DoctorReport:
    """Run every check; with ``repair``, under the writer lock (raises WriterLockedError)."""
    if not repair:
        return DoctorReport(False, _run_checks(library, repair=False))
    with library.writer():
        report = DoctorReport(True, _run_checks(library, repair=True))
        # What repairs deleted may still be in old frames of the write-ahead log.
        try:
            if not library.store.truncate_log():
                log.info("a reader kept part of the write-ahead log: emptied when it restarts")
        except sqlite3.DatabaseError as error:  # a damaged file the report already names
            log.info("could not empty the write-ahead log: %s", error)
        return report


def unopenable_report(error: StoreError, database: Path, *, repair: bool) -> DoctorReport | None:
    """The report for a database file SQLite cannot open at all (None: ``error`` is another
    kind of failure). Nothing is repaired: a file SQLite cannot open has no readable schema to
    rebuild from (and a rebuild without the schema steps record would not open either)."""
    cause = error.__cause__
    if not isinstance(cause, sqlite3.DatabaseError) or not _is_corruption(cause):
        return None
    detail = f"cannot open {database} ({cause}): {START_OVER}"
    return DoctorReport(repair, [CheckResult("database integrity", PROBLEM, detail)])


def _run_checks(library: Library, *, repair: bool) -> list[CheckResult]:
    # Order matters: the database first (a rebuild changes everything below), orphans before the
    # vector indices (removing them changes what the indices must hold).
    results = _guarded("database integrity", lambda: _check_integrity(library, repair))
    results += _guarded("orphans", lambda: _check_orphans(library.store, repair))
    results += _guarded("thumbnails", lambda: _check_thumbnails(library, repair))
    results += _guarded("unused thumbnails", lambda: _check_unused_thumbnails(library, repair))
    results += _guarded("keyword index", lambda: _check_keyword_index(library.store, repair))
    results += _guarded("vector indices", lambda: _check_vector_indices(library, repair))
    results += _guarded("interrupted runs", lambda: _check_interrupted_runs(library.store))
    results += [_check_temporaries(library.paths, repair)]
    results += [_check_private_files(library.paths, repair)]
    results += _guarded("files on disk", lambda: _check_files_on_disk(library.store))
    return results


def _guarded(name: str, check: Callable[[], CheckResult | list[CheckResult]]) -> list[CheckResult]:
    """Run a check; a damaged database part it had to read makes it a problem, not a crash."""
    try:
        result = check()
    except sqlite3.DatabaseError as error:
        if not _is_corruption(error):
            raise
        return [CheckResult(name, PROBLEM, f"could not check: the database is damaged ({error})")]
    return result if isinstance(result, list) else [result]


def _is_corruption(error: sqlite3.DatabaseError) -> bool:
    code = getattr(error, "sqlite_errorcode", 0) & 0xFF  # the primary code of an extended one
    return code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


# -- 1. the database file ---------------------------------------------------------------------


def _check_integrity(library: Library, repair: bool) -> CheckResult:
    name = "database integrity"
    issues = _integrity_issues(library.store)
    if not issues:
        return CheckResult(name, OK)
    if not repair:
        detail = f"damaged ({issues}); would rebuild it from what is readable, keeping a copy"
        return CheckResult(name, PROBLEM, detail)
    return _salvage(library, issues)


def _integrity_issues(store: Store) -> str:
    """A short description of what ``PRAGMA integrity_check`` finds ("" when all is well)."""
    try:
        rows = store.checks.integrity_check()
    except sqlite3.DatabaseError as error:
        if not _is_corruption(error):
            raise
        return str(error)
    if rows == ["ok"]:
        return ""
    # Rows may start with a "*** in database main ***" header line.
    lines = [line for row in rows for line in row.splitlines() if not line.startswith("***")]
    more = f" and {len(lines) - 1} more" if len(lines) > 1 else ""
    return f"{lines[0] if lines else rows[0]}{more}"


def _salvage(library: Library, issues: str) -> CheckResult:
    """Rebuild the database from its readable rows; the damaged file is kept next to it."""
    name, database = "database integrity", library.paths.database
    library.store.close()
    try:
        aside, damaged = rebuild_database(database)
    except (sqlite3.DatabaseError, StoreError, OSError) as error:
        log.warning("could not rebuild %s: %s", database, error)
        library.store = Store.open(database)
        detail = f"damaged ({issues}) and could not be rebuilt ({error}): {START_OVER}"
        return CheckResult(name, PROBLEM, detail)
    library.store = Store.open(database)
    with library.store.transaction():
        library.store.invalidate_vector_files()  # saved vector indices predate the rebuild
    lost = (
        f"unreadable rows of {', '.join(damaged)} were lost: 'desktop-search index' adds back "
        "what they described"
        if damaged
        else "nothing was lost"
    )
    detail = f"rebuilt from the readable data ({issues}); {lost}; damaged file kept as {aside.name}"
    return CheckResult(name, FIXED, detail)


# -- 2. orphans -------------------------------------------------------------------------------


def _check_orphans(store: Store, repair: bool) -> list[CheckResult]:
    # One transaction for every orphan removal: all or nothing.
    with store.transaction():
        return [
            _check_foreign_keys(store, repair),
            _check_files_without_items(store, repair),
            _check_files_outside_roots(store, repair),
            _check_queue_outside_roots(store, repair),
        ]


_FOREIGN_KEY_WORDS = {
    "items": "item(s) whose file is gone",
    "embeddings": "embedding(s) whose item is gone",
}


def _check_foreign_keys(store: Store, repair: bool) -> CheckResult:
    """Items without their file, embeddings without their item (``PRAGMA foreign_key_check``)."""
    name = "foreign keys"
    violations = store.checks.foreign_key_violations()
    if not violations:
        return CheckResult(name, OK)
    counts = Counter(violation.table for violation in violations)
    what = ", ".join(
        f"{n} {_FOREIGN_KEY_WORDS.get(table, f'{table} row(s) pointing at missing rows')}"
        for table, n in sorted(counts.items())
    )
    if not repair:
        return CheckResult(name, PROBLEM, f"{what}; would delete them")
    store.checks.delete_violations(violations)
    store.invalidate_vector_files()  # items and embeddings went: every index must be rebuilt
    return CheckResult(name, FIXED, f"deleted {what}")


def _check_files_without_items(store: Store, repair: bool) -> CheckResult:
    name = "indexed files without items"
    paths = store.checks.indexed_without_items()
    if not paths:
        return CheckResult(name, OK)
    what = f"{len(paths)} file(s) marked indexed without an item ({_examples(paths)})"
    if not repair:
        return CheckResult(name, PROBLEM, f"{what}; would forget them (the next index adds them)")
    store.files.remove_paths(paths)
    return CheckResult(name, FIXED, f"forgot {what}; the next index run adds them again")


def _check_files_outside_roots(store: Store, repair: bool) -> CheckResult:
    name = "files outside the indexed folders"
    roots = store.files.roots()
    paths = store.checks.files_outside(roots)
    if not paths:
        return CheckResult(name, OK)
    what = f"{len(paths)} file(s) outside every indexed folder ({_examples(paths)})"
    if not roots:
        # No folder recorded at all: more likely a lost roots table than files to forget.
        hint = "no folder is recorded: run 'desktop-search index FOLDER' for their folders"
        return CheckResult(name, PROBLEM, f"{what}, and {hint}")
    if not repair:
        return CheckResult(name, PROBLEM, f"{what}; would forget them")
    store.files.remove_paths(paths)
    return CheckResult(name, FIXED, f"forgot {what}")


def _check_queue_outside_roots(store: Store, repair: bool) -> CheckResult:
    name = "queue entries outside the indexed folders"
    paths = store.checks.queued_outside(store.files.roots())
    if not paths:
        return CheckResult(name, OK)
    what = f"{len(paths)} queued path(s) outside every indexed folder ({_examples(paths)})"
    if not repair:
        return CheckResult(name, PROBLEM, f"{what}; would drop them")
    store.queue.discard(paths)
    return CheckResult(name, FIXED, f"dropped {what}")


# -- 3. vector indices ------------------------------------------------------------------------


def _check_vector_indices(library: Library, repair: bool) -> list[CheckResult]:
    # Dimension from the stored blobs: no need to load the model.
    models = library.store.embeddings.dimensions()
    return [_check_vector_index(library, model, dim, repair) for model, dim in models.items()]


def _check_vector_index(library: Library, model: str, dim: int, repair: bool) -> CheckResult:
    name, store = f"vector index {model}", library.store
    path = library.paths.vectors / f"{model}.index"
    why, behind = _index_mismatch(library, model, path, dim)
    if why is None and behind:
        detail = (
            f"saved before the last {behind} change(s) of the database, as while an index run "
            "works or after one was stopped; searches catch it up by themselves"
        )
        return CheckResult(name, NORMAL, detail)
    if why is None:
        return CheckResult(name, OK)
    if not repair:
        return CheckResult(name, PROBLEM, f"{why}; would rebuild it from the database")
    generation = store.generation(model)  # repairs hold the writer lock: nothing changes
    stored_ids, vectors = store.embeddings.of_model(model)
    index = VectorIndex.build(dim, stored_ids, vectors.reshape(len(stored_ids), dim))
    index.save(path, generation=generation)
    store.vector_log.trim(model, generation)
    return CheckResult(name, FIXED, f"rebuilt from the database ({why})")


def _index_mismatch(library: Library, model: str, path: Path, dim: int) -> tuple[str | None, int]:
    """(why the saved index of ``model`` is not the one its embeddings make (None: it is), how
    many changes it was behind).

    A file saved before the latest changes is fine when the change log brings it up to date,
    as every reader does: the live index saves only now and then, and a killed run never saved
    its last batches (a running app or ``watch`` would otherwise make every check in between
    report a stale index).
    """
    store, behind = library.store, 0
    try:
        index = VectorIndex.load(path, dim=dim, generation=None)
        for _ in range(3):  # compared at one generation, though an indexer may commit meanwhile
            if index.generation != store.generation(model):
                changed = store.vector_log.changed_since(model, index.generation)
                behind += len(changed or [])
                catch_up(store, index, model)
            ids = store.embeddings.item_ids(model)
            if store.generation(model) == index.generation:
                break
    except IndexFileError as error:
        return error.message.removeprefix(f"vector index {path} "), behind
    held = index.ids()
    if len(held) != len(ids):
        return f"held {len(held)} vectors, database {len(ids)}", behind
    if not np.array_equal(held, ids):
        return f"held {int(np.isin(held, ids, invert=True).sum())} ids not in the database", behind
    sample = np.unique(ids[np.linspace(0, len(ids) - 1, min(VECTOR_SAMPLE, len(ids)), dtype=int)])
    wrong = sum(not _holds_vector(index, store, model, int(item)) for item in sample)
    if wrong:
        return f"{wrong} of {len(sample)} sampled vectors differ from the database", behind
    return None, behind


def _holds_vector(index: VectorIndex, store: Store, model: str, item_id: int) -> bool:
    vector = store.embeddings.vector_of(item_id, model)
    hits = index.search(vector, 1, allowed_ids=[item_id])
    return bool(hits) and hits[0][1] >= MIN_COSINE


# -- 4. thumbnails ----------------------------------------------------------------------------


def _check_keyword_index(store: Store, repair: bool) -> CheckResult:
    name = "keyword index"
    wrong, detail = keyword_index_problems(store, repair)
    if wrong:
        return CheckResult(name, FIXED if repair else PROBLEM, detail)
    if not store.flagged(DROPPED_TEXT):
        return CheckResult(name, OK)
    if repair:
        store.texts.purge_deleted_text()
        return CheckResult(name, FIXED, "rewritten without the words of forgotten files")
    detail = (
        "still holds words of forgotten files in its pages (as until the next clean-up); the "
        "next index run, or the app at a quiet moment, rewrites it without them "
        "('desktop-search doctor' does it now)"
    )
    return CheckResult(name, NORMAL, detail)


def _check_thumbnails(library: Library, repair: bool) -> CheckResult:
    name, store = "thumbnails", library.store
    missing = [
        (row.path, row.root)
        for row in store.files.with_thumbnails()
        if not library.thumbnails.path(row.thumbnail).is_file()
    ]
    queued = set(store.queue.paths())
    waiting = [(p, root) for p, root in missing if p not in queued]
    if not waiting:
        detail = f"{len(missing)} missing, queued for the next index run" if missing else ""
        return CheckResult(name, OK, detail)
    what = f"{len(waiting)} file(s) have no thumbnail file ({_examples(p for p, _ in waiting)})"
    if not repair:
        return CheckResult(name, PROBLEM, f"{what}; would queue them to be indexed again")
    store.queue.add(waiting, fresh=True)
    return CheckResult(name, FIXED, f"{what}: queued for the next index run")


def _check_unused_thumbnails(library: Library, repair: bool) -> CheckResult:
    """Thumbnails no file row names: left by files forgotten before the clean-up after them ran
    (a crash in between, or an older version, which never deleted any), or written for a file
    an index run was still working on. The next index run deletes them."""
    name, thumbnails = "unused thumbnails", library.thumbnails
    unused = thumbnails.unused(library.store.files.thumbnails_in_use())
    if not unused:
        return CheckResult(name, OK)
    what = f"{len(unused)} thumbnail(s) no file in the library uses"
    if repair:
        thumbnails.delete(unused)
        library.store.clear_flag(DROPPED_THUMBNAILS)
        return CheckResult(name, FIXED, f"deleted {what}")
    detail = (
        f"{what} (of files forgotten since the last clean-up, or made for files an index run "
        "is reading or was reading when it stopped); the next index run, or the app at a quiet "
        "moment, deletes those still unused ('desktop-search doctor' now)"
    )
    return CheckResult(name, NORMAL, detail)


# -- 5. temporary files -----------------------------------------------------------------------


def _check_temporaries(paths: Paths, repair: bool) -> CheckResult:
    name = "temporary files"
    leftovers = _leftover_temporaries(paths, time.time())
    if not leftovers:
        return CheckResult(name, OK)
    names = _examples(str(leftover.relative_to(paths.home)) for leftover in leftovers)
    what = f"{len(leftovers)} left by interrupted saves ({names})"
    if not repair:
        detail = f"{what}: harmless, nothing reads them; 'desktop-search doctor' deletes them"
        return CheckResult(name, NORMAL, detail)
    for leftover in leftovers:
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
    return CheckResult(name, FIXED, f"deleted {what}")


def _leftover_temporaries(paths: Paths, now: float) -> list[Path]:
    """Temp files of atomic saves (named as in vector_files.py, thumbnails.py, the model
    installers, the database rebuild above and Settings.save) that no running save can own any
    more."""
    found = [
        *paths.vectors.glob("*.tmp"),
        *paths.thumbnails.glob("*/.*.tmp"),
        *paths.home.glob(f"{paths.database.name}.*.tmp"),
        *paths.home.glob(f".{paths.config.name}.*.tmp"),
    ]
    found += [
        work
        for work in paths.models.glob(".*.tmp-*")
        if now - _newest_mtime(work) > MODEL_WORK_MIN_AGE
    ]
    return sorted(found)


def _newest_mtime(folder: Path) -> float:
    """The latest change anywhere in ``folder`` (a running install keeps writing into it)."""
    try:
        return max(
            os.stat(os.path.join(parent, name)).st_mtime
            for parent, _, files in os.walk(folder)
            for name in (".", *files)
        )
    except (OSError, ValueError):
        return time.time()  # vanished or unreadable meanwhile: treat it as in use


# -- 6. an index run stopped in the middle ----------------------------------------------------


def _check_interrupted_runs(store: Store) -> CheckResult:
    """Files claimed by an attempt that never ended: the run was killed (or the computer went
    down) while it read them. The next run reads them again, each alone (``store/queue.py``)."""
    name = "interrupted runs"
    suspects = [entry.path for entry in store.queue.suspects()]
    if not suspects:
        return CheckResult(name, OK)
    if Heartbeat(store).read() is not None:
        return CheckResult(name, OK, f"an index run is reading {len(suspects)} file(s) now")
    detail = (
        f"{len(suspects)} file(s) were being read when an index run stopped without finishing "
        f"({_examples(suspects)}): the next run reads each of them again, alone (one that "
        f"stops it {MAX_CLAIMS} times is set aside with a reason)"
    )
    return CheckResult(name, NORMAL, detail)


# -- 7. who may read the library --------------------------------------------------------------


def _check_private_files(paths: Paths, repair: bool) -> CheckResult:
    """Files and folders in the home that others may read (made by an older version, or copied
    in). The home itself is not looked at: it may be a folder the app did not create."""
    name = "private files"
    open_to_others = []
    for parent, folders, files in os.walk(paths.home):
        for entry in [*folders, *files]:
            path = Path(parent, entry)
            try:
                mode = path.lstat().st_mode
            except OSError:
                continue  # gone meanwhile
            if not stat.S_ISLNK(mode) and not private.is_private(mode):
                open_to_others.append(path)
    if not open_to_others:
        return CheckResult(name, OK)
    names = _examples(str(path.relative_to(paths.home)) for path in open_to_others)
    what = f"{len(open_to_others)} file(s) and folder(s) others may read ({names})"
    if not repair:
        return CheckResult(name, PROBLEM, f"{what}; would make them private (0600, folders 0700)")
    for path in open_to_others:
        private.restrict(path)
    return CheckResult(name, FIXED, f"made {what} private")


# -- 8. files gone from disk ------------------------------------------------------------------


def _check_files_on_disk(store: Store) -> CheckResult:
    """Report only: the next index run forgets them (and finds them again if they come back)."""
    name = "files on disk"
    # The real paths (a name that is not UTF-8 with its own bytes), not the database's spelling.
    gone = [path for path in store.files.paths() if _gone(path)]
    if not gone:
        return CheckResult(name, OK)
    detail = f"{len(gone)} file(s) in the library no longer exist ({_examples(gone)})"
    return CheckResult(name, PROBLEM, f"{detail}: run 'desktop-search index' to forget them")


def _gone(path: str) -> bool:
    """Is ``path`` no longer there, as the next index run will find? A file in a folder that can
    be listed but not entered cannot even be looked at: it is there (status lists it as failed,
    and index keeps it), where ``os.path.exists`` would say it is not."""
    try:
        os.stat(path)
    except OSError as error:
        # Gone, a link pointing nowhere or in a loop: the scan skips them and index forgets them.
        return error.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP)
    return False


# -- helpers ----------------------------------------------------------------------------------


def _examples(paths: Iterable[str]) -> str:
    paths = [readable_path(path) for path in paths]
    shown = ", ".join(paths[:_EXAMPLES])
    return shown + (f", ... {len(paths) - _EXAMPLES} more" if len(paths) > _EXAMPLES else "")
