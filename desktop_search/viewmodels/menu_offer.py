"""What the first-run panel's offer to add the app to the applications menu shows.

The offer (gui/menu_offer.py) writes the steps here as they happen: ``adding()`` when the
person says yes, then ``added(report)`` or ``failed(error)`` from the worker that installs,
``declined()`` when they say no. The widget shows ``line`` and the buttons ``buttons_shown``
says, and hides itself once ``visible`` is False.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from desktop_search.errors import DesktopSearchError
from desktop_search.platform.desktop_entry import EntryReport
from desktop_search.viewmodels.events import Event, EventedModel, EventGroup

log = logging.getLogger(__name__)

OFFERED, ADDING, ADDED, FAILED, DECLINED = "offered", "adding", "added", "failed", "declined"

QUESTION = "Add desktop-search to your applications menu?"
# The command on a line of its own: wrapped, it would break at one of its hyphens.
EXPLANATION = (
    "A menu entry with the app's icon, for you only. To take it away:\n"
    "desktop-search install-desktop-entry --remove"
)
ADDED_LINE = "Added: desktop-search is in your applications menu."


class MenuOfferEvents(EventGroup):
    phase: Event[str]
    error: Event[str]


@dataclass(eq=False)
class MenuOfferState(EventedModel):
    """The offer's progress; every field emits ``events.<field>`` when it changes."""

    phase: str = OFFERED
    error: str = ""  # the one actionable line of a failure
    events: MenuOfferEvents = field(default_factory=MenuOfferEvents, init=False, repr=False)

    @property
    def visible(self) -> bool:
        return self.phase != DECLINED

    @property
    def buttons_shown(self) -> bool:
        """Add and No: while the answer is open (again after a failure)."""
        return self.phase in (OFFERED, FAILED)

    @property
    def line(self) -> str:
        """The line under the question: what happens, what happened, or what went wrong."""
        if self.phase == ADDING:
            return "Adding…"
        if self.phase == ADDED:
            return ADDED_LINE
        if self.phase == FAILED:
            return self.error
        return EXPLANATION

    def adding(self) -> None:
        self.update(phase=ADDING, error="")

    def added(self, report: EntryReport) -> None:
        log.info("added to the menu: %d file(s) written", len(report.written))
        self.phase = ADDED

    def failed(self, error: BaseException) -> None:
        """A failure, as one line: a DesktopSearchError says what to do; anything else is a bug,
        named by its type so a report is useful."""
        if isinstance(error, DesktopSearchError):
            text = str(error)
        else:
            text = f"Could not add the menu entry: {type(error).__name__}: {error}"
        self.update(phase=FAILED, error=" ".join(text.split()) or type(error).__name__)

    def declined(self) -> None:
        self.phase = DECLINED
