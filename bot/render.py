"""Pure rendering: from ``Answer`` and friends to Telegram HTML messages or plain text.

Every message is first laid out as a list of :class:`Span` (plain text plus the formatting
tags around it). That one layout is then

* split into messages that fit Telegram's limit, at paragraph, line or sentence boundaries,
  measured as Telegram does (UTF-16 code units of the text after entity parsing), and
* serialised to HTML with every piece of article or user text escaped, so a cut can never fall
  inside a tag or an entity and tags are always balanced, or
* serialised to plain text for the terminal chat.

Only tags Telegram knows are produced: ``b``, ``i``, ``a href``, ``blockquote`` and
``blockquote expandable``; only the entities ``&lt;``, ``&gt;``, ``&amp;`` and ``&quot;``.
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from index.types import Answer, Article, IndexInfo, Quote, SourceRef

logger = logging.getLogger(__name__)

TELEGRAM_MESSAGE_LIMIT = 4096
"""Telegram's limit for a message text, in UTF-16 code units after entity parsing."""
MESSAGE_BUDGET = 3900
"""What the bot allows itself per message: well below the limit, to be conservative."""
INLINE_TITLE_CHARS = 100
INLINE_DESCRIPTION_CHARS = 200
SHOWN_QUOTES = 3
"""The best quote plus up to two further quotes in the first reply; the rest go under "More"."""
QUESTION_ECHO_CHARS = 200
MAX_URL_CHARS = 2000

Tag = tuple[str, str]
"""A formatting tag as ``(name, value)``: ``("b", "")``, ``("a", url)``, ``("blockquote", ...)``."""

BOLD: Tag = ("b", "")
ITALIC: Tag = ("i", "")
QUOTE: Tag = ("blockquote", "")
EXPANDABLE: Tag = ("blockquote", "expandable")


@dataclass(frozen=True, slots=True)
class Span:
    """A run of plain text and the tags around it, outermost first."""

    text: str
    tags: tuple[Tag, ...] = ()


def link(url: str) -> Tag:
    """An ``a href`` tag."""
    return ("a", url)


# --------------------------------------------------------------------------- text helpers

_SURROGATES = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_BAD_URL = frozenset({"Cc", "Cs", "Cf", "Zl", "Zp", "Co", "Cn"})


