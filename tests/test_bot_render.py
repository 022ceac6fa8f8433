"""bot.render and bot.markup: pure functions from Answer to Telegram HTML and plain text.

The property tests feed arbitrary article and user text through every renderer and check the
HTML with the same parser the fake Bot API uses (Telegram's rules, a bit stricter).
"""

from __future__ import annotations

import typing

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import markup, render, wording
from index.types import Answer, AnswerKind, Article, IndexInfo, Quote, SourceRef
from testkit.fake_bot_api import (
    EntityParseError,
    check_message_text,
    parse_telegram_html,
    utf16_len,
)
from testkit.fake_qa import ARTICLES, EXAMPLES, FakeQA, quote_from

HOSTILE = "<>&;\"'#/=ab \n\t\u200b😀\U0001f4a9é\u0301\ud7ff\x00\x1b\r"
KINDS: tuple[AnswerKind, ...] = typing.get_args(AnswerKind)
QUOTED_KINDS = ("answer", "partial")
NOTICE_KINDS = tuple(k for k in KINDS if k not in QUOTED_KINDS)


def checked(html: str) -> str:
    """Assert Telegram would accept ``html`` as one message; return the text users see."""
    plain, _ = check_message_text(html, "HTML")
    assert utf16_len(plain) <= markup.TELEGRAM_MESSAGE_LIMIT
    return plain


def squash(text: str) -> str:
    return "".join(markup.sendable(text).split())


# --------------------------------------------------------------------------- the HTML checker


@pytest.mark.parametrize(
    "bad",
    [
        "<b>unclosed",
        "a < b",
        "a > b",
        "fish & chips",
        "&nbsp;",
        "<b><i>crossed</b></i>",
        "<script>x</script>",
        '<a href="javascript:alert(1)">x</a>',
        "<blockquote><blockquote>x</blockquote></blockquote>",
        "<code><b>x</b></code>",
        '<span class="other">x</span>',
        "<b>   </b>",
        "x" * 4097,
        "😀" * 2049,
    ],
)
def test_checker_rejects_what_telegram_rejects(bad: str) -> None:
    with pytest.raises(EntityParseError):
        check_message_text(bad, "HTML")


def test_checker_accepts_telegram_html() -> None:
    html = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>i</ins><s>s</s><strike>s</strike>"
        '<del>d</del><span class="tg-spoiler">s</span><tg-spoiler>s</tg-spoiler>'
        '<a href="https://e.com/?a=1&amp;b=&quot;2&quot;">l</a><code>c</code>'
        '<pre><code class="language-python">p</code></pre><blockquote>q</blockquote>'
        "<blockquote expandable>x</blockquote>"
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
        "&lt;&gt;&amp;&quot;&#128512;&#x1F600;"
    )
    plain, entities = parse_telegram_html(html)
    assert plain.endswith('<>&"😀😀')
    link = next(e for e in entities if e["type"] == "text_link")
    assert link["url"] == 'https://e.com/?a=1&b="2"'
    assert {e["type"] for e in entities} >= {"bold", "italic", "blockquote", "pre", "spoiler"}
    assert utf16_len("😀") == 2


# --------------------------------------------------------------------------- answers


def test_answer_shows_quote_citation_and_one_line_of_corroboration() -> None:
    answer = FakeQA().answer("How much did the repairs cost?")
    [html] = render.render_answer(answer)
    plain = checked(html)
    top = answer.quotes[0]
    assert html.startswith(f"<blockquote>{top.text}</blockquote>")
    assert f'<a href="{top.link}"><b>{top.source}</b></a>' in html
    assert "#:~:text=" in html
    assert plain == (
        f"{top.text}\n— City Herald, 1 Mar 2024 · ¶2\nAlso reported by Town Crier"
    )  # the sources are under "More"
    more = checked(render.render_more(answer, "")[0])
    assert "Sources\n• City Herald, 1 Mar 2024 — Harbour Bridge reopens after repairs" in more
    assert "• Town Crier, 10 Feb 2024 — Council approves bridge budget" in more


def test_one_quote_then_more_shows_paragraph_and_the_rest() -> None:
    qa = FakeQA()
    article = ARTICLES[0]
    quotes = tuple(quote_from(article, s.start, s.end) for s in _sentences(article))
    assert len(quotes) == 4
    answer = Answer("q", True, quotes=quotes)
    plain = checked(render.render_answer(answer)[0])
    assert [q.text in plain for q in quotes] == [True, False, False, False]
    more = checked(render.render_more(answer, qa.paragraph(article.id, 0))[0])
    assert more.startswith("Context — Harbour Bridge reopens after repairs, ¶1")
    assert all(q.text in more for q in quotes[1:]) and "Engineers replaced 120 steel cables" in more
    assert "Sources\n• City Herald" in more
    full = render.render_plain(answer, full=True)  # the terminal: all of it, without paragraphs
    assert all(q.text in full for q in quotes) and "Sources" in full
    expanded = render.render_expanded(answer, qa.paragraph(article.id, 0))
    assert len(expanded) == 1 and "<blockquote expandable>" in expanded[0]
    assert f"<b>{quotes[0].text}</b>" in expanded[0]


