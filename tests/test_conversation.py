"""Follow-up questions: which questions lean on the last turn, and what they are read as.

These use the real spaCy English model (``en_core_web_sm``, loaded once for the session by the
``spacy_english`` fixture) and sentences of the seed articles; no index, no embedding model.
"""

from __future__ import annotations

import pytest

from index.corpus import nlp
from index.dialogue.conversation import (
    Conversation,
    Followup,
    QuotePlace,
    Turn,
    might_lean,
    proposition,
    resolve,
    sibling_modifiers,
)
from index.dialogue.mentions import mark_answer, mentions
from index.types import Answer, Quote

pytestmark = pytest.mark.usefixtures("spacy_english")

RUSSIAN_LED = (
    "The North Korean regime extended an invitation to the Russian delegation, led by Mr. "
    "Shoigu, along with Chinese officials, to participate in the 70th-anniversary celebrations "
    "of the Korean War armistice."
)
VISIT = (
    "During a recent visit to Pyongyang, Kim Jong Un, the Supreme Leader of North Korea, "
    "showcased the country’s latest weapons to Sergei Shoigu, Russia’s Defence Minister."
)
CHINESE_LED = (
    "Additionally, the Chinese delegation, led by politburo member Li Hongzhong, delivered a "
    "personal letter from Chinese President Xi Jinping to Kim Jong Un."
)
LETTER = (
    "During the event, Mr. Shoigu had a “friendly talk” with Kim Jong Un and presented him with "
    "an autographed letter from Russian President Vladimir Putin."
)
UNVEILED = (
    "The event, marked by grand military parades, witnessed the unveiling of the Hwasong "
    "intercontinental ballistic missile (ICBM), a significant achievement for North Korea’s "
    "weapons program."
)
FROM_CHINA = (
    "The visit also included a delegation from China, led by politburo member Li Hongzhong, who "
    "delivered a personal letter from Chinese President Xi Jinping to Kim Jong Un."
)
BODY = " ".join([VISIT, RUSSIAN_LED, LETTER, CHINESE_LED, UNVEILED])


def turn(question: str, quote: str = "", resolved: str | None = None) -> Turn:
    place = QuotePlace("kim", 1, 0, len(quote)) if quote else None
    return Turn(question, resolved or question, 0.0, quote, place)


def read(question: str, last: Turn, *background: str) -> Followup:
    return resolve(question, last, background)


# --------------------------------------------------------------------------- leaning or not


def test_pronouns_take_the_last_answer_and_the_people_around_it() -> None:
    last = turn("Who led the Russian delegation?", RUSSIAN_LED)
    followup = read("And what did he give him?", last, VISIT, BODY)
    assert followup.leans
    assert followup.resolved == "What did Shoigu give Kim Jong Un?"
    assert followup.prefer == last.place


def test_he_is_the_chinese_envoy_after_a_question_about_him() -> None:
    last = turn("Who led the Chinese delegation?", CHINESE_LED)
    assert read("What did he bring Kim?", last).resolved == "What did Li Hongzhong bring Kim?"


def test_it_is_the_thing_the_last_answer_named() -> None:
    last = turn("Which missile was unveiled at the parade?", UNVEILED)
    resolved = read("When was it tested?", last).resolved
    assert resolved.startswith("When was the Hwasong intercontinental ballistic missile")


def test_a_self_contained_question_ignores_the_context() -> None:
    last = turn("Who led the Russian delegation?", RUSSIAN_LED)
    for question in (
        "When was the ICBM tested?",
        "What did Kim call his country's military?",  # "his" is Kim's
        "Which politburo member went to North Korea?",
    ):
        followup = read(question, last)
        assert followup == Followup(question, question), question
        assert not followup.leans and followup.prefer is None


def test_an_object_pronoun_is_not_its_own_verbs_subject() -> None:
    last = turn("Who led the Chinese delegation?", CHINESE_LED)
    followup = read("What did Shoigu give him?", last)
    assert followup.leans and "Shoigu give" in followup.resolved
    assert "give Shoigu" not in followup.resolved


def test_a_question_without_leaning_words_is_not_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed a question that stands alone")

    monkeypatch.setattr(nlp, "parse", no_parse)
    assert not might_lean("When was the Hwasong ICBM successfully tested?")
    last = turn("Who led the Russian delegation?", RUSSIAN_LED)
    assert not read("When was the Hwasong ICBM successfully tested?", last).leans


def test_no_context_no_follow_up() -> None:
    assert resolve("And what did he give him?", None) == Followup(
        "And what did he give him?", "And what did he give him?"
    )


# --------------------------------------------------------------------------- ellipsis


def test_where_was_that_asks_the_last_question_again_with_where() -> None:
    last = turn("What did Kim Jong Un show the Russian defence minister?", VISIT)
    resolved = read("Where was that?", last).resolved
    assert resolved.startswith("Where did Kim Jong Un show the Russian defence minister")
    assert resolved.endswith("?")


def test_why_alone_and_why_did_he_do_it() -> None:
    last = turn("Who led the Russian delegation?", RUSSIAN_LED)
    assert read("Why?", last).resolved == "Why did Shoigu lead the Russian delegation?"
    assert read("Why did he do it?", last).resolved == "Why did Shoigu lead the Russian delegation?"


def test_and_the_russian_delegation_takes_the_place_of_the_last_subject() -> None:
    last = turn("What did the Chinese delegation bring Kim?", CHINESE_LED)
    followup = read("And the Russian delegation?", last)
    assert followup.resolved == "What did the Russian delegation bring Kim?"


