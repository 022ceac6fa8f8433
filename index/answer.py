"""Questions in, verbatim cited quotes out: hybrid retrieval, scoring, corroboration, refusal.

``open_index(path_or_settings)`` returns a :class:`QA`; ``qa.answer(question)`` returns an
:class:`~index.types.Answer`. The steps, for one question:

1. small talk (greetings, thanks, help, nothing) gets a short reply, never a quote;
2. the question is normalised (filler such as "please tell me" dropped) and embedded;
3. candidates: the dense top-k from chroma, the BM25 top-k, and the neighbours of the best of
   both (a sentence can be found by what its neighbours say);
4. each candidate is scored by :mod:`index.ranker` from :mod:`index.features`;
5. the best sentence is quoted (with the sentence before it when it starts with "He", "This",
   ... and so does not stand alone); up to two more quotes follow when they add information;
6. sentences of other articles that say the same thing become ``also_in``;
7. below ``ANSWER_MIN_CONFIDENCE`` the answer is an honest "the coverage doesn't say".

Every quote is ``article.body[start:end]``: nothing is ever stitched, trimmed or reworded.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index import wording
from index.batcher import QueryBatcher
from index.config import IndexSettings
from index.embedder import Embedder, make_embedder
from index.extract import quote_rows
from index.features import FEATURES, Query, feature_matrix, make_query
from index.ranker import Ranker
from index.smalltalk import REPLIES, classify
from index.snapshot import Snapshot, open_snapshot
from index.store import IndexDir
from index.text import clean_text, normalise_question
from index.types import (
    Answer,
    Article,
    IndexInfo,
    IndexNotFoundError,
    Quote,
    SearchUnavailableError,
    SourceRef,
)

logger = logging.getLogger(__name__)

POINTER_CHECK_SECONDS = 1.0


@dataclass
class Pool:
    """The candidates for one question, with their features and scores (for evaluation too)."""

    query: Query
    rows: np.ndarray
    features: np.ndarray
    scores: np.ndarray
    dense_order: np.ndarray  # rows by chroma's order (the dense-only baseline)
    bm25_order: np.ndarray  # rows by BM25 score (the BM25-only baseline)
    timings: dict[str, float] = field(default_factory=dict)

    def ranked(self) -> np.ndarray:
        """Candidate rows, best score first."""
        return self.rows[np.argsort(-self.scores, kind="stable")]


class QA:
    """Answers questions from an index; thread-safe; follows rebuilds without a restart."""

    def __init__(
        self,
        settings: IndexSettings,
        *,
        embedder: Embedder | None = None,
        ranker: Ranker | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder or make_embedder(
            settings.embedding_model, threads=settings.query_threads
        )
        # One model call at a time (HF fast tokenizers are not thread-safe); questions that
        # arrive while the model is busy share the next call.
        self.queries = QueryBatcher(self.embedder, max_batch=settings.query_batch)
        self.ranker = ranker or Ranker.load()
        self.threshold = (
            settings.answer_min_confidence
            if settings.answer_min_confidence is not None
            else (self.ranker.threshold or 0.5)
        )
        self._index_dir = IndexDir(settings.index_dir)
        self._lock = threading.Lock()  # guards the snapshot swap
        self._snapshot: Snapshot | None = None
        self._stamp: tuple[int, int] | None = None
        self._checked = 0.0
        self._retired: list[Snapshot] = []
        self._examples: dict[str, list[str]] = {}
        self._load()

    # ----------------------------------------------------------------- snapshot handling

    def _load(self) -> Snapshot:
        stamp = self._index_dir.pointer_stamp()
        snapshot = open_snapshot(self.settings)
        if snapshot.manifest.model != getattr(self.embedder, "name", snapshot.manifest.model):
            logger.warning(
                "the index was built with %s but the embedder is %s; using the index's model",
                snapshot.manifest.model,
                getattr(self.embedder, "name", "?"),
            )
            self.embedder = make_embedder(
                snapshot.manifest.model, threads=self.settings.query_threads
            )
            self.queries = QueryBatcher(self.embedder, max_batch=self.settings.query_batch)
        _prime(snapshot)
        old, self._snapshot, self._stamp = self._snapshot, snapshot, stamp
        self._checked = time.monotonic()
        if old is not None:
            # Questions under way may still use it; close it at the next swap.
            for retired in self._retired:
                retired.close()
            self._retired = [old]
        logger.info("serving index %s (%d sentences)", snapshot.build_id, len(snapshot))
        return snapshot

    def snapshot(self, *, force: bool = False) -> Snapshot:
        """The snapshot to answer from: reloaded when ``CURRENT`` has moved.

        ``CURRENT`` is looked at once every :data:`POINTER_CHECK_SECONDS`, or now with
        ``force``. A version that cannot be loaded (its server down, its files damaged) leaves
        the current snapshot serving.
        """
        snapshot = self._snapshot
        now = time.monotonic()
        if snapshot is not None and not force and now - self._checked < POINTER_CHECK_SECONDS:
            return snapshot
        with self._lock:
            self._checked = now
            stamp = self._index_dir.pointer_stamp()
            if self._snapshot is not None and stamp == self._stamp:
                return self._snapshot
            if (
                self._snapshot is not None
                and self._index_dir.current_id() == self._snapshot.build_id
            ):
                self._stamp = stamp
                return self._snapshot
            try:
                return self._load()
            except (IndexNotFoundError, SearchUnavailableError) as exc:
                if self._snapshot is None:
                    raise
                logger.warning("keeping index %s: %s", self._snapshot.build_id, exc)
                return self._snapshot

    def warm_up(self) -> None:
        """Load the model and run one query, so the first user does not wait."""
        warm = getattr(self.embedder, "warm_up", None)
        if callable(warm):
            warm()
        self.candidates("warm up")

    # ----------------------------------------------------------------- retrieval

    def embed(self, text: str) -> np.ndarray:
        """The question's vector; questions asked together are embedded in one model call."""
        return self.queries.embed_query(text)

    def candidates(self, question: str, snapshot: Snapshot | None = None) -> Pool:
        """Retrieve and score candidate sentences for a (normalised) question."""
        snap = snapshot or self.snapshot()
        t0 = time.perf_counter()
        vector = self.embed(question)
        t1 = time.perf_counter()
        query = make_query(snap, question, vector)
        k = self.settings.candidates
        n = len(snap)

        if len(query.token_ids):
            bm25_all = np.asarray(snap.bm25.get_scores_from_ids(query.token_ids.tolist()))
            # The k best rows without partitioning all n scores (argpartition over every
            # sentence, mostly tied zeros, took 10-50 ms at 10^6): the k-th best score among
            # the rows of one query word's posting list (distinct rows, exact scores; at most
            # ~4,096 sampled per word) is a lower bound of the k-th best overall, so only rows
            # scoring at least that can be in the top k. Ties go to the lower row.
            postings = snap.bm25.scores
            floor = 0.0
            for t in query.token_ids.tolist():
                lo, hi = int(postings["indptr"][t]), int(postings["indptr"][t + 1])
                if hi - lo >= k:
                    got = bm25_all[postings["indices"][lo : hi : max(1, (hi - lo) // 4096)]]
                    floor = max(floor, float(np.partition(got, len(got) - k)[len(got) - k]))
            top = np.flatnonzero(bm25_all >= floor if floor > 0 else bm25_all > 0)
        else:
            bm25_all = np.zeros(n, dtype=np.float32)
            top = np.zeros(0, dtype=np.int64)
        bm25_order = top[np.argsort(-bm25_all[top], kind="stable")][:k]
        t2 = time.perf_counter()

        dense_order = self._dense(snap, vector, min(k, n))
        t3 = time.perf_counter()

        seeds = np.concatenate(
            [dense_order[: self.settings.expand], bm25_order[: self.settings.expand]]
        )
        prev = np.where(seeds - 1 >= snap.para_lo[seeds], seeds - 1, -1)
        nxt = np.where(seeds + 1 < snap.para_hi[seeds], seeds + 1, -1)
        rows = np.unique(np.concatenate([dense_order, bm25_order, prev, nxt]))
        rows = rows[rows >= 0]
        features = feature_matrix(
            snap, query, rows, bm25_all[rows].astype(np.float64), dense_order, bm25_order
        )
        scores = self.ranker.score(features)
        t4 = time.perf_counter()
        timings = {"embed": t1 - t0, "bm25": t2 - t1, "chroma": t3 - t2, "score": t4 - t3}
        return Pool(query, rows, features, scores, dense_order, bm25_order, timings)

    def _dense(self, snap: Snapshot, vector: np.ndarray, k: int) -> np.ndarray:
        """The ``k`` nearest rows by chroma.

        Raises:
            SearchUnavailableError: the Chroma server failed (the next query reconnects), or
                the version was replaced and deleted under this query (``answer`` retries on
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
            if snap.store.server:
                snap.query_failed(collection)
                raise SearchUnavailableError(
                    f"the Chroma server at {snap.store.address} does not answer "
                    f"({type(exc).__name__}: {exc})"
                ) from exc
            if self._index_dir.current_id() != snap.build_id:
                # A rebuild's clean-up released this version's embedded store under us.
                raise SearchUnavailableError(
                    f"index version {snap.build_id} was replaced while answering"
                ) from exc
            raise
        return np.asarray([int(i) for i in result["ids"][0]], dtype=np.int64)

    # ----------------------------------------------------------------- answering

    def answer(self, question: str) -> Answer:
        """Answer one question with verbatim quotes, or say why not. Thread-safe."""
        started = time.perf_counter()
        text = clean_text(question)  # one malformed question must not fail a shared model call
        kind = classify(text)
        if kind is not None:
            return Answer(question=text, answered=False, reason=REPLIES[kind], kind=kind)
        normalised = normalise_question(text)
        snap = self.snapshot()
        try:
            pool = self.candidates(normalised, snap)
        except SearchUnavailableError as exc:
            # A rebuild may have just replaced (and deleted) the version this question started
            # on: if CURRENT moved, answer from the new version instead of failing.
            fresh = self.snapshot(force=True)
            if fresh is snap:
                return self._unavailable(text, exc)
            snap = fresh
            try:
                pool = self.candidates(normalised, snap)
            except SearchUnavailableError as again:
                return self._unavailable(text, again)
        answer = self.compose(text, snap, pool)
        answer.timings.update(pool.timings)
        answer.timings["total"] = time.perf_counter() - started
        return answer

    def _unavailable(self, question: str, exc: SearchUnavailableError) -> Answer:
        logger.warning("search unavailable: %s", exc)
        return Answer(
            question=question,
            answered=False,
            reason=wording.UNAVAILABLE,
            kind="unavailable",
        )

    def compose(self, question: str, snap: Snapshot, pool: Pool) -> Answer:
        """Turn scored candidates into quotes with corroboration, or a refusal."""
        order = np.argsort(-pool.scores, kind="stable")
        if len(order) == 0 or float(pool.scores[order[0]]) < self.threshold:
            return self.refusal(question, snap)
        best = float(pool.scores[order[0]])
        quotes: list[Quote] = []
        covered: set[int] = set()
        seen_words: set[int] = set(pool.query.token_ids.tolist())
        vectors = np.asarray(snap.vectors[pool.rows], dtype=np.float32)
        position = {int(r): i for i, r in enumerate(pool.rows.tolist())}
        for idx in order.tolist():
            if len(quotes) >= self.settings.max_quotes:
                break
            score = float(pool.scores[idx])
            row = int(pool.rows[idx])
            if quotes and score < max(self.threshold, self.settings.further_quote_ratio * best):
                break
            if row in covered:
                continue
            lo, hi = self.quote_rows(snap, row, pool.query)
            if any(r in covered for r in range(lo, hi + 1)):
                lo = hi = row  # quote just the sentence rather than repeat a neighbour
            text_words = set(snap.tokens(row).tolist())
            if quotes and len(text_words - seen_words) < 2:
                continue  # adds nothing new
            if quotes and self._near_duplicate(vectors, position, row, covered):
                continue
            also = self._corroboration(snap, pool, vectors, position, row, covered)
            covered.update(range(lo, hi + 1))
            covered.update(r for r, _ in also)
            seen_words |= text_words
            quotes.append(self._quote(snap, lo, hi, score, [ref for _, ref in also]))
        return Answer(question=question, answered=True, quotes=tuple(quotes), kind="answer")

    def quote_rows(self, snap: Snapshot, row: int, query: Query | None = None) -> tuple[int, int]:
        """The rows to quote for candidate ``row`` (see :func:`index.extract.quote_rows`)."""
        return quote_rows(snap, row, query if self.settings.join_split_sentences else None)

    def _near_duplicate(
        self, vectors: np.ndarray, position: dict[int, int], row: int, covered: set[int]
    ) -> bool:
        own = vectors[position[row]]
        for other in covered:
            if other in position and float(own @ vectors[position[other]]) >= (
                self.settings.corroboration_min_cosine
            ):
                return True
        return False

    def _corroboration(
        self,
        snap: Snapshot,
        pool: Pool,
        vectors: np.ndarray,
        position: dict[int, int],
        row: int,
        covered: set[int],
    ) -> list[tuple[int, SourceRef]]:
        """The best sentence of each other article that reports what ``row`` says."""
        article = int(snap.table.article[row])
        own = vectors[position[row]]
        own_words = set(snap.tokens(row).tolist())
        sims = vectors @ own
        best: dict[int, tuple[float, int]] = {}
        for i, other in enumerate(pool.rows.tolist()):
            other_article = int(snap.table.article[other])
            if other_article == article or other in covered:
                continue
            sim = float(sims[i])
            if sim < self.settings.corroboration_min_cosine:
                other_words = set(snap.tokens(other).tolist())
                smaller = min(len(own_words), len(other_words))
                overlap = len(own_words & other_words) / smaller if smaller else 0.0
                if overlap < self.settings.corroboration_min_overlap or sim < (
                    self.settings.corroboration_floor_cosine
                ):
                    continue
            if other_article not in best or sim > best[other_article][0]:
                best[other_article] = (sim, other)
        refs = []
        for other_article, (_, other) in sorted(best.items(), key=lambda kv: -kv[1][0]):
            a = snap.articles[other_article]
            refs.append((other, SourceRef(a.id, a.title, a.url, a.published, a.source)))
        return refs

    def _quote(
        self, snap: Snapshot, lo: int, hi: int, score: float, also: list[SourceRef]
    ) -> Quote:
        article = snap.articles[int(snap.table.article[lo])]
        start, end = int(snap.table.start[lo]), int(snap.table.end[hi])
        return Quote(
            text=article.body[start:end],
            article_id=article.id,
            title=article.title,
            paragraph=int(snap.table.paragraph[hi]),
            start=start,
            end=end,
            score=score,
            url=article.url,
            published=article.published,
            source=article.source,
            also_in=tuple(also),
        )

    def refusal(self, question: str, snap: Snapshot | None = None) -> Answer:
        """The honest "not in the coverage" answer, saying what the coverage is about."""
        snap = snap or self.snapshot()
        titles = [a.title for a in snap.articles[:3]]
        reason = wording.refusal_reason(len(snap.articles), titles)
        return Answer(question=question, answered=False, reason=reason, kind="refusal")

    # ----------------------------------------------------------------- the rest of the contract

    def articles(self) -> list[Article]:
        """Every indexed article, in index order."""
        return list(self.snapshot().articles)

    def info(self) -> IndexInfo:
        """Size and origin of the index being served."""
        snap = self.snapshot()
        m = snap.manifest
        return IndexInfo(
            build_id=m.build_id,
            built_at=m.built_at,
            model=m.model,
            dimension=m.dimension,
            articles=len(snap.articles),
            sentences=m.sentences,
            backend=m.backend,
        )

    def paragraph(self, article_id: str, paragraph: int) -> str:
        """The text of one paragraph of an article ("" when there is no such paragraph)."""
        snap = self.snapshot()
        art = snap.article_rows.get(article_id)
        if art is None:
            return ""
        mask = (snap.table.article == art) & (snap.table.paragraph == paragraph)
        rows = np.flatnonzero(mask)
        if len(rows) == 0:
            return ""
        body = snap.articles[art].body
        return body[int(snap.table.start[rows[0]]) : int(snap.table.end[rows[-1]])]

    def example_questions(self, n: int = 3) -> list[str]:
        """Questions the corpus answers, made from article titles (checked by answering them)."""
        snap = self.snapshot()
        cached = self._examples.get(snap.build_id)
        if cached is not None and len(cached) >= n:
            return cached[:n]
        out: list[str] = []
        titles = sorted((example_question(a.title) for a in snap.articles[: 2 * n + 2]), key=len)
        names = [f"What does the coverage say about {name}?" for name in frequent_names(snap)]
        for question in [*titles, *names]:
            if not question or question in out:
                continue
            try:
                answer = self.answer(question)
            except Exception:  # an example is a nicety; never fail /start for it
                logger.debug("example question %r failed", question, exc_info=True)
                continue
            if answer.kind == "unavailable":
                return out  # search is down: try again later, remember nothing
            if not answer.answered:
                continue
            out.append(question)
            if len(out) >= n:
                break
        self._examples[snap.build_id] = out
        return out

    def close(self) -> None:
        """Release the chroma clients."""
        with self._lock:
            for snap in [*self._retired, self._snapshot]:
                if snap is not None:
                    snap.close()
            self._retired = []
            self._snapshot = None


def example_question(title: str) -> str:
    """A question about an article from its title: "What happened: <headline>?"."""
    title = " ".join(title.split())
    for separator in (": ", " – ", " — ", " - ", " | "):
        head = title.split(separator, 1)[0]
        if len(head.split()) >= 3:
            title = head
            break
    title = title.rstrip(" .:;!?")
    if not title:
        return ""
    words = title.split()
    if len(words) > 12:
        title = " ".join(words[:12])
    return f"What does the coverage say about {title}?"


def _prime(snapshot: Snapshot) -> None:
    """Run one vector query so chroma loads its index now, not on a user's question.

    A large collection takes seconds to load on first use; a new version is primed before it
    replaces the one serving. Failures are left for the real query to report.
    """
    if len(snapshot) == 0:
        return
    try:
        vector = np.asarray(snapshot.vectors[0], dtype=np.float32)
        snapshot.collection.query(
            query_embeddings=[vector.tolist()], n_results=1, include=["distances"]
        )
    except Exception as exc:
        logger.debug("priming index %s failed: %s", snapshot.build_id, exc)


_NAME_RE = re.compile(r"(?<=[a-z,;:] )(?:[A-Z][a-z]+(?: (?:[A-Z][a-z]+|of|de|von|al))*)")


def frequent_names(snap: Snapshot, limit: int = 6, sample: int = 400) -> list[str]:
    """Capitalised names (not at a sentence start) used most often in the first sentences."""
    counts: dict[str, int] = {}
    for row in range(min(sample, len(snap))):
        for match in _NAME_RE.finditer(snap.text(row)):
            name = match.group(0)
            if len(name.split()) >= 2 and name.split()[-1] not in {"of", "de", "von", "al"}:
                counts[name] = counts.get(name, 0) + 1
    ranked = sorted(counts, key=lambda k: (-counts[k], k))
    return [name for name in ranked if counts[name] >= 2][:limit]


def open_index(source: IndexSettings | str | Path, **kwargs: Any) -> QA:
    """Open an index folder (or the one named by settings) for answering.

    Raises:
        IndexNotFoundError: there is no index there, or it cannot be read.
        SearchUnavailableError: the index lives on a Chroma server that does not answer.
    """
    settings = (
        source if isinstance(source, IndexSettings) else IndexSettings(index_dir=Path(source))
    )
    return QA(settings, **kwargs)


__all__ = ["FEATURES", "QA", "Pool", "open_index"]
