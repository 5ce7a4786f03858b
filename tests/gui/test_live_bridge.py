"""LiveBridge with stand-in live indexes: modes, the GUI thread, taking over from a reader."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

from desktop_search.app.live import LiveStatus
from desktop_search.app.status import IndexerHeartbeat
from desktop_search.errors import WriterLockedError
from desktop_search.gui.live_bridge import LiveBridge
from desktop_search.gui.live_text import FAILED, LIVE, READER, STARTING, STOPPED


class FakeLive:
    """Starts (or raises ``error``) and reports statuses from a thread of its own."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.listeners = []
        self.stopped = False
        self.requests: list = []
        self.control = type("Control", (), {"paused": False})()

    def subscribe(self, listener) -> None:
        self.listeners.append(listener)

    def start(self) -> None:
        if self.error is not None:
            raise self.error

    def stop(self, timeout: float = 30.0) -> None:
        self.stopped = True

    def rescan(self, folders=None) -> None:
        self.requests.append(("rescan", folders))

    def forget(self, root: str) -> None:
        self.requests.append(("forget", root))

    def report_from_a_thread(self, status: LiveStatus) -> None:
        thread = threading.Thread(target=lambda: [f(status) for f in self.listeners])
        thread.start()
        thread.join()


@pytest.fixture
def made():
    return []


def bridge_with(pool, made, *errors):
    errors = list(errors)

    def factory(_library):
        live = FakeLive(errors.pop(0) if errors else None)
        made.append(live)
        return live

    return LiveBridge(None, pool, live_factory=factory)


def test_statuses_from_the_worker_thread_arrive_on_the_gui_thread(qtbot, pool, made):
    bridge = bridge_with(pool, made)
    modes = []
    bridge.mode_changed.connect(modes.append)
    bridge.start()
    qtbot.waitUntil(lambda: bridge.mode == LIVE)
    assert modes == [STARTING, LIVE] and bridge.running
    threads = []
    bridge.status_changed.connect(lambda status: threads.append(QThread.currentThread()))
    with qtbot.waitSignal(bridge.status_changed) as got:
        made[0].report_from_a_thread(LiveStatus(state="indexing", done=1, total=2))
    assert got.args[0].done == 1 and bridge.status.state == "indexing"
    assert threads == [QApplication.instance().thread()]
    assert bridge.rescan([]) and bridge.forget("/photos")
    assert made[0].requests == [("rescan", None), ("forget", "/photos")]
    bridge.stop()
    assert made[0].stopped and bridge.mode == STOPPED and not bridge.running
    assert not bridge.rescan([])  # nothing runs any more


def test_a_start_that_fails_is_undone_and_said(qtbot, pool, made):
    bridge = bridge_with(pool, made, RuntimeError("no inotify here"))
    bridge.start()
    qtbot.waitUntil(lambda: bridge.mode == FAILED)
    assert bridge.error == "no inotify here" and made[0].stopped  # stop() ends its threads
    assert not bridge.running and not bridge.pause()
    bridge.stop()


def test_a_reader_takes_over_quietly_once_the_other_process_is_gone(qtbot, pool, made):
    locked = WriterLockedError("another desktop-search process is indexing the library")
    bridge = bridge_with(pool, made, locked, locked)
    modes = []
    bridge.mode_changed.connect(modes.append)
    bridge.start()
    qtbot.waitUntil(lambda: bridge.mode == READER)
    bridge.take_over_if_free(IndexerHeartbeat(1, "indexing"))  # still there: nothing tried
    assert len(made) == 1
    bridge.take_over_if_free(None)  # no heartbeat, but the lock is still held
    qtbot.waitUntil(lambda: made[1].stopped)
    qtbot.wait(50)
    assert bridge.mode == READER and modes == [STARTING, READER]  # no flicker
    bridge.take_over_if_free(None)
    qtbot.waitUntil(lambda: bridge.mode == LIVE)
    assert modes == [STARTING, READER, LIVE] and len(made) == 3
    bridge.stop()
    assert made[2].stopped
