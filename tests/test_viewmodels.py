"""The Qt-free view models: typed events, evented fields, the search and preview state."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from desktop_search.search.hits import Hit
from desktop_search.search.query import Filters
from desktop_search.viewmodels.events import Event, EventedModel, EventGroup
from desktop_search.viewmodels.preview import PreviewState, page_of
from desktop_search.viewmodels.search import (
    DATE,
    RELEVANCE,
    QueryMode,
    SearchOutcome,
    SearchQuery,
    SearchState,
)


def hit(name: str = "a.jpg", kind: str = "photo", **fields) -> Hit:
    return Hit(path=f"/photos/{name}", score=0.5, kind=kind, file_id=1, item_id=1, **fields)


def recorder(event: Event) -> list:
    seen: list = []
    event.connect(seen.append)
    return seen


# -- Event ------------------------------------------------------------------------------------


def test_an_event_calls_its_callbacks_in_order_once_each():
    event: Event[int] = Event("count")
    calls = []
    first = event.connect(lambda value: calls.append(("first", value)))
    event.connect(lambda value: calls.append(("second", value)))
    event.connect(first)  # connecting again does not call it twice
    event.emit(3)
    assert calls == [("first", 3), ("second", 3)]
    event.disconnect(first)
    event.disconnect(first)  # not connected any more: ignored
    event.emit(4)
    assert calls[2:] == [("second", 4)] and len(event) == 1


def test_a_callback_may_disconnect_itself_while_the_event_is_delivered():
    event: Event[str] = Event("text")
    calls = []

    def once(value: str) -> None:
        calls.append(value)
        event.disconnect(once)

    event.connect(once)
    event.connect(calls.append)
    event.emit("a")
    event.emit("b")
    assert calls == ["a", "a", "b"]


# -- EventedModel -----------------------------------------------------------------------------


class CounterEvents(EventGroup):
    count: Event[int]
    label: Event[str]


@dataclass(eq=False)
class Counter(EventedModel):
    count: int = 0
    label: str = ""
    events: CounterEvents = field(default_factory=CounterEvents, init=False, repr=False)


def test_assigning_a_different_value_emits_the_new_value_and_an_equal_one_nothing():
    counter = Counter()
    counts = recorder(counter.events.count)
    counter.count = 2
    counter.count = 2
    counter.label = ""
    assert counts == [2] and counter.count == 2


def test_building_a_model_emits_nothing_and_values_of_another_type_are_a_change():
    counter = Counter(count=5, label="x")
    counts = recorder(counter.events.count)
    counter.count = 5.0  # equal, but not the same kind of value
    assert counts == [5.0]


def test_update_sets_every_field_before_the_first_event():
    counter = Counter()
    seen = []
    counter.events.count.connect(lambda _count: seen.append((counter.count, counter.label)))
    counter.update(count=1, label="one")
    assert seen == [(1, "one")]
    with pytest.raises(AttributeError, match="no field 'colour'"):
        counter.update(colour="red")


def test_update_emits_the_value_a_field_has_when_its_event_comes():
    counter = Counter()
    labels = recorder(counter.events.label)
    counter.events.count.connect(lambda count: setattr(counter, "label", f"now {count}"))
    counter.update(count=1, label="one")
    assert labels == ["now 1"] and counter.label == "now 1"


def test_a_model_whose_fields_and_events_differ_is_refused():
    @dataclass(eq=False)
    class Broken(EventedModel):
        count: int = 0
        colour: str = ""
        events: CounterEvents = field(default_factory=CounterEvents, init=False)

    with pytest.raises(TypeError, match=r"fields \['colour'\] have no event.*events \['label'\]"):
        Broken()


# -- SearchState ------------------------------------------------------------------------------


def test_the_mode_of_a_query_says_what_it_searches_with():
    image = Path("/photos/cat.jpg")
    assert SearchQuery().mode == QueryMode.NONE and SearchQuery().empty
    assert SearchQuery(text="  ").mode == QueryMode.NONE
    assert SearchQuery(text="cat").mode == QueryMode.TEXT
    assert SearchQuery(image=image).mode == QueryMode.IMAGE
    assert SearchQuery(text="cat", image=image).mode == QueryMode.TEXT_AND_IMAGE
    filters_only = SearchQuery(filters=Filters(after=date(2020, 1, 1)))
    assert filters_only.mode == QueryMode.FILTERS and not filters_only.empty


def test_a_query_is_quoted_as_the_messages_say_it():
    image = Path("/photos/cat.jpg")
    assert SearchQuery(text=" red car ").quoted() == "“red car”"
    assert SearchQuery(image=image).quoted() == "cat.jpg"
    assert SearchQuery(text="red", image=image).quoted() == "“red” + cat.jpg"


def test_search_state_emits_each_change_once_with_the_new_value():
    state = SearchState()
    assert (state.results, state.error, state.busy, state.sort) == (None, "", False, RELEVANCE)
    queries, results, busy = (recorder(state.events.query), recorder(state.events.results),
                              recorder(state.events.busy))  # fmt: skip
    state.query = SearchQuery(text="cat")
    state.query = SearchQuery(text="cat")  # an equal query is no change
    state.busy = True
    outcome = SearchOutcome(SearchQuery(text="cat"), [hit()], {"/photos/a.jpg": "2020"}, ("cat",))
    state.update(results=outcome, error="", busy=False)
    assert queries == [SearchQuery(text="cat")]
    assert results == [outcome] and busy == [True, False]
    assert state.mode == QueryMode.TEXT


def test_the_sort_the_cutoff_and_the_selection_are_state_too():
    state = SearchState()
    sorts, cutoffs, selected = (recorder(state.events.sort), recorder(state.events.cutoff),
                                recorder(state.events.selected))  # fmt: skip
    state.sort = DATE
    state.cutoff = 0.25
    state.cutoff = None
    state.selected = hit("b.jpg")
    state.selected = hit("b.jpg")  # the same hit of a refreshed list: no change
    assert sorts == [DATE] and cutoffs == [0.25, None] and selected == [hit("b.jpg")]


# -- PreviewState -----------------------------------------------------------------------------


def test_showing_a_hit_resets_what_the_last_one_loaded_and_announces_the_hit_last():
    state = PreviewState()
    state.show(hit("old.pdf", kind="pdf", locator={"page": 2}))
    state.update(pages=9, loaded=True, busy=False, error="File not found: old.pdf", missing=True)
    order = []
    for event in state.events:
        event.connect(lambda value, name=event.name: order.append(name))
    seen_at_hit = []
    state.events.hit.connect(lambda _hit: seen_at_hit.append((state.error, state.missing)))
    new = hit("new.jpg")
    state.show(new)
    assert order[-1] == "hit" and set(order) == {"page", "pages", "loaded", "error", "missing",
                                                 "hit"}  # fmt: skip
    assert seen_at_hit == [("", False)]
    assert (state.hit, state.page, state.pages, state.loaded) == (new, None, None, False)


def test_showing_the_hit_shown_again_loads_it_again():
    state = PreviewState()
    shown = recorder(state.events.hit)
    state.show(hit("a.jpg"))
    state.show(hit("a.jpg"))  # an equal hit (a refreshed list): its file may be back
    state.show(None)
    assert shown == [hit("a.jpg"), hit("a.jpg"), None]


def test_the_place_and_the_page_come_from_the_hits_locator():
    pdf = hit("report.pdf", kind="pdf", locator={"page": 3})
    state = PreviewState()
    assert state.place == "" and state.page is None
    state.show(pdf)
    assert state.page == 3 and "3" in state.place
    assert page_of(hit("report.pdf", kind="pdf")) is None
    assert page_of(hit("notes.txt", kind="text", locator={"page": 3})) is None


def test_the_view_models_load_without_qt():
    """They are the window's state without the window: importing them loads no Qt."""
    code = (
        "import sys, desktop_search.viewmodels.search, desktop_search.viewmodels.preview;"
        "qt = sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6')));"
        "gui = sorted(m for m in sys.modules if m.startswith('desktop_search.gui'));"
        "print(qt, gui); sys.exit(1 if qt or gui else 0)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_preview_steps_through_a_hits_places_and_stops_at_either_end():
    places = [hit("m.pdf", kind="pdf", locator={"page": page}) for page in (40, 3, 112)]
    for item_id, place in enumerate(places, 1):
        place.item_id = item_id
    best = Hit(**{**places[0].__dict__, "places": places})
    state = PreviewState()
    shown = recorder(state.events.hit)
    state.show(best)
    assert (state.place_index, state.place_count, state.page) == (0, 3, 40)
    state.step(-1)  # before the first: nothing
    assert len(shown) == 1
    state.step(1)
    assert (state.place_index, state.page, state.place) == (1, 3, "page 3")
    assert state.hit.places == places
    state.step(1)
    state.step(1)  # past the last: nothing
    assert [h.locator["page"] for h in shown] == [40, 3, 112]
    state.step(-2)
    assert state.hit == best and state.page == 40
    state.show(hit("one.pdf", kind="pdf", locator={"page": 1}))
    assert (state.place_index, state.place_count) == (0, 1)
    state.step(1)
    assert state.page == 1
    state.show(None)
    assert state.place_count == 0
    state.step(1)  # nothing shown: nothing to step
