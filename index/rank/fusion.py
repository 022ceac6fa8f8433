"""The second stage: the reader reads the ranker's best few candidates, and one small learned
model fuses both into the score that answers, hedges or declines.

The feature ranker (:mod:`index.rank.ranker`) scores every candidate cheaply; the reader
(:mod:`index.rank.reader`, a cross-encoder) reads only its ``top_k``. :class:`Fusion` is a
logistic model over :data:`FUSION_FEATURES` of those candidates, fitted by
``scripts/train_ranker.py --reader`` on SQuAD articles the reader never saw, so its score is a
calibrated probability that the sentence answers. Candidates the reader did not read keep
their ranker score, capped below the lowest fused score: they never overtake one it read.

When the ranker is already sure (its best candidate at least ``skip_above`` and ahead of the
second by ``skip_margin``), the reader is skipped and the fused score is computed from the
ranker alone (the reader's terms at their means).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from index.rank.reader import Reader

FUSION_FEATURES: tuple[str, ...] = (
    "ranker",  # the ranker's logit
    "ranker_gap",  # ... minus the best ranker logit among the candidates read
    "reader",  # the reader's logit
    "reader_gap",  # ... minus the best reader logit among the candidates read
)

Scores = npt.NDArray[np.float64]


def logit(p: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The log-odds of probabilities (clipped away from 0 and 1)."""
    q = np.clip(p, 1e-9, 1 - 1e-9)
    return np.asarray(np.log(q / (1 - q)), dtype=np.float64)


def sigmoid(z: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0))), dtype=np.float64)


def fusion_features(ranker_scores: Scores, reader_logits: Scores) -> npt.NDArray[np.float64]:
    """The :data:`FUSION_FEATURES` of the candidates read (aligned arrays)."""
    r = logit(ranker_scores)
    out = np.zeros((len(r), len(FUSION_FEATURES)), dtype=np.float64)
    if len(r) == 0:
        return out
    out[:, 0] = r
    out[:, 1] = r - r.max()
    out[:, 2] = reader_logits
    out[:, 3] = reader_logits - reader_logits.max()
    return out


@dataclass(frozen=True)
class Fusion:
    """How the ranker and the reader are combined (see the module docstring)."""

    weights: npt.NDArray[np.float64]
    bias: float
    top_k: int = 8
    skip_above: float = 1.0  # never skip unless trained to
    skip_margin: float = 1.0
    means: dict[str, float] = field(default_factory=dict)  # reader terms when skipped
    threshold: float | None = None
    """Below this fused score the answer is not given as found (``partial`` or a refusal)."""
    context: bool = False
    """The reader reads a sentence with the one it leans on ("It was ..." with the sentence
    before it), not alone."""
    reader_floor: float | None = None
    """A reader logit at which a sentence counts as answering the question even when the
    ranker's score is below the decline threshold: the question is about the coverage then,
    and is not refused ("Did anyone wear masks?" shares one word with its answer)."""

    def fuse(self, ranker_scores: Scores, reader_logits: Scores) -> Scores:
        """The fused probabilities of the candidates read."""
        return sigmoid(fusion_features(ranker_scores, reader_logits) @ self.weights + self.bias)

    def skips(self, ranker_scores: Scores) -> bool:
        """Whether the ranker is sure enough that the reader need not read."""
        if len(ranker_scores) == 0:
            return True
        top = np.sort(ranker_scores)[::-1]
        second = float(top[1]) if len(top) > 1 else 0.0
        return float(top[0]) >= self.skip_above and float(top[0]) - second >= self.skip_margin

    def rescore(
        self, ranker_scores: Scores, read: Callable[[Sequence[int]], Scores]
    ) -> tuple[Scores, npt.NDArray[np.int64], Scores]:
        """Fused scores for every candidate, the positions read, and the reader's logits.

        ``read(positions)`` returns the reader's logits of those candidates.
        """
        order = np.argsort(-ranker_scores, kind="stable")[: self.top_k]
        if self.skips(ranker_scores):
            logits = np.full(len(order), self.means.get("reader", 0.0))
            fused = self._fused_without_reader(ranker_scores[order])
            read_positions = np.zeros(0, dtype=np.int64)
        else:
            logits = np.asarray(read(order.tolist()), dtype=np.float64)
            fused = self.fuse(ranker_scores[order], logits)
            read_positions = order.astype(np.int64)
        out = np.minimum(ranker_scores.astype(np.float64), float(fused.min()) * 0.999)
        out[order] = fused
        return out, read_positions, logits

    def _fused_without_reader(self, ranker_scores: Scores) -> Scores:
        x = fusion_features(ranker_scores, np.zeros(len(ranker_scores)))
        x[:, 2] = self.means.get("reader", 0.0)
        x[:, 3] = self.means.get("reader_gap", 0.0)
        return sigmoid(x @ self.weights + self.bias)

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(FUSION_FEATURES),
            "weights": [round(float(w), 6) for w in self.weights],
            "bias": round(float(self.bias), 6),
            "top_k": self.top_k,
            "skip_above": self.skip_above,
            "skip_margin": self.skip_margin,
            "means": {k: round(v, 6) for k, v in self.means.items()},
            "threshold": self.threshold,
            "context": self.context,
            "reader_floor": self.reader_floor,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: Path | str = "fusion") -> Fusion:
        names = list(data["features"])
        if names != list(FUSION_FEATURES):
            raise ValueError(f"{where}: fusion features {names} are not {list(FUSION_FEATURES)}")
        threshold = data.get("threshold")
        return cls(
            weights=np.asarray(data["weights"], dtype=np.float64),
            bias=float(data["bias"]),
            top_k=int(data.get("top_k", 8)),
            skip_above=float(data.get("skip_above", 1.0)),
            skip_margin=float(data.get("skip_margin", 1.0)),
            means={k: float(v) for k, v in dict(data.get("means", {})).items()},
            threshold=_optional_float(threshold),
            context=bool(data.get("context", False)),
            reader_floor=_optional_float(data.get("reader_floor")),
        )

    @classmethod
    def load(cls, path: Path) -> Fusion:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")), path)


def _optional_float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


MODELS = Path(__file__).with_name("models")
"""The shipped reader (``reader.onnx``, ``reader-tokenizer.json``) and ``fusion.json``."""


@dataclass(frozen=True)
class Reranker:
    """The reader and the fusion that uses it: what :func:`index.rank.retrieve.candidates`
    runs after the ranker."""

    reader: Reader
    fusion: Fusion

    @classmethod
    def load(cls, folder: Path = MODELS, *, threads: int = 1, top_k: int | None = None) -> Reranker:
        """The reranker shipped in ``folder``; ``top_k`` overrides the trained one."""
        reader = Reader(folder / "reader.onnx", folder / "reader-tokenizer.json", threads=threads)
        fusion = Fusion.load(folder / "fusion.json")
        if top_k is not None:
            fusion = replace(fusion, top_k=top_k)
        return cls(reader, fusion)

    @staticmethod
    def available(folder: Path = MODELS) -> bool:
        """Whether ``folder`` holds a reader and its fusion."""
        return all(
            (folder / name).is_file()
            for name in ("reader.onnx", "reader-tokenizer.json", "fusion.json")
        )

    def rescore(
        self, question: str, texts: Callable[[Sequence[int]], list[str]], ranker_scores: Scores
    ) -> tuple[Scores, npt.NDArray[np.int64], Scores]:
        """See :meth:`Fusion.rescore`; ``texts(positions)`` gives the candidates' sentences."""
        return self.fusion.rescore(
            ranker_scores,
            lambda positions: self.reader.score(question, texts(positions)).astype(np.float64),
        )
