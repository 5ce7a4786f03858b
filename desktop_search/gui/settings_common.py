"""What the settings tabs share: error styling, short error and size texts, the task runner."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer

from desktop_search.gui.workers import Worker, WorkerPool

ERROR_STYLE = "color: #b91c1c;"
ID_ROLE = Qt.ItemDataRole.UserRole


def one_line(error: BaseException | str) -> str:
    """The first line of an error (DesktopSearchError's str is one line already), kept short."""
    text = str(error).strip()
    if not text and isinstance(error, BaseException):
        text = type(error).__name__
    line = text.splitlines()[0] if text else "unknown error"
    return line if len(line) <= 240 else line[:239] + "…"


def human_size(size: int | None) -> str:
    if size is None:
        return "?"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


class TaskRunner:
    """Runs the settings tabs' jobs on the pool; one per dialog, so ``busy`` covers every tab."""

    def __init__(self, pool: WorkerPool) -> None:
        self.pool = pool
        self._workers: set[Worker] = set()

    @property
    def busy(self) -> bool:
        return bool(self._workers)

    def run(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> Worker:
        started: list[Worker] = []
        workers = self._workers
        worker = self.pool.start(
            fn, *args, on_result=on_result, on_error=on_error, on_progress=on_progress,
            # Queued to this (GUI) thread, so it runs after `started` is filled; the reference is
            # dropped after the finished signal returned (never inside its emission).
            on_finished=lambda: QTimer.singleShot(0, lambda: workers.discard(started[0])),
        )  # fmt: skip
        started.append(worker)
        workers.add(worker)
        return worker
