"""WorkerPool.start_latest: only the newest request under a key reports, on the GUI thread."""

from __future__ import annotations

import threading
import weakref

import pytest
import shiboken6

from desktop_search.gui.workers import WorkerPool

TIMEOUT = 10_000


def gated(gate: threading.Event, value: str) -> str:
    """Wait for ``gate`` (so the test decides when this call ends), then return ``value``."""
    assert gate.wait(TIMEOUT / 1000)
    return value


def gated_failure(gate: threading.Event) -> str:
    assert gate.wait(TIMEOUT / 1000)
    raise OSError("the stale request failed")


def drain(qtbot, pool: WorkerPool) -> None:
    """Every worker ended and every queued signal delivered."""
    assert pool.wait(TIMEOUT)
    qtbot.wait(50)


def test_a_slow_first_request_that_finishes_after_a_fast_second_one_is_dropped(qtbot, pool):
    results, finished, slow_gate = [], [], threading.Event()
    pool.start_latest("preview", gated, slow_gate, "slow", on_result=results.append,
                      on_finished=lambda: finished.append("slow"))  # fmt: skip
    pool.start_latest("preview", str.upper, "fast", on_result=results.append,
                      on_finished=lambda: finished.append("fast"))  # fmt: skip
    qtbot.waitUntil(lambda: results == ["FAST"], timeout=TIMEOUT)
    assert pool.busy("preview") is False  # the slow one still runs, but nobody waits for it
    slow_gate.set()
    drain(qtbot, pool)
    assert results == ["FAST"]
    assert finished == ["fast"]


def test_errors_of_a_stale_request_are_dropped(qtbot, pool):
    results, errors, gate = [], [], threading.Event()
    pool.start_latest("page", gated_failure, gate, on_result=results.append,
                      on_error=errors.append)  # fmt: skip
    pool.start_latest("page", gated, gate, "newest", on_result=results.append,
                      on_error=errors.append)  # fmt: skip
    gate.set()
    qtbot.waitUntil(lambda: results == ["newest"], timeout=TIMEOUT)
    drain(qtbot, pool)
    assert errors == []


def test_the_error_of_the_latest_request_is_reported(qtbot, pool):
    errors = []
    gate = threading.Event()
    gate.set()
    pool.start_latest("page", gated_failure, gate, on_error=errors.append)
    qtbot.waitUntil(lambda: len(errors) == 1, timeout=TIMEOUT)
    assert isinstance(errors[0], OSError) and "stale request failed" in str(errors[0])


def test_different_keys_are_independent(qtbot, pool):
    results, gate = [], threading.Event()
    pool.start_latest(("pane", "image"), gated, gate, "image", on_result=results.append)
    pool.start_latest(("pane", "text"), gated, gate, "text", on_result=results.append)
    assert pool.busy(("pane", "image")) and pool.busy(("pane", "text"))
    gate.set()
    qtbot.waitUntil(lambda: sorted(results) == ["image", "text"], timeout=TIMEOUT)
    assert not pool.busy(("pane", "image")) and not pool.busy(("pane", "text"))


def test_results_arrive_on_the_gui_thread(qtbot, pool):
    threads = []
    pool.start_latest("k", threading.get_ident,
                      on_result=lambda worker_thread: threads.append(
                          (worker_thread, threading.get_ident())))  # fmt: skip
    qtbot.waitUntil(lambda: len(threads) == 1, timeout=TIMEOUT)
    worker_thread, delivered_on = threads[0]
    assert delivered_on == threading.main_thread().ident != worker_thread


def test_a_superseded_request_that_takes_a_cancel_token_is_asked_to_stop(qtbot, pool):
    started, saw_cancel, results = threading.Event(), [], []

    def long_job(cancel: threading.Event) -> str:
        started.set()
        saw_cancel.append(cancel.wait(TIMEOUT / 1000))  # returns early once cancelled
        return "long"

    pool.start_latest("search", long_job, on_result=results.append)
    assert started.wait(TIMEOUT / 1000)
    pool.start_latest("search", str, "short", on_result=results.append)
    qtbot.waitUntil(lambda: results == ["short"], timeout=TIMEOUT)
    drain(qtbot, pool)
    assert saw_cancel == [True] and results == ["short"]


