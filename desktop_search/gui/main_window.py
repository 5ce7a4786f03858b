"""The main window: search box, image query, result grid, preview, first run and indexing.

Everything slow runs on the ``WorkerPool``: searches (``SearchController``), thumbnails
(``ThumbnailCache``), status queries and indexing runs. The GUI thread only reads settings.

Hooks for other parts of the app (the tray, the settings dialog):

- signals ``indexing_started(int)``, ``indexing_progress(int, int)``, ``indexing_paused(bool)``,
  ``indexing_finished(object)`` (the ``IndexReport``, or ``None`` when cancelled or failed),
  ``problem(str)`` (a user-facing line: indexing failed, files could not be read) and
  ``status_changed(dict)`` (the latest ``library.status()``).
- ``index_control`` (property): the ``IndexControl`` of the running indexing job, or ``None``.
- ``start_indexing(folders)``, ``pause_indexing()``, ``resume_indexing()``,
  ``cancel_indexing()``, ``refresh_status()``.
- ``close_requested(QCloseEvent)``: emitted first thing in ``closeEvent`` (a direct
  connection). A slot that calls ``event.ignore()`` (e.g. to hide into the tray when
  ``keep_in_tray`` is set) keeps the app running: nothing is cancelled. Otherwise the window
  calls ``shutdown()``: cancel indexing, stop searches and thumbnail loads, wait for the
  workers. ``shutdown()`` is public (the tray's Quit may call it) and runs once.
- ``toolbar`` (``QToolBar``) and ``add_action(action)`` for more actions (e.g. Settings).
- ``open_path``: the callable that opens a file (default: the desktop's handler via
  ``QDesktopServices``); tests replace it to capture what would be opened.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSize, QStandardPaths, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDropEvent,
    QKeyEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSlider,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from desktop_search.core.control import IndexControl
from desktop_search.errors import IndexCancelled
from desktop_search.gui.preview import PreviewPane
from desktop_search.gui.problems import ProblemsView
from desktop_search.gui.query_image import QueryImageBar, image_path_from_mime
from desktop_search.gui.results import DATE, RELEVANCE, THUMB, ResultsModel, ResultsView
from desktop_search.gui.search_controller import Readers, SearchController, SearchOutcome
from desktop_search.gui.thumbnails import ThumbnailCache
from desktop_search.gui.workers import WorkerPool
from desktop_search.library import Library

log = logging.getLogger(__name__)

STATUS_INTERVAL_MS = 2000  # status refresh while indexing

# What the central area shows.
LOADING, FIRST_RUN, IDLE, RESULTS, NO_MATCH, SEARCHING, ERROR = (
    "loading", "first_run", "idle", "results", "no_match", "searching", "error",
)  # fmt: skip

NOTHING_INDEXED = "Nothing indexed yet — add a folder"


def open_with_desktop(path: Path) -> None:
    """Open a file with the desktop's default application."""
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def pictures_folder() -> Path | None:
    location = QStandardPaths.writableLocation(QStandardPaths.PicturesLocation)
    return Path(location) if location else None


def _index_job(library: Library, folders: list[Path], control: IndexControl, progress=None):  # noqa: ANN001
    return library.index(folders, progress=progress, control=control)


def _status_job(readers: Readers) -> dict:
    return readers.get().status()


def _indexed_count(status: dict) -> int:
    return sum(row["count"] for row in status.get("files", []) if row["status"] == "indexed")


