"""The one question classifier (``index.dialogue.asks``): what a question asks for."""

from __future__ import annotations

import pytest

from index.dialogue.asks import asked


@pytest.mark.parametrize(
    ("question", "kind", "form", "mention_kinds"),
    [
        ("When did the bridge reopen?", "date", "date", ("time",)),
        ("Where was the missile tested?", "place", "name", ("place",)),
        ("Who led the delegation from Beijing?", "person", "name", ("person", "group", "place")),
        ("How many drones were shown?", "number", "number", ()),
        ("What is the death toll?", "number", "number", ()),
        ("Which delegation brought a letter?", "organisation", "name", ("group",)),
        ("Which official led the delegation?", "person", "name", ("person", "group", "place")),
        ("What weapons were shown?", None, None, ("thing",)),
        ("Why can it launch faster?", "reason", None, ()),
        ("Did Moscow deny the claims?", "yes/no", None, ()),
        # The first question word decides: this asks for a thing, not a date.
        ("What were they doing when the missile flew?", None, None, ("thing",)),
    ],
)
def test_one_reading_serves_every_caller(
    question: str, kind: str | None, form: str | None, mention_kinds: tuple[str, ...]
) -> None:
    got = asked(question)
    assert (got.kind, got.form, got.mention_kinds) == (kind, form, mention_kinds)


def test_who_accepts_people_organisations_and_groups() -> None:
    assert asked("Who reported the test?").accepts == {"person", "organisation", "group"}
    assert asked("How long did the parade last?").accepts == {"number", "date"}
    assert asked("What did they discuss?").accepts == frozenset()


def test_a_follow_up_is_classified_as_it_was_read_not_as_typed() -> None:
    # "And the Chinese one?" names no kind; the question it is read as does (the ranker's
    # features, the partial check and the corroboration fact check all read the pool's query,
    # which holds the rewritten question).
    assert asked("And the Chinese one?").kind is None
    assert asked("Who led the Chinese delegation?").kind == "person"


@pytest.mark.parametrize(
    ("question", "latest"),
    [
        ("How many people have died so far?", True),
        ("How many people are still in shelters?", True),
        ("What is the toll to date?", True),
        ("How many people died?", False),
        ("What did the stillborn plan propose?", False),
    ],
)
def test_questions_asking_for_the_latest(question: str, latest: bool) -> None:
    assert asked(question).latest is latest
