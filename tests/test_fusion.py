"""Reciprocal rank fusion of ranked lists (of places), and the best places per file."""

import pytest

from desktop_search.search.fusion import FusedPlace, fuse_places, group_places


def reciprocal_rank_fusion(ranked, **options) -> list[tuple[int, float]]:
    """Every item its own place: ``(item, score)`` pairs, best first."""
    return [(place.item, place.score) for place in fuse_places(ranked, **options)]


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
    # Ranks count places, not entries: 4 is the second thing the list found.
    fused = reciprocal_rank_fusion({"a": [3, 3, 4]}, k=0)
    assert fused == [(3, 1.0), (4, pytest.approx(1 / 2))]


def test_a_list_weighted_zero_is_ignored():
    fused = reciprocal_rank_fusion({"a": [1], "b": [2, 1]}, weights={"b": 0.0}, k=0)
    assert fused == [(1, 1.0)]


def test_nothing_to_fuse():
    assert reciprocal_rank_fusion({}) == []
    assert reciprocal_rank_fusion({"a": [], "b": []}) == []
    with pytest.raises(ValueError, match="k must not be negative"):
        reciprocal_rank_fusion({"a": [1]}, k=-1)


def _best(fused, group_of):
    """(group, best item, score) per group, as search shows files with one place each."""
    return [(g, places[0].item, places[0].score) for g, places in group_places(fused, group_of)]


def _places(scored):
    return [FusedPlace(item, item, score, rank) for rank, (item, score) in enumerate(scored, 1)]


def test_grouping_keeps_each_files_best_place():
    scored = _places([(1, 0.5), (2, 0.4), (3, 0.3), (4, 0.2)])
    assert _best(scored, {1: 10, 2: 20, 3: 10, 4: 30}) == [(10, 1, 0.5), (20, 2, 0.4), (30, 4, 0.2)]


def test_many_weak_chunks_do_not_outrank_one_precise_hit():
    # A long file (group 1) matches weakly in five chunks, a short one (group 2) precisely once.
    ranked = {"keyword": [99, 11, 12, 13, 14, 15], "text": [99, 16, 11]}
    fused = fuse_places(ranked)
    group_of = {99: 2, 11: 1, 12: 1, 13: 1, 14: 1, 15: 1, 16: 1}
    assert sum(p.score for p in fused if group_of[p.item] == 1) > fused[0].score
    assert _best(fused, group_of) == [
        (2, 99, pytest.approx(2 / 61)),
        (1, 11, pytest.approx(1 / 62 + 1 / 63)),
    ]


def test_ties_keep_the_fused_order():
    assert _best(_places([(5, 0.5), (4, 0.5), (6, 0.5)]), {5: 1, 4: 2, 6: 1}) == [
        (1, 5, 0.5),
        (2, 4, 0.5),
    ]


def test_items_without_a_group_are_left_out():
    assert _best(_places([(1, 0.9), (2, 0.5)]), {2: 20}) == [(20, 2, 0.5)]
    assert group_places([], {}) == []


def test_a_page_split_between_the_lists_beats_a_passage_middling_in_both():
    # Page (1, 7): its first passage (71) is the words' best hit, its second (72) the meaning's.
    # Passage 50, elsewhere in the same file, is third in both lists.
    ranked = {"keyword": [71, 60, 50], "text": [72, 61, 50]}
    by_passage = fuse_places(ranked, k=10)
    assert by_passage[0].item == 50  # fused passage by passage, the middling one won
    place_of = {71: (1, 7), 72: (1, 7), 50: (1, 3), 60: (2, 1), 61: (3, 1)}
    by_page = fuse_places(ranked, place_of, k=10)
    assert [p.place for p in by_page][:2] == [(1, 7), (1, 3)]
    assert by_page[0].score == pytest.approx(2 / 11)  # first in both lists, as one place
    assert by_page[0].item in (71, 72)


def test_a_place_counts_at_its_best_item_and_shows_the_item_that_counted_most():
    place_of = {1: "a", 2: "a", 3: "b"}
    fused = fuse_places({"keyword": [3, 1, 2], "text": [2]}, place_of, k=0)
    # "a" is second in the keyword list (at item 1; item 2 adds nothing there) and first in
    # the text list (at item 2, which counted most and stands for it).
    assert [(p.place, p.item, p.score) for p in fused] == [("a", 2, 1.5), ("b", 3, 1.0)]
    # An entry's weight (e.g. a contents page demoted) is the weight of its place in that list.
    demoted = fuse_places({"text": [1, 3]}, place_of, item_weights={"text": {1: 0.2}}, k=0)
    assert [(p.place, p.score) for p in demoted] == [("b", 0.5), ("a", pytest.approx(0.2))]
    assert fuse_places({"text": [9, 1]}, place_of, k=0)[0].score == 1.0  # 9 has no place


def test_a_file_keeps_its_next_best_places_when_they_score_near_its_best():
    place_of = {1: (10, 1), 2: (10, 2), 3: (10, 3), 4: (10, 4), 5: (20, 1)}
    fused = [FusedPlace(place_of[i], i, s, r) for r, (i, s) in
             enumerate([(1, 1.0), (5, 0.9), (2, 0.6), (3, 0.4), (4, 0.55)], 1)]  # fmt: skip
    group_of = {1: 10, 2: 10, 3: 10, 4: 10, 5: 20}
    files = group_places(fused, group_of, most=3, share=0.5)
    assert [(g, [p.item for p in places]) for g, places in files] == [(10, [1, 2, 4]), (20, [5])]
    one = group_places(fused, group_of, most=3, share=0.5, single={10})
    assert [(g, [p.item for p in places]) for g, places in one] == [(10, [1]), (20, [5])]
    assert [len(p) for _, p in group_places(fused, group_of)] == [1, 1]  # most=1 by default
