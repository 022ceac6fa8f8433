"""The bot's messages: from ``Answer`` and friends to Telegram HTML (or plain text).

Each message is laid out as :class:`bot.markup.Span` s from the words in ``index.wording``;
``bot.markup`` turns a layout into HTML messages within Telegram's limit, or into plain text
for the terminal chat. Pure functions: no Telegram types, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Literal

from bot.markup import (
    BOLD,
    EXPANDABLE,
    ITALIC,
    QUOTE,
    Span,
    clean_text,
    fill,
    link,
    render_chunks,
    render_one,
    safe_url,
    shorten,
    to_plain,
)
from index import wording
from index.types import Answer, Article, IndexInfo, Quote, SourceRef

INLINE_TITLE_CHARS = 100
INLINE_DESCRIPTION_CHARS = 200
SHOWN_QUOTES = 3
"""The best quote plus up to two further quotes in the first reply; the rest go under "More"."""
QUESTION_ECHO_CHARS = 200
EXAMPLE_CHARS = 200
SOURCES_PER_PAGE = 10
"""Articles per /sources page: ten of the longest lines still fit in one message."""

Failure = Literal["unavailable", "error"]
"""Why a call to the index gave nothing: the search backend is down, or anything else."""


# --------------------------------------------------------------------------- small pieces


def _title(title: str | None, fallback: str, limit: int = 150) -> str:
    """A one-line title, the article id when the title is blank, or "untitled"."""
    return shorten(title or "", limit) or shorten(fallback, limit) or wording.UNTITLED


def format_date(published: str | None) -> str | None:
    """``2024-03-01`` -> ``1 Mar 2024``; anything else is shown as given."""
    if not published:
        return None
    try:
        day = date.fromisoformat(published[:10])
    except ValueError:
        return shorten(published, 40)
    return f"{day.day} {day.strftime('%b')} {day.year}"


def _example(examples: Sequence[str], lead: str = wording.FOR_EXAMPLE) -> list[Span]:
    """`` For example: <first example in italics>``, or nothing without examples."""
    if not examples:
        return []
    return [Span(f" {lead} "), Span(shorten(examples[0], EXAMPLE_CHARS), (ITALIC,))]


# --------------------------------------------------------------------------- answers


def _source_numbers(answer: Answer) -> dict[str, int]:
    return {ref.article_id: n for n, ref in enumerate(answer.sources, start=1)}


def _ref_spans(ref: SourceRef, numbers: dict[str, int]) -> list[Span]:
    url = safe_url(ref.url)
    title = _title(ref.title, ref.article_id, 120)
    spans = [Span(title, (link(url),) if url else ())]
    if ref.article_id in numbers:
        spans.append(Span(f" [{numbers[ref.article_id]}]"))
    return spans


def citation_spans(quote: Quote, numbers: dict[str, int] | None = None) -> list[Span]:
    """``— Title · Source · ¶3 · 1 Mar 2024 [1]`` and the "Also reported by" line."""
    numbers = numbers or {}
    url = safe_url(quote.link) or safe_url(quote.url)
    title = _title(quote.title, quote.article_id)
    spans = [Span("— "), Span(title, (link(url), BOLD) if url else (BOLD,))]
    details = []
    if quote.source:
        details.append(shorten(quote.source, 60))
    details.append(f"¶{quote.paragraph + 1}")
    when = format_date(quote.published)
    if when:
        details.append(when)
    spans.append(Span(" · " + " · ".join(details)))
    if quote.article_id in numbers:
        spans.append(Span(f" [{numbers[quote.article_id]}]"))
    refs = [ref for ref in quote.also_in if ref.article_id != quote.article_id]
    if refs:
        spans += [Span("\n"), Span(wording.ALSO_REPORTED_BY + " ", (ITALIC,))]
        for n, ref in enumerate(refs):
            if n:
                spans.append(Span(", " if n < len(refs) - 1 else " and "))
            spans.extend(_ref_spans(ref, numbers))
    return spans


def quote_spans(quote: Quote, numbers: dict[str, int] | None = None) -> list[Span]:
    """A quote as a blockquote followed by its citation."""
    text = clean_text(quote.text).strip() or "…"
    return [Span(text, (QUOTE,)), Span("\n"), *citation_spans(quote, numbers)]


def sources_spans(refs: Sequence[SourceRef]) -> list[Span]:
    """The compact numbered list of cited articles."""
    spans = [Span(wording.SOURCES, (BOLD,))]
    for n, ref in enumerate(refs, start=1):
        url = safe_url(ref.url)
        spans.append(Span(f"\n{n}. "))
        spans.append(Span(_title(ref.title, ref.article_id), (link(url),) if url else ()))
        details = [
            d for d in (ref.source and shorten(ref.source, 60), format_date(ref.published)) if d
        ]
        if details:
            spans.append(Span(", " + ", ".join(details)))
    return spans


def answer_spans(answer: Answer, examples: Sequence[str] = ()) -> list[Span]:
    """The layout of the reply to a question (any kind of answer)."""
    if not (answer.answered and answer.quotes):
        return notice_spans(answer, examples)
    numbers = _source_numbers(answer)
    spans = partial_spans(answer) if answer.kind == "partial" else []
    spans += quote_spans(answer.quotes[0], numbers)
    further = answer.quotes[1:SHOWN_QUOTES]
    if further:
        spans += [Span("\n\n"), Span(wording.ALSO_IN_COVERAGE, (BOLD,))]
        for quote in further:
            spans += [Span("\n"), *quote_spans(quote, numbers)]
    spans += [Span("\n\n"), *sources_spans(answer.sources)]
    return spans


def partial_spans(answer: Answer) -> list[Span]:
    """What a partial answer says before its quotes (its ``reason``): the coverage gives no
    <kind of fact> in answer to “question”. The closest it says:"""
    return [Span((answer.reason or wording.CLOSEST) + "\n")]


def notice_spans(answer: Answer, examples: Sequence[str] = ()) -> list[Span]:
    """The layout for an answer without quotes, chosen by ``answer.kind``."""
    if answer.kind == "greeting":
        return [Span(wording.GREETING), *_example(examples)]
    if answer.kind == "thanks":
        return [Span(wording.THANKS)]
    if answer.kind == "help":
        return help_spans(examples)
    if answer.kind == "empty":
        return [Span(wording.EMPTY), *_example(examples)]
    if answer.kind == "unavailable":
        return [Span(wording.UNAVAILABLE)]
    return refusal_spans(answer.question, examples)


def refusal_spans(question: str, examples: Sequence[str] = ()) -> list[Span]:
    """**Not in the coverage.** I couldn't find an answer to “question” …, and what to do."""
    question = shorten(question, QUESTION_ECHO_CHARS)
    asked = (
        [Span("“"), Span(question, (ITALIC,)), Span("”")]
        if question
        else [Span(wording.NOT_FOUND_UNQUOTED)]
    )
    return [
        Span(wording.NOT_IN_COVERAGE, (BOLD,)),
        Span(" "),
        *fill(wording.NOT_FOUND, asked),
        Span("\n\n" + wording.SEE_SOURCES),
        *_example(examples, wording.YOU_COULD_ASK),
    ]


