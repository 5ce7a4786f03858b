"""Thumbnails made at indexing time, stored as files named by the photo's content hash.

Naming by content means a moved or renamed photo keeps its thumbnail and identical copies share
one. Orphans (from a crash between writing a thumbnail and committing its row) are harmless.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path


class ThumbnailStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def put(self, content_hash: str, jpeg: bytes) -> str:
        """Write a thumbnail atomically unless present; return its path relative to the folder."""
        relative = f"{content_hash[:2]}/{content_hash}.jpg"
        target = self.folder / relative
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            # Unique per thread: identical photos in one batch share a name and decode in parallel.
            unique = f"{os.getpid()}-{threading.get_ident()}"
            temporary = target.with_name(f".{target.name}.{unique}.tmp")
            temporary.write_bytes(jpeg)
            os.replace(temporary, target)
        return relative

    def exists(self, relative: str | None) -> bool:
        return bool(relative) and (self.folder / relative).is_file()

    def path(self, relative: str | None) -> Path | None:
        return self.folder / relative if relative else None
