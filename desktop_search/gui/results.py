"""The result grid: a list model of hits (cut-off and sort applied) and an icon-mode view.

``ResultsModel`` holds every hit of the last search and exposes those at or above the cut-off,
ordered by relevance or by date. Thumbnails come from a ``ThumbnailCache`` (loaded on a worker;
a placeholder is drawn until then). ``ResultsView`` is a ``QListView`` in icon mode with uniform
cells, so only the cells on screen are ever asked for data.

Photos are their thumbnail. Documents and messages are a card: a badge of their kind (and the
first page, small, for a PDF), then the matching passage with the query's words in bold; under
it the title or file name and where in the file the match is ("page 2", a chat's time range).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QColor,
    QFont,
    QLinearGradient,
    QPainter,
    QPalette,
    QPen,
    QTextDocument,
)
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QStyledItemDelegate

from desktop_search.gui.box_overlay import box_rect, paint_box
from desktop_search.gui.highlight import marked_html
from desktop_search.gui.plain_text import TextDocument, plain_tip
from desktop_search.gui.thumbnails import ThumbnailCache
from desktop_search.search.hits import Hit
from desktop_search.search.locators import describe_locator, describe_other_places, short_time
from desktop_search.store.pathnames import readable_path
from desktop_search.viewmodels.search import DATE, RELEVANCE

CELL = QSize(180, 212)  # thumbnail square + two caption lines
THUMB = QSize(168, 168)
PAGE_THUMB = QSize(38, 50)  # a PDF's first page on its card

HitRole = Qt.UserRole + 1
ScoreRole = Qt.UserRole + 2
DateRole = Qt.UserRole + 3

# The badge of each kind of document: its text and colour.
BADGES = {
    "pdf": ("PDF", "#c62828"),
    "mail": ("E-MAIL", "#1565c0"),
    "chat": ("CHAT", "#2e7d32"),
    "text": ("TEXT", "#6a4c93"),
}


def is_photo(hit: Hit) -> bool:
    return hit.kind == "photo"


def display_name(hit: Hit) -> str:
    """What a result is called: a document's title (subject, chat name), else its file name."""
    name = os.path.basename(readable_path(hit.path))
    return name if is_photo(hit) or not hit.title else hit.title


def card_note(hit: Hit) -> str:
    """The small line beside a card's badge: the file, the sender or the day."""
    if hit.kind == "mail" and hit.senders:
        return hit.senders[0]
    if hit.kind == "chat" and hit.started_at:
        return short_time(hit.started_at)[:10]
    return os.path.basename(readable_path(hit.path))


def describe(hit: Hit, date: str = "") -> str:
    """The tooltip of a result: what the user may want to know before opening it."""
    path = readable_path(hit.path)  # labels: Qt would drop the bytes of a name not UTF-8
    lines = [os.path.basename(path)]
    if hit.title and not is_photo(hit):
        lines.insert(0, hit.title)
    lines.append(f"score {hit.score:.3f} · {hit.kind}")
    place = describe_locator(hit)
    if place:
        lines.append(place)
    if hit.places:
        lines.append(describe_other_places(hit))
    if hit.taken_at:
        lines.append(f"taken {hit.taken_at.replace('T', ' ')}")
    elif hit.started_at and hit.item_kind != "window":  # a window's times are in its place
        lines.append(f"sent {short_time(hit.started_at)}")
    elif date and not hit.started_at:
        lines.append(f"modified {date.replace('T', ' ')}")
    if hit.camera:
        lines.append(hit.camera)
    if hit.width and hit.height:
        lines.append(f"{hit.width} × {hit.height}")
    if hit.size:
        lines.append(f"{hit.size / 1e6:.1f} MB" if hit.size >= 1e5 else f"{hit.size / 1e3:.0f} kB")
    lines.append(os.path.dirname(path))
    return "\n".join(lines)


