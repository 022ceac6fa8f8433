"""Issue 20's smaller findings: labels without invisible characters (a forged outlet), size
caps on a title, an article and a sentence before splitting (a 4.5 MB one-word ``<h1>``), and
a size cap on the feeds that are parsed."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot import render
from bot.corpus_changes import CoverageReply
from index.corpus.articles import load_corpus
from index.corpus.caps import MAX_ARTICLE_CHARS, MAX_TITLE_CHARS, cut_body
from index.corpus.sentences import split_sentences
from index.types import Answer, Article, Quote
from ingest.extract import extract_page
from ingest.feeds import MAX_FEED_BYTES, FeedError, parse_feed
from testkit.fake_bot_api import check_message_text

FORGED = "Reu\u200dters \u202eswen\u202c"
GIANT = "A" * 4_500_000
STORY = "".join(
    f"<p>Paragraph {n} says the harbour bridge reopened after engineers replaced cables.</p>"
    for n in range(8)
)


def plain(html: str) -> str:
    return check_message_text(html, "HTML")[0]


def test_invisible_characters_never_reach_a_label() -> None:
    quote = Quote(
        text="The bridge reopened.",
        article_id="a1",
        title="Bridge \u2066reopens\u2069 \ufeff",
        paragraph=0,
        start=0,
        end=20,
        score=0.9,
        source=FORGED,
    )
    answer = Answer("Did the bridge reopen?", True, quotes=(quote,), kind="answer")
    cited = plain(render.render_answer(answer)[0])
    sources = plain(render.render_sources([Article("a1", quote.title, "Text.", source=FORGED)])[0])
    assert "Reuters swen — Bridge reopens" in sources
    assert "— Reuters swen" in cited
    assert not any(ch in cited + sources for ch in "\u200d\u202e\u202c\u2066\u2069\ufeff")
    reply = CoverageReply("added", "a1", "Bridge \u202ereopens", FORGED)
    assert plain(render.coverage_notice(reply)).startswith("Added “Bridge reopens” (Reuters swen")


def test_the_extractor_strips_them_from_title_outlet_and_author() -> None:
    html = (
        f'<html><head><title>Bridge \u202ereopens</title><meta property="og:site_name" '
        f'content="{FORGED}"><meta name="author" content="Jane\u200b Doe"></head>'
        f"<body><article><h1>Bridge \u202ereopens</h1>{STORY}</article></body></html>"
    )
    page = extract_page(html.encode(), "http://example.com/a")
    assert (page.title, page.source, page.author) == ("Bridge reopens", "Reuters swen", "Jane Doe")


def test_a_giant_one_word_heading_is_cut_before_it_is_split(
    caplog: pytest.LogCaptureFixture,
) -> None:
    html = f"<html><head></head><body><article><h1>{GIANT}</h1>{STORY}</article></body></html>"
    with caplog.at_level(logging.WARNING):
        page = extract_page(html.encode(), "http://example.com/giant")
    assert len(page.title) <= MAX_TITLE_CHARS and GIANT[:1000] not in page.body
    assert page.body.startswith("Paragraph 0 says")
    assert "a title of 10,000 characters cut" in caplog.text
    assert "a body of 4,500," in caplog.text


def test_the_loader_caps_hand_written_files(tmp_path: Path) -> None:
    body = "\n\n".join(["A first paragraph of the story.", GIANT[:300_000], "The end."])
    text = f"---\ntitle: '{'Long title ' * 100}'\n---\n\n{body}\n"
    (tmp_path / "long.md").write_text(text, encoding="utf-8")
    load = load_corpus(tmp_path)
    [article] = load.articles
    assert len(article.title) <= MAX_TITLE_CHARS and article.title.endswith("…")
    assert article.body == "A first paragraph of the story.\n\nThe end."
    reasons = [w.reason for w in load.warnings]
    assert reasons == [
        "a title of 1,099 characters cut to 300",
        f"a body of {len(body):,} characters cut to 41 (at most {MAX_ARTICLE_CHARS:,})",
    ]


def test_a_sentence_is_capped_before_it_is_split(caplog: pytest.LogCaptureFixture) -> None:
    article = Article(id="w", title="T", body=f"Before it. {GIANT[:MAX_ARTICLE_CHARS]}\n\nAfter.")
    with caplog.at_level(logging.WARNING):
        sentences = split_sentences(article, max_chars=400)
    assert len(sentences) < 20  # not the 500 of 200,000 characters in pieces of 400
    assert all(article.body[s.start : s.end] == s.text for s in sentences)
    assert sentences[-1].text == "After."
    assert "200,000 characters without a space ('AAAA" in caplog.text


def test_cut_body_keeps_whole_paragraphs() -> None:
    body = "\n\n".join(["a" * 40, "b" * 40, "c" * 40])
    assert cut_body(body, 90) == "a" * 40 + "\n\n" + "b" * 40
    assert cut_body("x" * 100, 50) == "x" * 50


def test_a_feed_over_the_cap_is_not_parsed() -> None:
    items = "<item><title>t</title><link>http://example.com/1</link></item>" * 40_000
    feed = f"<?xml version='1.0'?><rss version='2.0'><channel>{items}</channel></rss>".encode()
    assert len(feed) > MAX_FEED_BYTES
    with pytest.raises(
        FeedError, match=r"^feed too large to parse \([\d,]+ bytes; at most 2 MB\)$"
    ):
        parse_feed(feed, "http://example.com/rss")
