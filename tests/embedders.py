"""Embedders for index tests: the deterministic hashing model, counting, failing or forbidden."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from index.store.embedder import HashingEmbedder


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


class TokenizerLikeEmbedder(CountingEmbedder):
    """The hashing embedder refusing a whole call when one of its texts is not valid Unicode
    (a lone surrogate), as a Hugging Face fast tokenizer does (``TypeError: TextEncodeInput
    must be ...``); each call takes ``delay`` seconds, so concurrent questions share calls."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__(64)
        self.delay = delay
        self.batches: list[int] = []

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        self.batches.append(len(texts))
        time.sleep(self.delay)
        for text in texts:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise TypeError("TextEncodeInput must be Union[TextInputSequence, ...]") from None
        return super().embed(texts)

    def embed_query(self, text: str) -> np.ndarray:
        vector: np.ndarray = self.embed([text])[0]
        return vector
