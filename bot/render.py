"""The bot's messages: from ``Answer`` and friends to Telegram HTML (or plain text).

Each message is laid out as :class:`bot.markup.Span` s from the words in ``index.wording``;
``bot.markup`` turns a layout into HTML messages within Telegram's limit, or into plain text
for the terminal chat. Pure functions: no Telegram types, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Literal

from bot import wording
from bot.labels import LABEL_CHARS, Named, article_label, reply_labels
from bot.markup import (
    BOLD,
    EXPANDABLE,
    ITALIC,
    QUOTE,
    Span,
    fill,
    link,
    render_chunks,
    render_one,
    safe_url,
    sendable,
    shorten,
    to_plain,
)
from index.dialogue.conversation import FOLLOWUP_MINUTES
from index.types import Answer, Article, IndexInfo, Quote, SourceRef

if TYPE_CHECKING:
    from bot.corpus_changes import (  # the admins' replies; not imported at run time
        ArticleNote,
        CoverageReply,
    )

INLINE_TITLE_CHARS = 100
INLINE_DESCRIPTION_CHARS = 200
SHOWN_QUOTES = 1
"""The quotes of the first reply: the best one, with its citation and one line of
corroboration, short enough for a phone's screen; the rest go under "More"."""
NAMED_REFS = 2
"""At most this many articles are named on the corroboration line; the others are counted."""
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


Labels = Mapping[str, str]
"""The label of each article of a reply, by id (see :func:`bot.labels.reply_labels`)."""


def answer_labels(answer: Answer) -> dict[str, str]:
    """The labels of every article an answer cites, told apart from each other."""
    named = [Named(q.article_id, q.source, q.title) for q in answer.quotes]
    refs = [*answer.sources, *answer.missing]
    named += [Named(ref.article_id, ref.source, ref.title) for ref in refs]
    return reply_labels(named)


def _label(labels: Labels | None, source: str | None, title: str | None, article_id: str) -> str:
    found = labels.get(article_id) if labels else None
    return found or article_label(source, title, article_id)


def _ref_label(ref: SourceRef, labels: Labels | None = None) -> list[Span]:
    """An article's label, linked to it when it has a URL."""
    url = safe_url(ref.url)
    label = _label(labels, ref.source, ref.title, ref.article_id)
    return [Span(label, (link(url),) if url else ())]


def _ref_list(lead: str, refs: Sequence[SourceRef], labels: Labels | None = None) -> list[Span]:
    """``lead A, B and 3 more`` with each article's label linked."""
    return [Span(lead + " ", (ITALIC,)), *_ref_names(refs, labels)]


def _ref_names(refs: Sequence[SourceRef], labels: Labels | None = None) -> list[Span]:
    """``A, B and 3 more`` with each article's label linked."""
    spans: list[Span] = []
    named = refs[:NAMED_REFS] if len(refs) > NAMED_REFS + 1 else refs
    for n, ref in enumerate(named):
        if n:
            last = n == len(named) - 1 and len(named) == len(refs)
            spans.append(Span(" and " if last else ", "))
        spans.extend(_ref_label(ref, labels))
    if len(named) < len(refs):
        spans.append(Span(" " + wording.and_more(len(refs) - len(named))))
    return spans


def citation_spans(quote: Quote, labels: Labels | None = None) -> list[Span]:
    """``— Reuters, 3 Mar 2024 · by Jane Doe · ¶3 · Shoigu said`` (the outlet, else the title,
    linked to the sentence; the byline and the speaker when known), then one line naming the
    copies in other outlets ("Also published by") and the independent reports ("also
    reported by")."""
    url = safe_url(quote.link) or safe_url(quote.url)
    label = _label(labels, quote.source, quote.title, quote.article_id)
    spans = [Span("— "), Span(label, (link(url), BOLD) if url else (BOLD,))]
    when = format_date(quote.published)
    details = [f", {when}" if when else ""]
    if quote.author:
        details.append(" · " + wording.byline(shorten(quote.author, LABEL_CHARS)))
    details.append(f" · ¶{quote.paragraph + 1}")
    if quote.speaker:
        details.append(" · " + wording.attributed(shorten(quote.speaker, LABEL_CHARS), quote.said))
    spans.append(Span("".join(details)))
    return spans + corroboration_line(quote, labels)


