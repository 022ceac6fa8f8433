"""Misspelt questions (``index.dialogue.spelling``) and questions in other languages
(``index.dialogue.language``): real symspellpy and lingua, a small made-up corpus vocabulary."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from index.dialogue.language import LanguageCheck
from index.dialogue.spelling import Speller

CORPUS = {
    "shoigu": 4,
    "hwasong": 3,
    "kim": 9,
    "jong": 9,
    "un": 9,
    "delegation": 4,
    "pyongyang": 2,
    "chinese": 3,
    "drone": 2,
}


@pytest.fixture(scope="module")
def speller() -> Iterator[Speller]:
    speller = Speller()
    assert speller.wait(60), "the English word list did not load"
    yield speller


def corrected(speller: Speller, question: str) -> str:
    found = speller.correct(question, CORPUS, "test-corpus")
    return found.text if found is not None else question


@pytest.mark.parametrize(
    ("typed", "read_as"),
    [
        ("who lead the chinise delegaton", "who lead the chinese delegation"),
        ("wich weapons were shown", "which weapons were shown"),
        ("What did Shoygu bring?", "What did Shoigu bring?"),  # a corpus name, one edit away
        ("When was the Hwasong tested?", "When was the Hwasong tested?"),  # known: untouched
        ("Did Zelenskyy attend?", "Did Zelenskyy attend?"),  # an unknown name stays a name
        ("Who is Mr Kim?", "Who is Mr Kim?"),
    ],
)
def test_misspelt_words_are_corrected_and_names_are_not(
    speller: Speller, typed: str, read_as: str
) -> None:
    assert corrected(speller, typed) == read_as


def test_a_correction_names_the_words_it_changed(speller: Speller) -> None:
    found = speller.correct("Who lead the Chinise delegaton?", CORPUS, "test-corpus")
    assert found is not None
    assert found.text == "Who lead the Chinese delegation?"  # capitals kept
    assert found.changed == (("Chinise", "chinese"), ("delegaton", "delegation"))


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("Wer leitete die chinesische Delegation?", "German"),
        ("Wer leitete die Delegation?", "German"),  # "die" and "delegation" are English words
        ("¿Quién dirigió la delegación china?", "Spanish"),
        ("Qui a dirigé la délégation chinoise ?", "French"),
        ("Кто возглавлял китайскую делегацию?", "Russian"),
        ("Chi ha guidato la delegazione cinese?", "Italian"),
    ],
)
def test_a_question_in_another_language_is_named(
    speller: Speller, question: str, language: str
) -> None:
    known = lambda word: word in CORPUS or speller.english(word)  # noqa: E731
    assert LanguageCheck().foreign(question, known) == language


@pytest.mark.parametrize(
    "question",
    [
        "Who led the Chinese delegation?",
        "who lead the chinise delegaton",
        "Kim Jong Un?",
        "Shoigu?",
        "What is Shoigu's job?",
        "Hwasong-18?",
        "drones?",
        "wich weapons were shwn",  # half the words misspelt: lingua is not sure
    ],
)
def test_english_with_names_and_typos_is_english(speller: Speller, question: str) -> None:
    known = lambda word: word in CORPUS or speller.english(word)  # noqa: E731
    assert LanguageCheck().foreign(question, known) is None
