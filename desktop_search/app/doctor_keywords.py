"""The doctor's look at the keyword index: one full-text row per item, none without an item.

Kept apart from ``doctor.py`` (long enough). Returns plain (status, detail) pairs that the
doctor turns into its check results.
"""

from __future__ import annotations

from desktop_search.store.pathnames import name_keywords
from desktop_search.store.store import Store


def keyword_index_problems(store: Store, repair: bool) -> tuple[bool, str]:
    """(whether anything was wrong, what was found or done)."""
    orphans = store.checks.keyword_orphans()
    missing = store.checks.unindexed_items()
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
    with store.transaction():
        store.checks.delete_keyword_rows(orphans)
        documents = set()
        for item in missing:
            if item.kind == "photo":  # a photo's entry is only its name: made again here
                store.texts.index_text(item.item_id, name_keywords(item.path), None, "")
            else:  # a document's text is only in the file: read it again
                documents.add((item.path, item.root))
        store.files.mark_changed(path for path, _ in documents)  # what made it look unchanged
        store.queue.add(sorted(documents), fresh=True)
    return True, f"{found}: fixed" + (
        f", {len(documents)} document(s) queued to be read again" if documents else ""
    )