def test_drop_forgets_the_request_and_a_queued_one_never_runs(qtbot):
    pool = WorkerPool(max_threads=1)
    ran, results, gate = [], [], threading.Event()
    try:
        pool.start_latest("blocker", gated, gate, "blocker")  # holds the only thread
        pool.start_latest("thumb", ran.append, "queued", on_result=results.append)
        assert pool.busy("thumb")
        pool.drop("thumb")
        assert not pool.busy("thumb")
        gate.set()
        drain(qtbot, pool)
        assert ran == [] and results == []
    finally:
        gate.set()
        assert pool.wait(TIMEOUT)


def test_serial_requests_run_one_at_a_time_and_only_the_newest_waiting_one_runs(qtbot, pool):
    gate, ran, results, finished = threading.Event(), [], [], []

    def job(name: str) -> str:
        ran.append(name)
        if name == "first":
            assert gate.wait(TIMEOUT / 1000)
        return name

    def start(name: str) -> None:
        pool.start_latest("reader", job, name, serial=True, on_result=results.append,
                          on_finished=lambda: finished.append(name))  # fmt: skip

    start("first")
    qtbot.waitUntil(lambda: ran == ["first"], timeout=TIMEOUT)
    start("second")
    start("third")
    qtbot.wait(100)
    assert ran == ["first"]  # the others wait for it: the reader serves one call at a time
    assert pool.busy("reader")
    gate.set()
    qtbot.waitUntil(lambda: results == ["third"], timeout=TIMEOUT)
    drain(qtbot, pool)
    assert ran == ["first", "third"]  # "second" was replaced while it waited
    assert finished == ["third"] and not pool.busy("reader")


@pytest.mark.parametrize("serial", [False, True])
def test_a_key_is_reusable_after_its_requests_ended(qtbot, pool, serial):
    results = []
    for value in ("one", "two"):
        pool.start_latest("k", str.title, value, serial=serial, on_result=results.append)
        qtbot.waitUntil(lambda value=value: results[-1:] == [value.title()], timeout=TIMEOUT)
    drain(qtbot, pool)
    assert results == ["One", "Two"]


def test_a_request_is_let_go_after_its_last_slot_not_inside_it(qtbot, pool):
    """A request that dies inside its own ``finished`` slot (its last reference gone with the
    slot's bound method) runs ~QObject in the middle of its own metacall, where PySide looks up
    Python overrides on a half-destroyed wrapper: the GUI tests segfaulted there now and then.
    The pool keeps it until the next turn of the event loop, then lets it go."""
    seen: dict[str, object] = {}

    def finished() -> None:  # runs inside the request's own `finished` slot
        seen["held"] = any(ending is seen["request"]() for ending in pool._ending)

    pool.start_latest("k", str.upper, "x", on_finished=finished)
    seen["request"] = request = weakref.ref(pool._lanes["k"].latest)  # delivered after this
    qtbot.waitUntil(lambda: "held" in seen, timeout=TIMEOUT)
    assert seen["held"] is True
    drain(qtbot, pool)
    assert request() is None and not pool._ending  # released, not leaked


def test_requests_keyed_by_a_deleted_qobject_report_nothing(qtbot, pool):
    from PySide6.QtCore import QObject

    owner, results, gate = QObject(), [], threading.Event()
    pool.start_latest((owner, "thumbnail"), gated, gate, "late", on_result=results.append)
    shiboken6.delete(owner)  # e.g. the window closed while its thumbnail was decoded
    gate.set()
    drain(qtbot, pool)
    assert results == []


def test_a_cancel_the_caller_gives_is_kept_and_plain_start_injects_none(qtbot, pool):
    mine, results = threading.Event(), []

    def job(value: str, cancel: threading.Event | None = None) -> tuple:
        return value, cancel

    pool.start_latest("k", job, "given", mine, on_result=results.append)
    qtbot.waitUntil(lambda: len(results) == 1, timeout=TIMEOUT)
    worker = pool.start(job, "plain", on_result=results.append)
    qtbot.waitUntil(lambda: len(results) == 2, timeout=TIMEOUT)
    assert results == [("given", mine), ("plain", None)] and worker.fn is job
