"""Finding and composing the answer: candidates (dense + BM25), features, the ranker, the
reader and its fusion, and verbatim quotes with corroboration, copies, recency, partial
answers or refusals."""

# ruff: noqa: F401  (the names under TYPE_CHECKING are for type checkers: at run time
# __getattr__ imports each one from its module on first use)
from typing import TYPE_CHECKING

from index.lazy import lazy_exports

_EXPORTS = {
    "Thresholds": "index.rank.compose",
    "compose": "index.rank.compose",
    "FEATURES": "index.rank.features",
    "FeatureOptions": "index.rank.features",
    "FUSION_FEATURES": "index.rank.fusion",
    "Fusion": "index.rank.fusion",
    "MODELS": "index.rank.fusion",
    "Reranker": "index.rank.fusion",
    "fusion_features": "index.rank.fusion",
    "Ranker": "index.rank.ranker",
    "WEIGHTS_FILE": "index.rank.ranker",
    "Reader": "index.rank.reader",
    "Pool": "index.rank.retrieve",
    "reader_text": "index.rank.retrieve",
    "find_speakers": "index.rank.speakers",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from index.rank.compose import Thresholds, compose
    from index.rank.features import FEATURES, FeatureOptions
    from index.rank.fusion import FUSION_FEATURES, MODELS, Fusion, Reranker, fusion_features
    from index.rank.ranker import WEIGHTS_FILE, Ranker
    from index.rank.reader import Reader
    from index.rank.retrieve import Pool, reader_text
    from index.rank.speakers import find_speakers