class ResultsModel(QAbstractListModel):
    def __init__(self, thumbnails: ThumbnailCache, parent=None) -> None:
        super().__init__(parent)
        self._thumbnails = thumbnails
        self._all: list[Hit] = []
        self._dates: dict[str, str] = {}
        self._rows: list[Hit] = []
        self._row_of_thumb: dict[str, int] = {}
        self.cutoff: float | None = None
        self.sort = RELEVANCE
        thumbnails.loaded.connect(self._thumbnail_loaded)

    # -- the data ------------------------------------------------------------------------

    @property
    def total(self) -> int:
        """Hits of the last search, including those below the cut-off."""
        return len(self._all)

    def hits(self) -> list[Hit]:
        """The visible hits, in display order."""
        return list(self._rows)

    def hit(self, row: int) -> Hit | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def set_hits(self, hits: list[Hit], dates: dict[str, str] | None = None) -> None:
        self._all = list(hits)
        self._dates = dict(dates or {})
        self._thumbnails.forget_queue()
        self._rebuild()

    def clear(self) -> None:
        self.set_hits([])

    def set_cutoff(self, cutoff: float | None) -> None:
        """Hide hits scoring below ``cutoff`` (``None``: show all)."""
        if cutoff != self.cutoff:
            self.cutoff = cutoff
            self._rebuild()

    def set_sort(self, sort: str) -> None:
        if sort not in (RELEVANCE, DATE):
            raise ValueError(f"unknown sort order {sort!r}")
        if sort != self.sort:
            self.sort = sort
            self._rebuild()

    def _rebuild(self) -> None:
        rows = [h for h in self._all if self.cutoff is None or h.score >= self.cutoff]
        if self.sort == DATE:
            # Newest first; photos without any date go last.
            rows.sort(key=lambda h: self._dates.get(h.path) or "", reverse=True)
        else:
            rows.sort(key=lambda h: -h.score)
        self.beginResetModel()
        self._rows = rows
        self._row_of_thumb = {str(h.thumbnail): i for i, h in enumerate(rows) if h.thumbnail}
        self.endResetModel()

    def _thumbnail_loaded(self, key: str) -> None:
        row = self._row_of_thumb.get(key)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.DecorationRole])

    # -- Qt model API --------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt idiom
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        hit = self._rows[index.row()]
        if role == Qt.DisplayRole:
            return display_name(hit)
        if role == Qt.DecorationRole:
            return self._thumbnails.get(hit.thumbnail)
        if role == Qt.ToolTipRole:
            return plain_tip(describe(hit, self._dates.get(hit.path, "")))
        if role == HitRole:
            return hit
        if role == ScoreRole:
            return hit.score
        if role == DateRole:
            return self._dates.get(hit.path, "")
        return None