def _sentences(article: Article) -> list[Quote]:
    from testkit.fake_qa import split_sentences

    return [quote_from(article, s.start, s.end, s.paragraph) for s in split_sentences(article)]


def test_html_in_articles_and_questions_is_escaped() -> None:
    storm = ARTICLES[2]
    quote = quote_from(storm, 0, storm.body.index(".") + 1)
    answer = Answer('<b>x</b> & "y"', True, quotes=(quote,))
    [html] = render.render_answer(answer)
    assert "&lt;red&gt; warning &amp; urged" in html
    assert 'Storm &lt;warning&gt; &amp; "floods" hit Riverside' in html
    assert 'href="https://news.example.com/storm?id=1&amp;lang=en#:~:text=' in html
    assert storm.body[: storm.body.index(".") + 1] in checked(html)
    refusal = Answer("</blockquote><script>&amp;", False, reason="no", kind="refusal")
    plain = checked(render.render_answer(refusal)[0])
    assert "“</blockquote><script>&amp;”" in plain


@pytest.mark.parametrize("kind", NOTICE_KINDS)
def test_every_kind_has_a_short_friendly_reply(kind: str) -> None:
    answer = Answer("hi there", False, reason="because", kind=kind)  # type: ignore[arg-type]
    [html] = render.render_answer(answer, EXAMPLES)
    plain = checked(html)
    assert len(plain) < 1200
    expected = {
        "refusal": "Not in the coverage.",
        "greeting": "Hello!",
        "thanks": "You're welcome!",
        "goodbye": "Goodbye!",
        "comparison": "because",  # a comparison with nothing to compare shows its reason
        "help": "How to use",
        "empty": "Send me a question",
        "unavailable": "temporarily unavailable",
        "language": "because",  # not English: its reason says so
        "clarify": "because",  # which one is meant: its reason asks
    }[kind]
    assert expected in plain
    if kind == "refusal":
        assert "/sources" in plain and EXAMPLES[0] in plain


def test_partial_answer_says_what_is_missing_then_quotes_in_valid_html() -> None:
    """A partial answer: the missing kind of fact said plainly, the question escaped, then
    the closest quote, in HTML Telegram accepts; the terminal shows the same words."""
    article = ARTICLES[0]
    quote = quote_from(article, 0, article.body.index(".") + 1)
    question = "What is the <b>range</b> & cost?"
    reason = wording.partial_reason("number", question)
    answer = Answer(question, True, quotes=(quote,), reason=reason, kind="partial")
    [html] = render.render_answer(answer)
    plain = checked(html)
    assert plain.startswith("The coverage gives no figure in answer to “What is the <b>range")
    assert plain.index(wording.CLOSEST) < plain.index(quote.text)
    assert "&lt;b&gt;" in html
    text = render.render_plain(answer)
    assert "gives no figure" in text and quote.text in text


def test_long_answer_is_split_between_quotes_and_words_keeping_quotes_intact() -> None:
    answer = FakeQA().answer("How fast is the glacier retreating?")
    spans = render.answer_spans(answer, full=True)  # every quote, as the terminal shows it
    plains = [checked(c) for c in markup.render_chunks(spans)]
    assert len(plains) >= 2
    # Each quote fits in a message, so none is cut: each is whole in one message.
    for quote in answer.quotes:
        assert any(squash(quote.text) in squash(plain) for plain in plains), quote.text[:60]
    # A quote longer than a message is cut between words, and nothing is lost or reordered.
    small = [checked(c) for c in markup.render_chunks(spans, budget=1000)]
    assert len(small) > len(plains)
    assert [word for plain in small for word in plain.split()] == markup.plain_text(spans).split()


def test_split_never_breaks_tags_or_entities_and_reopens_blockquote() -> None:
    spans = [markup.Span("a&b<c> " * 300, (markup.QUOTE,)), markup.Span("\n— tail")]
    chunks = markup.render_chunks(spans, budget=500)
    assert len(chunks) > 3
    for chunk in chunks:
        plain = checked(chunk)
        assert utf16_len(plain) <= 500
    assert all(c.startswith("<blockquote>") for c in chunks)
    assert chunks[-1].endswith("</blockquote>\n— tail")


