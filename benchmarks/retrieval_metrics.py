"""Ranking metrics for the retrieval benchmark: recall@k, nDCG@k, rank of the first relevant hit.

``relevant`` is either a mapping from result to grade (graded relevance; grade 0 or below counts
as not relevant) or a collection of results (binary relevance, every grade 1). A result that
appears twice in a ranking counts at its first position only, so a search that repeats a file
gains nothing from it.

nDCG uses linear gain and the usual log2 discount: DCG@k = sum of grade / log2(rank + 1) over
the first k results (rank 1 first), divided by the DCG of the best possible ranking of the
relevant results.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence

Relevance = Mapping[Hashable, float] | Collection[Hashable]


def grades(relevant: Relevance) -> dict[Hashable, float]:
    """The positive grades of ``relevant``; ValueError if nothing is relevant."""
    if isinstance(relevant, str):
        raise TypeError("relevant must be a mapping or a collection of results, not a string")
    if isinstance(relevant, Mapping):
        graded = {item: float(grade) for item, grade in relevant.items() if grade > 0}
    else:
        graded = dict.fromkeys(relevant, 1.0)
    if not graded:
        raise ValueError("a query needs at least one relevant result")
    return graded


def recall_at_k(ranked: Sequence[Hashable], relevant: Relevance, k: int) -> float:
    """The share of the relevant results that are among the first ``k`` results."""
    graded = grades(relevant)
    found = set(_distinct(ranked)[: _checked(k)]) & graded.keys()
    return len(found) / len(graded)


def ndcg_at_k(ranked: Sequence[Hashable], relevant: Relevance, k: int) -> float:
    """Normalised discounted cumulative gain of the first ``k`` results, from 0 to 1."""
    graded = grades(relevant)
    top = _distinct(ranked)[: _checked(k)]
    dcg = _dcg(graded.get(item, 0.0) for item in top)
    ideal = _dcg(sorted(graded.values(), reverse=True)[:k])
    return dcg / ideal


def first_relevant_rank(ranked: Sequence[Hashable], relevant: Relevance) -> int | None:
    """The 1-based rank of the first relevant result, or None if no result is relevant."""
    graded = grades(relevant)
    for rank, item in enumerate(_distinct(ranked), start=1):
        if item in graded:
            return rank
    return None


def mean(values: Iterable[float]) -> float:
    values = list(values)
    if not values:
        raise ValueError("the mean of no values")
    return sum(values) / len(values)


def _dcg(gains: Iterable[float]) -> float:
    return sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains, start=1))


def _distinct(ranked: Sequence[Hashable]) -> list[Hashable]:
    return list(dict.fromkeys(ranked))


def _checked(k: int) -> int:
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    return k
