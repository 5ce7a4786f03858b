"""The main window's search part: the query (text, image, filter bar), the results and opening them.

``SearchPanel`` is an object the window owns. It takes the widgets it works with and the two view
models: the controls change the query through the ``SearchController`` (which runs it and writes
what it found into the ``SearchState``); the result grid and the preview follow the state's
events, so no widget reaches into another. The window keeps its public hooks (``focus_search``,
``set_query_image``...) as one-line calls of this object.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt

from desktop_search.errors import QueryError
from desktop_search.gui.filters import FilterBar
from desktop_search.gui.preview import PreviewPane
from desktop_search.gui.query_row import QueryRow
from desktop_search.gui.region_picker import RegionPicker
from desktop_search.gui.results import ResultsModel, ResultsView
from desktop_search.gui.search_controller import SearchController
from desktop_search.search.hits import Hit
from desktop_search.viewmodels.preview import PreviewState
from desktop_search.viewmodels.search import SearchOutcome, SearchState

log = logging.getLogger(__name__)


class SearchPanel:
    """The query controls, the results and the preview, wired through the view models."""

    def __init__(
        self,
        search: SearchController,
        preview_state: PreviewState,
        *,
        query_row: QueryRow,
        region_picker: RegionPicker,
        filter_bar: FilterBar,
        model: ResultsModel,
        view: ResultsView,
        preview: PreviewPane,
        open_hit: Callable[[Hit], None],
    ) -> None:
        self.search = search
        self.state: SearchState = search.state
        self.preview_state = preview_state
        self.query_row, self.region_picker, self.filter_bar = query_row, region_picker, filter_bar
        self.search_box, self.query_bar = query_row.search_box, query_row.query_bar
        self.model, self.view, self.preview = model, view, preview
        self._open_hit = open_hit
        self._connect_controls()
        events = self.state.events
        events.results.connect(self._show_results)
        events.sort.connect(self._show_sort)
        events.cutoff.connect(self.model.set_cutoff)
        events.selected.connect(self._show_selected)
        self.model.set_cutoff(self.state.cutoff)
        self._show_sort(self.state.sort)

    def _connect_controls(self) -> None:
        row, search = self.query_row, self.search
        self.search_box.textChanged.connect(search.set_text)
        self.search_box.returnPressed.connect(search.search_now)
        self.query_bar.changed.connect(self._query_image_changed)
        row.sort_box.currentIndexChanged.connect(lambda: self.set_sort(row.sort_box.currentData()))
        row.cutoff_changed.connect(self._cutoff_changed)
        self.state.cutoff = row.cutoff()
        self.region_picker.region_changed.connect(search.set_region)
        self.filter_bar.changed.connect(self._filters_changed)
        self.preview.find_similar.connect(self.set_query_image)
        self.view.doubleClicked.connect(lambda _index: self.open_selected())
        self.view.selectionModel().currentChanged.connect(self._current_changed)
        # A new list (or order) has no selection: the preview empties, as it did before.
        self.model.modelReset.connect(lambda: self._select(None))

    # -- the query -----------------------------------------------------------------------

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

    def _query_image_changed(self, path: Path | None) -> None:
        path = Path(path) if path is not None else None
        self.region_picker.set_image(path)  # a new image is searched whole at first
        self.search.set_image(path)

    def clear_query(self) -> None:
        """Esc: clear the text and the query image; when there are none, the filters."""
        query = self.state.query
        if not query.text.strip() and query.image is None:
            self.filter_bar.clear()
        self.search.clear()
        self.query_bar.set_image(None)
        self.search_box.clear()

    def paste_image(self) -> bool:
        """Ctrl+V outside the search box: an image (or image file) on the clipboard."""
        return bool(self.query_bar.paste_from_clipboard())

    def _filters_changed(self) -> None:
        """A control of the filter bar changed: search again (debounced, like typing)."""
        try:
            filters = self.filter_bar.filters()
        except QueryError as error:  # only a range set out of order in code gets here
            self.search.fail(str(error))
            return
        self.search.set_filters(filters)

    # -- the results ---------------------------------------------------------------------

    def set_sort(self, sort: str) -> None:
        self.state.sort = sort

    def _show_sort(self, sort: str) -> None:
        self.model.set_sort(sort)
        box = self.query_row.sort_box
        index = box.findData(sort)
        if index != box.currentIndex():
            box.setCurrentIndex(index)

    def set_cutoff(self, value: float | None) -> None:
        """Set the relevance cut-off (a score 0..1, ``None`` = show all) via the slider."""
        self.query_row.cutoff_slider.setValue(0 if value is None else round(value * 100))

    def _cutoff_changed(self, cutoff: float | None) -> None:
        self.state.cutoff = cutoff

    def _show_results(self, outcome: SearchOutcome | None) -> None:
        if outcome is None:
            self.model.clear()
            return
        self.preview_state.terms = outcome.terms
        # The live index refreshes the results as files come and go: keep the selection.
        selected = self.selected_path()
        self.model.set_hits(outcome.hits, outcome.dates)
        rows = [row for row, hit in enumerate(self.model.hits()) if Path(hit.path) == selected]
        if rows:
            self.view.setCurrentIndex(self.model.index(rows[0]))
        elif self.model.rowCount() and self.view.hasFocus():
            self.view.setCurrentIndex(self.model.index(0))

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._select(self.model.hit(current.row()) if current.isValid() else None)

    def _select(self, hit: Hit | None) -> None:
        self.state.selected = hit

    def _show_selected(self, hit: Hit | None) -> None:
        # A hidden preview loads nothing; it catches up when shown (toggle_preview).
        if hit is None or self.preview.isVisible():
            self.preview_state.show(hit)

    def selected_path(self) -> Path | None:
        return self.view.selected_path()

    def toggle_preview(self) -> None:
        visible = not self.preview.isVisible()
        self.preview.setVisible(visible)
        if visible:
            self.preview_state.show(self.view.selected_hit())

    # -- opening -------------------------------------------------------------------------

    def open_selected(self) -> None:
        hit = self.view.selected_hit()
        if hit is not None:
            self._open_hit(hit)