def test_utf16_length_is_what_counts() -> None:
    spans = [markup.Span("😀" * 3000)]
    chunks = markup.render_chunks(spans)
    assert len(chunks) == 2
    assert all(utf16_len(checked(c)) <= markup.MESSAGE_BUDGET for c in chunks)


def test_commands_render() -> None:
    qa = FakeQA()
    start = checked(render.render_start(EXAMPLES, "newsquote_bot")[0])
    assert all(example in start for example in EXAMPLES) and "@newsquote_bot" in start
    sources = checked(render.render_sources(qa.articles())[0])
    # Newest first; the outlet and date lead, the title follows (the title alone without one).
    assert sources.splitlines() == [
        "Indexed articles (4)",
        "1. Alpine Post, 20 May 2024 — Glacier report: the long read",
        '2. Storm <warning> & "floods" hit Riverside, 12 Apr 2024',
        "3. City Herald, 1 Mar 2024 — Harbour Bridge reopens after repairs",
        "4. Town Crier, 10 Feb 2024 — Council approves bridge budget",
    ]
    about = checked(render.render_about(qa.info())[0])
    assert "Articles: 4" in about and "Model: fake-word-overlap" in about
    assert checked(render.render_sources([])[0]) == "No articles are indexed yet."


def many_articles(n: int, title: str = "Article", source: str = "Daily News") -> list[Article]:
    return [
        Article(
            id=f"a{i}",
            title=f"{title} {i}",
            body="Text.",
            url=f"https://news.example.com/{i}?{'x' * 300}",
            published="2024-03-01",
            source=source,
        )
        for i in range(1, n + 1)
    ]


def test_sources_come_a_page_at_a_time() -> None:
    articles = many_articles(25)
    assert render.sources_pages(25) == 3 and render.sources_pages(0) == 1
    pages = [render.render_sources(articles, page) for page in (1, 2, 3)]
    assert all(len(chunks) == 1 for chunks in pages)
    first, second, last = (checked(chunks[0]) for chunks in pages)
    assert first.startswith(
        "Indexed articles (25), page 1 of 3\n1. Daily News, 1 Mar 2024 — Article 1"
    )
    assert "10. Daily News, 1 Mar 2024 — Article 10" in first and "Article 11" not in first
    assert "11. Daily News, 1 Mar 2024 — Article 11" in second and "— Article 20" in second
    assert "21. Daily News, 1 Mar 2024 — Article 21" in last and "— Article 25" in last
    assert first.endswith("Other pages: /sources 1 … /sources 3")
    # Outside the list: the nearest page.
    assert render.render_sources(articles, 0) == pages[0]
    assert render.render_sources(articles, 99) == pages[2]
    # A short list needs no pages.
    assert checked(render.render_sources(articles[:10])[0]).startswith("Indexed articles (10)\n")


def test_a_page_of_the_longest_sources_fits_one_message() -> None:
    articles = many_articles(10, title="T" * 400, source="S" * 400)
    [page] = render.render_sources(articles)
    assert checked(page).count("…") >= 20  # titles and sources shortened


def test_plain_text_for_the_terminal() -> None:
    answer = FakeQA().answer("When did the Harbour Bridge reopen?")
    text = render.render_plain(answer, full=True)
    assert text.startswith("> The Harbour Bridge reopened to traffic on Monday")
    assert "— Harbour Bridge reopens after repairs <https://news.example.com/" in text
    assert "<b>" not in text and "&amp;" not in text
    assert "Not in the coverage." in render.render_plain(
        Answer("x", False, reason="r", kind="refusal")
    )


def test_link_attributes_use_only_telegram_entities() -> None:
    spans = [markup.Span("O'Brien & co", (markup.link("https://e.org/wiki/O'Brien?a=1&b=2"),))]
    html = markup.to_html(spans)
    assert html == "<a href=\"https://e.org/wiki/O'Brien?a=1&amp;b=2\">O'Brien &amp; co</a>"
    _, [entity] = parse_telegram_html(html)
    assert entity["url"] == "https://e.org/wiki/O'Brien?a=1&b=2"


def test_unsafe_urls_are_not_linked() -> None:
    for url in ("javascript:alert(1)", "ftp://x.org/", "https://", "https://a b.com", "x" * 50):
        assert markup.safe_url(url) is None
    assert markup.safe_url("https://example.com/a?b=1&c=2") is not None
    assert markup.safe_url("https://example.com/" + "a" * 3000) is None


# --------------------------------------------------------------------------- properties

