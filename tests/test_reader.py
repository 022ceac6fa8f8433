"""The shipped reader (``index/rank/models``): the int8 cross-encoder reads whether a sentence
answers, scores each pair on its own, and comes with a fusion fitted for it."""

from __future__ import annotations

import numpy as np
import pytest

from index.rank.fusion import MODELS, Fusion, Reranker
from index.rank.reader import Reader

LED = (
    "Additionally, the Chinese delegation, led by politburo member Li Hongzhong, delivered a "
    "personal letter from Chinese President Xi Jinping to Kim Jong Un."
)
SUMMARY = "North Korea displays the latest missiles and drones to Russian and Chinese delegates."
TALK = (
    "During the event, Mr. Shoigu had a “friendly talk” with Kim Jong Un and presented him with "
    "an autographed letter from Russian President Vladimir Putin."
)
DISCUSSED = (
    "Nonetheless, during Mr. Shoigu’s visit, he and Kim Jong Un discussed “matters of mutual "
    "concern” related to national defense and the international security environment."
)
MASKS = (
    "Images of North Koreans without masks have been shown on state media, hinting at a "
    "potential easing of stringent measures that were implemented in early 2020 to combat the "
    "pandemic."
)
SENTENCES = [LED, SUMMARY, TALK, DISCUSSED, MASKS]


@pytest.fixture(scope="module")
def reader() -> Reader:
    assert Reranker.available(), "the reader is shipped in index/rank/models"
    return Reader.load(MODELS)


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("Who led the Chinese delegation?", LED),
        ("What did Kim and Shoigu talk about?", DISCUSSED),  # not the "friendly talk"
        ("Did anyone wear masks?", MASKS),
    ],
)
def test_the_sentence_that_answers_scores_highest(
    reader: Reader, question: str, answer: str
) -> None:
    scores = reader.score(question, SENTENCES)
    assert SENTENCES[int(np.argmax(scores))] == answer, scores


def test_a_pair_scores_the_same_alone_and_among_others(reader: Reader) -> None:
    question = "Who led the Chinese delegation?"
    together = reader.score(question, SENTENCES)
    alone = np.concatenate([reader.score(question, [s]) for s in SENTENCES])
    assert np.array_equal(together, alone)


def test_long_and_empty_input_is_cut_not_refused(reader: Reader) -> None:
    scores = reader.score("Who led the delegation? " * 50, [LED, "word " * 3000, ""])
    assert scores.shape == (3,) and np.isfinite(scores).all()
    assert reader.score("anything", []).shape == (0,)


def test_the_shipped_fusion_reads_a_few_candidates_and_can_hedge() -> None:
    fusion = Fusion.load(MODELS / "fusion.json")
    assert 1 <= fusion.top_k <= 16
    assert fusion.threshold is not None and 0.0 < fusion.threshold < 1.0
    assert fusion.weights[2] > 0  # the reader's logit counts for the answer
