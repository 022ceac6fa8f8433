"""Telegram message markup: spans of text with formatting tags, serialised and split.

A message is laid out as a list of :class:`Span` (plain text plus the formatting tags around
it). That one layout is then

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
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from index.corpus.text import visible

TELEGRAM_MESSAGE_LIMIT = 4096
"""Telegram's limit for a message text, in UTF-16 code units after entity parsing."""
MESSAGE_BUDGET = 3900
"""What the bot allows itself per message: well below the limit, to be conservative."""
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


def sendable(text: str) -> str:
    """Text safe to send: no lone surrogates, no control characters but newline and tab."""
    text = _SURROGATES.sub("\ufffd", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub(" ", text)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, without invisible format characters (a label: an outlet, a title,
    an author), cut at a word boundary to at most ``limit`` characters."""
    text = " ".join(visible(sendable(text)).split())
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
    value = html.escape(sendable(value), quote=False)
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
        out.append(html.escape(sendable(span.text), quote=False))
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
        text = sendable(span.text)
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
    return "".join(sendable(s.text) for s in spans)


# --------------------------------------------------------------------------- splitting

_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’»)\]]*\s+")


def _strip(spans: Sequence[Span]) -> list[Span]:
    """Drop empty spans and whitespace at both ends (Telegram strips it anyway)."""
    items = [Span(sendable(s.text), s.tags) for s in spans if s.text]
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


def fill(template: str, *values: Sequence[Span]) -> list[Span]:
    """A sentence with blanks (``{}``) as spans, each blank filled with the next of ``values``.

    ``fill("Your id is {}.", [Span("42", (BOLD,))])`` lays out the sentence with the id in bold.
    """
    pieces = template.split("{}")
    if len(pieces) != len(values) + 1:
        raise ValueError(f"{template!r} has {len(pieces) - 1} blanks for {len(values)} values")
    spans = [Span(pieces[0])]
    for value, piece in zip(values, pieces[1:], strict=True):
        spans += [*value, Span(piece)]
    return spans
