"""Syndicated copies (wire copy, trimmed or lightly edited reprints) against independent reports
of the same event: MinHash/LSH proposes, exact shingle containment decides."""

from __future__ import annotations

from unittest import mock

import pytest

import index.store.syndication as syndication
from index.store.syndication import Syndication, body_key, find_copies, shingles
from index.types import Article

WIRE = (
    "The central bank raised its main interest rate by a quarter of a percentage point on "
    "Thursday, the fourth increase this year, as inflation stayed well above its target.",
    "The decision was unanimous, the bank said in a statement released after the meeting of "
    "its rate-setting committee, which met for two days in the capital.",
    '"Inflation remains too high and we are determined to bring it back to our target in a '
    "timely manner,\" the bank's governor told reporters at a news conference.",
    "Economists polled before the meeting had expected the increase, although a minority had "
    "forecast a pause because of signs that the economy was slowing down.",
    "The bank said it would watch wage growth and energy prices closely, and that further "
    "increases could not be ruled out if price pressures proved persistent.",
    "Shares on the main stock exchange fell slightly after the announcement while the currency "
    "rose against the dollar and the euro in afternoon trading.",
)
QUOTE = WIRE[2]
INDEPENDENT = (
    "Borrowers face higher monthly payments again after the central bank's latest move, with "
    "mortgage brokers warning that first-time buyers will be hit hardest.",
    QUOTE,
    "Estate agents in the north of the country said viewings had already dropped sharply over "
    "the summer, and several lenders withdrew their cheapest fixed-rate deals this week.",
    "Consumer groups urged households to review their budgets and to speak to their lenders "
    "early if they expected to struggle with repayments in the coming months.",
)

BRIEF = (
    "Markets had priced in the move for weeks, and analysts now expect a long pause while the "
    "effect of earlier increases feeds through to prices and wages."
)


def article(
    article_id: str, paragraphs: tuple[str, ...], published: str | None, source: str
) -> Article:
    return Article(
        id=article_id,
        title=f"Story {article_id}",
        body="\n\n".join(paragraphs),
        published=published,
        source=source,
    )


def corpus() -> list[Article]:
    edited = tuple(
        p.replace("on Thursday", "on Thursday afternoon").replace("slightly", "a little")
        for p in WIRE[:5]
    )
    return [
        article("herald", WIRE, "2024-03-07", "The Herald"),  # reprint, a day later
        article("wire", WIRE, "2024-03-06", "Wire Service"),  # the original
        article("gazette", edited, "2024-03-07", "The Gazette"),  # trimmed and lightly edited
        article("courier", INDEPENDENT, "2024-03-06", "The Courier"),  # own reporting
        article("brief", (QUOTE, BRIEF), "2024-03-05", "Brief"),  # quotes one paragraph
    ]


def test_copies_are_grouped_with_the_earliest_first_and_own_reporting_is_not() -> None:
    found, signatures = find_copies(corpus())
    assert found.groups == (("wire", "herald", "gazette"),)  # same day: the longer copy first
    assert found.original("gazette") == "wire"
    assert found.copies("wire") == ("herald", "gazette")
    assert found.copies("herald") == ("wire", "gazette")
    assert found.copies("courier") == () and found.group("courier") == ("courier",)
    assert found.copies("brief") == ()
    assert found.same_story("gazette", "herald") and not found.same_story("wire", "courier")
    assert set(signatures) == {body_key(a.body) for a in corpus()}


def test_shingles_ignore_case_punctuation_and_layout() -> None:
    assert shingles("The Bank RAISED rates, again!") == shingles("the bank raised\n\nrates again")
    assert shingles("") == set()
    assert shingles("two words") == {b"two words"}


def test_kept_signatures_are_reused_and_give_the_same_groups() -> None:
    first, signatures = find_copies(corpus())
    with mock.patch.object(syndication, "signature", side_effect=AssertionError("recomputed")):
        again, kept = find_copies(corpus(), signatures=signatures)
    assert again == first
    assert kept.keys() == signatures.keys()


def test_undated_copies_come_after_dated_ones() -> None:
    articles = [article("undated", WIRE, None, "Blog"), article("dated", WIRE, "2024-01-01", "X")]
    found, _ = find_copies(articles)
    assert found.groups == (("dated", "undated"),)


def test_groups_round_trip_through_json() -> None:
    found, _ = find_copies(corpus())
    assert Syndication.from_json(found.to_json()) == found
    assert Syndication.from_json({}) == Syndication()


def test_short_texts_are_never_copies() -> None:
    found, _ = find_copies([article("a", (QUOTE,), None, "A"), article("b", (QUOTE,), None, "B")])
    assert found.groups == ()


@pytest.mark.parametrize("containment", [0.3, 0.95])
def test_the_containment_threshold_decides(containment: float) -> None:
    trimmed = article("trimmed", WIRE[:3], "2024-03-07", "Trim")  # half the story
    found, _ = find_copies(
        [article("wire", WIRE, "2024-03-06", "Wire"), trimmed], min_containment=containment
    )
    assert found.same_story("wire", "trimmed")  # all of the trimmed copy is in the original
    edited = article("edited", tuple(p.replace(" the ", " a ") for p in WIRE), "2024-03-07", "Edit")
    found, _ = find_copies(
        [article("wire", WIRE, "2024-03-06", "Wire"), edited], min_containment=containment
    )
    assert found.same_story("wire", "edited") is (containment < 0.5)
