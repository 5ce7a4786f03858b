# Over 400 lines: one job: wiring the window's parts together; each part is its own module.
"""The main window: search box, image query, filters, result grid, preview, first run, indexing.

Everything slow runs on the ``WorkerPool``: searches (``SearchController``), thumbnails
(``ThumbnailCache``) and status queries. Indexing is the live index's (``LiveBridge``): it keeps
the indexed folders current on its own thread while the window lives, and its statuses arrive
here as queued signals (shown by ``IndexingPanel``, window_indexing.py). The GUI thread only reads
settings.

Hooks for other parts of the app (the tray, the settings dialog):

- signals ``activity_changed(object)`` (an ``Activity``: what the indexing bar shows, for the
  tray), ``problem(str)`` (a user-facing line: files could not be indexed, indexing failed) and
  ``status_changed(object)`` (the latest ``library.status()``, a ``LibraryStatus``).
- ``live`` (``LiveBridge``): pause/resume, ``running``; ``index_folders(folders)``,
  ``forget_folder(root)``, ``pause_indexing()``, ``resume_indexing()``, ``refresh_status()``,
  ``refresh_activity()``.
- ``close_requested(QCloseEvent)``: emitted first thing in ``closeEvent`` (a direct
  connection). A slot that calls ``event.ignore()`` (e.g. to hide into the tray when
  ``keep_in_tray`` is set) keeps the app running: the live index goes on. Otherwise the window
  calls ``shutdown()``: stop searches and thumbnail loads, wait for the workers, stop the live
  index. ``shutdown()`` is public (the tray's Quit calls it) and runs once.
- ``toolbar`` (``QToolBar``) and ``add_action(action)`` for more actions (e.g. Settings).
- ``model_download`` (``ModelDownload``, None while a CLIP model is active at start): the
  download of the default model that the first-run panel and the banner above the results offer
  (model_download.py); once installed it calls ``model_changed`` like Settings → Model does.
- ``open_path``: the callable that opens a file (default: the desktop's handler via
  ``QDesktopServices``); ``open_at(path, locator) -> bool``: opens a file at a page or line
  when a viewer can (default: ``file_actions.open_at_place``; False: ``open_path`` is used).
  Tests replace them to capture what would be opened.

The window builds the widgets and owns the parts that drive them: ``search_panel``
(``SearchPanel``, window_search.py: query, filter bar, results, preview, opening) and
``indexing_panel`` (``IndexingPanel``, window_indexing.py). The search and the preview are
described by Qt-free view models, ``search_state`` (``SearchState``: query, results, selected
hit, busy, error) and ``preview_state`` (``PreviewState``), which the widgets subscribe to. The
indexing hooks above are one-line calls of ``indexing_panel``; the search side is reached
through ``search_panel`` (``focus_search()``, ``set_query_image(path)``, ``clear_query()``...).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeyEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QMainWindow,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from desktop_search.app.library import Library
from desktop_search.app.status import LibraryStatus
from desktop_search.gui.file_actions import open_at_place
from desktop_search.gui.file_actions import open_path as open_with_desktop
from desktop_search.gui.filters import FilterBar
from desktop_search.gui.first_run import FirstRunPanel
from desktop_search.gui.indexing_bar import IndexingBar
from desktop_search.gui.keys import KeyRouter
from desktop_search.gui.live_bridge import LiveBridge
from desktop_search.gui.live_text import READER, READER_NOTE, Activity
from desktop_search.gui.model_download import ModelDownload, default_offer
from desktop_search.gui.model_offer import ModelOffer
from desktop_search.gui.plain_text import plain_label
from desktop_search.gui.preview import PreviewPane
from desktop_search.gui.problems import ProblemsView
from desktop_search.gui.query_image import image_path_from_mime
from desktop_search.gui.query_row import QueryRow
from desktop_search.gui.region_picker import RegionPicker
from desktop_search.gui.results import THUMB, ResultsModel, ResultsView
from desktop_search.gui.search_controller import SearchController
from desktop_search.gui.status_poller import StatusPoller
from desktop_search.gui.thumbnails import ThumbnailCache
from desktop_search.gui.view_state import (
    ERROR,
    FIRST_RUN,
    IDLE,
    LOADING,
    NO_MATCH,
    RESULTS,
    SEARCHING,
    activity_text,
    central_state,
    counts_text,
    problems_text,
)
from desktop_search.gui.window_indexing import IndexingPanel
from desktop_search.gui.window_search import SearchPanel
from desktop_search.gui.workers import WorkerPool
from desktop_search.search.hits import Hit
from desktop_search.viewmodels.preview import PreviewState
from desktop_search.viewmodels.search import QueryMode, SearchState

log = logging.getLogger(__name__)

# The states ``MainWindow.state`` takes are exported with the window that reports them.
__all__ = [
    "ERROR",
    "FIRST_RUN",
    "IDLE",
    "LOADING",
    "NO_MATCH",
    "RESULTS",
    "SEARCHING",
    "MainWindow",
]


class MainWindow(QMainWindow):
    activity_changed = Signal(object)  # Activity
    problem = Signal(str)
    status_changed = Signal(object)  # LibraryStatus
    close_requested = Signal(object)  # QCloseEvent: ignore() it to keep the app running

    def __init__(
        self,
        library: Library,
        pool: WorkerPool,
        parent: QWidget | None = None,
        *,
        open_path: Callable[[Path], None] | None = None,
        open_at: Callable[[Path, dict], bool] | None = None,
    ) -> None:
        super().__init__(parent)
        self.library = library
        self.pool = pool
        self.open_path = open_path or open_with_desktop
        self.open_at = open_at or open_at_place
        self.status: LibraryStatus | None = None
        self.state = LOADING
        self._problems_view = None
        self._problems_reader: Library | None = None
        self._shut_down = False
        self._paste_dir = tempfile.TemporaryDirectory(prefix="desktop-search-paste-")

        self.search_state = SearchState()
        self.preview_state = PreviewState()
        self.thumbnails = ThumbnailCache(pool, THUMB, parent=self)
        self.model = ResultsModel(self.thumbnails, self)
        self.search = SearchController(library, pool, self.search_state, self)

        self.setWindowTitle("desktop-search")
        self.setAcceptDrops(True)
        self.resize(1200, 800)
        self.setMinimumSize(QSize(760, 520))
        self.live = LiveBridge(library, pool, self)
        self.model_download = self._make_model_download()
        self._build()
        self.search_panel = SearchPanel(
            self.search, self.preview_state, query_row=self.query_row,
            region_picker=self.region_picker, filter_bar=self.filter_bar, model=self.model,
            view=self.view, preview=self.preview, open_hit=self.open_hit,
        )  # fmt: skip
        self.keys = KeyRouter(self.search_panel, self)
        self.search_box.installEventFilter(self.keys)
        self.view.installEventFilter(self.keys)
        self._make_actions()
        self._status_poller = StatusPoller(library, pool, self)
        self._status_poller.loaded.connect(self._status_loaded)
        self._status_poller.failed.connect(lambda error: self._show_message(f"status: {error}"))
        self.indexing_panel = IndexingPanel(
            self.live, self.search, self._status_poller, lambda: self.status,
            bar=self.indexing_bar, first_run=self.first_run,
            actions=(self.add_folder_action, self.update_action), dialog_parent=self,
        )  # fmt: skip
        self.indexing_panel.activity_changed.connect(self._activity_shown)
        self.indexing_panel.problem.connect(self.problem)
        self.indexing_panel.message.connect(self._show_message)
        self.indexing_panel.view_changed.connect(self._update_view)
        # After the search panel's: the results are in the model when the view is decided.
        events = self.search_state.events
        for event in (events.query, events.results, events.error, events.busy, events.sort,
                      events.cutoff):  # fmt: skip
            event.connect(lambda _value: self._update_view())
        self._update_view()
        self.refresh_status()
        # The live index starts once the search side is loaded: the first query stays quick,
        # and both never create the library's CLIP model at once (clip_or_none has no lock).
        self.search.ready.connect(self.indexing_panel.start_live)
        self.search.warm_up()

    # -- building ------------------------------------------------------------------------

    def _build(self) -> None:
        central = QWidget(self)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(10, 10, 10, 4)
        outer.setSpacing(8)
        outer.addWidget(self._build_query_row(central))
        # The query image large, with its objects: search with one of them or a dragged region.
        self.region_picker = RegionPicker(self.pool, self.search.passages.query_objects, central)
        outer.addWidget(self.region_picker)
        self.filter_bar = FilterBar(central)
        outer.addWidget(self.filter_bar)
        self.model_banner: ModelOffer | None = None
        if self.model_download is not None:
            # Folders indexed without a model (or the first-run panel gone while it downloads):
            # the same offer and download, in one row above the results.
            self.model_banner = ModelOffer(self.model_download, central, compact=True)
            self.model_banner.hide()
            self.model_download.changed.connect(lambda _state: self._update_model_banner())
            outer.addWidget(self.model_banner)
        outer.addWidget(self._build_pages(central), 1)
        self.setCentralWidget(central)
        self._build_status_bar()

    def _build_query_row(self, central: QWidget) -> QueryRow:
        row = QueryRow(self.pool, Path(self._paste_dir.name), central)
        # The row's controls stay reachable under their old names (tests and the app use them).
        self.search_box, self.query_bar = row.search_box, row.query_bar
        self.sort_box, self.cutoff_label, self.cutoff_slider = (
            row.sort_box, row.cutoff_label, row.cutoff_slider,
        )  # fmt: skip
        self.query_row = row
        return row

    def _build_pages(self, central: QWidget) -> QSplitter:
        """The central stack (results, message, first run) beside the preview pane."""
        self.splitter = QSplitter(Qt.Horizontal, central)
        self.stack = QStackedWidget(self.splitter)
        self.view = ResultsView(self.stack)
        self.view.setModel(self.model)
        self.message = plain_label(parent=self.stack)  # may quote the query or an error
        self.message.setAlignment(Qt.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setMargin(40)
        font = self.message.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.message.setFont(font)
        self.first_run = FirstRunPanel(self.stack)
        self.first_run.start.connect(self.index_folders)
        if self.model_download is not None:
            self.first_run.show_model_offer(self.model_download)
        elif self.library.active_model_name is None:
            self.first_run.show_no_model_note()  # no default model to offer in this install
        for page in (self.view, self.message, self.first_run):
            self.stack.addWidget(page)
        self.preview = PreviewPane(
            self.pool, self.splitter, state=self.preview_state,
            open_file=lambda path: self.open_path(path), open_hit=lambda hit: self.open_hit(hit),
            passage_text=self.search.passages.passage_text,
        )  # fmt: skip
        self.preview.setMinimumWidth(340)
        self.splitter.addWidget(self.stack)
        self.splitter.addWidget(self.preview)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([820, 380])
        return self.splitter

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.status_label = plain_label(parent=bar)
        bar.addWidget(self.status_label, 1)
        self.indexing_bar = IndexingBar(bar)
        # The bar's parts stay reachable under their old names (tests and the app use them).
        self.progress_label = self.indexing_bar.label
        self.progress_bar = self.indexing_bar.progress_bar
        self.pause_button = self.indexing_bar.pause_button
        self.count_label = plain_label(parent=bar)
        self.problems_button = QPushButton("Problems", bar)
        self.problems_button.setFlat(True)
        self.problems_button.clicked.connect(self.show_problems)
        for widget in (self.indexing_bar, self.count_label, self.problems_button):
            bar.addPermanentWidget(widget)

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
        self.update_action = action("Update index", lambda: self.index_folders([]),
                                    in_toolbar=True)  # fmt: skip
        self.problems_action = action("Problems…", self.show_problems, in_toolbar=True)
        search = self.search_panel
        self.find_action = action("Find", search.focus_search, QKeySequence.Find)
        self.paste_action = action("Paste image", search.paste_image, QKeySequence.Paste)
        self.clear_action = action("Clear search", search.clear_query)

    def _make_model_download(self) -> ModelDownload | None:
        """Without a CLIP model: the download of the default one (offered, not started)."""
        if self.library.active_model_name is not None:
            return None
        offer = default_offer(self.library)  # local files only: no network before the button
        if offer is None:
            return None
        download = ModelDownload(self.library, self.pool, offer, self)
        # The same path as a model fetched in Settings → Model: the live index encodes what
        # was catalogued without a model (window_indexing.model_changed).
        download.installed.connect(self.model_changed)
        return download

    def _update_model_banner(self) -> None:
        """The banner shows while no model is active (or the download runs) and the first-run
        panel, which holds the same offer, is not shown."""
        banner = self.model_banner
        if banner is None or self._shut_down:
            return
        wanted = self.library.active_model_name is None or self.model_download.state.busy
        banner.setVisible(wanted and self.state not in (FIRST_RUN, LOADING))

    def add_action(self, action: QAction) -> None:
        """Add an action to the toolbar (and the window's shortcuts)."""
        self.addAction(action)
        self.toolbar.addAction(action)

    # -- the central area and the status line --------------------------------------------

    def _update_view(self) -> None:
        if self._shut_down:
            return
        state, message = central_state(
            self.status, self.indexing_panel.awaiting_roots, self.search_state,
            self.model.rowCount(), self.model.total,
        )  # fmt: skip
        if state == NO_MATCH and self.search_state.mode == QueryMode.FILTERS:
            message = "Nothing matches the filters"
        self.state = state
        if state == FIRST_RUN:
            self.stack.setCurrentWidget(self.first_run)
        elif state == RESULTS:
            self.stack.setCurrentWidget(self.view)
        else:
            self.message.setText(message)
            self.stack.setCurrentWidget(self.message)
        self._update_model_banner()
        self._update_status_line()

    def message_text(self) -> str:
        """What the central area says (empty while it shows results)."""
        if self.state == FIRST_RUN:
            return self.first_run.heading.text()
        return "" if self.state == RESULTS else self.message.text()

    def _update_status_line(self) -> None:
        note = READER_NOTE if self.live.mode == READER else None
        self.status_label.setText(
            activity_text(self.state, note, self.model.rowCount(), self.model.total,
                          self.model.sort)
        )  # fmt: skip
        if self.status is not None:
            self.count_label.setText(counts_text(self.status))
            self.problems_button.setText(problems_text(self.status))

    # -- status --------------------------------------------------------------------------

    def refresh_status(self) -> None:
        """Ask the library for its status on a worker (one query at a time)."""
        if not self._shut_down:
            self._status_poller.refresh()

    def _status_loaded(self, status: LibraryStatus) -> None:
        if self._shut_down:
            return
        self.status = status
        self.indexing_panel.status_loaded(status)
        self.filter_bar.set_object_classes(status.object_classes or [])
        self._update_view()
        self.refresh_activity()
        self.status_changed.emit(status)

    def _show_message(self, text: str) -> None:
        self.status_label.setText(text)

    def _activity_shown(self, activity: Activity) -> None:
        self._update_status_line()
        self.activity_changed.emit(activity)

    # -- opening (the search panel and the preview open through here) ----------------------

    def open_hit(self, hit: Hit) -> None:
        """Open the hit's file at its page or line when a viewer can, else plainly (through
        ``open_at`` and ``open_path``, which tests replace)."""
        path = Path(hit.path)
        if not (hit.locator and self.open_at(path, hit.locator)):
            self.open_path(path)

    # -- the indexing side (indexing_panel) ------------------------------------------------

    @property
    def activity(self) -> Activity:
        """What the indexing bar (and the tray) show now."""
        return self.indexing_panel.activity

    def choose_folder_to_index(self) -> None:
        self.indexing_panel.choose_folder_to_index()

    def index_folders(self, folders: list[Path]) -> bool:
        """Have the live index take in ``folders`` (empty: look at every indexed folder again).
        False when it does not run here (another process indexes)."""
        return self.indexing_panel.index_folders(folders)

    def forget_folder(self, root: str) -> bool:
        """Stop indexing ``root`` through the live index; False when it does not run here."""
        return self.indexing_panel.forget_folder(root)

    def model_changed(self, model_id: str = "") -> None:
        """Another CLIP model is active: the live index encodes what it has not seen yet."""
        self.indexing_panel.model_changed(model_id)

    def pause_indexing(self) -> None:
        self.indexing_panel.pause_indexing()

    def resume_indexing(self) -> None:
        self.indexing_panel.resume_indexing()

    def refresh_activity(self) -> None:
        """Show what the live index (or the process that indexes instead) is doing."""
        self.indexing_panel.refresh_activity()

    def show_problems(self) -> None:
        """Open the list of files that could not be indexed."""
        if self._problems_view is None:
            self._problems_reader = self.library.reader()
            self._problems_view = ProblemsView(self._problems_reader, self.pool)
        else:
            self._problems_view.refresh()
        self._problems_view.show()
        self._problems_view.raise_()

    # -- keys, drag and drop ---------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if self.keys.window_key(event):
            return
        super().keyPressEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if image_path_from_mime(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802, ANN001 - Qt override
        self.dragEnterEvent(event)  # the same test while the drag moves

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        path = image_path_from_mime(event.mimeData())
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.search_panel.set_query_image(path)

    # -- closing -------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        event.accept()
        self.close_requested.emit(event)
        if not event.isAccepted():
            return  # e.g. hidden into the tray: the live index goes on
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self, wait_ms: int = 30_000) -> None:
        """Stop searches and thumbnail loads, wait for the workers, stop the live index."""
        if self._shut_down:
            return
        self._shut_down = True
        self.indexing_panel.close()
        if self.model_download is not None:
            self.model_download.close()  # a transfer stops at its next block: no long wait
        self._status_poller.stop()
        self.search.close()
        self.thumbnails.close()
        if not self.pool.wait(wait_ms):
            log.warning("background work still running after %d ms", wait_ms)
        self.live.stop(wait_ms / 1000)  # finishes the file at hand, saves, releases the lock
        self.search.release()
        self._status_poller.close()
        if self._problems_view is not None:
            self._problems_view.close()
            self._problems_reader.close()
        self._paste_dir.cleanup()
