"""Questions in, verbatim cited quotes out: :class:`QA`, what the bot and the scripts open.

``open_index(path_or_settings)`` returns a :class:`QA`; ``qa.answer(question)`` returns an
:class:`~index.types.Answer`. One question goes through :meth:`QA.answer`:

1. small talk (greetings, thanks, help, nothing) gets a short reply, never a quote
   (:mod:`index.dialogue.smalltalk`);
2. the question is normalised (filler such as "please tell me" dropped,
   :func:`index.corpus.text.normalise_question`);
3. :func:`index.rank.retrieve.candidates` embeds it, gathers candidate sentences (the dense top-k
   from chroma, the BM25 top-k, and the neighbours of the best of both) and scores each with
   :mod:`index.rank.ranker` from :mod:`index.rank.features`: a :class:`~index.rank.retrieve.Pool`;
4. :func:`index.rank.compose.compose` quotes the best sentence (with the sentence it leans on), up
   to two more when they add information, each with the other articles that report the same
   (``also_in``, with their own sentence); below the confidence threshold the answer is an
   honest "the coverage doesn't say".

With a conversation (``qa.answer(question, context=conversation)``) a follow-up question is
first read against the chat's last turn (:mod:`index.dialogue.conversation`); a question that asks
to
compare the coverage gets :meth:`QA.compare` (:mod:`index.rank.compare`).

The QA answers from a :class:`~index.store.snapshot.Snapshot` of the version ``CURRENT`` points at,
and swaps in a new one when a rebuild moves it (:meth:`QA.snapshot`), without a restart.
Every quote is ``article.body[start:end]``: nothing is ever stitched, trimmed or reworded.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from index import wording
from index.config import IndexSettings
from index.corpus import nlp
from index.corpus.text import clean_text, normalise_question
from index.dialogue.bylines import byline_topic
from index.dialogue.conversation import Conversation, Followup, might_lean
from index.dialogue.examples import ExampleQuestions
from index.dialogue.language import LanguageCheck
from index.dialogue.smalltalk import REPLIES, classify
from index.dialogue.spelling import Speller
from index.rank.attribution import Byline, attributed
from index.rank.compare import compare_coverage, comparison_topic
from index.rank.compose import Thresholds, compose, quote_span
from index.rank.features import Query
from index.rank.fusion import MODELS, Reranker
from index.rank.ranker import Ranker
from index.rank.retrieve import Pool, candidates
from index.store.batcher import QueryBatcher
from index.store.embedder import Embedder, make_embedder
from index.store.snapshot import Snapshot, open_snapshot
from index.store.versions import IndexDir
from index.types import (
    SEARCHED,
    Answer,
    Article,
    DamagedIndexError,
    IndexInfo,
    IndexNotFoundError,
    SearchUnavailableError,
)

logger = logging.getLogger(__name__)


POINTER_CHECK_SECONDS = 1.0
WARM_UP_QUESTION = "What happened?"
WARM_UP_FOLLOWUP = "And what did they say about it next?"


class QA:
    """Answers questions from an index; thread-safe; follows rebuilds without a restart."""

    def __init__(
        self,
        settings: IndexSettings,
        *,
        embedder: Embedder | None = None,
        ranker: Ranker | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder or make_embedder(
            settings.embedding_model, threads=settings.query_threads
        )
        # One model call at a time (HF fast tokenizers are not thread-safe); questions that
        # arrive while the model is busy share the next call.
        self.queries = QueryBatcher(self.embedder, max_batch=settings.query_batch)
        self.ranker = ranker or Ranker.load()
        self.reranker = reranker if reranker is not None else load_reranker(settings)
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
        self._examples = ExampleQuestions(self.answer)
        self.speller = Speller()  # loads its word list in a thread of its own
        self.language = LanguageCheck()
        self._load()

    # ----------------------------------------------------------------- answering

    def answer(self, question: str, context: Conversation | None = None) -> Answer:
        """Answer one question with verbatim quotes, or say why not. Thread-safe.

        With a ``context`` (one chat's :class:`~index.dialogue.conversation.Conversation`) a
        follow-up is read against the chat's last turn ("And what did he give him?"), and this
        turn is remembered for the next. A question that asks to compare the coverage ("How do
        the reports differ on X?") gets :meth:`compare`, one that asks who wrote a story
        :meth:`byline`. A question in another language gets a
        reply that says so; misspelt words are corrected first ("Read as: ...").
        """
        started = time.perf_counter()
        text = clean_text(question)  # one malformed question must not fail a shared model call
        kind = classify(text)
        if kind is not None:
            return Answer(question=text, answered=False, reason=REPLIES[kind], kind=kind)
        snap = self.snapshot()  # one version for the whole question
        language = self.language.foreign(text, lambda w: self.knows(snap, w))
        if language is not None:
            reason = wording.not_english(language)
            return Answer(question=text, answered=False, reason=reason, kind="language")
        correction = self.speller.correct(text, snap.words(), snap.build_id)
        read_as = correction.text if correction is not None else text
        topic = comparison_topic(read_as)
        story = byline_topic(read_as) if topic is None else None
        if topic is not None:
            followup = Followup(read_as, topic)
            answer = self.compare(topic, asked=text, snap=snap)
        elif story is not None and (story.topic or (context and context.last)):
            followup = Followup(read_as, read_as)
            answer = self.byline(text, story.topic, snap, context)
        else:
            followup = self.read(read_as, context, snap)
            answer, followup = self._search_followup(text, followup, snap)
            if followup.resolved != text and answer.kind in SEARCHED:
                answer = replace(answer, resolved=followup.resolved)
        if context is not None:
            context.remember(followup, answer)
        answer.timings["total"] = time.perf_counter() - started
        return answer

    def knows(self, snap: Snapshot, word: str) -> bool:
        """Whether a lower-case word is common English or a word of the coverage."""
        return word in snap.words() or self.speller.english(word)

    def read(
        self, question: str, context: Conversation | None, snap: Snapshot | None = None
    ) -> Followup:
        """``question`` as it is to be answered given ``context`` (see
        :func:`index.dialogue.conversation.resolve`); the last answer's paragraph and article are
        where a pronoun looks when the last turn itself names nothing that fits."""
        if context is None:
            return Followup(question, question)
        snap = snap or self.snapshot()
        last = context.last
        background: list[str] = []
        if last is not None and last.place is not None and might_lean(question):
            place = last.place
            article = snap.article_rows.get(place.article_id)
            if article is not None:
                paragraph = snap.paragraph_text(article, place.paragraph)
                background = [paragraph, snap.articles[article].body]
        return context.resolve(question, background)

    def byline(
        self, question: str, story: str, snap: Snapshot, context: Conversation | None = None
    ) -> Answer:
        """Who wrote the story about ``story`` (without one: the story the chat's last answer
        quoted): the story's best quote, whose citation and ``author`` give the byline;
        ``partial`` when the article names no author."""
        last = context.last if context is not None else None
        if story or last is None:
            read = Followup(story, story)
        else:  # the last question again, its article first
            read = Followup(last.resolved, last.resolved, leans=True, prefer=last.place)
        answer = self._search(question, read, snap)
        if not answer.quotes:
            return answer
        top = answer.quotes[0]
        if top.author:
            return replace(answer, kind="answer", reason=None)
        reason = wording.no_byline(top.source or top.title)
        return replace(answer, kind="partial", reason=reason)

    def _search_followup(
        self, question: str, followup: Followup, snap: Snapshot
    ) -> tuple[Answer, Followup]:
        """The answer to a question as read, and how it was read: a follow-up's rewrite only
        when its best candidate scores at least as well as the question's as typed; a
        follow-up that could not be read safely and finds no sure answer as typed gets a reply
        asking which of the last answer's people or places is meant (``clarify``)."""
        found: tuple[Snapshot, Pool] | Answer | None = None
        if followup.leans and followup.rewritten and not followup.chosen:
            rewritten = self._pool(question, normalise_question(followup.resolved), snap)
            typed = self._pool(question, normalise_question(followup.question), snap)
            found = rewritten
            if isinstance(typed, Answer) or isinstance(rewritten, Answer):
                pass  # search is down: the rewrite's pool says so
            elif best_score(typed[1]) > best_score(rewritten[1]):
                logger.info("follow-up %r answered as typed", followup.question)
                followup, found = replace(followup, resolved=followup.question), typed
        answer = self._search(question, followup, snap, found)
        if followup.options and answer.kind != "answer":
            reason = wording.clarify(followup.options)
            answer = Answer(question, answered=False, reason=reason, kind="clarify")
        return answer, followup

    def _search(
        self,
        question: str,
        followup: Followup,
        snap: Snapshot,
        found: tuple[Snapshot, Pool] | Answer | None = None,
    ) -> Answer:
        """Retrieve, score and compose for a question as read (its candidates ``found``
        already, or not); a follow-up that finds nothing is tried once more in its fuller form
        (``followup.fallback``)."""
        if found is None:
            found = self._pool(question, normalise_question(followup.resolved), snap)
        if isinstance(found, Answer):
            return found
        snap, pool = found
        answer = self.compose(question, snap, pool, followup)
        if not answer.answered and followup.fallback:
            again = self._pool(question, normalise_question(followup.fallback), snap)
            if not isinstance(again, Answer):
                second = self.compose(question, again[0], again[1], followup)
                if second.answered:
                    answer, pool = second, again[1]
        answer = attributed(answer, bylines(snap))
        answer.timings.update(pool.timings)
        return answer

    def _pool(
        self, question: str, normalised: str, snap: Snapshot
    ) -> tuple[Snapshot, Pool] | Answer:
        """The scored candidates for a normalised question, or an ``unavailable`` answer."""
        try:
            return snap, self.candidates(normalised, snap)
        except SearchUnavailableError as exc:
            # A rebuild may have just replaced (and deleted) the version this question started
            # on: if CURRENT moved, answer from the new version instead of failing.
            fresh = self.snapshot(force=True)
            if fresh is snap:
                return self._unavailable(question, exc)
            try:
                return fresh, self.candidates(normalised, fresh)
            except SearchUnavailableError as again:
                return self._unavailable(question, again)

    def compare(self, topic: str, asked: str | None = None, snap: Snapshot | None = None) -> Answer:
        """What each article says about ``topic``: its best quote when it addresses it, and
        the articles that do not (``kind == "comparison"``, see :mod:`index.rank.compare`)."""
        started = time.perf_counter()
        found = self._pool(asked or topic, normalise_question(topic), snap or self.snapshot())
        if isinstance(found, Answer):
            return found
        snap, pool = found
        answer = compare_coverage(
            asked or topic, topic, snap, pool, self.settings, self.thresholds, self.reranker
        )
        answer = attributed(answer, bylines(snap))
        answer.timings.update(pool.timings)
        answer.timings["total"] = time.perf_counter() - started
        return answer

    def candidates(self, question: str, snapshot: Snapshot | None = None) -> Pool:
        """Retrieve and score candidate sentences for a (normalised) question."""
        snap = snapshot or self.snapshot()
        return candidates(
            snap,
            question,
            embed=self.embed,
            ranker=self.ranker,
            settings=self.settings,
            reranker=self.reranker,
        )

    def compose(
        self,
        question: str,
        snap: Snapshot,
        pool: Pool,
        followup: Followup | None = None,
        thresholds: Thresholds | None = None,
    ) -> Answer:
        """Turn scored candidates into quotes with corroboration, a hedge or a refusal (with
        this QA's thresholds unless others are given)."""
        return compose(question, snap, pool, self.settings, thresholds or self.thresholds, followup)

    @property
    def thresholds(self) -> Thresholds:
        """The decline threshold (the ranker's) and the answer threshold (the fusion's, when
        the reader reads)."""
        if self.reranker is None:
            return Thresholds(decline=self.threshold, answer=self.threshold)
        fusion = self.reranker.fusion
        return Thresholds(
            decline=self.threshold,
            answer=self.threshold if fusion.threshold is None else fusion.threshold,
            read=float("inf") if fusion.reader_floor is None else fusion.reader_floor,
        )

    def quote_rows(self, snap: Snapshot, row: int, query: Query | None = None) -> tuple[int, int]:
        """The rows to quote for candidate ``row`` (see :func:`index.rank.compose.quote_span`)."""
        return quote_span(snap, row, query, self.settings)

    def embed(self, text: str) -> npt.NDArray[np.float32]:
        """The question's vector; questions asked together are embedded in one model call."""
        return self.queries.embed_query(text)

    def _unavailable(self, question: str, exc: SearchUnavailableError) -> Answer:
        logger.warning("search unavailable: %s", exc)
        return Answer(
            question=question,
            answered=False,
            reason=wording.UNAVAILABLE,
            kind="unavailable",
        )

    # ----------------------------------------------------------------- snapshot handling

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
            try:
                if self._snapshot is not None and self._snapshot.build_id == (
                    self._index_dir.current_id()
                ):
                    self._stamp = stamp
                    return self._snapshot
                return self._load()
            except (IndexNotFoundError, SearchUnavailableError) as exc:
                if self._snapshot is None:
                    raise
                if isinstance(exc, DamagedIndexError):
                    self._stamp = stamp  # not again until CURRENT moves (a rebuild repairs it)
                logger.warning("keeping index %s: %s", self._snapshot.build_id, exc)
                return self._snapshot

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
        snapshot.prime()
        old, self._snapshot, self._stamp = self._snapshot, snapshot, stamp
        self._checked = time.monotonic()
        if old is not None:
            # Questions under way may still use it; close it at the next swap.
            for retired in self._retired:
                retired.close()
            self._retired = [old]
        logger.info("serving index %s (%d sentences)", snapshot.build_id, len(snapshot))
        return snapshot

    def warm_up(self) -> None:
        """Load every model (the embedder; spaCy for follow-ups and examples) and answer a
        question and a follow-up the way a user's would be, so that the first user waits no
        longer than the hundredth."""
        started = time.perf_counter()
        warm = getattr(self.embedder, "warm_up", None)
        if callable(warm):
            warm()
        nlp.warm_up()
        self.speller.wait()
        articles = self.snapshot().articles
        chat = Conversation()
        self.answer(articles[0].title if articles else WARM_UP_QUESTION, chat)
        self.answer(WARM_UP_FOLLOWUP, chat)
        logger.info("warmed up in %.1f s", time.perf_counter() - started)

    # ----------------------------------------------------------------- the rest of the contract

    def articles(self) -> list[Article]:
        """Every indexed article of the version being served, newest first: the numbering of
        /sources, ``/article N`` and the hints in answers."""
        return list(self.snapshot().numbered)

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
        return "" if art is None else snap.paragraph_text(art, paragraph)

    def example_questions(self, n: int = 3) -> list[str]:
        """Questions the corpus answers (see :mod:`index.dialogue.examples`), kept per index
        version."""
        return self._examples.get(self.snapshot(), n)

    def close(self) -> None:
        """Release the chroma clients."""
        with self._lock:
            for snap in [*self._retired, self._snapshot]:
                if snap is not None:
                    snap.close()
            self._retired = []
            self._snapshot = None


@runtime_checkable
class QuestionAnswerer(Protocol):
    """What the bot and the scripts need from an opened index (see ``index.open_index``)."""

    def answer(self, question: str, context: Conversation | None = None) -> Answer:
        """Answer one question with verbatim quotes, or say why not. Thread-safe.

        With a ``context`` (one chat's conversation), a follow-up question is read against
        the chat's last turn, and the turn is remembered for the next question.
        """
        ...

    def compare(self, topic: str) -> Answer:
        """What each article says about ``topic``: the best quote of each article that
        addresses it, and the articles that do not (``kind == "comparison"``)."""
        ...

    def warm_up(self) -> None:
        """Load every model and answer one question, so the first user waits no longer than
        the hundredth."""
        ...

    def articles(self) -> list[Article]:
        """Every indexed article, newest first: /sources numbers them in this order."""
        ...

    def info(self) -> IndexInfo:
        """Size and origin of the index being served (for /about)."""
        ...

    def paragraph(self, article_id: str, paragraph: int) -> str:
        """The full text of one paragraph of an article (for the "More" button)."""
        ...

    def example_questions(self, n: int = 3) -> list[str]:
        """A few questions the corpus can answer (for /start)."""
        ...

    def close(self) -> None:
        """Release models, files and connections."""
        ...


def best_score(pool: Pool) -> float:
    """The best score of a pool of candidates (0 when it has none)."""
    return float(pool.scores.max()) if len(pool.scores) else 0.0


def bylines(snap: Snapshot) -> Byline:
    """The byline of an article of ``snap`` by its id (None when it has none)."""

    def byline(article_id: str) -> str | None:
        index = snap.article_rows.get(article_id)
        return None if index is None else snap.articles[index].author

    return byline


def load_reranker(settings: IndexSettings) -> Reranker | None:
    """The shipped reader and fusion, unless switched off (``READER=false``) or missing."""
    if not settings.reader:
        return None
    if not Reranker.available():
        logger.warning("no reader model in %s: answering with the ranker alone", MODELS)
        return None
    return Reranker.load(threads=settings.reader_threads, top_k=settings.reader_top_k)


def open_index(
    source: IndexSettings | str | Path,
    *,
    embedder: Embedder | None = None,
    ranker: Ranker | None = None,
) -> QA:
    """Open an index folder (or the one named by settings) for answering.

    Raises:
        IndexNotFoundError: there is no index there, or it cannot be read.
        SearchUnavailableError: the index lives on a Chroma server that does not answer.
    """
    settings = (
        source if isinstance(source, IndexSettings) else IndexSettings(index_dir=Path(source))
    )
    return QA(settings, embedder=embedder, ranker=ranker)


__all__ = ["QA", "QuestionAnswerer", "open_index"]
