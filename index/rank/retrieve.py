"""The candidate sentences for one question, scored: a :class:`Pool`.

:func:`candidates`, for a question already normalised:

1. embeds it (``embed`` is the QA's :class:`~index.store.batcher.QueryBatcher`: questions asked
   together share one model call);
2. takes the ``k`` best sentences by BM25 (:func:`bm25_top_k`) and the ``k`` nearest by vector
   from chroma (:func:`dense_top_k`);
3. adds the paragraph neighbours of the best few of both (:func:`with_neighbours`: a sentence
   can be found by what its neighbours say);
4. describes every candidate with :func:`index.rank.features.feature_matrix` and scores it with
   the :class:`~index.rank.ranker.Ranker`;
5. has the reader read the ranker's best few and fuses both scores (:mod:`index.rank.fusion`),
   when a reranker is given.

:mod:`index.rank.compose` then turns the pool into quotes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from index.config import IndexSettings
from index.rank.cohesion import cohesive_rows
from index.rank.features import Query, feature_matrix, make_query
from index.rank.fusion import Reranker
from index.rank.ranker import Ranker
from index.store.snapshot import Snapshot
from index.types import SearchUnavailableError

Rows = npt.NDArray[np.int64]
"""Sentence rows of a snapshot (row ``i`` is chroma id ``str(i)``)."""

POSTING_SAMPLE = 4096
"""At most about this many rows of a word's posting list are scored for the BM25 floor."""


@dataclass
class Pool:
    """The candidates for one question, with their features and scores (for evaluation too)."""

    query: Query
    rows: Rows
    features: npt.NDArray[np.float64]  # one row of index.rank.features.FEATURES per candidate
    scores: npt.NDArray[np.float64]  # the final scores (fused where read), aligned with ``rows``
    dense_order: Rows  # rows by chroma's order (the dense-only baseline)
    bm25_order: Rows  # rows by BM25 score (the BM25-only baseline)
    timings: dict[str, float] = field(default_factory=dict)
    ranker_scores: npt.NDArray[np.float64] | None = None  # the ranker's alone, where fused
    reader: npt.NDArray[np.float64] | None = None  # the reader's logits; NaN: not read

    def ranked(self) -> Rows:
        """Candidate rows, best score first."""
        return self.rows[np.argsort(-self.scores, kind="stable")]


def candidates(
    snap: Snapshot,
    question: str,
    *,
    embed: Callable[[str], npt.NDArray[np.float32]],
    ranker: Ranker,
    settings: IndexSettings,
    reranker: Reranker | None = None,
) -> Pool:
    """Retrieve and score the candidate sentences of ``snap`` for a (normalised) question.

    Raises:
        SearchUnavailableError: chroma could not be queried (see :func:`dense_top_k`).
    """
    t0 = time.perf_counter()
    vector = embed(question)
    t1 = time.perf_counter()
    query = make_query(snap, question, vector, ranker.options)
    k = settings.candidates
    bm25_all, bm25_order = bm25_top_k(snap, query, k)
    t2 = time.perf_counter()
    dense_order = dense_top_k(snap, vector, min(k, len(snap)))
    t3 = time.perf_counter()
    rows = with_neighbours(snap, dense_order, bm25_order, settings.expand)
    features = feature_matrix(
        snap,
        query,
        rows,
        bm25_all[rows].astype(np.float64),
        dense_order,
        bm25_order,
        ranker.options,
    )
    scores = ranker.score(features)
    t4 = time.perf_counter()
    timings = {"embed": t1 - t0, "bm25": t2 - t1, "chroma": t3 - t2, "score": t4 - t3}
    pool = Pool(query, rows, features, scores, dense_order, bm25_order, timings)
    if reranker is not None and len(rows):
        rerank(pool, snap, reranker)
        timings["read"] = time.perf_counter() - t4
    return pool


