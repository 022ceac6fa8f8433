"""Arbitrary Unicode through the real question path and the renderer (hypothesis).

Control characters, right-to-left and zero-width marks, emoji, HTML and Markdown tokens, and
texts up to 10,000 characters go into ``QA.answer`` on a real index (and into the articles
themselves); no exception may escape, every quote stays verbatim, and every reply the bot
would send is valid Telegram HTML within the 4096-character limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import markup, render
from index.config import IndexSettings
from index.qa import QA
from index.store.build import build_index
from testkit.fake_bot_api import check_message_text, utf16_len
from tests.verbatim import assert_verbatim

HOSTILE_PIECES = [
    "<b>",
    "</b>",
    "<i>x</i>",
    "&amp;",
    "&",
    "&#0;",
    "<a href='javascript:alert(1)'>",
    "</a>",
    "<script>",
    "```",
    "*bold*",
    "_it_",
    "[link](http://x)",
    "\u202e",
    "\u202d",
    "\u200b",
    "\u200d",
    "\ufeff",
    "\u2066",
    "\x00",
    "\x07",
    "\x1b[31m",
    "\r\n",
    "\t",
    "🧨",
    "👩‍👩‍👧",
    "ﷺ",
    "𝔘𝔫𝔦",
    "\ud7ff",
    "Who led the delegation?",
    "/start",
    "@bot",
    "#:~:text=",
    "  ",
]

TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
"""What must not reach a terminal: C0 controls (escape sequences) but newline and tab, DEL,
lone surrogates."""

hostile_text = st.lists(
    st.one_of(st.sampled_from(HOSTILE_PIECES), st.text(max_size=40)), max_size=60
).map("".join)
long_text = st.builds(lambda piece, n: (piece or "x") * n, hostile_text, st.integers(1, 10_000))


@pytest.fixture(scope="module")
def hostile_qa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QA]:
    """An index whose articles are themselves full of markup and odd characters."""
    base = tmp_path_factory.mktemp("hostile")
    corpus = base / "corpus"
    corpus.mkdir()
    bodies = [
        "The <b>council</b> & the mayor met on Monday. They agreed on 45 million euros.\n\n"
        "A *Markdown* [link](http://example.com) and `code` appear here. Schools closed.",
        "\u202eReversed text\u202c sits beside zero\u200bwidth marks. The vote was 31 to 9.\n\n"
        "Emoji 🧨 and &amp; entities &lt;b&gt; are plain text. Residents waited for hours.",
    ]
    with open(corpus / "a.jsonl", "w", encoding="utf-8") as fh:
        for n, body in enumerate(bodies):
            row = {
                "id": f"a{n}",
                "title": f"<i>Title</i> & \u200b{n} ```",
                "text": body,
                "url": "https://example.com/a?x=1&y=<2>",
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    settings_ = IndexSettings(
        corpus_dir=corpus, index_dir=base / "index", embedding_model="hashing-64"
    )
    build_index(settings_)
    qa = QA(settings_)
    yield qa
    qa.close()


def _check_replies(qa: QA, question: str) -> None:
    answer = qa.answer(question)
    assert_verbatim(answer, {a.id: a.body for a in qa.articles()}, answered=False)
    examples = qa.example_questions(1)
    messages = render.render_answer(answer, examples)
    if answer.quotes:
        top = answer.quotes[0]
        messages += render.render_more(answer, qa.paragraph(top.article_id, top.paragraph))
        messages.append(render.inline_result_html(question, top))
    for html in messages:
        assert utf16_len(html) <= 4096
        check_message_text(html, "HTML")  # raises on what Telegram would reject
    # The terminal chat prints this: no escape or other control character but newline and
    # tab, no lone surrogate, and every quote shown in full.
    plain = render.render_plain(answer, examples)
    assert plain and not TERMINAL_UNSAFE.search(plain), repr(plain)
    shown = "".join(plain.replace("\n> ", "\n").split())
    for quote in answer.quotes[: render.SHOWN_QUOTES]:
        assert "".join(markup.sendable(quote.text).split()) in shown, (quote.text, plain)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(question=hostile_text)
def test_hostile_questions_get_valid_replies(hostile_qa: QA, question: str) -> None:
    _check_replies(hostile_qa, question)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(question=long_text)
def test_very_long_questions_get_valid_replies(hostile_qa: QA, question: str) -> None:
    _check_replies(hostile_qa, question)


def test_questions_that_match_hostile_articles_render_safely(hostile_qa: QA) -> None:
    for question in ("What did the council agree?", "What was the vote?", "Who waited?"):
        answer = hostile_qa.answer(question)
        assert answer.kind in {"answer", "partial", "refusal"}
        _check_replies(hostile_qa, question)
