"""What the Libraries of one process share: one of each, however many threads open a reader.

A ``Library`` makes its ``Resources``; ``Library.reader()`` hands the same object to a Library
for another thread (its own SQLite connection, everything else shared). Each part is safe to use
from several threads (see its own module): the model registry opens each model once, the vector
cache loads each index once (``vectors/spaces.py``), and the user's activity steers the indexer
of this process whichever thread searched.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop_search.app.model_registry import ModelRegistry
from desktop_search.app.object_tools import ObjectTools
from desktop_search.app.text_tools import TextTools
from desktop_search.config import Paths, Settings
from desktop_search.models.install.store import ModelStore
from desktop_search.search.activity import UserActivity
from desktop_search.vectors.spaces import VectorCache


@dataclass(frozen=True)
class Resources:
    """The models (by kind, opened on first use), the loaded vector indices and whether this
    process writes them, and when the user last searched here."""

    registry: ModelRegistry
    text_tools: TextTools
    object_tools: ObjectTools
    vectors: VectorCache
    activity: UserActivity  # searches here make indexing here step aside

    @classmethod
    def create(cls, paths: Paths, settings: Settings, models: ModelStore) -> Resources:
        registry = ModelRegistry(models, settings)
        return cls(
            registry=registry,
            text_tools=TextTools(registry),
            object_tools=ObjectTools(registry, settings),
            vectors=VectorCache(paths.vectors),
            activity=UserActivity(),
        )