def more_spans(answer: Answer, paragraph: str) -> list[Span]:
    """The "More" view: the paragraph around the top quote, then quotes not shown yet."""
    if not answer.quotes:
        return [Span(wording.NOTHING_MORE)]
    top = answer.quotes[0]
    url = safe_url(top.url)
    title = _title(top.title, top.article_id)
    spans = [Span(wording.CONTEXT, (BOLD,)), Span(" — "), Span(title, (link(url),) if url else ())]
    spans.append(Span(f", ¶{top.paragraph + 1}\n"))
    spans += _paragraph_spans(paragraph, top.text)
    rest = answer.quotes[SHOWN_QUOTES:]
    if rest:
        numbers = _source_numbers(answer)
        spans += [Span("\n\n"), Span(wording.MORE_QUOTES, (BOLD,))]
        for extra in rest:
            spans += [Span("\n"), *quote_spans(extra, numbers)]
    return spans


def _paragraph_spans(paragraph: str, quote: str) -> list[Span]:
    """The paragraph, expandable, with the quote in it in bold."""
    paragraph = clean_text(paragraph).strip()
    quote = clean_text(quote).strip()
    at = paragraph.find(quote) if quote else -1
    if not paragraph:
        return [Span(wording.PARAGRAPH_MISSING, (ITALIC,))]
    if at < 0:
        return [Span(paragraph, (EXPANDABLE,))]
    return [
        Span(paragraph[:at], (EXPANDABLE,)),
        Span(quote, (EXPANDABLE, BOLD)),
        Span(paragraph[at + len(quote) :], (EXPANDABLE,)),
    ]


