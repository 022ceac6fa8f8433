"""Credits on real answers (hashing model): each quote's speaker and each article's byline, in
the answer, in ``Quote.to_dict`` and in the references, so "who wrote the story?" and "who said
it?" are answered from the JSON as from the reply."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index.config import IndexSettings
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