class _FirstRunPanel(QFrame):
    """Nothing indexed yet: which folders to index (Pictures by default) and a Start button."""

    start = Signal(list)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("firstRun")
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        box = QFrame(self)
        box.setMaximumWidth(560)
        layout = QVBoxLayout(box)
        layout.setSpacing(12)
        self.heading = QLabel(NOTHING_INDEXED, box)
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.heading.setFont(font)
        layout.addWidget(self.heading)
        self.explain = QLabel(
            "Choose the folders with your photos. They are indexed on this computer; nothing "
            "leaves it. You can search while indexing runs.", box)  # fmt: skip
        self.explain.setWordWrap(True)
        layout.addWidget(self.explain)
        self.model_note = QLabel(box)
        self.model_note.setWordWrap(True)
        self.model_note.hide()
        layout.addWidget(self.model_note)
        self.folders = QListWidget(box)
        self.folders.setMaximumHeight(120)
        layout.addWidget(self.folders)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add folder…", box)
        self.remove_button = QPushButton("Remove", box)
        self.start_button = QPushButton("Start indexing", box)
        self.start_button.setDefault(True)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.start_button)
        layout.addLayout(buttons)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(box, 3)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        self.add_button.clicked.connect(self._choose)
        self.remove_button.clicked.connect(self._remove)
        self.start_button.clicked.connect(lambda: self.start.emit(self.chosen()))
        default = pictures_folder()
        if default is not None and default.is_dir():
            self.add_folder(default)
        self._update()

    def add_folder(self, folder: Path) -> None:
        if str(folder) not in self.chosen_strings():
            self.folders.addItem(str(folder))
        self._update()

    def chosen_strings(self) -> list[str]:
        return [self.folders.item(i).text() for i in range(self.folders.count())]

    def chosen(self) -> list[Path]:
        return [Path(text) for text in self.chosen_strings()]

    def clear_folders(self) -> None:
        self.folders.clear()
        self._update()

    def _choose(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder to index", str(Path.home()))
        if folder:
            self.add_folder(Path(folder))

    def _remove(self) -> None:
        for item in self.folders.selectedItems():
            self.folders.takeItem(self.folders.row(item))
        self._update()

    def _update(self) -> None:
        self.start_button.setEnabled(self.folders.count() > 0)


class MainWindow(QMainWindow):
    indexing_started = Signal(int)
    indexing_progress = Signal(int, int)
    indexing_paused = Signal(bool)
    indexing_finished = Signal(object)
    problem = Signal(str)
    status_changed = Signal(dict)
    close_requested = Signal(object)  # QCloseEvent: ignore() it to keep the app running

    def __init__(
        self,
        library: Library,
        pool: WorkerPool,
        parent: QWidget | None = None,
        *,
        open_path: Callable[[Path], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.library = library
        self.pool = pool
        self.open_path = open_path or open_with_desktop
        self.status: dict | None = None
        self.state = LOADING
        self._error = ""
        self._control: IndexControl | None = None
        self._index_worker = None
        self._index_done = (0, 0)
        self._status_readers = Readers(library)
        self._status_worker = None
        self._status_again = False
        self._problems_view = None
        self._problems_reader: Library | None = None
        self._shut_down = False
        self._paste_dir = tempfile.TemporaryDirectory(prefix="desktop-search-paste-")

        self.thumbnails = ThumbnailCache(pool, THUMB, parent=self)
        self.model = ResultsModel(self.thumbnails, self)
        self.search = SearchController(library, pool, self)
        self.search.results.connect(self._show_outcome)
        self.search.failed.connect(self._search_failed)
        self.search.cleared.connect(self._search_cleared)
        self.search.started.connect(self._update_view)
        self.search.settled.connect(self._update_view)

        self.setWindowTitle("desktop-search")
        self.setAcceptDrops(True)
        self.resize(1200, 800)
        self.setMinimumSize(QSize(760, 520))
        self._build()
        self._make_actions()
        self._status_timer = QTimer(self, interval=STATUS_INTERVAL_MS)
        self._status_timer.timeout.connect(self.refresh_status)
        self._update_view()
        self.refresh_status()
        self.search.warm_up()

    # -- building ------------------------------------------------------------------------

    def _build(self) -> None:
        central = QWidget(self)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(10, 10, 10, 4)
        outer.setSpacing(8)

        top = QHBoxLayout()
        top.setSpacing(10)
        self.search_box = QLineEdit(central)
        self.search_box.setPlaceholderText(
            "Search your photos: type what is in them, or drop an image"
        )
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setAcceptDrops(False)  # a dropped image file is an image query
        self.search_box.setMinimumHeight(32)
        self.search_box.textChanged.connect(self.search.set_text)
        self.search_box.returnPressed.connect(self.search.search_now)
        self.search_box.installEventFilter(self)
        top.addWidget(self.search_box, 1)

        self.query_bar = QueryImageBar(self.pool, Path(self._paste_dir.name), central)
        self.query_bar.changed.connect(self._query_image_changed)
        top.addWidget(self.query_bar)

        self.sort_box = QComboBox(central)
        self.sort_box.addItem("Best match", RELEVANCE)
        self.sort_box.addItem("Newest first", DATE)
        self.sort_box.setToolTip("Order of the results")
        self.sort_box.currentIndexChanged.connect(
            lambda: self.set_sort(self.sort_box.currentData())
        )
        top.addWidget(self.sort_box)

        self.cutoff_label = QLabel(central)
        self.cutoff_label.setMinimumWidth(96)
        self.cutoff_slider = QSlider(Qt.Horizontal, central)
        self.cutoff_slider.setRange(0, 100)
        self.cutoff_slider.setFixedWidth(140)
        self.cutoff_slider.setToolTip("Hide weak matches: results scoring below this are hidden")
        self.cutoff_slider.valueChanged.connect(self._cutoff_changed)
        top.addWidget(self.cutoff_label)
        top.addWidget(self.cutoff_slider)
        outer.addLayout(top)

        self.splitter = QSplitter(Qt.Horizontal, central)
        self.stack = QStackedWidget(self.splitter)
        self.view = ResultsView(self.stack)
        self.view.setModel(self.model)
        self.view.installEventFilter(self)
        self.view.doubleClicked.connect(lambda _index: self.open_selected())
        self.view.selectionModel().currentChanged.connect(self._selection_changed)
        self.model.modelReset.connect(lambda: self.preview.show_hit(None))
        self.message = QLabel(self.stack)
        self.message.setAlignment(Qt.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setMargin(40)
        font = self.message.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.message.setFont(font)
        self.first_run = _FirstRunPanel(self.stack)
        self.first_run.start.connect(self.start_indexing)
        if self.library.active_model_name is None:
            self.first_run.model_note.setText(
                "No CLIP model is installed yet: photos are catalogued and found by name until "
                "one is (see Settings → Models, or 'desktop-search models list')."
            )
            self.first_run.model_note.show()
        for page in (self.view, self.message, self.first_run):
            self.stack.addWidget(page)
        self.preview = PreviewPane(self.pool, self.splitter, open_file=lambda p: self.open_path(p))
        self.preview.find_similar.connect(self.set_query_image)
        self.preview.setMinimumWidth(340)
        self.splitter.addWidget(self.stack)
        self.splitter.addWidget(self.preview)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([820, 380])
        outer.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        bar = self.statusBar()
        self.status_label = QLabel(bar)
        bar.addWidget(self.status_label, 1)
        self.progress_label = QLabel(bar)
        self.progress_bar = QProgressBar(bar)
        self.progress_bar.setFixedWidth(180)
        self.progress_bar.setTextVisible(False)
        self.pause_button = QPushButton("Pause", bar)
        self.pause_button.clicked.connect(self._toggle_pause)
        self.cancel_button = QPushButton("Cancel", bar)
        self.cancel_button.clicked.connect(self.cancel_indexing)
        self.count_label = QLabel(bar)
        self.problems_button = QPushButton("Problems", bar)
        self.problems_button.setFlat(True)
        self.problems_button.clicked.connect(self.show_problems)
        for widget in (self.progress_label, self.progress_bar, self.pause_button,
                       self.cancel_button, self.count_label, self.problems_button):  # fmt: skip
            bar.addPermanentWidget(widget)
        self._show_indexing(False)
        self._cutoff_changed(self.cutoff_slider.value())

    def _make_actions(self) -> None:
        self.toolbar = QToolBar("Main", self)
        self.toolbar.setMovable(False)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonTextOnly)
        self.addToolBar(Qt.TopToolBarArea, self.toolbar)

        def action(text: str, slot, shortcut=None, in_toolbar=False) -> QAction:  # noqa: ANN001
            act = QAction(text, self)
            if shortcut is not None:
                act.setShortcut(QKeySequence(shortcut))
            act.triggered.connect(slot)
            self.addAction(act)
            if in_toolbar:
                self.toolbar.addAction(act)
            return act

        self.add_folder_action = action("Add folder…", self.choose_folder_to_index, in_toolbar=True)
        self.update_action = action("Update index", lambda: self.start_indexing([]),
                                    in_toolbar=True)  # fmt: skip
        self.problems_action = action("Problems…", self.show_problems, in_toolbar=True)
        self.find_action = action("Find", self.focus_search, QKeySequence.Find)
        self.paste_action = action("Paste image", self.paste_image, QKeySequence.Paste)
        self.clear_action = action("Clear search", self.clear_query)

    def add_action(self, action: QAction) -> None:
        """Add an action to the toolbar (and the window's shortcuts)."""
        self.addAction(action)
        self.toolbar.addAction(action)

    # -- search --------------------------------------------------------------------------

    def focus_search(self) -> None:
        self.search_box.setFocus(Qt.ShortcutFocusReason)
        self.search_box.selectAll()

    def set_query_text(self, text: str) -> None:
        self.search_box.setText(text)

    def set_query_image(self, path: Path | None) -> None:
        """Use ``path`` as the example image of the query (with the text, if any)."""
        path = Path(path) if path is not None else None
        self.query_bar.set_image(path)
        self.search.set_image(path)

    def _query_image_changed(self, path) -> None:  # noqa: ANN001 - Path | None
        self.search.set_image(Path(path) if path is not None else None)

    def clear_query(self) -> None:
        """Esc: clear the text and the query image."""
        self.search.clear()
        self.query_bar.set_image(None)
        self.search_box.clear()

    def paste_image(self) -> bool:
        """Ctrl+V outside the search box: an image (or image file) on the clipboard."""
        return bool(self.query_bar.paste_from_clipboard())

    def set_sort(self, sort: str) -> None:
        self.model.set_sort(sort)
        index = self.sort_box.findData(sort)
        if index != self.sort_box.currentIndex():
            self.sort_box.setCurrentIndex(index)
        self._update_view()

    def set_cutoff(self, value: float | None) -> None:
        """Set the relevance cut-off (a score 0..1, ``None`` = show all) via the slider."""
        self.cutoff_slider.setValue(0 if value is None else round(value * 100))

    def _cutoff_changed(self, value: int) -> None:
        cutoff = None if value == 0 else value / 100
        self.cutoff_label.setText("Cut-off: off" if cutoff is None else f"Cut-off: {cutoff:.2f}")
        self.model.set_cutoff(cutoff)
        self._update_view()

    def _show_outcome(self, outcome: SearchOutcome) -> None:
        self._error = ""
        self.model.set_hits(outcome.hits, outcome.dates)
        if self.model.rowCount() and self.view.hasFocus():
            self.view.setCurrentIndex(self.model.index(0))
        self._update_view()

    def _search_failed(self, message: str) -> None:
        self._error = message
        self.model.clear()
        self._update_view()

    def _search_cleared(self) -> None:
        self._error = ""
        self.model.clear()
        self._update_view()

    def _selection_changed(self, current, _previous) -> None:  # noqa: ANN001
        if self.preview.isVisible():
            self.preview.show_hit(self.model.hit(current.row()) if current.isValid() else None)

    def selected_path(self) -> Path | None:
        return self.view.selected_path()

    def open_selected(self) -> None:
        path = self.selected_path()
        if path is not None:
            self.open_path(path)

    def toggle_preview(self) -> None:
        visible = not self.preview.isVisible()
        self.preview.setVisible(visible)
        if visible:
            self.preview.show_hit(self.view.selected_hit())

    # -- the central area and the status line --------------------------------------------

    def _update_view(self) -> None:
        if self._shut_down:
            return
        indexed = bool(self.status and self.status.get("roots"))
        rows, total = self.model.rowCount(), self.model.total
        text = self.search.text.strip()
        what = f"“{text}”" if text else ""
        if self.search.image is not None:
            what = f"{what} + {self.search.image.name}" if what else self.search.image.name
        if self.status is None:
            state, message = LOADING, "Opening the library…"
        elif not indexed and self._control is None:
            state, message = FIRST_RUN, NOTHING_INDEXED
        elif self._error:
            state, message = ERROR, self._error
        elif self.search.empty:
            count = _indexed_count(self.status)
            state = IDLE
            if self._control is not None and not count:
                message = "Indexing your photos… you can search as soon as the first ones are in."
            else:
                message = (f"Type to search {count:,} photos, or drop an image here to find "
                           "similar ones.")  # fmt: skip
        elif rows:
            state, message = RESULTS, ""
        elif self.search.busy:
            state, message = SEARCHING, f"Searching for {what}…"
        else:
            state, message = NO_MATCH, f"No match for {what}"
            if total:
                message += f"\n{total} weaker match(es) hidden by the cut-off"
        self.state = state
        if state == FIRST_RUN:
            self.stack.setCurrentWidget(self.first_run)
        elif state == RESULTS:
            self.stack.setCurrentWidget(self.view)
        else:
            self.message.setText(message)
            self.stack.setCurrentWidget(self.message)
        self._update_status_line()

    def message_text(self) -> str:
        """What the central area says (empty while it shows results)."""
        if self.state == FIRST_RUN:
            return self.first_run.heading.text()
        return "" if self.state == RESULTS else self.message.text()

    def _update_status_line(self) -> None:
        parts = []
        if self._control is not None:
            parts.append("Paused" if self._control.paused else "Indexing")
        if self.state == RESULTS or (self.state == NO_MATCH and self.model.total):
            shown, total = self.model.rowCount(), self.model.total
            found = f"{shown} result{'s' if shown != 1 else ''}"
            if shown != total:
                found += f" ({total - shown} hidden by the cut-off)"
            if self.model.sort == DATE:
                found += ", newest first"
            parts.append(found)
        elif self.state == SEARCHING:
            parts.append("Searching…")
        elif self.state == ERROR:
            parts.append("Search failed")
        self.status_label.setText(" · ".join(parts))
        if self.status is not None:
            count = _indexed_count(self.status)
            pending = self.status.get("pending") or 0
            counts = f"{count:,} photos indexed"
            if pending:
                counts += f", {pending:,} waiting for a model"
            self.count_label.setText(counts)
            failures = len(self.status.get("failures") or [])
            self.problems_button.setText(f"Problems ({failures})" if failures else "No problems")

    # -- status --------------------------------------------------------------------------

    def refresh_status(self) -> None:
        """Ask the library for its status on a worker (one query at a time)."""
        if self._shut_down:
            return
        if self._status_worker is not None:
            self._status_again = True
            return
        self._status_again = False
        self._status_worker = self.pool.start(
            _status_job, self._status_readers, on_result=self._status_loaded,
            on_error=lambda error: self._show_message(f"status: {error}"),
            on_finished=self._status_finished,
        )  # fmt: skip

    def _status_loaded(self, status: dict) -> None:
        if self._shut_down:
            return
        self.status = status
        self._update_view()
        self.status_changed.emit(status)

    def _status_finished(self) -> None:
        self._status_worker = None
        if self._status_again:
            self.refresh_status()

    def _show_message(self, text: str) -> None:
        self.status_label.setText(text)

    def show_problems(self) -> None:
        """Open the list of files that could not be indexed."""
        if self._problems_view is None:
            self._problems_reader = self.library.reader()
            self._problems_view = ProblemsView(self._problems_reader, self.pool)
        else:
            self._problems_view.refresh()
        self._problems_view.show()
        self._problems_view.raise_()

    # -- indexing ------------------------------------------------------------------------

    @property
    def index_control(self) -> IndexControl | None:
        return self._control

    @property
    def indexing(self) -> bool:
        return self._control is not None

    def choose_folder_to_index(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder to index", str(Path.home()))
        if folder:
            self.start_indexing([Path(folder)])

    def start_indexing(self, folders: list[Path]) -> bool:
        """Index ``folders`` (empty: the known ones) on a worker. False if a run is going on."""
        if self._control is not None or self._shut_down:
            return False
        self._control = IndexControl()
        self._index_done = (0, 0)
        folders = [Path(folder) for folder in folders]
        self._index_worker = self.pool.start(
            _index_job, self.library, folders, self._control, on_progress=self._index_progress,
            on_result=self._index_result, on_error=self._index_error,
            on_finished=self._index_finished,
        )  # fmt: skip
        self._show_indexing(True)
        self.progress_label.setText("Looking for photos…")
        self.progress_bar.setRange(0, 0)
        self._status_timer.start()
        self.indexing_started.emit(0)
        self._update_view()
        return True

    def pause_indexing(self) -> None:
        if self._control is not None and not self._control.paused:
            self._control.pause()
            self.paused_changed()

    def resume_indexing(self) -> None:
        if self._control is not None and self._control.paused:
            self._control.resume()
            self.paused_changed()

    def cancel_indexing(self) -> None:
        if self._control is not None:
            self._control.cancel()
            self.progress_label.setText("Cancelling…")
            self.pause_button.setEnabled(False)
            self.cancel_button.setEnabled(False)

    def _toggle_pause(self) -> None:
        if self._control is not None and self._control.paused:
            self.resume_indexing()
        else:
            self.pause_indexing()

    def paused_changed(self) -> None:
        paused = bool(self._control and self._control.paused)
        self.pause_button.setText("Resume" if paused else "Pause")
        self._show_progress_text()
        self._update_status_line()
        self.indexing_paused.emit(paused)

    def _show_indexing(self, visible: bool) -> None:
        for widget in (self.progress_label, self.progress_bar, self.pause_button,
                       self.cancel_button):  # fmt: skip
            widget.setVisible(visible)
        self.pause_button.setEnabled(visible)
        self.cancel_button.setEnabled(visible)
        self.pause_button.setText("Pause")
        for name in ("add_folder_action", "update_action"):
            if hasattr(self, name):
                getattr(self, name).setEnabled(not visible)
        self.first_run.start_button.setEnabled(not visible and self.first_run.folders.count() > 0)

    def _index_progress(self, done: int, total: int) -> None:
        self._index_done = (done, total)
        self.progress_bar.setRange(0, max(total, 1))
        self.progress_bar.setValue(done)
        self._show_progress_text()
        self.indexing_progress.emit(done, total)

    def _show_progress_text(self) -> None:
        if self._control is None or self._control.cancelled:
            return
        done, total = self._index_done
        text = f"Indexing {done:,} of {total:,}"
        self.progress_label.setText(f"{text} (paused)" if self._control.paused else text)

    def _index_result(self, report) -> None:  # noqa: ANN001 - IndexReport
        summary = (
            f"Indexed: {report.new} new, {report.changed} changed, {report.removed} removed, "
            f"{report.failed} failed ({report.seconds:.1f} s)"
        )
        self._finish_indexing(summary, report)
        if report.failed:
            self.problem.emit(f"{report.failed} file(s) could not be indexed")

    def _index_error(self, error: Exception) -> None:
        if isinstance(error, IndexCancelled):
            self._finish_indexing("Indexing cancelled; what was indexed so far is kept", None)
        else:
            self._finish_indexing(f"Indexing failed: {error}", None)
            self.problem.emit(str(error))

    def _finish_indexing(self, summary: str, report) -> None:  # noqa: ANN001
        self._control = None
        self._status_timer.stop()
        if self._shut_down:
            return
        self._show_indexing(False)
        self.progress_label.setText("")
        self.refresh_status()
        if not self.search.empty:
            self.search.refresh()
        self._update_view()
        self._show_message(summary)
        self.indexing_finished.emit(report)

    def _index_finished(self) -> None:
        self._index_worker = None

    # -- keyboard, drag and drop ---------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.KeyPress:
            if watched is self.view and self._view_key(event):
                return True
            if watched is self.search_box and self._search_key(event):
                return True
        return super().eventFilter(watched, event)

    def _common_key(self, event: QKeyEvent) -> bool:
        if event.key() == Qt.Key_Escape:
            self.clear_query()
            self.focus_search()
            return True
        if event.matches(QKeySequence.Find):
            self.focus_search()
            return True
        return False

    def _search_key(self, event: QKeyEvent) -> bool:
        if self._common_key(event):
            return True
        if event.key() in (Qt.Key_Down, Qt.Key_PageDown) and self.model.rowCount():
            self.view.setFocus(Qt.TabFocusReason)
            if not self.view.currentIndex().isValid():
                self.view.setCurrentIndex(self.model.index(0))
            return True
        if event.matches(QKeySequence.Paste):
            return self.paste_image()  # else the line edit pastes text
        return False

    def _view_key(self, event: QKeyEvent) -> bool:
        if self._common_key(event):
            return True
        key = event.key()
        if key in (Qt.Key_Return, Qt.Key_Enter):
            self.open_selected()
            return True
        if key == Qt.Key_Space and not event.modifiers():
            self.toggle_preview()
            return True
        if event.matches(QKeySequence.Paste):
            return self.paste_image()
        return self._type_into_search(event)

    def _type_into_search(self, event: QKeyEvent) -> bool:
        """A printable key typed anywhere goes to the search box."""
        text = event.text()
        blocked = Qt.ControlModifier | Qt.AltModifier | Qt.MetaModifier
        if not text or not text.isprintable() or event.modifiers() & blocked:
            return False
        self.search_box.setFocus(Qt.OtherFocusReason)
        self.search_box.insert(text)
        return True

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if self._common_key(event) or self._type_into_search(event):
            return
        super().keyPressEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if image_path_from_mime(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802, ANN001 - Qt override
        if image_path_from_mime(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        path = image_path_from_mime(event.mimeData())
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.set_query_image(path)

    # -- closing -------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        event.accept()
        self.close_requested.emit(event)
        if not event.isAccepted():
            return  # e.g. hidden into the tray: indexing goes on
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self, wait_ms: int = 30_000) -> None:
        """Cancel indexing, stop searches and thumbnail loads, wait for the workers."""
        if self._shut_down:
            return
        self._shut_down = True
        if self._control is not None:
            self._control.cancel()
        self._status_timer.stop()
        self.search.close()
        self.thumbnails.close()
        if not self.pool.wait(wait_ms):
            log.warning("background work still running after %d ms", wait_ms)
        self.search.release()
        self._status_readers.close()
        if self._problems_view is not None:
            self._problems_view.close()
            self._problems_reader.close()
        self._paste_dir.cleanup()
