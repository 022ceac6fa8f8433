"""Candidate pools of gold questions, cheap to recompute: for training and studying the ranker.

Fitting the ranker needs every training question's candidates scored by the production path
(:meth:`index.qa.QA.candidates`), asked of an index of all the articles (answerable) and of
indexes without each article in turn (off-topic). With the real model on two busy cores,
building those indexes and embedding thousands of questions takes many minutes, while what
changes from one experiment to the next is the features. So a cache folder keeps:

* every text's embedding, keyed by the text (:class:`CachedEmbedder`), so a rebuilt index or a
  question asked again costs no model call;
* the built temporary indexes, which a later run reuses (the build finds nothing changed).

Nothing here shortcuts candidate generation or features: a pool is what the bot would score.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from index import QA
from index.config import IndexSettings
from index.corpus import normalise_question
from index.rank import Pool
from index.store import Embedder, Snapshot
from scripts.evaluation import GoldQuestion, build_temp_index, load_squad

logger = logging.getLogger(__name__)
T = TypeVar("T")


class CachedEmbedder:
    """An :class:`~index.store.embedder.Embedder` that remembers every vector by its text.

    The cache is an ``.npz`` file (texts and vectors) read at start and written by
    :meth:`save`; misses go to the wrapped embedder in one call.
    """

    def __init__(self, inner: Embedder, path: Path | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.path = path
        self._vectors: dict[str, np.ndarray] = {}
        self._dirty = False
        if path is not None and path.exists():
            with np.load(path, allow_pickle=False) as data:
                texts = data["texts"].tolist()
                vectors = data["vectors"]
            self._vectors = {t: vectors[i] for i, t in enumerate(texts)}

    @property
    def dimension(self) -> int:
        if self._vectors:
            return len(next(iter(self._vectors.values())))
        return self.inner.dimension

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            vectors = self.inner.embed(missing, show_progress=show_progress)
            self._vectors.update(zip(missing, vectors, strict=True))
            self._dirty = True
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._vectors[t] for t in texts]).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def save(self) -> None:
        """Write the cache file (when anything was added)."""
        if self.path is None or not self._dirty:
            return
        texts = list(self._vectors)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, texts=np.asarray(texts), vectors=np.stack([self._vectors[t] for t in texts]))
        tmp.replace(self.path)
        self._dirty = False


@dataclass
class QuestionSet:
    """Questions asked of one index: answerable ones (on topic) or off-topic ones."""

    name: str
    settings: IndexSettings
    questions: list[GoldQuestion]
    answerable: bool


def data_key(path: Path) -> str:
    """A short name for a data file's content (so a changed file gets fresh indexes)."""
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:10]
    return f"{Path(path).stem}-{digest}"


def squad_sets(
    path: Path,
    cache: Path,
    embedder: Embedder,
    *,
    off_topic: bool = True,
    off_topic_per_article: int | None = None,
) -> list[QuestionSet]:
    """The answerable questions of a SQuAD file over all its articles, and (``off_topic``)
    each article's questions (every one, or an even spread of ``off_topic_per_article``) asked
    of an index without that article."""
    articles, answerable, _ = load_squad(path)
    workdir = cache / data_key(path)
    sets = [
        QuestionSet("all", build_temp_index(articles, workdir, "all", embedder), answerable, True)
    ]
    if off_topic:
        for article in articles:
            others = [a for a in articles if a.id != article.id]
            if not others:
                continue
            settings = build_temp_index(others, workdir, f"without-{article.id}", embedder)
            own = spread([g for g in answerable if g.article == article.id], off_topic_per_article)
            sets.append(QuestionSet(f"without-{article.id}", settings, own, False))
    return sets


def spread(items: Sequence[T], n: int | None) -> list[T]:
    """``n`` of ``items``, evenly spread over them (all when ``n`` is None or not fewer)."""
    if n is None or n >= len(items):
        return list(items)
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def pools(qa: QA, questions: Sequence[GoldQuestion], snap: Snapshot | None = None) -> list[Pool]:
    """The scored candidates of every question, as :meth:`QA.answer` would get them."""
    snap = snap or qa.snapshot()
    texts = [normalise_question(g.question) for g in questions]
    if isinstance(qa.embedder, CachedEmbedder):
        qa.embedder.embed(texts)  # one model call for the questions not seen before
    return [qa.candidates(text, snap) for text in texts]
