"""Credits on real answers (hashing model): each quote's speaker and each article's byline, in
the answer, in ``Quote.to_dict`` and in the references, so "who wrote the story?" and "who said
it?" are answered from the JSON as from the reply."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index import wording
from index.config import IndexSettings
from index.dialogue.bylines import byline_topic
from index.dialogue.conversation import Conversation
from index.qa import QA
from index.store.build import build_index
from tests.corpus import write_article
from tests.verbatim import assert_verbatim

pytestmark = [pytest.mark.usefixtures("offline_index_env"), pytest.mark.slow]  # spaCy loads


@pytest.fixture
def qa(tmp_path: Path) -> Iterator[QA]:
    corpus = tmp_path / "corpus"
    write_article(
        corpus,
        "herald.md",
        "Tamber flood death toll rises to 19",
        "The death toll from the Tamber floods rose to 19 on Wednesday, officials said.",
        "Rescue boats reached the village of Ostrin, where 240 people remain in shelters.",
        source="Harbour Herald",
        published="2024-03-06",
        author="Jane Doe",
    )
    write_article(
        corpus,
        "courier.md",
        "Twelve dead as Tamber river bursts its banks",
        "Twelve people died when the Tamber river burst its banks, according to the police.",
        "Water levels at Kelby bridge rose two metres overnight.",
        source="Northern Courier",
        published="2024-03-03",
    )
    settings = IndexSettings(
        corpus_dir=corpus, index_dir=tmp_path / "index", embedding_model="hashing-64"
    )
    build_index(settings)
    opened = QA(settings)
    yield opened
    opened.close()


def test_a_quote_carries_its_speaker_and_its_byline(qa: QA) -> None:
    answer = qa.answer("How many people has the Tamber flood killed by Wednesday?")
    assert_verbatim(answer, {a.id: a.body for a in qa.articles()})
    top = answer.quotes[0]
    assert top.article_id == "herald"
    assert (top.speaker, top.said, top.author) == ("officials", "said", "Jane Doe")
    data = answer.to_dict()["quotes"][0]
    assert data["speaker"] == "officials" and data["author"] == "Jane Doe"


def test_without_a_byline_or_a_speaker_nothing_is_made_up(qa: QA) -> None:
    answer = qa.answer("How much did water levels at Kelby bridge rise overnight?")
    top = answer.quotes[0]
    assert top.text == "Water levels at Kelby bridge rose two metres overnight."
    assert (top.speaker, top.author) == (None, None)
    assert answer.to_dict()["quotes"][0]["author"] is None


def test_a_comparison_credits_the_police(qa: QA) -> None:
    answer = qa.compare("the Tamber river deaths")
    by_article = {quote.article_id: quote for quote in answer.quotes}
    assert by_article["courier"].speaker == "police"
    assert by_article["courier"].said == "according to"
    refs = [ref for quote in answer.quotes for ref in (*quote.also_in, *quote.also_published)]
    assert all(ref.author == ("Jane Doe" if ref.article_id == "herald" else None) for ref in refs)
    missing = [ref.to_dict() for ref in answer.missing]
    assert all("author" in row for row in missing)


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("Who wrote the story about the flood toll?", "the flood toll"),
        ("Who wrote the article on the rate rise?", "the rate rise"),
        ("Who is the author of the Tamber flood story?", "Tamber flood"),
        ("Whose byline is on the rate rise story?", "the rate rise story"),
        ("Who wrote the story?", ""),
        ("Who wrote a letter to Kim?", None),  # a question about the news, not a byline
        ("Who is the author of To Kill a Mockingbird?", None),
        ("Who led the Chinese delegation?", None),
    ],
)
def test_questions_about_who_wrote_a_story(question: str, topic: str | None) -> None:
    found = byline_topic(question)
    assert (found.topic if found is not None else None) == topic


def test_who_wrote_the_story_is_answered_with_the_byline(qa: QA) -> None:
    answer = qa.answer("Who wrote the story about the Tamber flood death toll?")
    assert (answer.kind, answer.quotes[0].article_id) == ("answer", "herald")
    assert answer.to_dict()["quotes"][0]["author"] == "Jane Doe"
    unsigned = qa.answer("Who wrote the article about the Kelby bridge water levels?")
    assert unsigned.kind == "partial" and unsigned.quotes[0].article_id == "courier"
    assert unsigned.reason == wording.no_byline("Northern Courier")
    chat = Conversation()
    first = qa.answer("How many people has the Tamber flood killed by Wednesday?", chat)
    last = qa.answer("Who wrote the story?", chat)  # the story just quoted
    assert last.quotes[0].article_id == first.quotes[0].article_id == "herald"
    assert last.quotes[0].author == "Jane Doe"
