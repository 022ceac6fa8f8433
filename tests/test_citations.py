"""How a quote is cited (``bot.render``, ``scripts.ask``, ``Quote.to_dict``): the outlet linked
to the sentence, the date, the paragraph; the title when there is no outlet and nothing when
there is no date; one label per article in every reply; copies apart from corroboration."""

from __future__ import annotations

from bot import render
from bot.corpus_changes import ArticleNote, CoverageReply
from index.types import Answer, Article, Quote, SourceRef, newest_first
from ingest.summary import Skip
from scripts.ask import format_text
from testkit.fake_bot_api import check_message_text

BODY = "The toll rose to 52 on Sunday. Rescue teams kept searching."
URL = "https://news.example.com/floods"


def quote(**fields: object) -> Quote:
    values: dict[str, object] = {
        "text": "The toll rose to 52 on Sunday.",
        "article_id": "late",
        "title": "Flood toll climbs",
        "paragraph": 2,
        "start": 0,
        "end": 30,
        "score": 0.9,
        "url": URL,
        "published": "2024-03-03",
        "source": "National Post",
    }
    values.update(fields)
    return Quote(**values)  # type: ignore[arg-type]


def plain(html: str) -> str:
    return check_message_text(html, "HTML")[0]


def test_outlet_date_and_paragraph_with_the_outlet_linked_to_the_sentence() -> None:
    [html] = render.render_answer(Answer("q", True, quotes=(quote(),)))
    assert f'— <a href="{URL}#:~:text=The%20toll%20rose%20to%2052%20on%20Sunday.">' in html
    assert "<b>National Post</b></a>, 3 Mar 2024 · ¶3" in html
    more = plain(render.render_more(Answer("q", True, quotes=(quote(),)), "")[0])
    assert more.endswith("Sources\n• National Post, 3 Mar 2024 — Flood toll climbs")


def test_without_outlet_or_date_the_title_stands_in_and_nothing_is_made_up() -> None:
    bare = quote(source=None, published=None, url=None)
    text = plain(render.render_answer(Answer("q", True, quotes=(bare,)))[0])
    assert text.endswith("— Flood toll climbs · ¶3")
    more = plain(render.render_more(Answer("q", True, quotes=(bare,)), "")[0])
    assert more.endswith("Sources\n• Flood toll climbs")
    undated = quote(published="sometime in spring")  # not a date: shown as given, not parsed
    assert "— National Post, sometime in spring · ¶3" in plain(
        render.render_answer(Answer("q", True, quotes=(undated,)))[0]
    )


def test_copies_and_independent_reports_are_named_apart() -> None:
    copies = (SourceRef("herald", "Rates up", "https://herald.example/r", "2024-03-07", "Herald"),)
    others = (SourceRef("courier", "Borrowers brace", None, "2024-03-06", None),)
    top = quote(also_published=copies, also_in=others)
    text = plain(render.render_answer(Answer("q", True, quotes=(top,)))[0])
    assert text.endswith("\nAlso published by Herald; also reported by Borrowers brace")
    more = plain(render.render_more(Answer("q", True, quotes=(top,)), "")[0])
    assert "• Herald, 7 Mar 2024 — Rates up" in more and "• Borrowers brace, 6 Mar 2024" in more
    data = top.to_dict()
    assert data["also_published"] == [
        {
            "article_id": "herald",
            "title": "Rates up",
            "source": "Herald",
            "published": "2024-03-07",
            "url": "https://herald.example/r",
            "author": None,
        }
    ]
    assert [r["article_id"] for r in data["also_in"]] == ["courier"]
    assert (data["source"], data["published"], data["url"]) == ("National Post", "2024-03-03", URL)
    lines = format_text(Answer("q", True, quotes=(top,)))
    assert (
        "Also published by: Herald" in lines and "Also reported by 1 more: Borrowers brace" in lines
    )


def test_an_article_keeps_its_label_in_every_reply() -> None:
    first = Answer("q1", True, quotes=(quote(),))
    cited = SourceRef("late", "Flood toll climbs", URL, "2024-03-03", "National Post")
    second = Answer(
        "q2", True, quotes=(quote(article_id="early", source="Valley Times", also_in=(cited,)),)
    )
    one = plain(render.render_answer(first)[0])
    two = plain(render.render_answer(second)[0])
    assert "— National Post, 3 Mar 2024" in one and "Also reported by National Post" in two
    assert render.article_label("National Post", "Flood toll climbs", "late") == "National Post"
    assert render.article_label(None, "Flood toll climbs", "late") == "Flood toll climbs"
    assert render.article_label("  ", "", "late") == "late"


def test_sources_list_numbers_newest_first_with_outlet_and_date() -> None:
    articles = [
        Article("a", "Undated piece", BODY),
        Article("b", "Older", BODY, published="2024-01-05", source="Gazette"),
        Article("c", "Newer", BODY, published="2024-03-01T09:00:00Z", source="Herald"),
    ]
    lines = plain(render.render_sources(newest_first(articles))[0]).splitlines()
    assert lines[1:] == [
        "1. Herald, 1 Mar 2024 — Newer",
        "2. Gazette, 5 Jan 2024 — Older",
        "3. Undated piece",
    ]


def test_the_admins_replies() -> None:
    added = CoverageReply("added", "3f2a", "Flood toll climbs", "National Post", "2024-03-03")
    assert plain(render.coverage_notice(added)) == (
        "Added “Flood toll climbs” (National Post, 3 Mar 2024) as 3f2a. "
        "The index is updated: I answer from it now."
    )
    failed = CoverageReply("updated", "3f2a", "Flood toll climbs", rebuild_error="error: boom")
    assert plain(render.coverage_notice(failed)) == (
        "Updated “Flood toll climbs” (3f2a). The index could not be updated (error: boom); "
        "I still answer from the previous version."
    )
    refused = CoverageReply("not_removed", reason="no article with id 'x' in the corpus")
    assert plain(render.coverage_notice(refused)) == (
        "Not removed: no article with id 'x' in the corpus"
    )
    html = render.coverage_notice(CoverageReply("not_added", reason="<b>&"))
    assert plain(html) == "Not added: <b>&"  # escaped, never markup


def test_the_report_of_an_add_lists_the_first_articles_and_skips() -> None:
    notes = tuple(ArticleNote("added", f"id{n}", f"Story {n}", "Herald") for n in range(12))
    skips = tuple(Skip(f"http://example.com/{n}", "HTTP 404 Not Found") for n in range(7))
    reply = CoverageReply("report", url="http://example.com/rss", articles=notes, skipped=skips)
    lines = plain(render.coverage_notice(reply)).splitlines()
    assert lines[0] == "From http://example.com/rss: 12 added, 0 updated, 0 unchanged, 7 skipped."
    assert lines[1] == "• Added “Story 0” (Herald) as id0"
    assert lines[11] == "… and 2 more"
    assert lines[12] == "• Skipped http://example.com/0: HTTP 404 Not Found"
    assert lines[17:] == ["… and 2 more", "The index is updated: I answer from it now."]
    unchanged = CoverageReply("report", url="u", articles=(ArticleNote("unchanged", "a"),))
    assert plain(render.coverage_notice(unchanged)).splitlines()[1:] == ["• Unchanged: “a” (a)"]
