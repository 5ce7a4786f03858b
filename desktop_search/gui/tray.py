"""The system-tray icon: the live index keeps the library current while the window is hidden.

``TrayState`` is plain Python: it keeps the window's latest ``Activity`` (idle / indexing / paused,
the same line the window's bar shows) and a problem to report, and decides the tooltip, the icon
and the pause action's label. ``TrayController`` wires it to Qt: it owns a ``QSystemTrayIcon`` only
when the platform has a tray (offscreen and some desktops have none; the app then simply runs
without one), but its actions and slots work either way, so the logic is testable without a tray.
Its icons are the PNGs of resources/icons/tray/, one per state (gui/icons.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon, QWidget

from desktop_search.gui import icons
from desktop_search.gui.live_text import IDLE, PROBLEM, Activity
from desktop_search.gui.plain_text import plain_tip

log = logging.getLogger(__name__)

APP_NAME = "desktop-search"


class Pausable(Protocol):
    """What the tray steers: the app's live index (``LiveBridge``)."""

    @property
    def running(self) -> bool: ...

    @property
    def paused(self) -> bool: ...

    def pause(self) -> bool: ...

    def resume(self) -> bool: ...


class TrayState:
    """What the tray shows. Plain Python: the controller's slots feed it."""

    def __init__(self) -> None:
        self.activity = Activity()
        self.message = ""  # a problem, shown until the next spell of work

    def show(self, activity: Activity) -> None:
        if activity.busy and not self.activity.busy:
            self.message = ""  # work starts again: the last problem was told
        self.activity = activity

    def problem(self, message: str) -> None:
        self.message = _one_line(message)

    def clear_problem(self) -> None:
        self.message = ""

    @property
    def mode(self) -> str:
        return PROBLEM if self.message else self.activity.mode

    @property
    def icon_name(self) -> str:
        return self.mode

    @property
    def tooltip(self) -> str:
        line = self.activity.line or "idle"
        if self.message:
            return f"{APP_NAME} — problem: {self.message}\n{line}"
        return f"{APP_NAME} — {line}"

    @property
    def pause_label(self) -> str:
        return "Resume indexing" if self.activity.paused else "Pause indexing"


def _one_line(message: object) -> str:
    text = str(message).strip()
    line = text.splitlines()[0] if text else "unknown problem"
    return line if len(line) <= 200 else line[:199] + "…"


# -- the controller -------------------------------------------------------------------------


class TrayController(QObject):
    """Tray icon, menu (Open, Pause/Resume, Quit) and the activity they show.

    ``live`` is the app's live index (``LiveBridge``): Pause/Resume steer it. Connect the
    window's ``activity_changed`` and ``problem`` to ``show_activity`` and ``problem``.
    ``quit_app`` (default ``QApplication.quit``) is injectable for tests.
    """

    pause_toggled = Signal(bool)  # the user paused (True) or resumed (False) from the tray
    quit_requested = Signal()  # emitted before the app quits: the window shuts down then

    def __init__(
        self,
        window: QWidget,
        live: Pausable,
        parent: QObject | None = None,
        *,
        quit_app: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(parent if parent is not None else window)
        self.window = window
        self.live = live
        self._quit_app = quit_app or QApplication.quit
        self.state = TrayState()
        self.quitting = False
        self._icons: dict[str, QIcon] = {}

        self.menu = QMenu(window)
        self.open_action = QAction("Open desktop-search", self)
        self.pause_action = QAction(self.state.pause_label, self)
        self.quit_action = QAction("Quit", self)
        self.open_action.triggered.connect(self.open_window)
        self.pause_action.triggered.connect(self.toggle_pause)
        self.quit_action.triggered.connect(self.quit)
        self.menu.addAction(self.open_action)
        self.menu.addAction(self.pause_action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)

        self.tray_icon: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray_icon = QSystemTrayIcon(self.icon(IDLE), self)
            self.tray_icon.setContextMenu(self.menu)
            self.tray_icon.activated.connect(self._activated)
            self.tray_icon.show()
        else:
            log.info("no system tray available: running without a tray icon")
        self._refresh()

    # -- queries --------------------------------------------------------------------------

    @property
    def available(self) -> bool:
        return self.tray_icon is not None

    def should_hide_on_close(self, settings: Any) -> bool:
        """Whether the window's closeEvent should hide it instead of quitting."""
        return (
            bool(getattr(settings, "keep_in_tray", False)) and self.available and not self.quitting
        )

    def tooltip(self) -> str:
        return self.state.tooltip

    def icon(self, name: str | None = None) -> QIcon:
        name = name or self.state.icon_name
        if name not in self._icons:
            self._icons[name] = icons.tray_icon(name)
        return self._icons[name]

    # -- slots the window connects ----------------------------------------------------------

    @Slot(object)
    def show_activity(self, activity: Activity) -> None:
        self.state.show(activity)
        self._refresh()

    @Slot(str)
    def problem(self, message: str) -> None:
        self.state.problem(message)
        self._refresh()
        if self.tray_icon is not None and self.tray_icon.supportsMessages():
            self.tray_icon.showMessage(
                APP_NAME, self.state.message, QSystemTrayIcon.MessageIcon.Warning
            )

    @Slot()
    def clear_problem(self) -> None:
        self.state.clear_problem()
        self._refresh()

    def notify(self, message: str) -> None:
        """A tray balloon (e.g. "still running in the tray"); nothing without a tray."""
        if self.tray_icon is not None and self.tray_icon.supportsMessages():
            self.tray_icon.showMessage(APP_NAME, message, self.icon(), 5000)

    # -- actions ----------------------------------------------------------------------------

    @Slot()
    def open_window(self) -> None:
        window = self.window
        if window.isMinimized():
            window.showNormal()
        else:
            window.show()
        window.raise_()
        window.activateWindow()

    @Slot()
    def toggle_pause(self) -> None:
        live = self.live
        if not live.running:
            self._refresh()
            return
        if live.paused:
            live.resume()
        else:
            live.pause()
        self._refresh()
        self.pause_toggled.emit(live.paused)

    @Slot()
    def quit(self) -> None:
        """Quit the app: ``quit_requested`` first (the window stops the live index)."""
        self.quitting = True
        self.quit_requested.emit()
        if self.tray_icon is not None:
            self.tray_icon.hide()
        self._quit_app()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.open_window()

    def _refresh(self) -> None:
        # The live index is the truth about pausing (the window's button pauses it too).
        running = self.live.running
        paused = running and self.live.paused
        self.pause_action.setText("Resume indexing" if paused else "Pause indexing")
        self.pause_action.setEnabled(running)
        if self.tray_icon is not None:
            self.tray_icon.setIcon(self.icon())
            self.tray_icon.setToolTip(plain_tip(self.state.tooltip))  # folder names, errors
