"""The ranker's features: columns are written and read by name, so their order is free."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import index.rank.features as features
import index.rank.ranker as ranker_module
from index.config import IndexSettings
from index.qa import QA
from index.rank.ranker import Ranker
from index.store.build import build_index
from tests.corpus import COUNCIL, FESTIVAL, HARBOUR, write_article

QUESTIONS = (
    "When did the Harbour Bridge reopen?",
    "How many tickets did the festival sell?",
    "What did the council vote on?",
    "Who said the work came in under budget?",
)


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QA]:
    base = tmp_path_factory.mktemp("features")
    corpus = base / "corpus"
    write_article(corpus, "harbour.md", "Harbour Bridge reopens", *HARBOUR)
    write_article(corpus, "festival.md", "Festival sells out", *FESTIVAL)
    write_article(corpus, "council.md", "Council extends cycle lanes", *COUNCIL)
    settings = IndexSettings(
        corpus_dir=corpus, index_dir=base / "index", embedding_model="hashing-64"
    )
    build_index(settings)
    answerer = QA(settings)
    yield answerer
    answerer.close()


def _matrices(qa: QA) -> list[np.ndarray]:
    return [qa.candidates(q).features for q in QUESTIONS]


def test_every_feature_has_one_column_and_the_matrix_is_finite(qa: QA) -> None:
    assert sorted(features.COLUMN, key=features.COLUMN.__getitem__) == list(features.FEATURES)
    for matrix in _matrices(qa):
        assert matrix.shape[1] == len(features.FEATURES)
        assert np.isfinite(matrix).all()


def test_reordering_features_changes_no_score(qa: QA, monkeypatch: pytest.MonkeyPatch) -> None:
    """Columns follow the names: a shuffled FEATURES gives the same score to every candidate."""
    rng = np.random.default_rng(7)
    by_name = dict(zip(features.FEATURES, rng.normal(size=len(features.FEATURES)), strict=True))
    original = Ranker(np.array([by_name[f] for f in features.FEATURES]), -1.0)
    before = [original.score(m) for m in _matrices(qa)]
    assert any(len(s) for s in before)

    shuffled = tuple(reversed(features.FEATURES))
    monkeypatch.setattr(features, "FEATURES", shuffled)
    monkeypatch.setattr(features, "COLUMN", {name: i for i, name in enumerate(shuffled)})
    monkeypatch.setattr(ranker_module, "FEATURES", shuffled)
    reordered = Ranker(np.array([by_name[f] for f in shuffled]), -1.0)
    after = [reordered.score(m) for m in _matrices(qa)]
    for a, b in zip(before, after, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_weights_are_matched_to_columns_by_name(tmp_path: Path) -> None:
    """A weights file lists its feature names; loading puts each weight on its own column."""
    names = list(reversed(features.FEATURES))
    weights = {name: float(i) for i, name in enumerate(names)}
    path = tmp_path / "weights.json"
    data = {"features": names, "weights": [weights[n] for n in names], "bias": 0.5}
    path.write_text(json.dumps(data), encoding="utf-8")
    loaded = Ranker.load(path)
    for name, column in features.COLUMN.items():
        assert loaded.weights[column] == weights[name]
