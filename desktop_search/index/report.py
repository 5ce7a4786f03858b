"""What one indexing run did: printed as the summary, returned as JSON."""

from __future__ import annotations

from dataclasses import dataclass, field

from desktop_search.store.pathnames import path_json


@dataclass
class IndexReport:
    """What one indexing run did; printed as the summary and returned as JSON."""

    new: int = 0
    changed: int = 0
    caught_up: int = 0  # unchanged files encoded now because the model had no embedding yet
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    still_failing: int = 0  # failed in an earlier run and unchanged since (not retried)
    moved: int = 0  # renamed or moved: embeddings kept, nothing re-encoded
    copied: int = 0  # new files with the bytes of an indexed one: embeddings copied
    retrying: int = 0  # failed for a passing reason (I/O, changing); queued for a later retry
    documents: int = 0  # PDFs, text files, e-mails and chats read
    passages: int = 0  # passages encoded into the text space
    objects: int = 0  # objects detected in photos (see index/passes/objects.py)
    photo_texts: int = 0  # photos in which text was found
    decoded: int = 0
    encoded: int = 0
    seconds: float = 0.0
    # Seconds from the start of the run until every photo of the run had its CLIP embedding
    # committed (and so could be found by a search); None without a CLIP model.
    searchable_seconds: float | None = None
    failures: list[tuple[str, str]] = field(default_factory=list)
    # Symbolic links not followed, by why: "outside" (the target lies outside the indexed
    # folder: a link to ~/.ssh/id_rsa is not indexed), "dangling", "loop". Counted, not failures.
    skipped_links: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict:
        data = dict(self.__dict__)
        data["failures"] = [{**path_json(path), "reason": reason} for path, reason in self.failures]
        return data
