"""The status bar's indexing row: progress text, progress bar, Pause/Resume and Cancel.

The main window owns the indexing run (its ``IndexControl``) and drives this widget; the bar
only shows what it is told and forwards the button clicks.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from desktop_search.errors import IndexCancelled


def progress_text(done: int, total: int, paused: bool) -> str:
    text = f"Indexing {done:,} of {total:,}"
    return f"{text} (paused)" if paused else text


def report_outcome(report) -> tuple[str, str | None]:  # noqa: ANN001 - IndexReport
    """(status line summary, problem to report or None) of a finished run."""
    summary = (
        f"Indexed: {report.new} new, {report.changed} changed, {report.removed} removed, "
        f"{report.failed} failed ({report.seconds:.1f} s)"
    )
    return summary, f"{report.failed} file(s) could not be indexed" if report.failed else None


def error_outcome(error: Exception) -> tuple[str, str | None]:
    """(status line summary, problem or None) of a run that raised: cancelling is no problem."""
    if isinstance(error, IndexCancelled):
        return "Indexing cancelled; what was indexed so far is kept", None
    return f"Indexing failed: {error}", str(error)


class IndexingBar(QWidget):
    pause_clicked = Signal()
    cancel_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel(self)
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setFixedWidth(180)
        self.progress_bar.setTextVisible(False)
        self.pause_button = QPushButton("Pause", self)
        self.pause_button.clicked.connect(self.pause_clicked)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.clicked.connect(self.cancel_clicked)
        for widget in (self.label, self.progress_bar, self.pause_button, self.cancel_button):
            layout.addWidget(widget)

    def set_running(self, running: bool) -> None:
        """Show the row (buttons enabled, "Pause") for a run, or hide it."""
        self.setVisible(running)
        self.pause_button.setEnabled(running)
        self.cancel_button.setEnabled(running)
        self.pause_button.setText("Pause")

    def show_started(self) -> None:
        # The total is unknown until the scan is done: a busy bar until the first progress.
        self.label.setText("Looking for photos…")
        self.progress_bar.setRange(0, 0)

    def show_progress(self, done: int, total: int) -> None:
        self.progress_bar.setRange(0, max(total, 1))
        self.progress_bar.setValue(done)

    def show_text(self, done: int, total: int, paused: bool) -> None:
        self.label.setText(progress_text(done, total, paused))

    def show_paused(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")

    def show_cancelling(self) -> None:
        # The run stops at its next checkpoint; no more clicks until it has.
        self.label.setText("Cancelling…")
        self.pause_button.setEnabled(False)
        self.cancel_button.setEnabled(False)

    def clear_text(self) -> None:
        self.label.setText("")
