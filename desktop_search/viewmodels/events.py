"""Small typed events for the view models (napari's evented models, without pydantic or Qt).

An ``Event[T]`` calls its callbacks with the new value, on the thread that changed it (the GUI
thread: view models are changed by the window's controllers). An ``EventGroup`` subclass
declares one event per field of its model as annotations; an ``EventedModel`` dataclass emits
``events.<field>(value)`` whenever a field is assigned a value that differs from the old one::

    state.events.results.connect(show_results)
    state.results = outcome  # show_results(outcome)
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
Callback = Callable[[T], object]


class Event(Generic[T]):
    """One kind of change; ``connect(callback)``, and ``emit(value)`` calls every callback."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._callbacks: list[Callback[T]] = []

    def connect(self, callback: Callback[T]) -> Callback[T]:
        """Call ``callback(value)`` on every emit (returned, so it can serve as a decorator)."""
        if callback not in self._callbacks:
            self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callback[T]) -> None:
        """Stop calling ``callback``; one that is not connected is ignored."""
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, value: T) -> None:
        # A copy: a callback may connect or disconnect others while the event is delivered.
        for callback in list(self._callbacks):
            callback(value)

    def __len__(self) -> int:
        return len(self._callbacks)

    def __repr__(self) -> str:
        return f"<Event {self.name}: {len(self._callbacks)} callback(s)>"


class EventGroup:
    """The events of one model: subclasses annotate ``name: Event[type]`` per field."""

    def __init__(self) -> None:
        for name in self.names():
            setattr(self, name, Event(name))

    @classmethod
    def names(cls) -> list[str]:
        names: list[str] = []
        for klass in reversed(cls.__mro__):
            names += [name for name in vars(klass).get("__annotations__", {}) if name not in names]
        return names

    def __iter__(self) -> Iterator[Event[Any]]:
        return (getattr(self, name) for name in self.names())


class EventedModel:
    """Base of a dataclass whose fields emit the event of the same name when they change.

    The subclass declares ``events: <its EventGroup> = field(default_factory=..., init=False)``
    as its last field, so that the values set while it is being built emit nothing."""

    events: EventGroup

    def __post_init__(self) -> None:
        fields = {f.name for f in dataclasses.fields(self)} - {"events"}  # type: ignore[arg-type]
        declared = set(type(self.events).names())
        if fields != declared:
            raise TypeError(
                f"{type(self).__name__}: fields {sorted(fields - declared)} have no event, "
                f"events {sorted(declared - fields)} no field"
            )

    def __setattr__(self, name: str, value: Any) -> None:
        events = self.__dict__.get("events")
        if events is None or name == "events" or name not in self.__dict__:
            object.__setattr__(self, name, value)
            return
        old = self.__dict__[name]
        object.__setattr__(self, name, value)
        if not _same(old, value):
            getattr(events, name).emit(value)

    def update(self, **values: Any) -> None:
        """Set several fields, then emit the events of those that changed, in the order given
        (subscribers see them all set). A field that a subscriber of an earlier event changed
        meanwhile is not announced again: its assignment did that, with the newer value."""
        changed = []
        for name, value in values.items():
            if name not in self.__dict__ or name == "events":
                raise AttributeError(f"{type(self).__name__} has no field {name!r}")
            if not _same(self.__dict__[name], value):
                changed.append(name)
            object.__setattr__(self, name, value)
        for name in changed:
            if _same(self.__dict__[name], values[name]):
                getattr(self.events, name).emit(values[name])


def _same(old: object, new: object) -> bool:
    # Identity first: results lists are compared only when they are different objects.
    return old is new or (type(old) is type(new) and old == new)
