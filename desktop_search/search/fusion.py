"""Merging ranked lists from several searches (keywords, text embeddings, CLIP) into one.

Reciprocal rank fusion uses only ranks, so scores from searches that are not comparable (BM25,
cosine similarities of different models) never need calibrating against each other.

What is fused is a *place*, not a passage: the page of a PDF (its passages together), else the
item itself. A page whose first passage matches the words and whose second matches the meaning
is one place ranked well in both lists; fused passage by passage, each half ranked in one list
only and a passage elsewhere, mediocre in both, won (issue 19: 16 of 30 misses on long manuals).
Places are then grouped per file, keeping a file's best few (``group_places``).
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FusedPlace:
    """One place in the fused ranking: its key, the item that stands for it, its score."""

    place: Hashable  # e.g. (file id, page); an item id when items are their own places
    item: int  # the place's item that contributed most (its locator and snippet are shown)
    score: float
    best_rank: int  # the place's best rank in any list (ties go to the better one)


def fuse_places(
    ranked: Mapping[str, Sequence[int]],
    place_of: Mapping[int, Hashable] | None = None,
    *,
    weights: Mapping[str, float] | None = None,
    item_weights: Mapping[str, Mapping[int, float]] | None = None,
    k: int = 60,
) -> list[FusedPlace]:
    """Fuse ranked lists of item ids (best first) into places, best first.

    In each list a place ranks where its best item does (its other items add nothing there), so
    ``score(place) = sum over lists of weight * item weight / (k + rank of the place)`` with
    1-based ranks among the list's places. ``place_of`` maps items to places (items missing
    from it are left out; ``None``: every item is its own place). A list without a weight
    counts 1, a list weighted 0 is ignored. ``item_weights`` scale single entries of a list
    (how much of the query a keyword hit holds, a table of contents demoted); the place's best
    item in that list gives the scale. Ties go to the place with the best single rank, then
    the smaller item id, so the order is deterministic.
    """
    if k < 0:
        raise ValueError(f"k must not be negative, not {k}")
    totals: dict[Hashable, list] = {}  # place -> [score, best contribution, item, best rank]
    for name, ids in ranked.items():
        weight = 1.0 if weights is None else weights.get(name, 1.0)
        if weight == 0:
            continue
        scaled = (item_weights or {}).get(name, {})
        seen: set[Hashable] = set()
        for item in ids:
            place = item if place_of is None else place_of.get(item)
            if place is None:
                log.debug("item %d has no place; left out", item)
                continue
            if place in seen:
                continue
            seen.add(place)
            rank = len(seen)
            contribution = weight * scaled.get(item, 1.0) / (k + rank)
            entry = totals.setdefault(place, [0.0, -1.0, item, rank])
            entry[0] += contribution
            if contribution > entry[1]:
                entry[1], entry[2] = contribution, item
            entry[3] = min(entry[3], rank)
    order = sorted(totals, key=lambda p: (-totals[p][0], totals[p][3], totals[p][2]))
    return [FusedPlace(p, totals[p][2], totals[p][0], totals[p][3]) for p in order]


def group_places(
    fused: Sequence[FusedPlace],
    group_of: Mapping[int, int],
    *,
    most: int = 1,
    share: float = 0.0,
    single: frozenset[int] | set[int] = frozenset(),
) -> list[tuple[int, list[FusedPlace]]]:
    """``(group, its places)`` per group (a file), best first; a group ranks by its best place.

    A group scores what its best place scores, not the sum of its places: summed, a long file
    cut into many places that each match a little would outrank the file with one precise hit.
    Besides its best, a group keeps up to ``most - 1`` more places scoring at least ``share`` of
    its best ("also on pages 37, 112"); groups in ``single`` keep one (a photo's objects are not
    places to step through). Ties keep the order of ``fused``. Items missing from ``group_of``
    (deleted since the search ran) are left out.
    """
    kept: dict[int, list[FusedPlace]] = {}
    for place in fused:
        group = group_of.get(place.item)
        if group is None:
            log.debug("item %d has no group; left out", place.item)
            continue
        places = kept.setdefault(group, [])
        limit = 1 if group in single else most
        if not places or (len(places) < limit and place.score >= share * places[0].score):
            places.append(place)
    order = sorted(kept, key=lambda group: -kept[group][0].score)  # stable: ties keep order
    return [(group, kept[group]) for group in order]
