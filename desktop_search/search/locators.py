"""Where in a file a hit is, in words: "page 3", "message from Alice, 2023-05-01 14:02", ...

Shared by the CLI and the window (no Qt here).
"""

from __future__ import annotations

from desktop_search.search.hits import Hit


def short_time(iso: str | None) -> str:
    """``2023-05-01T14:02:09+02:00`` -> ``2023-05-01 14:02`` (the user's words, not ISO's)."""
    if not iso:
        return ""
    day, _, clock = iso.partition("T")
    return f"{day} {clock[:5]}".strip()


def describe_locator(hit: Hit) -> str:
    """A short phrase for the place of the hit inside its file ("" when it is the whole file)."""
    locator, kind = hit.locator or {}, hit.item_kind
    parts: list[str] = []
    if "attachment" in locator:
        parts.append(f"attachment {locator['attachment']}")
    if "page" in locator:
        parts.append(f"page {locator['page']}" + (" (scanned)" if locator.get("ocr") else ""))
    elif "line" in locator and kind == "chunk":
        parts.append(f"line {locator['line']}")
    if kind == "window":
        span = short_time(hit.started_at)
        end = short_time(hit.ended_at)
        if end and end != span:
            span = f"{span} – {end[11:] if end[:10] == span[:10] else end}"
        who = ", ".join(hit.senders or [])
        parts.append(" · ".join(part for part in (span, who) if part))
    elif kind in ("message", "attachment") and "attachment" not in locator:
        sender = (hit.senders or [""])[0]
        when = short_time(hit.started_at)
        parts.append(" ".join(p for p in (f"from {sender}" if sender else "", when) if p))
    elif kind == "ocr":
        parts.append("text in the photo")
    elif kind == "object" and hit.box is not None:
        x, y, w, h = (round(value) for value in hit.box)
        parts.append(f"{hit.object_label} at {x},{y} ({w}x{h})")
    return ", ".join(part for part in parts if part)


def describe_other_places(hit: Hit) -> str:
    """The hit's other places in its file, in words: "also on pages 37, 112" ("" if none)."""
    others = [place for place in hit.places if place.item_id != hit.item_id]
    if not others:
        return ""
    pages = [(place.locator or {}).get("page") for place in others]
    same_part = all(
        (place.locator or {}).get("attachment") == (hit.locator or {}).get("attachment")
        for place in others
    )
    if same_part and all(isinstance(page, int) for page in pages):
        return f"also on page{'s' if len(pages) > 1 else ''} {', '.join(map(str, pages))}"
    return "also: " + "; ".join(describe_locator(place) or "another part" for place in others)
