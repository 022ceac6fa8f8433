"""Embedders for index tests: the deterministic hashing model, counting, failing or forbidden."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from index.embedder import HashingEmbedder


class CountingEmbedder:
    """The hashing embedder, recording every text it is asked to embed."""

    def __init__(self, dimension: int = 64) -> None:
        self.inner = HashingEmbedder(dimension)
        self.name = self.inner.name
        self.texts: list[str] = []
        self.calls = 0

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        self.calls += 1
        self.texts.extend(texts)
        return self.inner.embed(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)


class FailingEmbedder(CountingEmbedder):
    """Embeds ``ok_calls`` chunks, then raises ``error`` (a build failing part-way)."""

    def __init__(self, ok_calls: int, error: BaseException) -> None:
        super().__init__()
        self.ok_calls = ok_calls
        self.error = error

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        if self.calls >= self.ok_calls:
            raise self.error
        return super().embed(texts)


class ExplodingEmbedder(CountingEmbedder):
    """For paths that must not embed anything."""

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        raise AssertionError(f"unexpected embedding of {len(texts)} texts")
