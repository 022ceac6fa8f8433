"""A deterministic stand-in for ``index.open_index``: answers by word overlap.

It honours the ``QuestionAnswerer`` contract of ``index.types``: real ``Quote`` objects whose
``text == article.body[start:end]``, refusals with a reason, greetings and thanks by ``kind``.
A few magic words make it misbehave on purpose for tests:
``chroma-down`` raises SearchUnavailableError, ``explode`` raises RuntimeError, and
``slowpoke`` sleeps ``slow_seconds`` before answering.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from index.dialogue.smalltalk import REPLIES, classify
from index.types import (
    Answer,
    Article,
    IndexInfo,
    Quote,
    SearchUnavailableError,
    SourceRef,
    newest_first,
)

if TYPE_CHECKING:
    from index.dialogue.conversation import Conversation

_GLACIER_CLAUSES = [
    f"station {n} on the tongue of the Morteratsch glacier recorded meltwater runoff of "
    f"{n * 7} cubic metres an hour"
    for n in range(1, 20)
]


def _long_sentence(opening: str, clauses: Sequence[str]) -> str:
    return opening + ", while " + ", and ".join(clauses) + "."


ARTICLES: tuple[Article, ...] = (
    Article(
        id="bridge-reopens",
        title="Harbour Bridge reopens after repairs",
        body=(
            "The Harbour Bridge reopened to traffic on Monday after eight months of repairs. "
            "Engineers replaced 120 steel cables and resurfaced the deck.\n\n"
            "The city council said the repairs cost 45 million euros. "
            "Mayor Ana Ruiz thanked residents for their patience."
        ),
        url="https://news.example.com/2024/03/bridge-reopens",
        published="2024-03-01",
        source="City Herald",
    ),
    Article(
        id="council-budget",
        title="Council approves bridge budget",
        body=(
            "The city council approved 45 million euros for the bridge repairs. "
            "The vote was 31 to 9.\n\n"
            "Opposition members said the repairs should have started years ago."
        ),
        published="2024-02-10",
        source="Town Crier",
    ),
    Article(
        id="storm-warning",
        title='Storm <warning> & "floods" hit Riverside',
        body=(
            "Forecasters issued a <red> warning & urged residents of Riverside to stay indoors. "
            'Rainfall reached 80 mm in Riverside, the "wettest" day since 1998.\n\n'
            "Schools in Riverside closed on Tuesday </b><i>as a precaution</i>."
        ),
        url="https://news.example.com/storm?id=1&lang=en",
        published="2024-04-12",
    ),
    Article(
        id="glacier-report",
        title="Glacier report: the long read",
        body="\n\n".join(
            _long_sentence(
                f"Part {part}: the glacier is retreating faster than ever", _GLACIER_CLAUSES
            )
            for part in (1, 2, 3, 4)
        ),
        url="https://news.example.com/glacier",
        published="2024-05-20",
        source="Alpine Post",
    ),
)

EXAMPLES = (
    "When did the Harbour Bridge reopen?",
    "How much did the repairs cost?",
    "How much rainfall was there in Riverside?",
)

_STOP = frozenset(
    re.findall(
        r"\w+",
        "a an and are as at be by did do does for from had has have how i in is it its of on "
        "or the their them they this to was were what when where which who why will with you "
        "your me my much many about tell please said there than that ",
    )
)


def stems(text: str) -> set[str]:
    """Content words cut to six letters: a crude, deterministic stemmer."""
    return {w[:6] for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP}


@dataclass(frozen=True, slots=True)
class _Sentence:
    article: Article
    paragraph: int
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.article.body[self.start : self.end]


def split_sentences(article: Article) -> list[_Sentence]:
    """Sentences with exact offsets: ``body[start:end] == text``."""
    out: list[_Sentence] = []
    paragraph_start = 0
    for number, paragraph in enumerate(article.body.split("\n\n")):
        for match in re.finditer(r"\S[^.!?]*(?:[.!?]+|$)", paragraph):
            start = paragraph_start + match.start()
            end = paragraph_start + match.end()
            while end > start and article.body[end - 1].isspace():
                end -= 1
            out.append(_Sentence(article, number, start, end))
        paragraph_start += len(paragraph) + 2
    return out


class FakeQA:
    """A ``QuestionAnswerer`` over a few in-memory articles, scoring by shared content words."""

    def __init__(
        self,
        articles: Iterable[Article] = ARTICLES,
        examples: Sequence[str] = EXAMPLES,
        max_quotes: int = 5,
        slow_seconds: float = 2.0,
    ) -> None:
        self._articles = list(articles)
        self._examples = list(examples)
        self.max_quotes = max_quotes
        self.slow_seconds = slow_seconds
        self._sentences = [s for a in self._articles for s in split_sentences(a)]
        self.questions: list[str] = []
        self.resolved: list[str] = []
        """Every question as it was answered (follow-ups as read against their context)."""
        self.closed = False
        self.warmed = False
        self._lock = threading.Lock()

    # -- the QuestionAnswerer protocol

    def answer(self, question: str, context: Conversation | None = None) -> Answer:
        """Answer by word overlap; magic words misbehave (see the module docstring).

        With a ``context`` the question is read as ``index.dialogue.conversation`` reads it (the
        real
        follow-up logic), and the turn is remembered.
        """
        with self._lock:
            self.questions.append(question)
        if context is None or self._small_talk(question) is not None:
            return self._answer(question)
        followup = context.resolve(question)
        answer = self._answer(followup.resolved)
        answer = Answer(
            question,
            answer.answered,
            answer.quotes,
            answer.reason,
            answer.kind,
            resolved=followup.resolved if followup.rewritten else None,
        )
        context.remember(followup, answer)
        return answer

    def compare(self, topic: str) -> Answer:
        """The best overlapping sentence of each article, and the articles without one."""
        found = self._answer(topic)
        best: dict[str, Quote] = {}
        for quote in found.quotes:
            best.setdefault(quote.article_id, quote)
        missing = tuple(
            SourceRef(a.id, a.title, a.url, a.published, a.source)
            for a in self._articles
            if a.id not in best
        )
        if not best:
            return found
        return Answer(topic, True, tuple(best.values()), kind="comparison", missing=missing)

    def warm_up(self) -> None:
        """Mark warmed (the bot calls this before it takes updates)."""
        self.warmed = True

    @staticmethod
    def _small_talk(question: str) -> Answer | None:
        """Greetings, thanks, goodbyes, help and nothing, as the real ``QA`` tells them."""
        kind = classify(question)
        if kind is None:
            return None
        return Answer(question, False, reason=REPLIES[kind], kind=kind)

    def _answer(self, question: str) -> Answer:
        with self._lock:
            self.resolved.append(question)
        text = " ".join(question.split())
        lowered = text.lower().strip(" !.?,")
        if "chroma-down" in lowered:
            raise SearchUnavailableError("the Chroma server at localhost:8000 does not answer")
        if "explode" in lowered:
            raise RuntimeError("boom: the fake question answerer failed on purpose")
        if "slowpoke" in lowered:
            time.sleep(self.slow_seconds)
        small = self._small_talk(question)
        if small is not None:
            return small
        wanted = stems(text)
        needed = min(2, len(wanted))
        scored = []
        for order, sentence in enumerate(self._sentences):
            overlap = len(wanted & stems(sentence.text))
            if needed and overlap >= needed:
                scored.append((-overlap / len(wanted), order, sentence))
        if not scored:
            return Answer(
                question, False, reason="Nothing in the coverage matches.", kind="refusal"
            )
        scored.sort(key=lambda item: (item[0], item[1]))
        quotes = tuple(
            self._quote(sentence, -score) for score, _, sentence in scored[: self.max_quotes]
        )
        return Answer(question, True, quotes=quotes, kind="answer")

    def articles(self) -> list[Article]:
        """Every article, newest first (as ``QA.articles``)."""
        return newest_first(self._articles)

    def info(self) -> IndexInfo:
        """A made-up build description."""
        return IndexInfo(
            build_id="fake-build-1",
            built_at="2024-06-01T12:00:00Z",
            model="fake-word-overlap",
            dimension=0,
            articles=len(self._articles),
            sentences=len(self._sentences),
            backend="memory",
        )

    def paragraph(self, article_id: str, paragraph: int) -> str:
        """One paragraph of an article."""
        for article in self._articles:
            if article.id == article_id:
                return article.body.split("\n\n")[paragraph]
        raise KeyError(article_id)

    def example_questions(self, n: int = 3) -> list[str]:
        """The first ``n`` examples."""
        return self._examples[:n]

    def close(self) -> None:
        """Mark closed."""
        self.closed = True

    # -- helpers

    def _quote(self, sentence: _Sentence, score: float) -> Quote:
        mine = stems(sentence.text)
        also = []
        for article in self._articles:
            if article.id == sentence.article.id:
                continue
            same = [
                other
                for other in self._sentences
                if other.article.id == article.id and len(mine & stems(other.text)) >= 4
            ]
            if same:
                other = same[0]
                also.append(
                    SourceRef(
                        article.id,
                        article.title,
                        article.url,
                        article.published,
                        article.source,
                        text=other.text,
                        paragraph=other.paragraph,
                        start=other.start,
                        end=other.end,
                    )
                )
        article = sentence.article
        return Quote(
            text=sentence.text,
            article_id=article.id,
            title=article.title,
            paragraph=sentence.paragraph,
            start=sentence.start,
            end=sentence.end,
            score=score,
            url=article.url,
            published=article.published,
            source=article.source,
            also_in=tuple(also),
        )


def quote_from(
    article: Article, start: int, end: int, paragraph: int = 0, **extra: object
) -> Quote:
    """A Quote of ``article.body[start:end]`` (for tests that build answers by hand)."""
    return Quote(
        text=article.body[start:end],
        article_id=article.id,
        title=article.title,
        paragraph=paragraph,
        start=start,
        end=end,
        score=1.0,
        url=article.url,
        published=article.published,
        source=article.source,
        **extra,  # type: ignore[arg-type]
    )
