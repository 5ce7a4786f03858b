"""What the window's search shows: the query, its results, the selected hit, busy and errors.

``SearchController`` (gui/search_controller.py) changes the query (debounced), runs it and
writes the outcome here; the result grid, the central message and the preview subscribe to the
events (``state.events.results.connect(...)``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from desktop_search.search.hits import Hit
from desktop_search.search.query import Filters
from desktop_search.viewmodels.events import Event, EventedModel, EventGroup

log = logging.getLogger(__name__)

Region = tuple[float, float, float, float]  # (x, y, w, h), full-size pixels of the query image
RELEVANCE, DATE = "relevance", "date"  # the orders of the results


class QueryMode(StrEnum):
    """What a query searches with (the messages say "Nothing matches the filters" for FILTERS)."""

    NONE = "none"
    TEXT = "text"
    IMAGE = "image"
    TEXT_AND_IMAGE = "text and image"
    FILTERS = "filters"  # the filter bar alone: the newest items it lets through


@dataclass(frozen=True)
class SearchQuery:
    """The query as typed and chosen: text, example image (and the region of it searched with;
    ``None``: all of it) and the filter bar's ``Filters``."""

    text: str = ""
    image: Path | None = None
    region: Region | None = None
    filters: Filters = field(default_factory=Filters)

    @property
    def mode(self) -> QueryMode:
        text, image = bool(self.text.strip()), self.image is not None
        if text and image:
            return QueryMode.TEXT_AND_IMAGE
        if text:
            return QueryMode.TEXT
        if image:
            return QueryMode.IMAGE
        return QueryMode.NONE if self.filters.is_empty else QueryMode.FILTERS

    @property
    def empty(self) -> bool:
        return self.mode == QueryMode.NONE

    def quoted(self) -> str:
        """The query as the messages quote it: the text and/or the example image's name."""
        text = self.text.strip()
        what = f"“{text}”" if text else ""
        if self.image is not None:
            what = f"{what} + {self.image.name}" if what else self.image.name
        return what


@dataclass
class SearchOutcome:
    """A finished search: the query it answers, its hits, a date per hit (for sorting by date)
    and the query's words (for marking them in the preview)."""

    query: SearchQuery
    hits: list[Hit]
    dates: dict[str, str] = field(default_factory=dict)
    terms: tuple[str, ...] = ()


class SearchEvents(EventGroup):
    query: Event[SearchQuery]
    results: Event[SearchOutcome | None]
    error: Event[str]
    busy: Event[bool]
    selected: Event[Hit | None]
    sort: Event[str]
    cutoff: Event[float | None]


@dataclass(eq=False)
class SearchState(EventedModel):
    """The search side of the window; every field emits ``events.<field>`` when it changes."""

    query: SearchQuery = field(default_factory=SearchQuery)
    results: SearchOutcome | None = None  # the answer to ``query``; None: cleared, or none yet
    error: str = ""  # why ``query`` failed (a mistyped filter says what to write instead)
    busy: bool = False  # a search waits (typing is debounced) or runs
    selected: Hit | None = None  # the hit selected in the results
    sort: str = RELEVANCE  # RELEVANCE or DATE
    cutoff: float | None = None  # the relevance cut-off (a score 0..1); None: show all
    events: SearchEvents = field(default_factory=SearchEvents, init=False, repr=False)

    @property
    def mode(self) -> QueryMode:
        return self.query.mode