def corroboration_line(quote: Quote, labels: Labels | None = None) -> list[Span]:
    """``Also published by A; also reported by B and C``: one line, or nothing."""
    copies = [ref for ref in quote.also_published if ref.article_id != quote.article_id]
    refs = [ref for ref in quote.also_in if ref.article_id != quote.article_id]
    spans: list[Span] = []
    if copies:
        spans += _ref_list(wording.ALSO_PUBLISHED_BY, copies, labels)
    if quote.published_without:
        spans += [Span("; ")] if spans else []
        spans += [*_ref_names(quote.published_without, labels), Span(" " + wording.RAN_WITHOUT)]
    if refs:
        lead = wording.AND_REPORTED_BY if spans else wording.ALSO_REPORTED_BY
        spans += [Span("; ")] if spans else []
        spans += _ref_list(lead, refs, labels)
    return [Span("\n"), *spans] if spans else []


def quote_spans(quote: Quote, labels: Labels | None = None) -> list[Span]:
    """A quote as a blockquote followed by its citation."""
    text = sendable(quote.text).strip() or "…"
    return [Span(text, (QUOTE,)), Span("\n"), *citation_spans(quote, labels)]


def sources_spans(
    refs: Sequence[SourceRef], readable: Mapping[str, int] | None = None
) -> list[Span]:
    """The cited articles, one a line: label and date, then the title, linked; ``readable``
    maps an article id to its /sources number, shown as a ``/article N`` hint."""
    spans = [Span(wording.SOURCES, (BOLD,))]
    for ref in refs:
        spans.append(Span("\n• "))
        spans.extend(_source_line(ref.source, ref.title, ref.article_id, ref.url, ref.published))
        if readable and ref.article_id in readable:
            spans.append(Span(" · " + wording.READ_ARTICLE.format(readable[ref.article_id])))
    return spans


def _source_line(
    source: str | None, title: str | None, article_id: str, url: str | None, published: str | None
) -> list[Span]:
    """``Reuters, 3 Mar 2024 — Title`` (title linked); without an outlet, ``Title, 3 Mar 2024``."""
    url = safe_url(url)
    title_span = Span(_title(title, article_id), (link(url),) if url else ())
    when = format_date(published)
    outlet = shorten(source or "", LABEL_CHARS)
    if outlet:
        return [Span(outlet + (f", {when}" if when else "") + " — "), title_span]
    return [title_span, *([Span(f", {when}")] if when else [])]


def answer_spans(
    answer: Answer,
    examples: Sequence[str] = (),
    readable: Mapping[str, int] | None = None,
    *,
    full: bool = False,
) -> list[Span]:
    """The layout of the reply to a question (any kind of answer). A quoted answer is short
    enough for a phone: the best quote, its citation and one line of corroboration; the further
    quotes and the sources are under "More" (``full``: shown after it, for the terminal)."""
    if answer.kind == "comparison" and answer.quotes:
        return comparison_spans(answer, readable)
    if not (answer.answered and answer.quotes):
        return notice_spans(answer, examples)
    labels = answer_labels(answer)
    spans = partial_spans(answer) if answer.kind == "partial" else []
    spans += _read_as(answer)
    for quote in answer.quotes[:SHOWN_QUOTES]:
        spans += [*quote_spans(quote, labels), Span("\n\n")]
    spans = spans[:-1] + figures_spans(answer)
    if full:
        spans += further_spans(answer, readable, labels)
    return spans


def further_spans(
    answer: Answer, readable: Mapping[str, int] | None = None, labels: Labels | None = None
) -> list[Span]:
    """What the first reply leaves out: the further quotes, then the sources."""
    labels = labels if labels is not None else answer_labels(answer)
    spans: list[Span] = []
    further = answer.quotes[SHOWN_QUOTES:]
    if further:
        spans += [Span("\n\n"), Span(wording.ALSO_IN_COVERAGE, (BOLD,))]
        for quote in further:
            spans += [Span("\n"), *quote_spans(quote, labels)]
    return [*spans, Span("\n\n"), *sources_spans(answer.sources, readable)]


def figures_spans(answer: Answer) -> list[Span]:
    """One line when articles give different figures: "Figures differ: 19 (Harbour Herald,
    6 Mar), 17 (Northern Courier, 4 Mar), 12 (Harbour Herald, 3 Mar)." (newest first)."""
    if not answer.figures:
        return []
    return [Span("\n"), Span(wording.figures_differ(figures_line(answer)), (ITALIC,))]


