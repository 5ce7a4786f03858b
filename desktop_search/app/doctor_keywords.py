"""The doctor's look at the keyword index: one full-text row per item, none without an item.

Kept apart from ``doctor.py`` (long enough). Returns plain (status, detail) pairs that the
doctor turns into its check results.
"""

from __future__ import annotations

from desktop_search.store.pathnames import from_db, name_keywords, to_db
from desktop_search.store.store import Store


def keyword_index_problems(store: Store, repair: bool) -> tuple[bool, str]:
    """(whether anything was wrong, what was found or done)."""
    orphans = [row[0] for row in store.db.execute(
        "SELECT rowid FROM item_text WHERE rowid NOT IN (SELECT id FROM items)")]  # fmt: skip
    missing = store.db.execute(
        "SELECT i.id, i.kind, f.path, f.root FROM items i JOIN files f ON f.id = i.file_id "
        "WHERE NOT EXISTS (SELECT 1 FROM item_text t WHERE t.rowid = i.id)"
    ).fetchall()
    if not orphans and not missing:
        return False, ""
    what = []
    if orphans:
        what.append(f"{len(orphans)} keyword entries without an item")
    if missing:
        what.append(f"{len(missing)} item(s) missing from the keyword index")
    found = "; ".join(what)
    if not repair:
        return True, f"{found}; would delete the stray entries and read the files again"
    with store.db.atomic():
        for chunk_start in range(0, len(orphans), 500):
            chunk = orphans[chunk_start : chunk_start + 500]
            store.db.execute(
                f"DELETE FROM item_text WHERE rowid IN ({','.join('?' * len(chunk))})", chunk
            )
        documents = set()
        for item_id, kind, path, root in missing:
            if kind == "photo":  # a photo's entry is only its name: made again here
                store.index_text(item_id, name_keywords(from_db(path)), None, "")
            else:  # a document's text is only in the file: read it again
                documents.add((from_db(path), from_db(root)))
        for path, _ in documents:  # forget what made it look unchanged
            store.db.execute(
                "UPDATE files SET size = NULL, content_hash = NULL WHERE path = ?", [to_db(path)]
            )
        store.queue.add(sorted(documents), fresh=True)
    return True, f"{found}: fixed" + (
        f", {len(documents)} document(s) queued to be read again" if documents else ""
    )
