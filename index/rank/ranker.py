"""The learned scorer: a logistic model over :data:`index.rank.features.FEATURES`.

Its weights live in ``ranker_weights.json`` beside this module, written by
``python -m scripts.train_ranker`` (see that script for the data and the held-out check).
The score of a candidate is the model's probability that the sentence answers the question;
the answer threshold (``ANSWER_MIN_CONFIDENCE``) is compared with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.rank.features import FEATURES, FeatureOptions

WEIGHTS_FILE = Path(__file__).with_name("ranker_weights.json")


@dataclass(frozen=True, slots=True)
class Ranker:
    """Logistic regression weights per feature, and a bias."""

    weights: np.ndarray
    bias: float
    threshold: float | None = None
    options: FeatureOptions = field(default_factory=FeatureOptions)
    """The features it was trained with (an ablation leaves some out)."""

    def score(self, features: np.ndarray) -> np.ndarray:
        """The probability that each candidate (a row of ``features``) answers the question."""
        if features.shape[0] == 0:
            return np.zeros(0)
        z = features @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0)))

    def to_json(self, **extra: object) -> str:
        data = {
            "features": list(FEATURES),
            "weights": [round(float(w), 6) for w in self.weights],
            "bias": round(float(self.bias), 6),
            "threshold": self.threshold,
            "options": {"places": self.options.places, "followers": self.options.followers},
            **extra,
        }
        return json.dumps(data, indent=1)

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> Ranker:
        """Load weights; features missing from the file weigh 0, unknown ones are an error."""
        data = json.loads(path.read_text(encoding="utf-8"))
        names = list(data["features"])
        unknown = set(names) - set(FEATURES)
        if unknown:
            raise ValueError(f"{path} has weights for unknown features {sorted(unknown)}")
        by_name = dict(zip(names, data["weights"], strict=True))
        weights = np.array([float(by_name.get(f, 0.0)) for f in FEATURES])
        threshold = data.get("threshold")
        options = FeatureOptions(**{k: bool(v) for k, v in data.get("options", {}).items()})
        return cls(weights, float(data["bias"]), float(threshold) if threshold else None, options)
