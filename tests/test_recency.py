"""Questions that ask for the latest (``index.dialogue.asks``), and figures that disagree
(``index.rank.recency``)."""

from __future__ import annotations

import pytest

from index.dialogue.asks import asked
from index.rank.recency import figure_for, figures, figures_differ, newest_candidates


@pytest.mark.parametrize(
    "question",
    [
        "What is the latest death toll?",
        "Is the Harbour Bridge still closed?",
        "How many tickets have been sold so far?",
        "Who is the mayor now?",
        "What is the most recent figure for inflation?",
        "How many people have died to date?",
    ],
)
def test_questions_asking_for_the_latest(question: str) -> None:
    assert asked(question).latest


@pytest.mark.parametrize(
    "question",
    [
        "Who led the Chinese delegation?",
        "How many steel cables did engineers replace?",
        "When was the ICBM tested?",
        "What did the stillborn plan propose?",  # "still" inside a word
        "What was the budget in 2020?",
    ],
)
def test_other_questions(question: str) -> None:
    assert not asked(question).latest


def test_figures_are_normalised() -> None:
    assert figures("The repairs cost 12 million euros, less than the 15 million set aside.") == {
        "12000000",
        "15000000",
    }
    assert figures("1,200 people and 1.2 thousand more; 5% or 5 per cent") == {"1200", "5%"}
    assert figures("No numbers here, only words like G7 or MP3") == frozenset()
    assert figures("It rose 2.5bn") == {"2500000000"}


def test_figures_differ_only_when_both_give_figures_with_none_shared() -> None:
    assert figures_differ("The death toll rose to 45.", "At least 52 people have died.")
    assert not figures_differ("The toll rose to 45 on Monday.", "Officials confirmed 45 deaths.")
    assert not figures_differ("The toll rose to 45.", "The toll kept rising.")
    assert not figures_differ("It cost 12 million, not 15 million.", "It cost 12 million.")


def test_newest_candidates_first_then_score() -> None:
    days = ["2024-03-01", None, "2024-03-04", "2024-03-04T10:00:00Z", "yesterday"]
    scores = [0.9, 0.95, 0.5, 0.7, 0.8]
    assert newest_candidates(days, scores) == [3, 2, 0, 1, 4]


@pytest.mark.parametrize(
    ("text", "counted", "figure"),
    [
        (
            "Only 240 people are still in shelters, down from a peak of 1,500 on Sunday.",
            "people",
            "240",
        ),
        ("The number of people killed has risen to 17, officials said.", "people", "17"),
        ("Twelve people have died after the river burst its banks.", "people", "12"),
        ("Forty-two homes were lost.", None, "42"),
        ("The euro rose 0.6% against the dollar.", None, "0.6%"),
        ("One of the bridges stayed open.", None, None),  # "one of": not a count
    ],
)
def test_the_figure_a_sentence_gives_for_what_is_counted(
    text: str, counted: str | None, figure: str | None
) -> None:
    assert figure_for(text, counted) == figure
