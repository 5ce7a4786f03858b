"""Reciprocal rank fusion of ranked lists, and one result per file."""

import pytest

from desktop_search.search.fusion import best_per_group, reciprocal_rank_fusion


def test_scores_are_summed_reciprocal_ranks():
    fused = reciprocal_rank_fusion({"keyword": [10, 20, 30], "text": [20, 40]})
    assert [item for item, _ in fused] == [20, 10, 40, 30]
    assert [score for _, score in fused] == pytest.approx([1 / 62 + 1 / 61, 1 / 61, 1 / 62, 1 / 63])


def test_weights_scale_each_list():
    fused = reciprocal_rank_fusion(
        {"keyword": [10, 20, 30], "text": [20, 40]}, weights={"keyword": 2.0}
    )
    assert fused == [
        (20, pytest.approx(2 / 62 + 1 / 61)),
        (10, pytest.approx(2 / 61)),
        (30, pytest.approx(2 / 63)),
        (40, pytest.approx(1 / 62)),
    ]


def test_k_changes_how_much_the_top_ranks_count():
    ranked = {"a": [1, 2], "b": [3, 4, 2]}
    # The default k = 60 rewards agreement: second and third place in both lists wins.
    assert [item for item, _ in reciprocal_rank_fusion(ranked)] == [2, 1, 3, 4]
    # k = 0 lets first places dominate: 1/1 beats 1/2 + 1/3.
    assert reciprocal_rank_fusion(ranked, k=0) == [
        (1, 1.0),
        (3, 1.0),
        (2, pytest.approx(1 / 2 + 1 / 3)),
        (4, 0.5),
    ]


def test_ties_go_to_the_best_single_rank_then_the_smaller_id():
    # k = 0: item 100 scores 1/1 (weight 1, rank 1), item 200 scores 2/2 (weight 2, rank 2).
    fused = reciprocal_rank_fusion({"a": [100], "b": [50, 200]}, weights={"a": 1.0, "b": 2.0}, k=0)
    assert fused == [(50, 2.0), (100, 1.0), (200, 1.0)]
    # Same scores and same best rank: the smaller id first, whatever the list order.
    assert reciprocal_rank_fusion({"x": [7, 9], "y": [9, 7]}) == [
        (7, pytest.approx(1 / 61 + 1 / 62)),
        (9, pytest.approx(1 / 61 + 1 / 62)),
    ]


def test_an_id_repeated_in_one_list_counts_once_at_its_best_rank():
    fused = reciprocal_rank_fusion({"a": [3, 3, 4]}, k=0)
    assert fused == [(3, 1.0), (4, pytest.approx(1 / 3))]


def test_a_list_weighted_zero_is_ignored():
    fused = reciprocal_rank_fusion({"a": [1], "b": [2, 1]}, weights={"b": 0.0}, k=0)
    assert fused == [(1, 1.0)]


def test_nothing_to_fuse():
    assert reciprocal_rank_fusion({}) == []
    assert reciprocal_rank_fusion({"a": [], "b": []}) == []
    with pytest.raises(ValueError, match="k must not be negative"):
        reciprocal_rank_fusion({"a": [1]}, k=-1)


def test_best_per_group_keeps_each_files_best_item():
    scored = [(1, 0.5), (2, 0.4), (3, 0.3), (4, 0.2)]
    assert best_per_group(scored, {1: 10, 2: 20, 3: 10, 4: 30}) == [
        (10, 1, 0.5),
        (20, 2, 0.4),
        (30, 4, 0.2),
    ]


def test_many_weak_chunks_do_not_outrank_one_precise_hit():
    # A long file (group 1) matches weakly in five chunks, a short one (group 2) precisely once.
    fused = reciprocal_rank_fusion({"keyword": [99, 11, 12, 13, 14, 15], "text": [99, 16, 11]})
    group_of = {99: 2, 11: 1, 12: 1, 13: 1, 14: 1, 15: 1, 16: 1}
    assert sum(score for item, score in fused if group_of[item] == 1) > fused[0][1]
    assert best_per_group(fused, group_of) == [
        (2, 99, pytest.approx(2 / 61)),
        (1, 11, pytest.approx(1 / 62 + 1 / 63)),
    ]


def test_best_per_group_does_not_need_sorted_input_and_keeps_order_on_ties():
    assert best_per_group([(1, 0.1), (2, 0.9), (3, 0.5)], {1: 7, 2: 7, 3: 8}) == [
        (7, 2, 0.9),
        (8, 3, 0.5),
    ]
    assert best_per_group([(5, 0.5), (4, 0.5), (6, 0.5)], {5: 1, 4: 2, 6: 1}) == [
        (1, 5, 0.5),
        (2, 4, 0.5),
    ]


def test_items_without_a_group_are_left_out():
    assert best_per_group([(1, 0.9), (2, 0.5)], {2: 20}) == [(20, 2, 0.5)]
    assert best_per_group([], {}) == []
