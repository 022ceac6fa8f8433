"""Answers from coverage with outlets and dates, built and asked for real (hashing model):
syndicated copies quoted once from the earliest and named as "also published by", independent
reports as "also reported by", the latest coverage first when the question asks for it, and
two outlets' different figures both quoted with their dates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest

import index.store.syndication as syndication
from index.config import IndexSettings
from index.qa import QA
from index.store.build import build_index
from index.store.syndication import SYNDICATION_FILE, Syndication
from index.store.versions import IndexDir
from index.types import Quote
from tests.corpus import write_article
from tests.test_syndication import INDEPENDENT, WIRE
from tests.verbatim import ask

pytestmark = pytest.mark.usefixtures("offline_index_env")

EDITED = tuple(
    p.replace("on Thursday", "on Thursday afternoon").replace("slightly", "a little")
    for p in WIRE[:5]
)
EARLY_TOLL = (
    "The death toll from the floods in the northern valleys rose to 45 on Friday, officials said."
)
LATE_TOLL = (
    "The death toll from the floods in the northern valleys rose to 52 on Sunday, officials said."
)


def write_corpus(corpus: Path, *, with_courier: bool = True) -> None:
    write_article(
        corpus,
        "herald.md",
        "Bank lifts rates for a fourth time",
        *WIRE,
        source="The Herald",
        published="2024-03-07",
    )
    write_article(
        corpus,
        "wire.md",
        "Central bank raises rates again",
        *WIRE,
        source="Wire Service",
        published="2024-03-06",
    )
    write_article(
        corpus,
        "gazette.md",
        "Rates up again",
        *EDITED,
        source="The Gazette",
        published="2024-03-07",
    )
    if with_courier:
        write_article(
            corpus,
            "courier.md",
            "Borrowers brace for higher payments",
            *INDEPENDENT,
            source="The Courier",
            published="2024-03-06",
        )
    write_article(
        corpus,
        "toll-early.md",
        "Flood toll rises",
        EARLY_TOLL,
        "Rescue teams were still searching villages cut off by the water.",
        source="Valley Times",
        published="2024-03-01",
    )
    write_article(
        corpus,
        "toll-late.md",
        "Flood toll climbs",
        LATE_TOLL,
        "Roads into the region remained closed to all but emergency vehicles.",
        source="National Post",
        published="2024-03-03",
    )


def open_qa(tmp_path: Path, **kwargs: bool) -> tuple[QA, IndexSettings]:
    corpus = tmp_path / "corpus"
    write_corpus(corpus, **kwargs)
    settings = IndexSettings(
        corpus_dir=corpus, index_dir=tmp_path / "index", embedding_model="hashing-64"
    )
    build_index(settings)
    return QA(settings), settings


@pytest.fixture
def qa(tmp_path: Path) -> Iterator[QA]:
    opened, _ = open_qa(tmp_path)
    yield opened
    opened.close()


def test_the_build_stores_the_groups_of_copies(qa: QA, tmp_path: Path) -> None:
    index_dir = IndexDir(tmp_path / "index")
    folder = index_dir.version_dir(index_dir.current_id() or "")
    stored = json.loads((folder / SYNDICATION_FILE).read_text(encoding="utf-8"))
    assert stored == {"groups": [["wire", "herald", "gazette"]]}
    assert Syndication.load(folder).copies("herald") == ("wire", "gazette")


def test_a_copy_is_quoted_from_the_earliest_and_the_others_are_named(tmp_path: Path) -> None:
    qa, _ = open_qa(tmp_path, with_courier=False)
    try:
        answer = ask(qa, "What did the governor say about inflation?")
    finally:
        qa.close()
    top = answer.quotes[0]
    assert top.article_id == "wire" and top.source == "Wire Service"
    assert top.text.startswith('"Inflation remains too high')
    assert [ref.article_id for ref in top.also_published] == ["herald", "gazette"]
    assert all(ref.article_id not in {"herald", "gazette"} for ref in top.also_in)
    data = top.to_dict()
    assert (data["source"], data["published"]) == ("Wire Service", "2024-03-06")
    assert [r["source"] for r in data["also_published"]] == ["The Herald", "The Gazette"]
    assert data["url"] is None  # written by hand: no URL, and none invented


def test_an_independent_report_is_named_apart_from_the_copies(qa: QA) -> None:
    """The sentence is in the three copies and in an independent report: whichever is quoted,
    the story of copies is named once, by its earliest copy, and never as corroboration of
    itself."""
    top = ask(qa, "What did the governor say about inflation?").quotes[0]
    if top.article_id == "courier":
        assert [r.article_id for r in top.also_in] == ["wire"]
        assert top.also_published == ()
    else:
        assert top.article_id == "wire"
        assert [r.article_id for r in top.also_published] == ["herald", "gazette"]
        assert [r.article_id for r in top.also_in] == ["courier"]


def _by_source(quotes: tuple[Quote, ...]) -> dict[str | None, Quote]:
    return {q.source: q for q in quotes}


def test_the_latest_is_asked_for_and_different_figures_are_both_quoted(qa: QA) -> None:
    latest = ask(qa, "What is the latest death toll from the floods?")
    assert latest.quotes[0].source == "National Post" and "52" in latest.quotes[0].text
    quotes = _by_source(latest.quotes)
    assert quotes["Valley Times"].published == "2024-03-01" and "45" in quotes["Valley Times"].text
    assert quotes["National Post"].published == "2024-03-03"
    # Without "latest", both figures are still given, each with its date, neither corroborating
    # the other.
    plain = ask(qa, "What was the death toll from the floods?")
    quotes = _by_source(plain.quotes)
    assert {"National Post", "Valley Times"} <= set(quotes)
    for quote in plain.quotes:
        assert all(ref.source not in {"National Post", "Valley Times"} for ref in quote.also_in)


def test_signatures_of_unchanged_articles_are_reused(tmp_path: Path) -> None:
    qa, settings = open_qa(tmp_path)
    qa.close()
    write_article(
        settings.corpus_dir,
        "extra.md",
        "Market hall opens late",
        "The market hall will stay open until ten on Fridays from next month, the council said.",
        source="Town Crier",
        published="2024-03-08",
    )
    real = syndication.signature
    with mock.patch.object(syndication, "signature", side_effect=real) as computed:
        build_index(settings)
    assert computed.call_count == 1  # only the new article's
    index_dir = IndexDir(settings.index_dir)
    folder = index_dir.version_dir(index_dir.current_id() or "")
    assert Syndication.load(folder).groups == (("wire", "herald", "gazette"),)


def test_a_version_built_before_syndication_is_rebuilt_once(tmp_path: Path) -> None:
    qa, settings = open_qa(tmp_path)
    qa.close()
    index_dir = IndexDir(settings.index_dir)
    old = index_dir.current_id()
    (index_dir.version_dir(old or "") / SYNDICATION_FILE).unlink()
    report = build_index(settings)
    assert not report.noop and report.embedded == 0  # every vector reused
    assert build_index(settings).noop