def test_the_other_one_is_the_other_delegation_the_coverage_names() -> None:
    last = turn("Which delegation did Li Hongzhong lead?", FROM_CHINA)
    resolved = read("And who led the other one?", last, FROM_CHINA, BODY).resolved
    assert resolved == "Who led the Russian delegation?"
    last = turn("Who led the Russian delegation?", RUSSIAN_LED)
    assert (
        read("What about the other one?", last, RUSSIAN_LED, BODY).resolved
        == "Who led the Chinese delegation?"
    )


def test_who_else_asks_again_for_another_quote() -> None:
    last = turn("Who led the Russian delegation?", RUSSIAN_LED)
    followup = read("Who else?", last)
    assert followup.resolved == "Who led the Russian delegation?"
    assert followup.avoid == last.place and followup.leans


def test_there_is_the_last_place() -> None:
    last = turn("Where did Kim show Shoigu the weapons?", VISIT)
    assert read("Who else was there?", last).resolved == "Who else was in Pyongyang?"


def test_there_with_its_own_place_stands_alone() -> None:
    last = turn("Where did Kim show Shoigu the weapons?", VISIT)
    assert not read("How much rainfall was there in Riverside?", last).leans
    assert not read("Was there a parade?", last).leans


def test_that_letter_is_the_letter_named_last() -> None:
    last = turn("What did Shoigu give Kim Jong Un?", LETTER)
    assert read("Who was that letter from?", last).resolved == (
        "Who was the autographed letter from?"
    )


def test_who_said_so_keeps_the_question_and_a_fuller_fallback() -> None:
    last = turn("Who led the Russian delegation?", RUSSIAN_LED)
    followup = read("Who said so?", last)
    assert followup.leans and followup.resolved == "Who said so?"
    assert followup.fallback == "Who said Shoigu lead the Russian delegation?"


def test_what_next_asks_for_what_follows_the_last_quote() -> None:
    last = turn("Who led the Russian delegation?", RUSSIAN_LED)
    followup = read("What happened next?", last)
    assert followup.leans and followup.after == last.place


# --------------------------------------------------------------------------- parts


def test_the_answer_is_the_phrase_nearest_the_questions_verb() -> None:
    [question, quote] = nlp.parse(["Who led the Chinese delegation?", CHINESE_LED])
    marked = [m.text for m in mark_answer(question, quote, mentions(quote, "quote")) if m.answer]
    assert marked == ["Li Hongzhong"]
    [question, quote] = nlp.parse(["What did Shoigu give Kim Jong Un?", LETTER])
    marked = [m.text for m in mark_answer(question, quote, mentions(quote, "quote")) if m.answer]
    assert marked == ["the autographed letter from Russian President Vladimir Putin"]


def test_mentions_know_people_groups_places_and_pairs() -> None:
    [doc] = nlp.parse(["Both Pyongyang and Moscow have denied these claims to the envoy."])
    found = {m.text: m for m in mentions(doc, "quote")}
    assert found["Pyongyang and Moscow"].plural
    assert found["Pyongyang"].kind == "place"
    assert found["these claims"].kind == "thing" and found["these claims"].plural
    assert found["the envoy"].kind == "person"


def test_proposition_turns_a_question_into_a_statement() -> None:
    [doc] = nlp.parse(["What did Kim show Shoigu?"])
    assert proposition(doc, None) == ("did", "Kim show Shoigu")
    [doc] = nlp.parse(["When was the ICBM tested?"])
    assert proposition(doc, None) == ("was", "the ICBM tested")
    [doc] = nlp.parse(["Which Russian official visited Pyongyang?"])
    assert proposition(doc, None) == ("did", "the Russian official visit Pyongyang")


def test_sibling_modifiers() -> None:
    texts = [BODY, "The Chinese delegation arrived. A Japanese delegation did not."]
    assert sibling_modifiers("delegation", "Russian", texts) == ["Chinese", "Japanese"]
    assert sibling_modifiers("delegation", "China", texts)[0] == "Russian"  # China = Chinese
    assert sibling_modifiers("parade", "Russian", texts) == []


# --------------------------------------------------------------------------- the memory


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def answer_with(question: str, text: str) -> Answer:
    quote = Quote(text, "kim", "Kim", 3, 10, 10 + len(text), 0.9)
    return Answer(question, True, (quote,))


def test_the_context_expires_and_small_talk_does_not_replace_it() -> None:
    clock = Clock()
    chat = Conversation(minutes=10, clock=clock)
    assert chat.last is None
    first = chat.resolve("Who led the Russian delegation?")
    chat.remember(first, answer_with(first.question, RUSSIAN_LED))
    assert chat.last is not None and chat.last.place == QuotePlace(
        "kim", 3, 10, 10 + len(RUSSIAN_LED)
    )
    chat.remember(
        Followup("thanks!", "thanks!"), Answer("thanks!", False, reason="ok", kind="thanks")
    )
    assert chat.last.question == "Who led the Russian delegation?"
    clock.now += 9 * 60
    assert chat.resolve("And what did he give him?").leans
    clock.now += 2 * 60
    assert chat.last is None
    assert not chat.resolve("And what did he give him?").leans


def test_a_declined_question_is_still_context_and_clear_forgets() -> None:
    chat = Conversation()
    asked = chat.resolve("Who led the Russian delegation?")
    chat.remember(asked, Answer(asked.question, False, reason="no", kind="refusal"))
    assert chat.last is not None and chat.last.place is None
    assert chat.resolve("And the Chinese delegation?").resolved == "Who led the Chinese delegation?"
    chat.clear()
    assert chat.last is None
    with pytest.raises(ValueError):
        Conversation(minutes=-1)
