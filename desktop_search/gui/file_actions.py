"""Opening a file (at a page or line where a viewer can) and showing it in the file manager.

Module-level functions so front ends and tests can replace them; none of them blocks the GUI
thread for long (programs are started detached, the D-Bus call is asynchronous; the default
application per file type is asked ``xdg-mime`` once, ~50 ms).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication

from desktop_search.platform.open_at import default_app, mime_type, open_command
from desktop_search.store.pathnames import is_utf8

log = logging.getLogger(__name__)


def file_url(path: str | Path) -> QUrl:
    """The file: URL of ``path``. A name that is not valid UTF-8 keeps its own bytes,
    percent-encoded (Qt's fromLocalFile would drop them and name another file)."""
    text = os.fspath(path)
    if is_utf8(text):
        return QUrl.fromLocalFile(text)
    return QUrl.fromEncoded(Path(os.path.abspath(text)).as_uri().encode("ascii"))


def open_path(path: Path) -> None:
    """Open a file with the desktop's default application."""
    QDesktopServices.openUrl(file_url(path))


def open_at_place(path: Path, locator: dict | None) -> bool:
    """Open ``path`` at the page or line of ``locator`` with a viewer that can (see open_at.py).

    False when no installed viewer can (or the platform has none): open it plainly then.
    """
    command = open_command(path, locator, default_app=default_app(mime_type(path)))
    if command is None:
        return False
    try:
        subprocess.Popen(  # noqa: S603 - a fixed program and a file path, no shell
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    except OSError as error:
        log.info("could not start %s (%s); opening with the default application", command, error)
        return False
    return True


def reveal_in_folder(path: Path) -> None:
    """Show a file selected in the system file manager (its folder, where that is not possible)."""
    path = Path(path)
    if sys.platform == "darwin":
        subprocess.Popen(["open", "-R", str(path)])  # noqa: S603,S607 - fixed program, no shell
    elif sys.platform == "win32":
        # explorer wants the quotes around the path itself, after the comma.
        subprocess.Popen(f'explorer /select,"{path}"')  # noqa: S603
    elif not _show_items_over_dbus(path):
        open_path(path.parent)


def _show_items_over_dbus(path: Path) -> bool:
    """org.freedesktop.FileManager1.ShowItems, sent asynchronously; folder fallback on error.

    Returns False when the call could not even be sent (no QtDBus, no session bus)."""
    try:
        from PySide6.QtDBus import QDBusConnection, QDBusMessage, QDBusPendingCallWatcher
    except ImportError:
        return False
    bus = QDBusConnection.sessionBus()
    if not bus.isConnected():
        return False
    message = QDBusMessage.createMethodCall(
        "org.freedesktop.FileManager1",
        "/org/freedesktop/FileManager1",
        "org.freedesktop.FileManager1",
        "ShowItems",
    )
    uri = bytes(file_url(path).toEncoded().data()).decode("ascii")
    message.setArguments([[uri], ""])
    pending = bus.asyncCall(message, 5000)
    watcher = QDBusPendingCallWatcher(pending)
    app = QGuiApplication.instance()
    if app is not None:
        watcher.setParent(app)  # kept alive until the reply (or the timeout) arrives

    def done(w: QDBusPendingCallWatcher) -> None:
        if w.isError():
            log.info("FileManager1.ShowItems failed (%s); opening the folder", w.error().message())
            open_path(path.parent)
        w.deleteLater()

    watcher.finished.connect(done)
    return True
