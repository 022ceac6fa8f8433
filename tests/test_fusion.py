"""The second stage (``index.rank.fusion``): how the reader's logits and the ranker's scores
are fused, which candidates are read, and when the reader is skipped."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from index.rank.compose import Thresholds, about_the_coverage
from index.rank.fusion import Fusion, fusion_features, logit
from index.rank.retrieve import Pool

RANKER = np.array([0.9, 0.2, 0.6, 0.05, 0.4])


def reads_all(logits: dict[int, float]) -> object:
    def read(positions: list[int]) -> np.ndarray:
        read.asked = list(positions)  # type: ignore[attr-defined]
        return np.array([logits[p] for p in positions])

    return read


def test_the_reader_reads_the_rankers_best_k_and_can_reorder_them() -> None:
    fusion = Fusion(weights=np.array([0.0, 0.0, 1.0, 0.0]), bias=0.0, top_k=3)
    read = reads_all({0: -2.0, 2: 3.0, 4: 0.5})
    scores, positions, logits = fusion.rescore(RANKER, read)  # type: ignore[arg-type]
    assert read.asked == [0, 2, 4]  # type: ignore[attr-defined]
    assert positions.tolist() == [0, 2, 4] and logits.tolist() == [-2.0, 3.0, 0.5]
    assert int(np.argmax(scores)) == 2  # the reader's choice wins
    unread = [1, 3]
    assert scores[unread].max() < scores[[0, 2, 4]].min()  # never above a candidate read


def test_the_reader_is_skipped_when_the_ranker_is_sure() -> None:
    fusion = Fusion(
        weights=np.array([1.0, 0.0, 0.5, 0.0]),
        bias=0.0,
        top_k=3,
        skip_above=0.8,
        skip_margin=0.2,
        means={"reader": 1.0, "reader_gap": -1.0},
    )

    def fail(positions: Sequence[int]) -> npt.NDArray[np.float64]:
        raise AssertionError("the reader should not read")

    scores, positions, _ = fusion.rescore(RANKER, fail)
    assert len(positions) == 0
    assert int(np.argmax(scores)) == 0
    assert not fusion.skips(np.array([0.9, 0.85]))  # sure, but not ahead by the margin


def test_features_are_the_logits_and_their_gaps_to_the_best() -> None:
    x = fusion_features(np.array([0.5, 0.25]), np.array([2.0, -1.0]))
    assert np.allclose(x[:, 0], logit(np.array([0.5, 0.25])))
    assert np.allclose(x[:, 1], [0.0, logit(np.array([0.25]))[0]])
    assert np.allclose(x[:, 2:], [[2.0, 0.0], [-1.0, -3.0]])


def test_a_fusion_round_trips_through_its_file() -> None:
    fusion = Fusion(
        np.array([0.5, 0.1, 1.2, 0.3]), -0.7, top_k=6, threshold=0.35, reader_floor=-1.5
    )
    again = Fusion.from_dict(fusion.to_dict())
    assert np.allclose(again.weights, fusion.weights) and again.bias == fusion.bias
    assert (again.top_k, again.threshold, again.reader_floor) == (6, 0.35, -1.5)


def pool_of(ranker: list[float], fused: list[float], reader: list[float]) -> Pool:
    n = len(ranker)
    return Pool(
        query=None,  # type: ignore[arg-type]  # about_the_coverage reads the scores only
        rows=np.arange(n),
        features=np.zeros((n, 1)),
        scores=np.array(fused),
        dense_order=np.arange(n),
        bm25_order=np.arange(n),
        ranker_scores=np.array(ranker),
        reader=np.array(reader),
    )


def test_the_coverage_is_silent_only_when_neither_ranker_nor_reader_finds_an_answer() -> None:
    limits = Thresholds(decline=0.05, answer=0.7, read=-1.0)
    unread = float("nan")
    assert about_the_coverage(pool_of([0.2, 0.01], [0.3, 0.1], [-4.0, unread]), limits)
    assert about_the_coverage(pool_of([0.01, 0.02], [0.75, 0.1], [-4.0, -5.0]), limits)
    # few shared words, but the reader reads that the second sentence answers
    assert about_the_coverage(pool_of([0.01, 0.02], [0.3, 0.4], [-4.0, -0.5]), limits)
    assert not about_the_coverage(pool_of([0.01, 0.02], [0.3, 0.4], [-4.0, unread]), limits)
    without_floor = Thresholds(decline=0.05, answer=0.7)
    assert not about_the_coverage(pool_of([0.01, 0.02], [0.3, 0.4], [-4.0, 3.0]), without_floor)