def figures_line(answer: Answer) -> str:
    """Each article's figure with its label and day, newest first, comma-separated."""
    parts = []
    for f in answer.figures:
        where = [article_label(f.source, f.title, f.article_id), format_date(f.published)]
        parts.append(f"{f.value} ({', '.join(w for w in where if w)})")
    return ", ".join(parts)


def _read_as(answer: Answer) -> list[Span]:
    """ "Read as: …" above a follow-up whose question was reworded."""
    if not answer.resolved:
        return []
    read = [Span(shorten(answer.resolved, QUESTION_ECHO_CHARS), (ITALIC,))]
    return [*fill(wording.READ_AS, read), Span("\n\n")]


def comparison_spans(answer: Answer, readable: Mapping[str, int] | None = None) -> list[Span]:
    """/compare: the best quote of each article, grouped by outlet, then the articles that do
    not mention the topic."""
    asked = answer.resolved or answer.question  # the topic, not the whole question
    topic = [Span(shorten(asked, QUESTION_ECHO_CHARS), (ITALIC,))]
    spans = [*fill(wording.COMPARE_TITLE, topic)]
    spans[0] = Span(spans[0].text, (BOLD, *spans[0].tags))
    labels = answer_labels(answer)
    groups: dict[str, list[Quote]] = {}
    for quote in answer.quotes:  # by outlet; an article without one under its own label
        heading = shorten(quote.source or "", LABEL_CHARS) or labels[quote.article_id]
        groups.setdefault(heading, []).append(quote)
    for heading, quotes in groups.items():
        spans += [Span("\n\n"), Span(heading, (BOLD,))]
        for quote in quotes:
            spans += [Span("\n"), *quote_spans(quote, labels)]
    spans += _not_mentioned(answer.missing)
    spans += [Span("\n\n"), *sources_spans(answer.sources, readable)]
    return spans


NOT_MENTIONED_LISTED = 10
"""Up to this many articles that do not address a compared topic are named; more are counted."""


def _not_mentioned(missing: Sequence[SourceRef]) -> list[Span]:
    if not missing:
        return []
    if len(missing) > NOT_MENTIONED_LISTED:
        return [Span("\n\n" + wording.compare_others_not_mentioned(len(missing)))]
    spans = [Span("\n\n"), Span(wording.COMPARE_NOT_MENTIONED + ": ", (ITALIC,))]
    for n, ref in enumerate(missing):
        if n:
            spans.append(Span("; "))
        url = safe_url(ref.url)
        spans.append(Span(_title(ref.title, ref.article_id, 120), (link(url),) if url else ()))
        if ref.source:
            spans.append(Span(f" ({shorten(ref.source, 60)})"))
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
    if answer.kind == "goodbye":
        return [Span(wording.GOODBYE)]
    if answer.kind in ("comparison", "language", "clarify"):  # its reason says it all
        return [Span(_reason(answer))]
    if answer.kind == "help":
        return help_spans(examples)
    if answer.kind == "empty":
        return [Span(wording.EMPTY), *_example(examples)]
    if answer.kind == "unavailable":
        return [Span(wording.UNAVAILABLE)]
    return refusal_spans(answer.question, examples)


def _reason(answer: Answer) -> str:
    """The answer's reason, or "Not in the coverage." when it shows nothing (blank, or only
    control characters, which a message drops)."""
    reason = answer.reason or ""
    shows = any(ch.isprintable() and not ch.isspace() for ch in reason)
    return reason if shows else wording.NOT_IN_COVERAGE


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


Paragraphs = Mapping[tuple[str, int], str]
"""Paragraph texts by (article id, paragraph number), for the "More" view."""


def more_spans(
    answer: Answer,
    paragraph: str,
    others: Paragraphs | None = None,
    readable: Mapping[str, int] | None = None,
) -> list[Span]:
    """The "More" view: the paragraph around the top quote, each corroborating article's own
    sentence in its paragraph, then the quotes not shown yet and the sources."""
    if not answer.quotes:
        return [Span(wording.NOTHING_MORE)]
    top = answer.quotes[0]
    url = safe_url(top.url)
    title = _title(top.title, top.article_id)
    spans = [Span(wording.CONTEXT, (BOLD,)), Span(" — "), Span(title, (link(url),) if url else ())]
    spans.append(Span(f", ¶{top.paragraph + 1}\n"))
    spans += _paragraph_spans(paragraph, top.text)
    spans += _corroboration_spans(answer, others or {})
    return spans + further_spans(answer, readable)


