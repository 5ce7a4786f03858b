"""Merging ranked lists from several searches (keywords, text embeddings, CLIP) into one.

Reciprocal rank fusion uses only ranks, so scores from searches that are not comparable (BM25,
cosine similarities of different models) never need calibrating against each other.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

log = logging.getLogger(__name__)


def reciprocal_rank_fusion(
    ranked: Mapping[str, Sequence[int]],
    *,
    weights: Mapping[str, float] | None = None,
    item_weights: Mapping[str, Mapping[int, float]] | None = None,
    k: int = 60,
) -> list[tuple[int, float]]:
    """Fuse ranked lists of ids (best first) into ``(id, score)`` pairs, best first.

    ``score(id) = sum over lists of weight / (k + rank)`` with 1-based ranks; a list without a
    weight counts 1, a list weighted 0 is ignored, and an id repeated within one list counts at
    its best rank there. Ties go to the id with the best single rank, then the smaller id, so
    the order is deterministic. ``item_weights`` scale single entries of a list (e.g. how much
    of the query a keyword hit contains); entries without one count 1.
    """
    if k < 0:
        raise ValueError(f"k must not be negative, not {k}")
    scores: dict[int, float] = {}
    best_rank: dict[int, int] = {}
    for name, ids in ranked.items():
        weight = 1.0 if weights is None else weights.get(name, 1.0)
        if weight == 0:
            continue
        scaled = (item_weights or {}).get(name, {})
        seen: set[int] = set()
        for rank, item in enumerate(ids, start=1):
            if item in seen:
                continue
            seen.add(item)
            scores[item] = scores.get(item, 0.0) + weight * scaled.get(item, 1.0) / (k + rank)
            best_rank[item] = min(best_rank.get(item, rank), rank)
    order = sorted(scores, key=lambda item: (-scores[item], best_rank[item], item))
    return [(item, scores[item]) for item in order]


def best_per_group(
    scored: Sequence[tuple[int, float]], group_of: Mapping[int, int]
) -> list[tuple[int, int, float]]:
    """One ``(group, best item, score)`` per group (a file), best first.

    A group scores what its best item scores, not the sum of its items: summed, a long file
    cut into many chunks that each match a little would outrank the file with one precise hit.
    Ties keep the order of ``scored``. Items missing from ``group_of`` (e.g. deleted since the
    search ran) are left out.
    """
    best: dict[int, tuple[int, float, int]] = {}  # group -> (item, score, position in scored)
    for position, (item, score) in enumerate(scored):
        group = group_of.get(item)
        if group is None:
            log.debug("item %d has no group; left out", item)
            continue
        if group not in best or score > best[group][1]:
            best[group] = (item, score, position)
    order = sorted(best, key=lambda group: (-best[group][1], best[group][2]))
    return [(group, best[group][0], best[group][1]) for group in order]
