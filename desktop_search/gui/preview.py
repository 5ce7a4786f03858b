"""The preview pane: one search hit shown large, with its facts and what can be done with it.

``PreviewPane(pool)`` shows a ``Hit`` (``show_hit(hit)``; ``None`` = the empty state). For a photo,
the index thumbnail (a JPEG of at most 256 px) is shown at once as a placeholder; the photo itself
is decoded on a worker (``load_preview_image``: EXIF-oriented, decoded at reduced scale, shrunk to
fit the pane) and replaces it when ready. A photo found through a detected object has the
object's box drawn over it. Documents and messages are shown by a ``DocumentView``
(preview_document.py: the PDF page, the chat, the e-mail), with the query's words (``set_terms``)
marked. A load that finishes after another hit was selected is dropped (the pool's
``start_latest``). A file that no longer exists is reported in the pane, never raised.

What the pane shows is a ``PreviewState`` (viewmodels/preview.py; the window passes its own):
``show_hit(hit)`` sets its hit, the pane renders on the state's ``hit`` event and its loads write
``busy``, ``loaded``, ``error`` and ``missing`` back, which the notice line and the actions follow.

Actions (buttons, and ``QAction``s with window-wide shortcuts that the main window may re-bind):
Open (Ctrl+O), Reveal in folder (Ctrl+Shift+O), Copy path (Ctrl+Shift+C), Find similar (photos,
Ctrl+Shift+F, emits ``find_similar(Path)``). ``open_file``, ``open_hit`` (opens a hit at its page
or line; used instead of ``open_file`` when given) and ``reveal_file`` are injectable so tests (and
other front ends) can see the calls without launching programs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_search.errors import DesktopSearchError
from desktop_search.extract.images import load_photo
from desktop_search.gui.file_actions import open_path, reveal_in_folder
from desktop_search.gui.formatting import (
    format_dimensions,
    format_score,
    format_size,
    format_taken,
)
from desktop_search.gui.plain_text import plain_label
from desktop_search.gui.preview_actions import ActionButtons, PreviewActions
from desktop_search.gui.preview_document import DocumentView
from desktop_search.gui.preview_widgets import ElidedLabel, ImageView, to_qimage
from desktop_search.gui.workers import WorkerPool
from desktop_search.search.hits import Hit
from desktop_search.store.pathnames import readable_path
from desktop_search.viewmodels.preview import PreviewState

log = logging.getLogger(__name__)

__all__ = [
    "PreviewPane",
    "format_dimensions",
    "format_size",
    "format_taken",
    "load_preview_image",
]

# Smallest box the large image is decoded for, so a pane that is still being laid out (or tiny)
# does not get a blurry picture that has to be reloaded a moment later.
_MIN_DECODE_BOX = 512
# A reload is worth it only when the pane grew this much past the decoded picture.
_RELOAD_FACTOR = 1.25
_MISSING_MESSAGE = "This file no longer exists.\nIt was moved or deleted after it was indexed."


# ---------------------------------------------------------------------------------------------
# The worker side


@dataclass
class _Loaded:
    """What a preview load hands back to the GUI thread (never raises: errors are data)."""

    image: QImage | None = None
    original: QSize | None = None
    missing: bool = False
    error: str | None = None


def load_preview_image(path: Path, width: int, height: int) -> tuple[QImage, QSize]:
    """Decode ``path`` upright and shrunk to fit ``width`` x ``height``; runs on a worker.

    Returns the image and the upright size of the original. Raises ``FileNotFoundError`` when the
    file is gone and ``FileNotIndexableError`` when it cannot be decoded.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(str(path))
    width, height = max(1, width), max(1, height)
    # The picture's short side after fitting is never more than the box's short side.
    photo = load_photo(path, min_side=min(width, height), thumb_size=64)
    image = photo.image
    if image.width > width or image.height > height:
        image = image.copy()
        image.thumbnail((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return to_qimage(image), QSize(photo.width, photo.height)


def _load_job(path: Path, width: int, height: int) -> _Loaded:
    try:
        image, original = load_preview_image(path, width, height)
    except FileNotFoundError:
        return _Loaded(missing=True)
    except DesktopSearchError as error:
        return _Loaded(error=str(error))
    except Exception as error:  # noqa: BLE001 - shown in the pane, never crashes the app
        log.warning("preview of %s failed", path, exc_info=True)
        return _Loaded(error=f"cannot show this photo ({type(error).__name__})")
    return _Loaded(image=image, original=original)


# ---------------------------------------------------------------------------------------------
# Widgets


class PreviewPane(QWidget):
    """One hit shown large with its metadata and actions. ``show_hit(None)`` = empty state.

    ``hit_actions`` (``PreviewActions``: ``open()``, ``reveal()``, ``copy_path()``,
    ``request_similar()``); its ``QAction``s are also the pane's ``open_action``,
    ``reveal_action``, ``copy_action`` and ``similar_action``."""

    find_similar = Signal(object)  # Path
    image_loaded = Signal(object)  # Path, once the large image (a page, a text) is shown

    def __init__(
        self,
        pool: WorkerPool,
        parent: QWidget | None = None,
        *,
        open_file: Callable[[Path], None] | None = None,
        open_hit: Callable[[Hit], None] | None = None,
        reveal_file: Callable[[Path], None] | None = None,
        passage_text: Callable[[int], str] | None = None,
        state: PreviewState | None = None,
    ) -> None:
        super().__init__(parent)
        self._pool = pool
        self.state = state if state is not None else PreviewState()
        self._passage_text = passage_text  # an item's whole text, run on a worker
        self._load_key = (self, "image")  # the pool's start_latest key of the large image
        self._original: QSize | None = None
        self._reload_timer = QTimer(self, singleShot=True, interval=250)
        self._reload_timer.timeout.connect(self._reload_if_too_small)
        self._build()
        self.hit_actions = PreviewActions(
            self, ActionButtons(self._open_button, self._reveal_button, self._copy_button,
                                self._similar_button),
            lambda: self.state.hit, open_file=open_file or open_path, open_hit=open_hit,
            reveal_file=reveal_file or reveal_in_folder, find_similar=self.find_similar.emit,
        )  # fmt: skip
        actions = self.hit_actions
        self.open_action, self.reveal_action = actions.open_action, actions.reveal_action
        self.copy_action, self.similar_action = actions.copy_action, actions.similar_action
        events = self.state.events
        events.hit.connect(self._render)
        events.error.connect(self._show_notice)
        events.missing.connect(lambda _missing: self._update_actions())
        self._render(self.state.hit)

    # -- public API ----------------------------------------------------------------------

    @property
    def hit(self) -> Hit | None:
        return self.state.hit

    @property
    def terms(self) -> tuple[str, ...]:
        """The query's words, marked in the documents shown next."""
        return self.state.terms

    def pixmap(self) -> QPixmap:
        """The picture currently shown, at its own size (placeholder or large image)."""
        return self._image.source()

    def is_loading(self) -> bool:
        return self.state.busy

    def set_terms(self, terms) -> None:  # noqa: ANN001 - a sequence of the query's words
        """The words to mark in the next documents shown."""
        self.state.terms = tuple(terms)

    def show_hit(self, hit: Hit | None) -> None:
        """Show ``hit`` (``None``: the empty state); the same hit again is loaded again."""
        self.state.show(hit)

    def _render(self, hit: Hit | None) -> None:
        """The state's hit changed: show its facts at once, and load the picture or text."""
        self._pool.drop(self._load_key)
        self._reload_timer.stop()
        self._original = None
        self.document.clear()
        self._update_actions()
        if hit is None:
            self._stack.setCurrentWidget(self._empty)
            self._image.show_message("")
            return
        path = Path(readable_path(hit.path))  # Qt would drop the bytes of a name not UTF-8
        photo = hit.kind == "photo"
        self._stack.setCurrentWidget(self._content)
        self._name.setText(path.name)
        self._folder.setText(str(path.parent))
        self._taken.setText(format_taken(hit.taken_at if photo else hit.started_at))
        self._camera.setText(hit.camera or "—")
        self._dimensions.setText(format_dimensions(hit.width, hit.height))
        self._size.setText(format_size(hit.size))
        self._score.setText(format_score(hit.score))
        place = self.state.place
        self._place.setText(place or "—")
        self._show_rows(photo, dated=bool(hit.started_at), placed=bool(place))
        self._similar_button.setVisible(photo)
        if not photo:
            self._body.setCurrentWidget(self.document)
            self.document.show_hit(hit, self.state.terms)
            return
        self._body.setCurrentWidget(self._image)
        self._image.set_box(hit.box, (hit.width or 0, hit.height or 0), hit.object_label or "")
        self._content.layout().activate()  # the image view's size, for the decode box
        self._show_placeholder(hit)
        self._start_load()

    def _show_rows(self, photo: bool, *, dated: bool, placed: bool) -> None:
        """Photos: when taken, camera, dimensions. Documents: the date (when they have one).
        Both: the place of the match ("page 3", "text in the photo"), when there is one."""
        self._captions["Taken"].setText("Taken" if photo else "Date")
        rows = {"Taken": photo or dated, "Camera": photo, "Dimensions": photo}
        for caption, visible in {**rows, "Where": placed}.items():
            self._form.setRowVisible(self._captions[caption], visible)

    def _show_notice(self, error: str) -> None:
        self._notice.setText(error)
        self._notice.setVisible(bool(error))

    def _update_actions(self) -> None:
        self.hit_actions.set_enabled(self.state.hit is not None, missing=self.state.missing)

    # -- building ------------------------------------------------------------------------

    def _build(self) -> None:
        self._stack = QStackedWidget(self)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self._stack)

        self._empty = plain_label("Select a result to preview it here.")
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._empty.setWordWrap(True)
        self._empty.setEnabled(False)  # greyed: a hint, not content
        self._stack.addWidget(self._empty)

        self._content = QWidget()
        layout = QVBoxLayout(self._content)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(8)

        self._body = QStackedWidget()  # the photo, or a document's page or text
        self._image = ImageView()
        self._image.setFrameShape(QFrame.Shape.StyledPanel)
        self._image.resized.connect(self._on_image_resized)
        self.document = DocumentView(self._pool, self._passage_text, state=self.state)
        self.document.loaded.connect(self.image_loaded)
        self._body.addWidget(self._image)
        self._body.addWidget(self.document)
        layout.addWidget(self._body, 1)

        self._notice = plain_label()
        self._notice.setWordWrap(True)
        self._notice.setStyleSheet("color: #b00020; font-weight: bold;")
        self._notice.hide()
        layout.addWidget(self._notice)

        self._name = ElidedLabel(Qt.TextElideMode.ElideMiddle)
        font = self._name.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self._name.setFont(font)
        layout.addWidget(self._name)

        self._form = form = QFormLayout()
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(3)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._folder = ElidedLabel(Qt.TextElideMode.ElideMiddle)
        self._taken, self._camera, self._dimensions, self._place, self._size, self._score = (
            plain_label() for _ in range(6)
        )  # the camera, the place (a sender, an attachment's name): data from the file
        self._captions: dict[str, QLabel] = {}
        for caption, label in (("Folder", self._folder), ("Taken", self._taken),
                               ("Camera", self._camera), ("Dimensions", self._dimensions),
                               ("Where", self._place), ("File size", self._size),
                               ("Score", self._score)):  # fmt: skip
            if label is not self._folder:
                label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self._captions[caption] = plain_label(caption)
            self._captions[caption].setEnabled(False)
            form.addRow(self._captions[caption], label)
        layout.addLayout(form)

        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        self._open_button = QPushButton("Open")
        self._reveal_button = QPushButton("Show in folder")
        self._copy_button = QPushButton("Copy path")
        self._similar_button = QPushButton("Find similar")
        for button in (
            self._open_button,
            self._reveal_button,
            self._copy_button,
            self._similar_button,
        ):
            button.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self._stack.addWidget(self._content)

    # -- loading -------------------------------------------------------------------------

    def _show_placeholder(self, hit: Hit) -> None:
        # The index thumbnail is a small local JPEG (<= 256 px): decoding it takes about a
        # millisecond, so it is shown synchronously and the pane never flashes empty.
        pixmap = QPixmap()
        if hit.thumbnail is not None:
            pixmap = QPixmap(str(hit.thumbnail))
        if pixmap.isNull():
            self._image.show_message("Loading…")
        else:
            self._image.set_source(pixmap)

    def _decode_box(self) -> QSize:
        box = self._image.contentsRect().size() * self._image.devicePixelRatioF()
        return QSize(max(box.width(), _MIN_DECODE_BOX), max(box.height(), _MIN_DECODE_BOX))

    def _start_load(self) -> None:
        hit = self.state.hit
        if hit is None:
            return
        box = self._decode_box()
        self.state.busy = True
        # A newer load (another hit, a larger pane) replaces this one: its result is dropped.
        self._pool.start_latest(
            self._load_key, _load_job, Path(hit.path), box.width(), box.height(),
            on_result=self._on_loaded,
        )  # fmt: skip

    def _on_loaded(self, loaded: _Loaded) -> None:
        hit = self.state.hit
        if hit is None:
            return
        if loaded.missing:
            self._image.show_message(_MISSING_MESSAGE)
            self.state.update(busy=False, missing=True,
                              error=f"File not found: {readable_path(hit.path)}")  # fmt: skip
            return
        if loaded.error is not None:
            self.state.update(busy=False, error=f"Cannot show this photo: {loaded.error}")
            return
        assert loaded.image is not None
        self._original = loaded.original
        self._image.set_source(QPixmap.fromImage(loaded.image))
        self.state.update(busy=False, loaded=True)
        self.image_loaded.emit(Path(hit.path))

    def _on_image_resized(self) -> None:
        if self.state.loaded and not self.state.busy:
            self._reload_timer.start()

    def _reload_if_too_small(self) -> None:
        """The pane grew well past the decoded picture: decode again (when the original has it)."""
        state = self.state
        if not state.loaded or state.busy or state.hit is None or state.hit.kind != "photo":
            return
        shown = self._image.source().size()
        box = self._image.contentsRect().size() * self._image.devicePixelRatioF()
        fit = shown.scaled(box, Qt.AspectRatioMode.KeepAspectRatio)
        original = self._original
        if original is not None and shown.width() >= original.width():
            return  # already at full resolution
        if fit.width() > shown.width() * _RELOAD_FACTOR:
            self._start_load()