def corroborating_refs(answer: Answer) -> list[SourceRef]:
    """The "also reported by" sentences of the quotes shown, each paragraph once, none of an
    article already quoted there (its paragraph is the context, or its quote is shown)."""
    shown = answer.quotes[:SHOWN_QUOTES]
    quoted = {quote.article_id for quote in shown}
    refs: dict[tuple[str, int], SourceRef] = {}
    for ref in (ref for quote in shown for ref in quote.also_in):
        if ref.text and ref.paragraph is not None and ref.article_id not in quoted:
            refs.setdefault((ref.article_id, ref.paragraph), ref)
    return list(refs.values())


def _corroboration_spans(answer: Answer, others: Paragraphs) -> list[Span]:
    """For every "also reported by" article, its own sentence (in bold) in its paragraph."""
    refs = corroborating_refs(answer)
    if not refs:
        return []
    spans = [Span("\n\n"), Span(wording.SAME_IN_OTHER_ARTICLES, (BOLD,))]
    for ref in refs:
        assert ref.text is not None and ref.paragraph is not None
        url = safe_url(ref.link)
        title = _title(ref.title, ref.article_id)
        spans += [Span("\n"), Span(title, (link(url),) if url else ())]
        details = [
            d for d in (ref.source and shorten(ref.source, 60), format_date(ref.published)) if d
        ]
        spans.append(Span(" · " + " · ".join([*details, f"¶{ref.paragraph + 1}"]) + "\n"))
        paragraph = others.get((ref.article_id, ref.paragraph), "")
        spans += _paragraph_spans(paragraph or ref.text, ref.text)
    return spans


def _paragraph_spans(paragraph: str, quote: str) -> list[Span]:
    """The paragraph, expandable, with the quote in it in bold."""
    paragraph = sendable(paragraph).strip()
    quote = sendable(quote).strip()
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


def render_answer(
    answer: Answer, examples: Sequence[str] = (), readable: Mapping[str, int] | None = None
) -> list[str]:
    """The HTML messages answering a question; ``readable`` maps article ids to their
    /sources numbers (shown as ``/article N`` hints)."""
    return render_chunks(answer_spans(answer, examples, readable))


def render_expanded(
    answer: Answer,
    paragraph: str,
    others: Paragraphs | None = None,
    readable: Mapping[str, int] | None = None,
) -> list[str]:
    """The answer with the "More" view appended (used to expand a message in place)."""
    more = more_spans(answer, paragraph, others, readable)
    return render_chunks([*answer_spans(answer, (), readable), Span("\n\n"), *more])


def render_more(
    answer: Answer,
    paragraph: str,
    others: Paragraphs | None = None,
    readable: Mapping[str, int] | None = None,
) -> list[str]:
    """The "More" view on its own, as HTML messages."""
    return render_chunks(more_spans(answer, paragraph, others, readable))


def render_plain(
    answer: Answer,
    examples: Sequence[str] = (),
    readable: Mapping[str, int] | None = None,
    *,
    full: bool = False,
) -> str:
    """The answer as plain text (the terminal chat shows it ``full``: what "More" adds too,
    but the paragraphs)."""
    return to_plain(answer_spans(answer, examples, readable, full=full))


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


