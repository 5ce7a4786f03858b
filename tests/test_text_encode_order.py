"""TextModel.encode of many passages at once (issue 19): faster, but each vector the same as the
passage encoded alone, and in the caller's order."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from desktop_search.models.runtime.text import TextModel

SENTENCES = [
    "The lease ends on 31 August; the deposit of 1,200 EUR is returned within 30 days.",
    "Ich habe den Zug verpasst und komme eine Stunde später.",
    "Kubernetes pod stuck in CrashLoopBackOff after the config map change.",
    "Grandma's recipe for apple pie: flour, butter, sugar, apples, cinnamon.",
    "[12/03/2024, 18:02] Anna: are you coming to the parents' evening?",
]


def mixed_passages(seed: int = 0) -> list[str]:
    """What the indexer hands over: empty and one-word texts, photo text, chat windows,
    ~200-token chunks, and text past the model's 256 tokens; duplicates; shuffled."""
    rng = random.Random(seed)
    texts = ["", "x", "TOTAL 23.40 EUR", "EXIT", "brb, getting coffee ☕"]
    for n in (2, 5, 9, 14, 20, 30, 45):
        texts.append(" ".join(rng.choice(SENTENCES) for _ in range(n)))
    texts.append(" ".join(f"word{i}" for i in range(400)))  # truncated at max_length
    texts += texts[3:6]  # the same text twice gets the same vector
    rng.shuffle(texts)
    return texts


@pytest.fixture(scope="module")
def model(minilm_dir: Path) -> TextModel:
    return TextModel(minilm_dir, threads=2)


def test_shuffled_mixed_lengths_match_one_by_one_in_callers_order(model: TextModel):
    texts = mixed_passages()
    alone = np.stack([model.encode([text])[0] for text in texts])
    for batch_size in (1, 4, 32):
        together = model.encode(texts, batch_size=batch_size)
        cosine = np.sum(alone * together, axis=1)
        assert cosine.min() >= 0.99999, (batch_size, cosine.min())
    reversed_ = model.encode(texts[::-1])[::-1]
    assert np.sum(alone * reversed_, axis=1).min() >= 0.99999


def test_one_thread_and_parallel_calls_agree(model: TextModel, minilm_dir: Path):
    """Calls spread over threads give what one thread gives (the same graph, the same text)."""
    texts = mixed_passages(seed=1)
    single = TextModel(minilm_dir, threads=1).encode(texts)
    assert np.sum(single * model.encode(texts), axis=1).min() >= 0.99999
