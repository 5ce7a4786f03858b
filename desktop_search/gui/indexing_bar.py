"""The status bar's indexing row: what the live index does, a progress bar, Pause/Resume.

The main window decides what to show (an ``Activity`` from ``live_text.describe``); the bar only
shows it and forwards the button's clicks. There is no Cancel: a live index has no end to reach,
so stopping it for a while is what Pause is for.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QWidget

from desktop_search.gui.live_text import Activity
from desktop_search.gui.plain_text import plain_label, plain_tip

LABEL_WIDTH = 520  # the line is elided beyond this: the search's status line needs room too


class IndexingBar(QWidget):
    pause_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = plain_label(parent=self)  # folder names, errors
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setFixedWidth(180)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.hide()
        self.pause_button = QPushButton("Pause", self)
        self.pause_button.clicked.connect(self.pause_clicked)
        self.pause_button.hide()
        for widget in (self.label, self.progress_bar, self.pause_button):
            layout.addWidget(widget)

    def show_activity(self, activity: Activity) -> None:
        metrics = self.label.fontMetrics()
        line = metrics.elidedText(activity.line, Qt.TextElideMode.ElideRight, LABEL_WIDTH)
        self.label.setText(line)
        tip = "\n".join(t for t in (activity.line, activity.details) if t)
        self.label.setToolTip(plain_tip(tip))
        # Busy but no total yet (starting, looking for changes): a busy bar.
        self.progress_bar.setVisible(activity.busy and not activity.paused)
        if activity.total > 0:
            self.progress_bar.setRange(0, activity.total)
            self.progress_bar.setValue(min(activity.done, activity.total))
        else:
            self.progress_bar.setRange(0, 0)
        self.pause_button.setVisible(activity.pausable)
        self.pause_button.setText("Resume" if activity.paused else "Pause")