def help_spans(
    examples: Sequence[str] = (),
    bot_username: str | None = None,
    followup_minutes: float = FOLLOWUP_MINUTES,
) -> list[Span]:
    """/help: how to ask, the commands, follow-ups, groups and inline mode."""
    spans = [
        Span(wording.HELP_TITLE, (BOLD,)),
        Span("\n" + wording.HELP_INTRO),
        *_example(examples),
        Span("\n\n" + wording.help_commands(followup_minutes)),
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


def source_numbers(articles: Sequence[Article]) -> dict[str, int]:
    """Each article's number in /sources, the N of ``/article N``: its place in ``articles``
    (``QA.articles`` gives them newest first)."""
    return {a.id: n for n, a in enumerate(articles, start=1)}


def sources_list_spans(
    articles: Sequence[Article], page: int = 1, per_page: int = SOURCES_PER_PAGE
) -> list[Span]:
    """/sources: one page of the numbered list of indexed articles, newest first, each with
    its outlet, date and linked title.

    Pages outside the list show its first or last page; numbers run across pages.
    """
    if not articles:
        return [Span(wording.NO_ARTICLES)]
    pages = sources_pages(len(articles), per_page)
    page = min(max(page, 1), pages)
    spans = [Span(wording.sources_header(len(articles), page, pages), (BOLD,))]
    first = (page - 1) * per_page
    for n, a in enumerate(articles[first : first + per_page], start=first + 1):
        spans.append(Span(f"\n{n}. "))
        spans.extend(_source_line(a.source, a.title, a.id, a.url, a.published))
    if pages > 1:
        spans.append(Span("\n\n" + wording.sources_other_pages(pages)))
    return spans


def sources_past_end_notice(page: int, pages: int) -> str:
    """Reply to /sources N past the last page."""
    return _say(wording.sources_no_such_page(page, pages))


ARTICLE_PAGE_CHARS = 3000
"""Characters of article text per /article page (whole paragraphs where they fit)."""


def article_pages(body: str, limit: int = ARTICLE_PAGE_CHARS) -> list[str]:
    """An article's text in pages of whole paragraphs; a paragraph longer than a page is cut
    at a sentence or word boundary. Nothing is dropped or reworded."""
    pages: list[str] = []
    current = ""
    for paragraph in (p.strip() for p in sendable(body).split("\n\n")):
        if not paragraph:
            continue
        pieces = _cut_long(paragraph, limit)
        for piece in pieces:
            if current and len(current) + 2 + len(piece) > limit:
                pages.append(current)
                current = ""
            current = f"{current}\n\n{piece}" if current else piece
    if current or not pages:
        pages.append(current)
    return pages


def _cut_long(paragraph: str, limit: int) -> list[str]:
    pieces = []
    while len(paragraph) > limit:
        cut = max(paragraph.rfind(". ", 0, limit), paragraph.rfind(" ", 0, limit // 2 * 2))
        cut = cut + 1 if cut > limit // 3 else limit
        pieces.append(paragraph[:cut].strip())
        paragraph = paragraph[cut:].strip()
    return [*pieces, paragraph] if paragraph else pieces


def article_page_spans(
    number: int, article: Article, page: int, pages: Sequence[str]
) -> list[Span]:
    """/article N: the article's title, source and date, then one page of its text."""
    page = min(max(page, 1), len(pages))
    url = safe_url(article.url)
    spans = [Span(wording.article_page_header(number, page, len(pages)), (ITALIC,)), Span("\n")]
    spans.append(
        Span(_title(article.title, article.id, 300), (BOLD, link(url)) if url else (BOLD,))
    )
    details = [d for d in (article.source, format_date(article.published)) if d]
    if details and page == 1:
        spans.append(Span("\n" + " · ".join(shorten(d, 60) for d in details)))
    spans += [Span("\n\n"), Span(pages[page - 1])]
    return spans


def render_article_page(number: int, article: Article, page: int, pages: Sequence[str]) -> str:
    """HTML for one page of /article N (one message: a page always fits)."""
    return render_one(article_page_spans(number, article, page, pages))


def article_usage_notice() -> str:
    """Reply to /article without a number."""
    return render_one(
        fill(wording.ARTICLE_USAGE, [Span(wording.ARTICLE_USAGE_PLACEHOLDER, (ITALIC,))])
    )


def no_such_article_notice(number: int, total: int) -> str:
    """Reply to /article N when there is no article N."""
    return _say(wording.no_such_article(number, total))


def compare_usage_notice(example: str | None = None) -> str:
    """Reply to /compare without a topic."""
    usage = fill(wording.COMPARE_USAGE, [Span(wording.COMPARE_USAGE_PLACEHOLDER, (ITALIC,))])
    example = shorten(example or wording.DEFAULT_COMPARE_EXAMPLE, EXAMPLE_CHARS)
    return render_one([*usage, Span("\n"), *fill(wording.COMPARE_USAGE_EXAMPLE, [Span(example)])])


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


def render_help(
    examples: Sequence[str] = (),
    bot_username: str | None = None,
    followup_minutes: float = FOLLOWUP_MINUTES,
) -> list[str]:
    """HTML for /help."""
    return render_chunks(help_spans(examples, bot_username, followup_minutes))


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


# --------------------------------------------------------------------------- admins: coverage


REPORT_ARTICLES = 10
REPORT_SKIPS = 5
"""At most this many articles and skips are listed in the report of an /add of a feed."""


def coverage_started_notice(kind: Literal["add", "remove", "document"], what: str) -> str:
    """The reply sent at once to an /add, a /remove or a document: the change has started."""
    template = {
        "add": wording.ADD_STARTED,
        "remove": wording.REMOVE_STARTED,
        "document": wording.DOCUMENT_STARTED,
    }[kind]
    return render_one(fill(template, [Span(shorten(what, 200), (BOLD,))]))


def coverage_notice(reply: CoverageReply) -> str:
    """The reply to an admin's /add, document or /remove: what was indexed, or why not."""
    if reply.done in ("not_added", "not_removed"):
        template = wording.NOT_ADDED if reply.done == "not_added" else wording.NOT_REMOVED
        return render_one(fill(template, [Span(shorten(reply.reason or "", 300))]))
    if reply.done == "report":
        return render_one(_report_spans(reply))
    template = {
        "added": wording.ADDED,
        "updated": wording.UPDATED,
        "unchanged": wording.UNCHANGED,
        "removed": wording.REMOVED,
    }[reply.done]
    spans = fill(template, _described(reply), [Span(reply.article_id or "", (BOLD,))])
    if reply.done != "unchanged":
        spans += [Span(" "), *_index_spans(reply.rebuild_error)]
    return render_one(spans)


def _index_spans(rebuild_error: str | None) -> list[Span]:
    """Whether the index was updated after a change."""
    if rebuild_error:
        return fill(wording.INDEX_NOT_UPDATED, [Span(shorten(rebuild_error, 300))])
    return [Span(wording.INDEX_UPDATED)]


def _report_spans(reply: CoverageReply) -> list[Span]:
    """An /add that brought several articles, or skipped some: a line of counts, a line per
    article and per skip (the first few), and whether the index was updated."""
    counts = [sum(1 for a in reply.articles if a.done == d) for d in ("added", "updated")]
    counts.append(len(reply.articles) - sum(counts))
    numbers = [[Span(str(n))] for n in (*counts, len(reply.skipped))]
    spans = fill(wording.REPORT, [Span(shorten(reply.url or "", 200))], *numbers)
    templates = {
        "added": wording.REPORT_ADDED,
        "updated": wording.REPORT_UPDATED,
        "unchanged": wording.REPORT_UNCHANGED,
    }
    for note in reply.articles[:REPORT_ARTICLES]:
        article = [Span(note.article_id, (BOLD,))]
        spans += [Span("\n• "), *fill(templates[note.done], _described(note), article)]
    spans += _more(len(reply.articles) - REPORT_ARTICLES)
    for skip in reply.skipped[:REPORT_SKIPS]:
        what = [Span(shorten(skip.url, 120))], [Span(shorten(skip.reason, 200))]
        spans += [Span("\n• "), *fill(wording.REPORT_SKIPPED, *what)]
    spans += _more(len(reply.skipped) - REPORT_SKIPS)
    if counts[0] or counts[1]:
        spans += [Span("\n"), *_index_spans(reply.rebuild_error)]
    return spans


def _more(hidden: int) -> list[Span]:
    return [Span("\n" + wording.REPORT_MORE.format(hidden))] if hidden > 0 else []


def _described(reply: CoverageReply | ArticleNote) -> list[Span]:
    """``“Title” (Reuters, 3 Mar 2024)``: what is known of the article, nothing more."""
    title = _title(reply.title, reply.article_id or "")
    details = [
        d for d in (shorten(reply.source or "", LABEL_CHARS), format_date(reply.published)) if d
    ]
    return [
        Span("“"),
        Span(title, (ITALIC,)),
        Span("”" + (f" ({', '.join(details)})" if details else "")),
    ]


def admin_only_notice() -> str:
    """Reply to someone who is not an admin trying to change the coverage."""
    return _say(wording.ADMIN_ONLY)


def add_usage_notice() -> str:
    """Reply to /add without a URL."""
    return render_one(fill(wording.ADD_USAGE, [Span(wording.ADD_USAGE_PLACEHOLDER, (ITALIC,))]))


def remove_usage_notice() -> str:
    """Reply to /remove without an id."""
    placeholder = [Span(wording.REMOVE_USAGE_PLACEHOLDER, (ITALIC,))]
    return render_one(fill(wording.REMOVE_USAGE, placeholder))