def clean_text(text: str) -> str:
    """Text safe to send: no lone surrogates, no control characters but newline and tab."""
    text = _SURROGATES.sub("\ufffd", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub(" ", text)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters."""
    text = " ".join(clean_text(text).split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def safe_url(url: str | None) -> str | None:
    """``url`` if it is a plain http(s) URL Telegram will accept as a link, else None."""
    if not url or len(url) > MAX_URL_CHARS:
        return None
    if any(ch.isspace() or ch in '<>"\\' or unicodedata.category(ch) in _BAD_URL for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def _title(title: str | None, fallback: str, limit: int = 150) -> str:
    """A one-line title, the article id when the title is blank, or "untitled"."""
    return shorten(title or "", limit) or shorten(fallback, limit) or "untitled"


def format_date(published: str | None) -> str | None:
    """``2024-03-01`` -> ``1 Mar 2024``; anything else is shown as given."""
    if not published:
        return None
    try:
        day = date.fromisoformat(published[:10])
    except ValueError:
        return shorten(published, 40)
    return f"{day.day} {day.strftime('%b')} {day.year}"


# --------------------------------------------------------------------------- serialising


def _open(tag: Tag) -> str:
    name, value = tag
    if name == "a":
        return f'<a href="{_escape_attribute(value)}">'
    if name == "blockquote" and value == "expandable":
        return "<blockquote expandable>"
    return f"<{name}>"


def _escape_attribute(value: str) -> str:
    """Escape for a double-quoted attribute with only the entities Telegram knows."""
    value = html.escape(clean_text(value), quote=False)
    return value.replace('"', "&quot;")


def to_html(spans: Iterable[Span]) -> str:
    """Telegram HTML for ``spans``: text escaped, tags opened and closed in proper nesting."""
    out: list[str] = []
    stack: list[Tag] = []
    for span in spans:
        if not span.text:
            continue
        tags = list(span.tags)
        common = 0
        while common < min(len(stack), len(tags)) and stack[common] == tags[common]:
            common += 1
        out.extend(f"</{name}>" for name, _ in reversed(stack[common:]))
        out.extend(_open(tag) for tag in tags[common:])
        stack = tags
        out.append(html.escape(clean_text(span.text), quote=False))
    out.extend(f"</{name}>" for name, _ in reversed(stack))
    return "".join(out)


def _link_of(tags: tuple[Tag, ...]) -> str | None:
    return next((value for name, value in tags if name == "a"), None)


def to_plain(spans: Iterable[Span]) -> str:
    """Plain text for ``spans``: quotes prefixed with ``> ``, link targets in brackets."""
    out: list[str] = []
    previous: tuple[Tag, ...] = ()
    for span in spans:
        if not span.text:
            continue
        was = _link_of(previous)
        if was and was != _link_of(span.tags):
            out.append(f" <{was}>")
        text = clean_text(span.text)
        if any(name == "blockquote" for name, _ in span.tags):
            text = text.replace("\n", "\n> ")
            if not any(name == "blockquote" for name, _ in previous):
                text = "> " + text
        out.append(text)
        previous = span.tags
    last = _link_of(previous)
    if last:
        out.append(f" <{last}>")
    return "".join(out).strip()


def plain_text(spans: Iterable[Span]) -> str:
    """The text Telegram shows for ``spans`` (what it measures)."""
    return "".join(clean_text(s.text) for s in spans)


# --------------------------------------------------------------------------- splitting

_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’»)\]]*\s+")


def _strip(spans: Sequence[Span]) -> list[Span]:
    """Drop empty spans and whitespace at both ends (Telegram strips it anyway)."""
    items = [Span(clean_text(s.text), s.tags) for s in spans if s.text]
    while items and not items[0].text.lstrip():
        items.pop(0)
    while items and not items[-1].text.rstrip():
        items.pop()
    if items:
        items[0] = Span(items[0].text.lstrip(), items[0].tags)
        items[-1] = Span(items[-1].text.rstrip(), items[-1].tags)
    return items


def _best_cut(text: str, budget: int) -> int:
    """Where to cut ``text``: the latest paragraph, line, sentence or word end within budget."""
    used = 0
    limit = 0
    for ch in text:
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > budget:
            break
        limit += 1
    window = text[:limit]
    floor = max(1, limit // 3)
    for separator in ("\n\n", "\n"):
        at = window.rfind(separator)
        if at >= floor:
            return at + len(separator)
    ends = [m.end() for m in _SENTENCE_END.finditer(window) if m.end() >= floor]
    if ends:
        return ends[-1]
    at = max(window.rfind(" "), window.rfind("\t"))
    if at >= floor:
        return at + 1
    return max(1, limit)


def _cut(spans: Sequence[Span], at: int) -> tuple[list[Span], list[Span]]:
    head: list[Span] = []
    tail: list[Span] = []
    seen = 0
    for span in spans:
        if seen + len(span.text) <= at:
            head.append(span)
        elif seen >= at:
            tail.append(span)
        else:
            head.append(Span(span.text[: at - seen], span.tags))
            tail.append(Span(span.text[at - seen :], span.tags))
        seen += len(span.text)
    return head, tail


def split_spans(spans: Sequence[Span], budget: int = MESSAGE_BUDGET) -> list[list[Span]]:
    """Split a layout into message-sized layouts of at most ``budget`` UTF-16 units each."""
    if budget < 16:
        raise ValueError(f"budget must be at least 16 characters, got {budget}")
    chunks: list[list[Span]] = []
    rest = _strip(spans)
    while rest:
        text = plain_text(rest)
        if utf16_len(text) <= budget:
            chunks.append(rest)
            break
        head, tail = _cut(rest, _best_cut(text, budget))
        head = _strip(head)
        if head:
            chunks.append(head)
        rest = _strip(tail)
    return chunks


def render_chunks(spans: Sequence[Span], budget: int = MESSAGE_BUDGET) -> list[str]:
    """HTML messages for a layout, each within Telegram's limit."""
    return [to_html(chunk) for chunk in split_spans(spans, budget)]


def render_one(spans: Sequence[Span], budget: int = MESSAGE_BUDGET) -> str:
    """One HTML message for a layout; what does not fit is cut off and marked with …."""
    chunks = split_spans(spans, budget - 2)
    if not chunks:
        return ""
    first = chunks[0]
    if len(chunks) > 1:
        first = [*first, Span(" …")]
    return to_html(first)


# --------------------------------------------------------------------------- answer layout


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
        spans += [Span("\n"), Span("Also reported by ", (ITALIC,))]
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
    spans = [Span("Sources", (BOLD,))]
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


def _example(examples: Sequence[str]) -> list[Span]:
    if not examples:
        return []
    return [Span(" For example: "), Span(shorten(examples[0], 200), (ITALIC,))]


def answer_spans(answer: Answer, examples: Sequence[str] = ()) -> list[Span]:
    """The layout of the reply to a question (any kind of answer)."""
    if answer.answered and answer.quotes:
        numbers = _source_numbers(answer)
        spans = quote_spans(answer.quotes[0], numbers)
        further = answer.quotes[1:SHOWN_QUOTES]
        if further:
            spans.append(Span("\n\n"))
            spans.append(Span("Also in the coverage", (BOLD,)))
            for quote in further:
                spans.append(Span("\n"))
                spans.extend(quote_spans(quote, numbers))
        spans.append(Span("\n\n"))
        spans.extend(sources_spans(answer.sources))
        return spans
    return notice_spans(answer, examples)


def notice_spans(answer: Answer, examples: Sequence[str] = ()) -> list[Span]:
    """The layout for an answer without quotes, chosen by ``answer.kind``."""
    question = shorten(answer.question, QUESTION_ECHO_CHARS)
    if answer.kind == "greeting":
        greeting = "Hello! I answer questions about the news I have read, quoting the articles."
        return [Span(greeting), *_example(examples)]
    if answer.kind == "thanks":
        return [Span("You're welcome! Ask me anything else about the coverage.")]
    if answer.kind == "help":
        return help_spans(examples)
    if answer.kind == "empty":
        return [Span("Send me a question about the news."), *_example(examples)]
    if answer.kind == "unavailable":
        return unavailable_spans()
    spans = [Span("Not in the coverage.", (BOLD,)), Span(" I couldn't find an answer to ")]
    spans += [Span("“"), Span(question, (ITALIC,)), Span("”")] if question else [Span("that")]
    spans.append(Span(" in the articles I have.\n\nSee /sources for what is covered."))
    if examples:
        spans += [Span(" You could ask: "), Span(shorten(examples[0], 200), (ITALIC,))]
    return spans


def more_spans(answer: Answer, paragraph: str) -> list[Span]:
    """The "More" view: the paragraph around the top quote, then quotes not shown yet."""
    if not answer.quotes:
        return [Span("There is nothing more to show.")]
    top = answer.quotes[0]
    numbers = _source_numbers(answer)
    url = safe_url(top.url)
    title = _title(top.title, top.article_id)
    spans = [Span("Context", (BOLD,)), Span(" — "), Span(title, (link(url),) if url else ())]
    spans.append(Span(f", ¶{top.paragraph + 1}\n"))
    paragraph = clean_text(paragraph).strip()
    quote = clean_text(top.text).strip()
    at = paragraph.find(quote) if quote else -1
    if not paragraph:
        spans.append(Span("(the paragraph is not available)", (ITALIC,)))
    elif at < 0:
        spans.append(Span(paragraph, (EXPANDABLE,)))
    else:
        spans.append(Span(paragraph[:at], (EXPANDABLE,)))
        spans.append(Span(quote, (EXPANDABLE, BOLD)))
        spans.append(Span(paragraph[at + len(quote) :], (EXPANDABLE,)))
    rest = answer.quotes[SHOWN_QUOTES:]
    if rest:
        spans.append(Span("\n\n"))
        spans.append(Span("More quotes", (BOLD,)))
        for extra in rest:
            spans.append(Span("\n"))
            spans.extend(quote_spans(extra, numbers))
    return spans


def render_answer(answer: Answer, examples: Sequence[str] = ()) -> list[str]:
    """The HTML messages answering a question."""
    return render_chunks(answer_spans(answer, examples))


def render_expanded(answer: Answer, paragraph: str) -> list[str]:
    """The answer with the "More" view appended (used to expand a message in place)."""
    return render_chunks([*answer_spans(answer), Span("\n\n"), *more_spans(answer, paragraph)])


def render_more(answer: Answer, paragraph: str) -> list[str]:
    """The "More" view on its own, as HTML messages."""
    return render_chunks(more_spans(answer, paragraph))


# --------------------------------------------------------------------------- inline mode


def inline_result_html(question: str, quote: Quote) -> str:
    """The message an inline result sends: the question, the quote and its citation."""
    spans = [Span("Q: ", (BOLD,)), Span(shorten(question, QUESTION_ECHO_CHARS)), Span("\n")]
    return render_one([*spans, *quote_spans(quote)])


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
    spans = [
        Span("NewsQuote", (BOLD,)),
        Span(
            " answers questions about the news articles it has read, with verbatim quotes and "
            "links to the sources. If the coverage doesn't say, it tells you so."
        ),
    ]
    if examples:
        spans.append(Span("\n\nTry asking:"))
        for example in examples[:3]:
            spans += [Span("\n• "), Span(shorten(example, 200), (ITALIC,))]
    spans.append(Span("\n\n/help how to use · /sources the articles · /about the index"))
    if bot_username:
        spans.append(Span(f"\nIn any chat, type @{bot_username} and a question."))
    return spans


def help_spans(examples: Sequence[str] = (), bot_username: str | None = None) -> list[Span]:
    """/help: how to ask, the commands, groups and inline mode."""
    spans = [
        Span("How to use", (BOLD,)),
        Span("\nSend me a question in plain words and I reply with the best matching quote "),
        Span("from the articles, its source, and other articles reporting the same."),
    ]
    spans += _example(examples)
    spans.append(
        Span(
            "\n\n/ask question — ask (works in groups too)"
            "\n/sources — the articles I know (/sources 2 for the next page)"
            "\n/about — the size and age of the index"
            "\n\nIn groups I answer /ask, messages that mention me, and replies to my messages."
        )
    )
    if bot_username:
        spans.append(Span(f"\nIn any chat, type @{bot_username} and a question to share a quote."))
    return spans


SOURCES_PER_PAGE = 10
"""Articles per /sources page: ten of the longest lines still fit in one message."""


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
        return [Span("No articles are indexed yet.")]
    pages = sources_pages(len(articles), per_page)
    page = min(max(page, 1), pages)
    header = f"Indexed articles ({len(articles):,})"
    if pages > 1:
        header += f", page {page} of {pages:,}"
    spans = [Span(header, (BOLD,))]
    first = (page - 1) * per_page
    for n, article in enumerate(articles[first : first + per_page], start=first + 1):
        url = safe_url(article.url)
        spans.append(Span(f"\n{n}. "))
        spans.append(Span(_title(article.title, article.id), (link(url),) if url else ()))
        details = [d for d in (article.source, format_date(article.published)) if d]
        if details:
            spans.append(Span(" — " + ", ".join(shorten(d, 60) for d in details)))
    if pages > 1:
        spans.append(Span(f"\n\nOther pages: /sources 1 … /sources {pages}"))
    return spans


def about_spans(info: IndexInfo) -> list[Span]:
    """/about: articles, sentences, build time, model."""
    rows = [
        ("Articles", f"{info.articles:,}"),
        ("Sentences", f"{info.sentences:,}"),
        ("Index built", info.built_at),
        ("Model", info.model),
        ("Search backend", info.backend),
        ("Build", info.build_id),
    ]
    spans = [Span("About this index", (BOLD,))]
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


def unavailable_spans() -> list[Span]:
    """Search backend down."""
    return [Span("Search is temporarily unavailable, please try again in a minute.")]


def notice(spans: Sequence[Span]) -> str:
    """One short HTML message."""
    return render_one(spans)


def not_text_notice() -> str:
    """Reply to photos, stickers, voice, documents, locations ... in a private chat."""
    return notice([Span("Please send me a text question — I can only read text messages.")])


def edited_notice() -> str:
    """Reply to an edited message in a private chat."""
    return notice([Span("I only read new messages — please send your question again.")])


def too_long_notice(length: int, limit: int) -> str:
    """Reply to a question over the length limit."""
    return notice(
        [
            Span(f"That message is {length:,} characters long. "),
            Span(f"Please ask a shorter question (up to {limit} characters)."),
        ]
    )


def slow_down_notice(retry_after: float) -> str:
    """Reply when a user is over the rate limit."""
    seconds = max(1, round(retry_after))
    return notice(
        [
            Span(
                "You're asking faster than I can read — please slow down and try again "
                f"in {seconds} s."
            )
        ]
    )


def private_notice(user_id: int | None) -> str:
    """Reply to someone not on the allowlist."""
    spans = [Span("Sorry, this bot is private and only answers invited users.")]
    if user_id is not None:
        spans += [Span(" Your Telegram user id is "), Span(str(user_id), (BOLD,)), Span(".")]
    return notice(spans)


def apology_notice() -> str:
    """Reply when answering failed unexpectedly."""
    return notice([Span("Sorry, something went wrong while answering. Please try again.")])


def unavailable_notice() -> str:
    """Reply when the search backend is down."""
    return notice(unavailable_spans())


def ask_usage_notice(examples: Sequence[str] = ()) -> str:
    """Reply to /ask without a question."""
    example = examples[0] if examples else "What happened to the bridge?"
    return notice(
        [
            Span("Usage: /ask "),
            Span("your question", (ITALIC,)),
            Span("\nFor example: /ask " + shorten(example, 200)),
        ]
    )


def unknown_command_notice() -> str:
    """Reply to an unknown command in a private chat."""
    return notice([Span("I don't know that command. Try /help.")])


def sources_failed_notice(failure: str | None) -> str:
    """Callback answer (plain text) when the list of sources cannot be loaded."""
    if failure == unavailable_notice():
        return "Search is temporarily unavailable, please try again in a minute."
    return "Sorry, the list of sources could not be loaded — please try again."


def expired_notice() -> str:
    """Callback answer when the "More" data is gone (e.g. after a restart)."""
    return "This answer is no longer available — please ask again."


# --------------------------------------------------------------------------- terminal


def render_plain(answer: Answer, examples: Sequence[str] = ()) -> str:
    """The answer as plain text for the terminal chat."""
    return to_plain(answer_spans(answer, examples))


def render_plain_more(answer: Answer, paragraph: str) -> str:
    """The "More" view as plain text."""
    return to_plain(more_spans(answer, paragraph))