text_st = st.one_of(st.text(max_size=300), st.text(alphabet=HOSTILE, max_size=300))
url_st = st.one_of(
    st.none(),
    st.just("https://news.example.com/a?b=1&c=<2>#frag"),
    text_st.map(lambda t: "https://example.com/" + t),
    text_st,
)
date_st = st.one_of(st.none(), st.just("2024-02-29"), text_st)


@st.composite
def articles(draw: st.DrawFn) -> Article:
    body = draw(text_st.filter(lambda t: t.strip())) * draw(st.sampled_from([1, 2, 7, 40, 300]))
    return Article(
        id=draw(st.text(min_size=1, max_size=20)),
        title=draw(text_st),
        body=body,
        url=draw(url_st),
        published=draw(date_st),
        source=draw(st.one_of(st.none(), text_st)),
    )


@st.composite
def quotes(draw: st.DrawFn) -> Quote:
    article = draw(articles())
    start = draw(st.one_of(st.just(0), st.integers(0, len(article.body) - 1)))
    end = draw(st.one_of(st.just(len(article.body)), st.integers(start + 1, len(article.body))))
    refs = draw(
        st.lists(
            st.builds(SourceRef, st.text(max_size=10), text_st, url_st, date_st, text_st),
            max_size=4,
        )
    )
    quote = quote_from(article, start, end, draw(st.integers(0, 99)), also_in=tuple(refs))
    assert quote.text == article.body[start:end]
    return quote


@st.composite
def answers(draw: st.DrawFn) -> Answer:
    question = draw(text_st)
    kind = draw(st.sampled_from(KINDS))
    if kind in QUOTED_KINDS:
        found = draw(st.lists(quotes(), min_size=1, max_size=5))
        reason = wording.partial_reason("number", question) if kind == "partial" else None
        return Answer(question, True, quotes=tuple(found), reason=reason, kind=kind)
    return Answer(question, False, reason=draw(text_st) or "no", kind=kind)


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(answer=answers(), examples=st.lists(text_st, max_size=3))
def test_any_answer_renders_to_valid_telegram_messages(answer: Answer, examples: list[str]) -> None:
    chunks = render.render_answer(answer, examples)
    assert chunks
    plains = [checked(chunk) for chunk in chunks]
    assert all(utf16_len(p) <= markup.MESSAGE_BUDGET for p in plains)
    everything = squash("".join(plains))
    for quote in answer.quotes[: render.SHOWN_QUOTES]:
        assert squash(quote.text) in everything
    assert render.render_plain(answer, examples).strip()


@PROPERTY
@given(answer=answers(), paragraph=st.one_of(text_st, text_st.map(lambda t: t * 60)))
def test_more_views_render_to_valid_telegram_messages(answer: Answer, paragraph: str) -> None:
    for chunk in render.render_more(answer, paragraph) + render.render_expanded(answer, paragraph):
        checked(chunk)
    for quote in answer.quotes:
        checked(render.inline_result_html(paragraph, quote))
        assert 0 < len(render.inline_title(quote)) <= render.INLINE_TITLE_CHARS
        assert 0 < len(render.inline_description(quote)) <= render.INLINE_DESCRIPTION_CHARS


@PROPERTY
@given(items=st.lists(articles(), max_size=30), text=text_st, number=st.integers(0, 10**9))
def test_commands_and_notices_render_to_valid_telegram_messages(
    items: list[Article], text: str, number: int
) -> None:
    for chunk in render.render_sources(items):
        checked(chunk)
    info = IndexInfo(text, text, text, number, number, number, text)
    for chunk in [*render.render_about(info), *render.render_start([text] * 3, "bot")]:
        checked(chunk)
    for html in (
        render.render_help([text])[0],
        render.too_long_notice(number, 500),
        render.slow_down_notice(number / 7),
        render.private_notice(number),
        render.ask_usage_notice([text]),
    ):
        checked(html)


@PROPERTY
@given(
    pieces=st.lists(
        st.tuples(
            text_st,
            st.sampled_from([(), (markup.BOLD,), (markup.QUOTE,), (markup.QUOTE, markup.ITALIC)]),
        ),
        max_size=20,
    ),
    budget=st.integers(16, 400),
)
def test_split_respects_any_budget(
    pieces: list[tuple[str, tuple[markup.Tag, ...]]], budget: int
) -> None:
    spans = [markup.Span(text * 5, tags) for text, tags in pieces]
    chunks = markup.split_spans(spans, budget)
    for chunk in chunks:
        plain = checked(markup.to_html(chunk))
        assert utf16_len(plain) <= budget
    assert squash("".join(markup.plain_text(c) for c in chunks)) == squash(markup.plain_text(spans))
