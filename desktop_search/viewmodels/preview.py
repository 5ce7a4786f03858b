"""What the preview pane shows: one hit, the place of the match, the page or text loaded.

The window's search side calls ``show(hit)`` when the selection changes; the pane
(gui/preview.py) subscribes to ``events.hit`` and loads the photo, the PDF page or the text on
workers, writing ``busy``, ``pages``, ``loaded``, ``error`` and ``missing`` back here, which
the notice line and the actions subscribe to.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from desktop_search.search.hits import Hit
from desktop_search.search.locators import describe_locator
from desktop_search.viewmodels.events import Event, EventedModel, EventGroup

log = logging.getLogger(__name__)


def page_of(hit: Hit | None) -> int | None:
    """The PDF page a hit is on (1-based), else None (photos, messages, text files)."""
    if hit is None or hit.kind != "pdf":
        return None
    page = (hit.locator or {}).get("page")
    return page if isinstance(page, int) else None


class PreviewEvents(EventGroup):
    hit: Event[Hit | None]
    terms: Event[tuple[str, ...]]
    page: Event[int | None]
    pages: Event[int | None]
    loaded: Event[bool]
    busy: Event[bool]
    error: Event[str]
    missing: Event[bool]


@dataclass(eq=False)
class PreviewState(EventedModel):
    """The preview of one hit; every field emits ``events.<field>`` when it changes."""

    hit: Hit | None = None  # None: the empty pane
    terms: tuple[str, ...] = ()  # the query's words, marked in the documents shown next
    page: int | None = None  # the PDF page shown (from the hit's locator)
    pages: int | None = None  # how many pages that PDF has, once the page is rendered
    loaded: bool = False  # the large photo, the page or the text is shown (not a placeholder)
    busy: bool = False  # a load runs on a worker
    error: str = ""  # what could not be shown, as the pane's notice says it
    missing: bool = False  # the file is gone (what the index knows is still shown)
    events: PreviewEvents = field(default_factory=PreviewEvents, init=False, repr=False)

    @property
    def place(self) -> str:
        """Where in the file the match is ("page 3", "text in the photo"); "" when nowhere."""
        return describe_locator(self.hit) if self.hit is not None else ""

    @property
    def place_count(self) -> int:
        """How many places of its file the hit shown has (1 for most; 0 for none shown)."""
        return self.hit.place_count if self.hit is not None else 0

    @property
    def place_index(self) -> int:
        """Which of them is shown (0: the best)."""
        return self.hit.place_index() if self.hit is not None else 0

    def step(self, delta: int) -> None:
        """Show the hit's next (``delta`` 1) or previous (-1) place: another page of the same
        PDF, its snippet and locator. Nothing happens past the first or the last."""
        index = self.place_index + delta
        if self.hit is None or not 0 <= index < self.place_count or delta == 0:
            return
        self.show(self.hit.place(index))

    def show(self, hit: Hit | None) -> None:
        """Show ``hit`` from the start (``None``: nothing). Showing the one shown again loads it
        again (its file may have come back). ``events.hit`` comes last, after the fields the
        earlier hit had set were reset."""
        again = self.hit == hit  # update() emits nothing for an equal hit
        self.update(page=page_of(hit), pages=None, loaded=False, busy=False, error="",
                    missing=False, hit=hit)  # fmt: skip
        if again:
            self.events.hit.emit(hit)
