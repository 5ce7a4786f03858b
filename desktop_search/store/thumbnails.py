"""Thumbnails made at indexing time, stored as files named by the photo's content hash.

Naming by content means a moved or renamed photo keeps its thumbnail and identical copies share
one (a photo and a document, even, with the same bytes). So a thumbnail is deleted only when no
file row names it any more, and only after the change that dropped it committed: the writer
compares the folder with what the rows name (``unused``) at moments when nothing is being
indexed (no thumbnail is written for a row not committed yet). A crash in between leaves an
unused thumbnail, which the next clean-up or ``doctor`` deletes; a row never names a deleted one.
Files are private (0600), folders 0700.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable
from pathlib import Path

from desktop_search.platform import private

log = logging.getLogger(__name__)

# What ``put`` names a thumbnail: <first two hex digits>/<hash>.jpg. Only such files are ever
# deleted (nothing else in the folder is the store's to judge).
_NAME = re.compile(r"[0-9a-f]{2}/[0-9a-f]{8,128}\.jpg")
# What ``put`` names the temporary it renames into place: .<name>.<pid>-<thread>.tmp.
_TEMPORARY = re.compile(r"[0-9a-f]{2}/\.[0-9a-f]{8,128}\.jpg\.[0-9]+-[0-9]+\.tmp")


class ThumbnailStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def put(self, content_hash: str, jpeg: bytes) -> str:
        """Write a thumbnail atomically unless present; return its path relative to the folder."""
        relative = f"{content_hash[:2]}/{content_hash}.jpg"
        target = self.folder / relative
        if not target.exists():
            private.make_folder(target.parent)
            # Unique per thread: identical photos in one batch share a name and decode in parallel.
            unique = f"{os.getpid()}-{threading.get_ident()}"
            temporary = target.with_name(f".{target.name}.{unique}.tmp")
            temporary.unlink(missing_ok=True)  # left by a killed run of this pid and thread
            private.write_bytes(temporary, jpeg)
            os.replace(temporary, target)
        return relative

    def exists(self, relative: str | None) -> bool:
        return bool(relative) and (self.folder / relative).is_file()

    def path(self, relative: str | None) -> Path | None:
        return self.folder / relative if relative else None

    def unused(self, in_use: set[str]) -> list[str]:
        """Thumbnails in the folder that no row names (``in_use``: the names the rows hold),
        relative to the folder. Temporaries of interrupted writes are not among them."""
        found = self._entries()
        return sorted(name for name in found if _NAME.fullmatch(name) and name not in in_use)

    def abandoned(self) -> list[str]:
        """Temporaries of writes that never finished (a killed run), relative to the folder.
        Only a process holding the writer lock writes thumbnails, so while it holds the lock and
        decodes nothing, every temporary here is abandoned."""
        return sorted(name for name in self._entries() if _TEMPORARY.fullmatch(name))

    def _entries(self) -> list[str]:
        found: list[str] = []
        try:
            with os.scandir(self.folder) as shards:
                for shard in shards:
                    if len(shard.name) == 2 and shard.is_dir(follow_symlinks=False):
                        with os.scandir(shard.path) as files:
                            found += [f"{shard.name}/{entry.name}" for entry in files]
        except FileNotFoundError:
            return []
        return found

    def delete(self, names: Iterable[str]) -> int:
        """Delete thumbnails named relative to the folder; returns how many went."""
        deleted = 0
        for name in names:
            if not (_NAME.fullmatch(name) or _TEMPORARY.fullmatch(name)):
                continue  # not a thumbnail name (a row of a damaged database, say)
            try:
                (self.folder / name).unlink()
                deleted += 1
            except FileNotFoundError:
                pass
        if deleted:
            log.info("deleted %d thumbnail(s) no file uses any more", deleted)
        return deleted
