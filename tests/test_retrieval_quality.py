"""The document retrieval evaluation (benchmarks/retrieval_eval.py) as a test: 45 queries with
known answers over 59 documents; hybrid search must beat keyword-only and semantic-only, as
benchmarks/README.md says it does. Uses the real all-MiniLM-L6-v2 converted once per session."""

from __future__ import annotations

from pathlib import Path

from benchmarks.retrieval_eval import evaluate


def test_hybrid_beats_keyword_only_and_semantic_only(tmp_path: Path, minilm_dir: Path) -> None:
    results = evaluate(tmp_path / "work", minilm_dir.parent)
    assert results["index"]["failures"] == []
    summary = results["summary"]
    assert results["hybrid_beats_both"], summary
    # The numbers benchmarks/README.md reports for the shipped fusion.
    hybrid = summary["hybrid"]["all"]
    assert hybrid["ndcg"] >= 0.89 and hybrid["recall"] == 1.0
