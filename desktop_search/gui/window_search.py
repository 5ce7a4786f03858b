"""The main window's search part: the query (text, image, filter bar), the results and opening them.

A mixin of ``MainWindow`` (kept apart so the window's module stays readable). It uses these of
the window: ``search`` (``SearchController``), ``model``, ``view``, ``preview``, ``search_box``,
``query_bar``, ``region_picker``, ``sort_box``, ``cutoff_slider``, ``filter_bar``, ``open_path``
and ``open_at``, ``_error`` and ``_update_view()``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from desktop_search.errors import QueryError
from desktop_search.gui.search_controller import SearchOutcome
from desktop_search.search.hits import Hit


class SearchMixin:
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

    def _query_image_changed(self, path) -> None:  # noqa: ANN001 - Path | None
        path = Path(path) if path is not None else None
        self.region_picker.set_image(path)  # a new image is searched whole at first
        self.search.set_image(path)

    def clear_query(self) -> None:
        """Esc: clear the text and the query image; when there are none, the filters."""
        if not self.search.text.strip() and self.search.image is None:
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
            self._search_failed(str(error))
            return
        self.search.set_filters(filters)

    # -- the results ---------------------------------------------------------------------

    def set_sort(self, sort: str) -> None:
        self.model.set_sort(sort)
        index = self.sort_box.findData(sort)
        if index != self.sort_box.currentIndex():
            self.sort_box.setCurrentIndex(index)
        self._update_view()

    def set_cutoff(self, value: float | None) -> None:
        """Set the relevance cut-off (a score 0..1, ``None`` = show all) via the slider."""
        self.cutoff_slider.setValue(0 if value is None else round(value * 100))

    def _cutoff_changed(self, cutoff: float | None) -> None:
        self.model.set_cutoff(cutoff)
        self._update_view()

    def _show_outcome(self, outcome: SearchOutcome) -> None:
        self._error = ""
        self.preview.set_terms(outcome.terms)
        # The live index refreshes the results as files come and go: keep the selection.
        selected = self.selected_path()
        self.model.set_hits(outcome.hits, outcome.dates)
        rows = [row for row, hit in enumerate(self.model.hits()) if Path(hit.path) == selected]
        if rows:
            self.view.setCurrentIndex(self.model.index(rows[0]))
        elif self.model.rowCount() and self.view.hasFocus():
            self.view.setCurrentIndex(self.model.index(0))
        self._update_view()

    def _search_failed(self, message: str) -> None:
        """Shown in the central area (a mistyped filter says what to write instead)."""
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

    def toggle_preview(self) -> None:
        visible = not self.preview.isVisible()
        self.preview.setVisible(visible)
        if visible:
            self.preview.show_hit(self.view.selected_hit())

    # -- opening -------------------------------------------------------------------------

    def open_selected(self) -> None:
        hit = self.view.selected_hit()
        if hit is not None:
            self.open_hit(hit)

    def open_hit(self, hit: Hit) -> None:
        """Open the hit's file at its page or line when a viewer can, else plainly."""
        path = Path(hit.path)
        if not (hit.locator and self.open_at(path, hit.locator)):
            self.open_path(path)