def rerank(pool: Pool, snap: Snapshot, reranker: Reranker) -> None:
    """Have the reader read the pool's best candidates and fuse its scores (in place)."""
    rows = pool.rows
    context = reranker.fusion.context
    fused, read, logits = reranker.rescore(
        pool.query.text,
        lambda positions: [reader_text(snap, int(rows[i]), context) for i in positions],
        pool.scores,
    )
    pool.ranker_scores = pool.scores
    pool.reader = np.full(len(rows), np.nan)
    pool.reader[read] = logits[: len(read)]
    pool.scores = fused


def reader_text(snap: Snapshot, row: int, context: bool) -> str:
    """What the reader reads of candidate ``row``: the sentence, or (``context``) the
    sentence with the one it leans on (see :func:`index.rank.cohesion.cohesive_rows`)."""
    if not context:
        return snap.text(row)
    lo, _ = cohesive_rows(snap, row)
    return snap.span_text(lo, row)


def bm25_top_k(snap: Snapshot, query: Query, k: int) -> tuple[npt.NDArray[np.float32], Rows]:
    """Every sentence's BM25 score, and the ``k`` best rows, best first (ties: lower row)."""
    if not len(query.token_ids):
        return np.zeros(len(snap), dtype=np.float32), np.zeros(0, dtype=np.int64)
    scores = np.asarray(snap.bm25.get_scores_from_ids(query.token_ids.tolist()))
    floor = _posting_floor(snap, query, scores, k)
    top = np.flatnonzero(scores >= floor if floor > 0 else scores > 0)
    return scores, top[np.argsort(-scores[top], kind="stable")][:k]


def _posting_floor(snap: Snapshot, query: Query, scores: npt.NDArray[np.float32], k: int) -> float:
    """A lower bound of the ``k``-th best score (0.0 when no word has ``k`` postings).

    The ``k`` best rows are found without partitioning all n scores (argpartition over every
    sentence, mostly tied zeros, took 10-50 ms at 10^6): the k-th best score among the rows of
    one query word's posting list (distinct rows, exact scores; at most ~:data:`POSTING_SAMPLE`
    sampled per word) is a lower bound of the k-th best overall, so only rows scoring at least
    that can be in the top k.
    """
    postings = snap.bm25.scores
    floor = 0.0
    for t in query.token_ids.tolist():
        lo, hi = int(postings["indptr"][t]), int(postings["indptr"][t + 1])
        if hi - lo >= k:
            step = max(1, (hi - lo) // POSTING_SAMPLE)
            got = scores[postings["indices"][lo:hi:step]]
            floor = max(floor, float(np.partition(got, len(got) - k)[len(got) - k]))
    return floor


def dense_top_k(snap: Snapshot, vector: npt.NDArray[np.float32], k: int) -> Rows:
    """The ``k`` rows nearest to ``vector``, by chroma, nearest first.

    Raises:
        SearchUnavailableError: the Chroma server failed (the next query reconnects), or
            the version was replaced and deleted under this query (``QA.answer`` retries on
            the new one).
    """
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    collection = snap.live_collection()
    try:
        result = collection.query(
            query_embeddings=[vector.tolist()], n_results=k, include=["distances"]
        )
    except Exception as exc:
        if snap.store.remote:
            snap.query_failed(collection)
            raise SearchUnavailableError(
                f"{snap.store.describe()} does not answer ({type(exc).__name__}: {exc})"
            ) from exc
        if snap.replaced():
            # A rebuild's clean-up released this version's embedded store under us.
            raise SearchUnavailableError(
                f"index version {snap.build_id} was replaced while answering"
            ) from exc
        raise
    return np.asarray([int(i) for i in result["ids"][0]], dtype=np.int64)


def with_neighbours(snap: Snapshot, dense_order: Rows, bm25_order: Rows, expand: int) -> Rows:
    """Both ranked lists, plus the paragraph neighbours of the first ``expand`` of each."""
    seeds = np.concatenate([dense_order[:expand], bm25_order[:expand]])
    prev, nxt = snap.neighbours(seeds)
    rows = np.unique(np.concatenate([dense_order, bm25_order, prev, nxt]))
    return rows[rows >= 0]