class ResultDelegate(QStyledItemDelegate):
    """Draws a photo's thumbnail, or a document's card, over its name and "score · place"."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._documents: OrderedDict[tuple, QTextDocument] = OrderedDict()  # laid-out snippets

    def sizeHint(self, option, index) -> QSize:  # noqa: ANN001 - Qt signature
        return CELL

    def paint(self, painter: QPainter, option, index) -> None:  # noqa: ANN001
        painter.save()
        painter.setRenderHint(QPainter.Antialiasing)
        palette = option.palette
        rect = option.rect.adjusted(4, 4, -4, -4)
        if option.state & QStyle.State_Selected:
            painter.setPen(Qt.NoPen)
            painter.setBrush(palette.color(QPalette.Highlight).lighter(160))
            painter.drawRoundedRect(rect, 6, 6)
        thumb_rect = QRect(rect.left() + (rect.width() - THUMB.width()) // 2, rect.top() + 2,
                           THUMB.width(), THUMB.height())  # fmt: skip
        hit: Hit = index.data(HitRole)
        pixmap = index.data(Qt.DecorationRole)
        if is_photo(hit):
            self._paint_photo(painter, palette, thumb_rect, pixmap, hit)
        else:
            self._paint_card(painter, option, thumb_rect, hit, pixmap)
        text_rect = QRect(rect.left() + 4, thumb_rect.bottom() + 4, rect.width() - 8, 18)
        metrics = option.fontMetrics
        name = metrics.elidedText(str(index.data(Qt.DisplayRole)), Qt.ElideMiddle,
                                  text_rect.width())  # fmt: skip
        painter.setFont(option.font)  # the card drew in smaller ones
        painter.setPen(palette.color(QPalette.Text))
        painter.drawText(text_rect, Qt.AlignHCenter | Qt.AlignVCenter, name)
        small = _smaller(option.font, 0.85)
        painter.setFont(small)
        painter.setPen(QPen(QColor(palette.color(QPalette.Text)).lighter(170)))
        if hit.box is not None:  # a detected object matched: say which
            place = hit.object_label or ""
        else:
            place = "" if is_photo(hit) else describe_locator(hit)
            if place and hit.places:  # "page 23 +2": two more places inside
                place += f" +{len(hit.places) - 1}"
        caption = f"{hit.score:.2f} · {place or hit.kind}"
        caption = painter.fontMetrics().elidedText(caption, Qt.ElideRight, text_rect.width())
        painter.drawText(text_rect.translated(0, 16), Qt.AlignHCenter | Qt.AlignVCenter, caption)
        painter.restore()

    def _paint_photo(
        self,
        painter: QPainter,
        palette: QPalette,
        box: QRect,
        pixmap,  # noqa: ANN001 - QPixmap | None
        hit: Hit,
    ) -> None:
        if pixmap is not None and not pixmap.isNull():
            size = pixmap.size().scaled(box.size(), Qt.KeepAspectRatio)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(box.center())
            painter.drawPixmap(target, pixmap)
            if hit.box is not None and hit.width and hit.height:
                _paint_object_box(painter, QRectF(target), hit)
        else:
            painter.setPen(Qt.NoPen)
            painter.setBrush(palette.color(QPalette.AlternateBase).darker(106))
            painter.drawRoundedRect(box.adjusted(12, 12, -12, -12), 4, 4)

    def _paint_card(self, painter: QPainter, option, box: QRect, hit: Hit, pixmap) -> None:  # noqa: ANN001
        palette = option.palette
        card = box.adjusted(4, 2, -4, -2)
        background = palette.color(QPalette.Base)
        painter.setPen(QPen(palette.color(QPalette.Mid), 1))
        painter.setBrush(background)
        painter.drawRoundedRect(card, 6, 6)
        inner = card.adjusted(8, 8, -8, -8)
        badge = self._paint_badge(painter, option.font, inner.topLeft(), hit.kind)
        top, note_right = badge.bottom() + 6, inner.right()
        if pixmap is not None and not pixmap.isNull():  # a PDF's first page, in the corner
            size = pixmap.size().scaled(PAGE_THUMB, Qt.KeepAspectRatio)
            page = QRect(inner.right() - size.width(), inner.top(), size.width(), size.height())
            painter.drawPixmap(page, pixmap)
            painter.setPen(QPen(palette.color(QPalette.Mid), 1))
            painter.setBrush(Qt.NoBrush)
            painter.drawRect(page)
            top, note_right = max(top, page.bottom() + 6), page.left() - 6
        note = QRect(badge.right() + 6, badge.top(), note_right - badge.right() - 6, badge.height())
        painter.setFont(_smaller(option.font, 0.8))
        painter.setPen(QColor(palette.color(QPalette.Text)).lighter(170))
        text = painter.fontMetrics().elidedText(card_note(hit), Qt.ElideMiddle, note.width())
        painter.drawText(note, Qt.AlignLeft | Qt.AlignVCenter, text)
        if hit.snippet is None or not hit.snippet.text:
            return
        area = QRect(inner.left(), top, inner.width(), inner.bottom() - top)
        document = self._snippet_document(hit, option.font, area.width())
        painter.save()
        painter.translate(area.topLeft())
        painter.setClipRect(QRect(0, 0, area.width(), area.height()))
        context = QAbstractTextDocumentLayout.PaintContext()
        context.palette.setColor(QPalette.Text, palette.color(QPalette.Text))
        document.documentLayout().draw(painter, context)
        painter.restore()
        if document.size().height() > area.height():  # fade out what does not fit
            fade = QRectF(area.left(), area.bottom() - 16, area.width(), 17)
            gradient = QLinearGradient(fade.topLeft(), fade.bottomLeft())
            transparent = QColor(background)
            transparent.setAlpha(0)
            gradient.setColorAt(0, transparent)
            gradient.setColorAt(1, background)
            painter.fillRect(fade, gradient)

    def _paint_badge(self, painter: QPainter, font: QFont, at, kind: str) -> QRect:  # noqa: ANN001
        text, colour = BADGES.get(kind, (kind.upper(), "#555555"))
        badge_font = _smaller(font, 0.75)
        badge_font.setBold(True)
        painter.setFont(badge_font)
        metrics = painter.fontMetrics()
        badge = QRectF(QPointF(at), QSize(metrics.horizontalAdvance(text) + 10,
                                          metrics.height() + 2))  # fmt: skip
        painter.setPen(Qt.NoPen)
        painter.setBrush(QColor(colour))
        painter.drawRoundedRect(badge, 3, 3)
        painter.setPen(QColor("white"))
        painter.drawText(badge, Qt.AlignCenter, text)
        painter.setFont(font)
        return badge.toAlignedRect()

    def _snippet_document(self, hit: Hit, font: QFont, width: int) -> QTextDocument:
        """The snippet laid out for ``width`` (cached: cells are painted again and again)."""
        key = (hit.snippet, width, font.key())
        document = self._documents.get(key)
        if document is None:
            document = TextDocument()  # loads nothing: the snippet is escaped text anyway
            document.setDocumentMargin(0)
            document.setDefaultFont(_smaller(font, 0.9))
            document.setHtml(marked_html(hit.snippet))
            document.setTextWidth(width)
            self._documents[key] = document
            while len(self._documents) > 500:
                self._documents.popitem(last=False)
        self._documents.move_to_end(key)
        return document


def _paint_object_box(painter: QPainter, shown: QRectF, hit: Hit) -> None:
    """The box of the object that matched, over the thumbnail painted in ``shown`` (the
    thumbnail is the whole photo scaled, so the box scales by ``shown`` / the photo's size)."""
    rect = box_rect(hit.box, (hit.width, hit.height), shown)
    painter.save()
    painter.setClipRect(shown)
    font = _smaller(painter.font(), 0.8)
    paint_box(painter, rect, hit.object_label or "", font=font, bounds=shown)
    painter.restore()


def _smaller(font: QFont, factor: float) -> QFont:
    smaller = QFont(font)
    smaller.setPointSizeF(max(font.pointSizeF() * factor, 7.0))
    return smaller


class ResultsView(QListView):
    """Icon-mode grid of uniform cells that reflows with the window width."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.IconMode)
        self.setResizeMode(QListView.Adjust)
        self.setMovement(QListView.Static)
        self.setUniformItemSizes(True)
        self.setGridSize(CELL)
        self.setSpacing(0)
        self.setWrapping(True)
        self.setLayoutMode(QListView.Batched)
        self.setBatchSize(200)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setVerticalScrollMode(QAbstractItemView.ScrollPerPixel)
        self.setDragEnabled(False)
        self.setAcceptDrops(False)  # a dropped image goes to the window (image query)
        self.setMouseTracking(True)
        self.setItemDelegate(ResultDelegate(self))

    def selected_hit(self) -> Hit | None:
        index = self.currentIndex()
        if not index.isValid() or not self.selectionModel().isSelected(index):
            return None
        return index.data(HitRole)

    def selected_path(self) -> Path | None:
        hit = self.selected_hit()
        return Path(hit.path) if hit else None
