"""The Model tab of the settings dialog: the active CLIP model, the available ones, fetching one.

Listing, switching and fetching models read or write the model folder (fetching downloads
hundreds of MB), so all of it runs on the worker pool; progress and errors are shown inline.
A fetch is a ``ModelDownload`` (model_download.py), the same as the first run's: one worker,
Cancel, progress as bytes, speed and time left, and errors as one line.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_search.gui.model_download import (
    FAILED,
    INSTALLED,
    DownloadState,
    ModelDownload,
    Offer,
    offer_for,
)
from desktop_search.gui.model_offer import show_progress
from desktop_search.gui.plain_text import plain_label, plain_tip
from desktop_search.gui.settings_common import (
    ERROR_STYLE,
    ID_ROLE,
    TaskRunner,
    human_size,
    one_line,
)
from desktop_search.models.install.fetch import resolved_sizes

UNPINNED_REASON = "checksums not pinned yet — use 'desktop-search models import'"


class ModelTab(QWidget):
    """Signal: ``model_changed(str)`` when another CLIP model became active."""

    model_changed = Signal(str)

    def __init__(self, library: Any, runner: TaskRunner) -> None:
        super().__init__()
        self.library = library
        self.runner = runner
        self._updating_models = False  # filling the combo: not a choice of the user
        self.download: ModelDownload | None = None  # the last fetch started here
        self._offers: dict[str, Offer] = {}  # the available models, by id
        self._installed: set[str] = set()
        self._build()

    def _build(self) -> None:
        self.model_combo = QComboBox()
        self.model_combo.currentIndexChanged.connect(self._model_selected)
        self.model_status = plain_label()  # model names, errors
        self.model_status.setWordWrap(True)
        self._build_available_list()
        unpinned = f"Greyed out: {UNPINNED_REASON} to add it from local files."
        self.unpinned_note = plain_label(unpinned)
        self.unpinned_note.setWordWrap(True)
        self.unpinned_note.setVisible(False)
        self.fetch_button = QPushButton("Fetch")
        self.fetch_button.setEnabled(False)
        self.fetch_button.clicked.connect(self.fetch_selected)
        self.fetch_progress = QProgressBar()
        self.fetch_progress.setTextVisible(False)  # the words are in fetch_status
        self.fetch_progress.setVisible(False)
        self.cancel_fetch_button = QPushButton("Cancel")
        self.cancel_fetch_button.setVisible(False)
        self.cancel_fetch_button.clicked.connect(self.cancel_fetch)
        self.fetch_status = plain_label()
        self.fetch_status.setTextFormat(Qt.TextFormat.PlainText)  # model names, errors
        self.fetch_status.setWordWrap(True)  # an error line is long: it must not widen the dialog
        active = QFormLayout()
        active.addRow("Active CLIP model:", self.model_combo)
        fetch_row = QHBoxLayout()
        fetch_row.addWidget(self.fetch_button)
        fetch_row.addWidget(self.fetch_progress, 1)
        fetch_row.addWidget(self.cancel_fetch_button)
        layout = QVBoxLayout(self)
        layout.addLayout(active)
        layout.addWidget(self.model_status)
        layout.addWidget(plain_label("Available CLIP models:"))
        layout.addWidget(self.available_list)
        layout.addWidget(self.unpinned_note)
        layout.addLayout(fetch_row)
        layout.addWidget(self.fetch_status)

    def _build_available_list(self) -> None:
        self.available_list = QTreeWidget()
        self.available_list.setHeaderLabels(["Model", "Size", "Status"])
        self.available_list.setRootIsDecorated(False)
        header = self.available_list.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.available_list.itemSelectionChanged.connect(self._update_fetch_button)

    # -- listing ----------------------------------------------------------------------------

    @Slot()
    def reload(self) -> None:
        self.model_combo.setEnabled(False)
        self.runner.run(self._list_models, on_result=self._show_models, on_error=self._error)

    def _list_models(self) -> tuple[list[Any], list[Any], dict[str, Offer]]:
        installed = [m for m in self.library.models.list_all() if m.kind == "clip"]
        available = [m for m in self.library.available_models() if m.kind == "clip"]
        # Sizes from local files only: what an earlier fetch learnt from the hub, the manifest.
        resolved = resolved_sizes(self.library.models)
        return installed, available, {m.id: offer_for(m, resolved) for m in available}

    def _show_models(self, models: tuple[list[Any], list[Any], dict[str, Offer]]) -> None:
        installed, available, self._offers = models
        active = self.library.active_model_name
        self._installed = {m.id for m in installed}
        self._fill_combo(installed, active)
        if not installed:
            self.model_status.setText(
                "Without a model photos are catalogued and found by file name only."
            )
        elif active not in self._installed:
            self.model_status.setText("No model is active: choose one.")
        self._fill_available(available)

    def _fill_combo(self, installed: list[Any], active: str | None) -> None:
        self._updating_models = True
        try:
            self.model_combo.clear()
            for model in installed:
                self.model_combo.addItem(
                    f"{model.id}  ({model.precision}, {human_size(model.size_bytes)})", model.id
                )
            if not installed:
                self.model_combo.addItem("No CLIP model installed", None)
            index = self.model_combo.findData(active) if active else -1
            self.model_combo.setCurrentIndex(max(index, 0))
            self.model_combo.setEnabled(bool(installed))
        finally:
            self._updating_models = False

    def _fill_available(self, available: list[Any]) -> None:
        selected = self.selected_available()
        self.available_list.clear()
        for manifest in available:
            item = self._available_row(manifest)
            self.available_list.addTopLevelItem(item)
            if manifest.id == selected:
                item.setSelected(True)
        self.unpinned_note.setVisible(
            any(not m.fetchable and m.id not in self._installed for m in available)
        )
        self._update_fetch_button()

    def _available_row(self, manifest: Any) -> QTreeWidgetItem:
        if manifest.id in self._installed:
            status = "installed"
        elif manifest.fetchable:  # pinned in the manifest, or by the hub at fetch time
            status = "can be fetched"
        else:
            status = UNPINNED_REASON
        default = "  (default)" if getattr(manifest, "default", False) else ""
        item = QTreeWidgetItem([f"{manifest.name}{default}", self._offers[manifest.id].size,
                                status])  # fmt: skip
        item.setData(0, ID_ROLE, manifest.id)
        item.setToolTip(0, plain_tip(f"{manifest.id} — license: {manifest.license}"))
        item.setToolTip(2, plain_tip(status))
        if not manifest.fetchable and manifest.id not in self._installed:
            # Without checksums (its own or the hub's) a download could not be verified.
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
        return item

    def _error(self, error: BaseException) -> None:
        self.model_status.setStyleSheet(ERROR_STYLE)
        self.model_status.setText(one_line(error))

    def installed_models(self) -> list[str]:
        return [
            self.model_combo.itemData(i)
            for i in range(self.model_combo.count())
            if self.model_combo.itemData(i) is not None
        ]

    def available_item(self, model_id: str) -> QTreeWidgetItem | None:
        for row in range(self.available_list.topLevelItemCount()):
            item = self.available_list.topLevelItem(row)
            if item.data(0, ID_ROLE) == model_id:
                return item
        return None

    def selected_available(self) -> str | None:
        items = self.available_list.selectedItems()
        return items[0].data(0, ID_ROLE) if items else None

    # -- switching --------------------------------------------------------------------------

    def _model_selected(self, index: int) -> None:
        if self._updating_models or index < 0:
            return
        model_id = self.model_combo.itemData(index)
        if not model_id or model_id == self.library.active_model_name:
            return
        self.model_combo.setEnabled(False)
        self.model_status.setStyleSheet("")
        self.model_status.setText(f"Switching to {model_id}…")
        self.runner.run(
            self._use_model, model_id, on_result=self._model_used, on_error=self._use_model_failed
        )

    def _use_model(self, model_id: str) -> str:
        self.library.use_model(model_id)
        return model_id

    def _model_used(self, model_id: str) -> None:
        self.model_combo.setEnabled(True)
        self.model_status.setText(f"Using {model_id}. Photos without its embeddings are "
                                  "encoded by the next indexing run.")  # fmt: skip
        self.model_changed.emit(model_id)

    def _use_model_failed(self, error: BaseException) -> None:
        self._error(error)
        self._updating_models = True
        index = self.model_combo.findData(self.library.active_model_name)
        self.model_combo.setCurrentIndex(max(index, 0))
        self._updating_models = False
        self.model_combo.setEnabled(True)

    # -- fetching ---------------------------------------------------------------------------

    @property
    def downloading(self) -> bool:
        return self.download is not None and self.download.state.busy

    def _update_fetch_button(self) -> None:
        model_id = self.selected_available()
        offer = self._offers.get(model_id) if model_id else None
        self.fetch_button.setEnabled(
            offer is not None
            and offer.fetchable
            and model_id not in self._installed
            and not self.downloading
        )

    @Slot()
    def fetch_selected(self) -> None:
        model_id = self.selected_available()
        if model_id is not None:
            self.fetch(model_id)

    def fetch(self, model_id: str) -> None:
        """Download, verify and install ``model_id`` on a worker (progress shown, errors inline)."""
        offer = self._offers.get(model_id)
        if self.downloading or offer is None or not offer.fetchable:
            return
        if self.download is not None:
            self.download.deleteLater()  # finished: its worker has reported
        self.download = ModelDownload(self.library, self.runner.pool, offer, self)
        self.download.changed.connect(self._show_download)
        self.download.installed.connect(self._installed_one)
        self.download.start()

    @Slot()
    def cancel_fetch(self) -> None:
        """Stop the transfer at its next block; what arrived is kept for the next fetch."""
        if self.download is not None:
            self.download.cancel()

    def _show_download(self, state: DownloadState) -> None:
        show_progress(self.fetch_progress, state)
        self.cancel_fetch_button.setVisible(state.busy)
        self.cancel_fetch_button.setEnabled(state.can_cancel)
        failed = state.phase == FAILED
        self.fetch_status.setStyleSheet(ERROR_STYLE if failed else "")
        self.fetch_status.setToolTip(plain_tip(state.line) if failed else "")
        if state.phase == INSTALLED:
            self.fetch_status.setText(f"Installed {state.offer.model_id}.")
            self.reload()
        elif state.busy:
            self.fetch_status.setText(f"{state.offer.name}: {state.line}")
        else:  # failed or cancelled
            self.fetch_status.setText(state.line)
        self._update_fetch_button()

    def _installed_one(self, active: str) -> None:
        # The library activates a fetched model when none was active: tell the window.
        if active != self.model_combo.currentData():
            self.model_changed.emit(active)