def render_answer(answer: Answer, examples: Sequence[str] = ()) -> list[str]:
    """The HTML messages answering a question."""
    return render_chunks(answer_spans(answer, examples))


def render_expanded(answer: Answer, paragraph: str) -> list[str]:
    """The answer with the "More" view appended (used to expand a message in place)."""
    return render_chunks([*answer_spans(answer), Span("\n\n"), *more_spans(answer, paragraph)])


def render_more(answer: Answer, paragraph: str) -> list[str]:
    """The "More" view on its own, as HTML messages."""
    return render_chunks(more_spans(answer, paragraph))


def render_plain(answer: Answer, examples: Sequence[str] = ()) -> str:
    """The answer as plain text for the terminal chat."""
    return to_plain(answer_spans(answer, examples))


# --------------------------------------------------------------------------- inline mode


def inline_result_html(question: str, quote: Quote) -> str:
    """The message an inline result sends: the question, the quote and its citation."""
    asked = [
        Span(wording.INLINE_QUESTION + " ", (BOLD,)),
        Span(shorten(question, QUESTION_ECHO_CHARS)),
        Span("\n"),
    ]
    return render_one([*asked, *quote_spans(quote)])


def inline_title(quote: Quote) -> str:
    """Plain title line of an inline result: the quote itself."""
    return shorten(quote.text, INLINE_TITLE_CHARS) or "…"


def inline_description(quote: Quote) -> str:
    """Plain description of an inline result: where the quote comes from."""
    parts = [quote.title or quote.article_id, quote.source, format_date(quote.published)]
    return shorten(" · ".join(p for p in parts if p), INLINE_DESCRIPTION_CHARS) or "—"


# --------------------------------------------------------------------------- commands


def start_spans(examples: Sequence[str], bot_username: str | None = None) -> list[Span]:
    """/start: what the bot does, three example questions, the commands."""
    spans = [Span(wording.PRODUCT, (BOLD,)), Span(" " + wording.START_INTRO)]
    if examples:
        spans.append(Span("\n\n" + wording.TRY_ASKING))
        for example in examples[:3]:
            spans += [Span("\n• "), Span(shorten(example, EXAMPLE_CHARS), (ITALIC,))]
    spans.append(Span("\n\n" + wording.START_COMMANDS))
    if bot_username:
        spans.append(Span("\n" + wording.start_inline_hint(bot_username)))
    return spans


def help_spans(examples: Sequence[str] = (), bot_username: str | None = None) -> list[Span]:
    """/help: how to ask, the commands, groups and inline mode."""
    spans = [
        Span(wording.HELP_TITLE, (BOLD,)),
        Span("\n" + wording.HELP_INTRO),
        *_example(examples),
        Span("\n\n" + wording.HELP_COMMANDS),
    ]
    if bot_username:
        spans.append(Span("\n" + wording.help_inline_hint(bot_username)))
    return spans


