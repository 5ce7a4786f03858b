"""The retrieval benchmark's metrics, against values computed by hand.

1/log2(3) = 0.6309298, 1/log2(5) = 0.4306766, 1/log2(6) = 0.3868528.
"""

from __future__ import annotations

import pytest

from benchmarks.retrieval_metrics import first_relevant_rank, mean, ndcg_at_k, recall_at_k

INV_LOG2_3 = 0.6309298


def test_recall_counts_relevant_results_within_k() -> None:
    ranked = ["a", "b", "c", "d"]
    assert recall_at_k(ranked, {"b", "e"}, 10) == 0.5
    assert recall_at_k(ranked, {"b", "e"}, 1) == 0.0
    assert recall_at_k(ranked, {"a", "d"}, 4) == 1.0
    assert recall_at_k(ranked, {"a", "d"}, 3) == 0.5


def test_recall_ignores_grades_and_zero_grades() -> None:
    assert recall_at_k(["x", "a"], {"a": 2, "b": 1, "c": 0}, 10) == 0.5


def test_ndcg_binary() -> None:
    # DCG = 1/log2(3) + 1/log2(5) = 1.0616063; ideal = 1 + 1/log2(3) = 1.6309298.
    value = ndcg_at_k(["x", "a", "y", "b"], {"a", "b"}, 10)
    assert value == pytest.approx(0.6509209, abs=1e-6)


def test_ndcg_graded() -> None:
    # DCG = 1/1 + 2/log2(3) = 2.2618595; ideal = 2/1 + 1/log2(3) = 2.6309298.
    assert ndcg_at_k(["b", "a"], {"a": 2, "b": 1}, 10) == pytest.approx(0.8597187, abs=1e-6)
    assert ndcg_at_k(["a", "b"], {"a": 2, "b": 1}, 10) == pytest.approx(1.0)


def test_ndcg_cuts_at_k() -> None:
    assert ndcg_at_k(["x", "a"], {"a"}, 1) == 0.0
    assert ndcg_at_k(["x", "a"], {"a"}, 2) == pytest.approx(INV_LOG2_3, abs=1e-6)
    # The ideal ranking is cut at k too: one relevant result at rank 1 of k=1 is perfect.
    assert ndcg_at_k(["a", "b", "c"], {"a", "b", "c"}, 1) == 1.0
    assert recall_at_k(["a", "b", "c"], {"a", "b", "c"}, 1) == pytest.approx(1 / 3)


def test_ndcg_of_nothing_found_is_zero() -> None:
    assert ndcg_at_k([], {"a"}, 10) == 0.0
    assert ndcg_at_k(["x", "y"], {"a": 2}, 10) == 0.0


def test_zero_grade_is_not_relevant() -> None:
    # "b" has grade 0: only "a", at rank 2, counts; the ideal has "a" at rank 1.
    assert ndcg_at_k(["b", "a"], {"a": 1, "b": 0}, 10) == pytest.approx(INV_LOG2_3, abs=1e-6)


def test_repeated_result_counts_once() -> None:
    ranked = ["a", "a", "b"]
    assert first_relevant_rank(ranked, {"b"}) == 2
    assert ndcg_at_k(ranked, {"b"}, 10) == pytest.approx(INV_LOG2_3, abs=1e-6)
    assert ndcg_at_k(ranked, {"a": 1, "c": 1}, 10) == pytest.approx(1 / (1 + INV_LOG2_3))


def test_two_relevant_deep_in_the_list() -> None:
    # Ranks 3 and 5 of two binary-relevant results: (1/log2(4) + 1/log2(6)) / (1 + 1/log2(3)).
    value = ndcg_at_k(["x", "y", "a", "z", "b"], ["a", "b"], 10)
    assert value == pytest.approx((0.5 + 0.3868528) / (1 + INV_LOG2_3), abs=1e-6)


def test_first_relevant_rank() -> None:
    assert first_relevant_rank(["x", "y", "a"], {"a": 2}) == 3
    assert first_relevant_rank(["x", "y"], {"a"}) is None


def test_mean() -> None:
    assert mean([1.0, 0.5, 0.0]) == 0.5
    with pytest.raises(ValueError):
        mean([])


@pytest.mark.parametrize("relevant", [set(), {}, {"a": 0}])
def test_no_relevant_result_is_an_error(relevant) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match="at least one relevant"):
        recall_at_k(["a"], relevant, 10)
    with pytest.raises(ValueError, match="at least one relevant"):
        ndcg_at_k(["a"], relevant, 10)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="k must be at least 1"):
        ndcg_at_k(["a"], {"a"}, 0)
    with pytest.raises(TypeError):
        recall_at_k(["a"], "a", 10)
