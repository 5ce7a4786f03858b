"""When the user last searched, so that indexing in the same process steps aside for a moment.

Its own module, on the search side: a search records itself here and must not import the
indexer to do so (``IndexControl`` is what waits on it).
"""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger(__name__)


class UserActivity:
    """When the user last searched: indexing in the same process steps aside for a moment,
    so the model and the CPU answer the query first."""

    def __init__(self, quiet: float = 0.5, longest_wait: float = 2.0) -> None:
        self.quiet = quiet  # how long after a search the indexer keeps still
        self.longest_wait = longest_wait  # then it works at least as long before yielding again
        self._last_search = float("-inf")
        self._working_until = float("-inf")

    def searched(self) -> None:
        self._last_search = time.monotonic()

    def wait_until_quiet(self, cancelled: threading.Event) -> float:
        """Block while a search happened within ``quiet`` seconds; returns the time waited.

        Someone who keeps searching gets at most half of the time: after waiting
        ``longest_wait`` the indexer works on for as long, so it is slowed, never starved.
        """
        started = time.monotonic()
        if started < self._working_until:
            return 0.0
        while not cancelled.is_set():
            now = time.monotonic()
            remaining = self._last_search + self.quiet - now
            if remaining <= 0:
                break
            if now - started >= self.longest_wait:
                self._working_until = now + self.longest_wait
                break
            cancelled.wait(min(remaining, self.longest_wait - (now - started)))
        return time.monotonic() - started
