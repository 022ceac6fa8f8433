"""Replies a journalist can use on a phone: one quote with a citation that says who wrote the
story and who said it, labels that tell articles apart, comparisons headed by outlet or label,
and "More" without the quoted article's own paragraphs."""

from __future__ import annotations

from bot import render
from bot.labels import Named, article_label, reply_labels
from index.types import Answer, Quote, SourceRef
from scripts.ask import format_text
from testkit.fake_bot_api import check_message_text

SHOWCASE = "Kim Jong Un’s Weapons Showcase: A Show of Strength to Foreign Allies"
DEFENCE = "Kim Jong Un Showcases North Korea’s Latest Weapons to Russian Defence Chief"
PHONE_CHARS = 700


def plain(html: str) -> str:
    return check_message_text(html, "HTML")[0]


def quote(article_id: str = "allies", title: str = SHOWCASE, **fields: object) -> Quote:
    values: dict[str, object] = {
        "text": "North Korea’s KCNA news agency reported that Mr. Kim praised his military.",
        "article_id": article_id,
        "title": title,
        "paragraph": 5,
        "start": 0,
        "end": 75,
        "score": 0.9,
    }
    values.update(fields)
    return Quote(**values)  # type: ignore[arg-type]


def ref(article_id: str, title: str, paragraph: int = 7, **fields: object) -> SourceRef:
    return SourceRef(article_id, title, text="Kim praised it.", paragraph=paragraph, **fields)  # type: ignore[arg-type]


def test_long_titles_keep_the_words_that_tell_them_apart() -> None:
    labels = reply_labels([Named("allies", None, SHOWCASE), Named("defence", None, DEFENCE)])
    assert labels == {
        "allies": "Show of Strength to Foreign Allies",
        "defence": "North Korea’s Latest Weapons to Russian Defence Chief",
    }
    alone = article_label(None, SHOWCASE, "allies")  # on its own: first and last words
    assert alone == "Kim Jong Un’s Weapons … A Show of Strength to Foreign Allies"
    assert len(alone) <= 60 and alone.endswith("Foreign Allies")
    assert reply_labels([Named("a", "Reuters", SHOWCASE), Named("b", None, "Short title")]) == {
        "a": "Reuters",
        "b": "Short title",
    }


def test_a_reply_names_the_two_seed_articles_apart() -> None:
    top = quote(also_in=(ref("defence", DEFENCE),))
    text = plain(render.render_answer(Answer("q", True, quotes=(top,)))[0])
    assert "— Show of Strength to Foreign Allies · ¶6" in text
    assert "Also reported by North Korea’s Latest Weapons to Russian Defence Chief" in text


def test_the_citation_gives_the_byline_and_the_speaker() -> None:
    top = quote(
        source="Reuters",
        published="2024-03-03",
        author="Jane Doe",
        speaker="North Korea’s KCNA news agency",
        said="reported",
    )
    text = plain(render.render_answer(Answer("q", True, quotes=(top,)))[0])
    assert text.endswith(
        "— Reuters, 3 Mar 2024 · by Jane Doe · ¶6 · North Korea’s KCNA news agency reported"
    )
    assert "Reuters, 2024-03-03, by Jane Doe, North Korea’s KCNA news agency reported" in (
        format_text(Answer("q", True, quotes=(top,)))
    )
    drone = quote(speaker="NK News", said="according to")
    text = plain(render.render_answer(Answer("q", True, quotes=(drone,)))[0])
    assert text.endswith("· ¶6 · according to NK News")


def test_a_one_fact_answer_fits_a_phone_and_the_rest_is_under_more() -> None:
    others = tuple(ref(f"o{n}", f"Other report {n}", source=f"Outlet {n}") for n in range(5))
    further = tuple(quote(f"f{n}", f"Further {n}", text=f"Further fact {n}.") for n in range(2))
    answer = Answer("q", True, quotes=(quote(also_in=others), *further))
    [html] = render.render_answer(answer)
    text = plain(html)
    assert len(text) <= PHONE_CHARS
    assert text.count("\n") == 2  # the quote, its citation, one line of corroboration
    assert text.endswith("Also reported by Outlet 0, Outlet 1 and 3 more")
    assert "Further fact" not in text and "Sources" not in text
    more = plain(render.render_more(answer, "")[0])
    assert "Further fact 0." in more and "Further fact 1." in more and "Sources" in more


def test_more_does_not_show_the_quoted_articles_own_paragraphs() -> None:
    own = ref("allies", SHOWCASE, paragraph=2, source=None)  # the quoted article itself
    other = ref("defence", DEFENCE, paragraph=8)
    answer = Answer("q", True, quotes=(quote(also_in=(own, other, other)),))
    assert render.corroborating_refs(answer) == [other]
    more = plain(render.render_more(answer, "Mr. Kim praised his military.", {})[0])
    assert more.count("Kim praised it.") == 1


def test_comparisons_are_headed_by_outlet_or_label_and_name_the_topic() -> None:
    quotes = (quote(), quote("defence", DEFENCE), quote("wire", "Wire", source="Reuters"))
    answer = Answer(
        "How do the two reports differ on the missiles?",
        True,
        quotes=quotes,
        kind="comparison",
        resolved="the missiles",
    )
    text = plain(render.render_answer(answer)[0])
    assert text.startswith("What each article says about the missiles\n")
    assert "Outlet not named" not in text
    assert "\n\nShow of Strength to Foreign Allies\n" in text
    assert "\n\nNorth Korea’s Latest Weapons to Russian Defence Chief\n" in text
    assert "\n\nReuters\n" in text