def sources_pages(total: int, per_page: int = SOURCES_PER_PAGE) -> int:
    """How many /sources pages ``total`` articles fill (at least one)."""
    return max(1, -(-total // per_page))


def sources_page_arg(args: Sequence[str]) -> int:
    """The page a user asked for with ``/sources N`` (1 when absent or not a number)."""
    if len(args) == 1 and args[0].isdecimal() and len(args[0]) < 10:
        return int(args[0])
    return 1


def sources_list_spans(
    articles: Sequence[Article], page: int = 1, per_page: int = SOURCES_PER_PAGE
) -> list[Span]:
    """/sources: one page of the numbered list of indexed articles with dates and links.

    Pages outside the list show its first or last page; numbers run across pages.
    """
    if not articles:
        return [Span(wording.NO_ARTICLES)]
    pages = sources_pages(len(articles), per_page)
    page = min(max(page, 1), pages)
    spans = [Span(wording.sources_header(len(articles), page, pages), (BOLD,))]
    first = (page - 1) * per_page
    for n, article in enumerate(articles[first : first + per_page], start=first + 1):
        url = safe_url(article.url)
        spans.append(Span(f"\n{n}. "))
        spans.append(Span(_title(article.title, article.id), (link(url),) if url else ()))
        details = [d for d in (article.source, format_date(article.published)) if d]
        if details:
            spans.append(Span(" — " + ", ".join(shorten(d, 60) for d in details)))
    if pages > 1:
        spans.append(Span("\n\n" + wording.sources_other_pages(pages)))
    return spans


def about_spans(info: IndexInfo) -> list[Span]:
    """/about: articles, sentences, build time, model."""
    rows = [
        (wording.ABOUT_ARTICLES, f"{info.articles:,}"),
        (wording.ABOUT_SENTENCES, f"{info.sentences:,}"),
        (wording.ABOUT_BUILT_AT, info.built_at),
        (wording.ABOUT_MODEL, info.model),
        (wording.ABOUT_BACKEND, info.backend),
        (wording.ABOUT_BUILD_ID, info.build_id),
    ]
    spans = [Span(wording.ABOUT_TITLE, (BOLD,))]
    for label, value in rows:
        spans += [Span(f"\n{label}: "), Span(shorten(str(value), 200))]
    return spans


def render_start(examples: Sequence[str], bot_username: str | None = None) -> list[str]:
    """HTML for /start."""
    return render_chunks(start_spans(examples, bot_username))


def render_help(examples: Sequence[str] = (), bot_username: str | None = None) -> list[str]:
    """HTML for /help."""
    return render_chunks(help_spans(examples, bot_username))


def render_sources(articles: Sequence[Article], page: int = 1) -> list[str]:
    """HTML for one page of /sources."""
    return render_chunks(sources_list_spans(articles, page))


def render_about(info: IndexInfo) -> list[str]:
    """HTML for /about."""
    return render_chunks(about_spans(info))


# --------------------------------------------------------------------------- short notices


def _say(text: str) -> str:
    """One short HTML message of plain words."""
    return render_one([Span(text)])


def not_text_notice() -> str:
    """Reply to photos, stickers, voice, documents, locations ... in a private chat."""
    return _say(wording.NOT_TEXT)


def edited_notice() -> str:
    """Reply to an edited message in a private chat."""
    return _say(wording.EDITED)


def too_long_notice(length: int, limit: int) -> str:
    """Reply to a question over the length limit."""
    return _say(wording.too_long(length, limit))


def slow_down_notice(retry_after: float) -> str:
    """Reply when a user is over the rate limit."""
    return _say(wording.slow_down(max(1, round(retry_after))))


def private_notice(user_id: int | None) -> str:
    """Reply to someone not on the allowlist."""
    spans = [Span(wording.PRIVATE)]
    if user_id is not None:
        spans += [Span(" "), *fill(wording.YOUR_USER_ID, [Span(str(user_id), (BOLD,))])]
    return render_one(spans)


def apology_notice() -> str:
    """Reply when answering failed unexpectedly."""
    return _say(wording.APOLOGY)


def failure_notice(failure: Failure | None) -> str:
    """Reply when a command could not get what it shows from the index."""
    return _say(wording.UNAVAILABLE) if failure == "unavailable" else apology_notice()


def ask_usage_notice(examples: Sequence[str] = ()) -> str:
    """Reply to /ask without a question."""
    example = shorten(examples[0] if examples else wording.DEFAULT_EXAMPLE, EXAMPLE_CHARS)
    usage = fill(wording.ASK_USAGE, [Span(wording.ASK_USAGE_PLACEHOLDER, (ITALIC,))])
    return render_one([*usage, Span("\n"), *fill(wording.ASK_USAGE_EXAMPLE, [Span(example)])])


def unknown_command_notice() -> str:
    """Reply to an unknown command in a private chat."""
    return _say(wording.UNKNOWN_COMMAND)


def admin_error_notice(update_id: int | None, summary: str) -> str:
    """The message to the admins about an update that failed."""
    spans = [
        Span(wording.ADMIN_ERROR, (BOLD,)),
        Span(" " + wording.admin_error(update_id, summary)),
    ]
    return render_one(spans)


# --------------------------------------------------------------------------- callback alerts


def sources_failed_notice(failure: Failure | None) -> str:
    """Callback answer (plain text) when the list of sources cannot be loaded."""
    return wording.UNAVAILABLE if failure == "unavailable" else wording.SOURCES_FAILED


def expired_notice() -> str:
    """Callback answer when the "More" data is gone (e.g. after a restart)."""
    return wording.EXPIRED
