"""Questions that ask to compare the coverage are recognised, with their topic."""

from __future__ import annotations

import pytest

from index.rank.compare import comparison_topic


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("How do the two reports differ on Covid easing?", "Covid easing"),
        ("Which outlets report the drone designs?", "the drone designs"),
        ("which articles mention Li Hongzhong", "Li Hongzhong"),
        ("What does each outlet say about the ICBM test?", "the ICBM test"),
        (
            "Do the articles agree on who led the Russian delegation?",
            "who led the Russian delegation",
        ),
        ("compare coverage of the arms accusations", "the arms accusations"),
        ("Compare the Hwasong test across outlets", "the Hwasong test"),
        ("What are the differences between the reports on Shoigu's visit?", "Shoigu's visit"),
    ],
)
def test_comparison_questions(question: str, topic: str) -> None:
    assert comparison_topic(question) == topic


@pytest.mark.parametrize(
    "question",
    [
        "Who reported that?",
        "Which Russian official visited Pyongyang?",
        "What did the reports say?",
        "How many reports are there?",
        "Which news agency reported that Kim praised the military?",
    ],
)
def test_other_questions_are_not_comparisons(question: str) -> None:
    assert comparison_topic(question) is None
