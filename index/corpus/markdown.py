"""Markdown to the plain text that is stored, split and quoted.

A Markdown article's body is turned into plain text before it is stored, so no quote carries
markup: heading hashes, emphasis, links, images, inline code, block quotes, list bullets,
rules, code fences, link definitions, HTML comments and backslash escapes go; the words stay
as written. A heading that repeats the title is dropped (the title is shown beside every quote
already), other headings become paragraphs of their own. Quotes are slices of the stored
(plain) body, so their offsets stay exact.

The rules are conservative, since a fetched article's body is plain text written as Markdown:
a ``*`` or ``_`` marks emphasis only around words, never inside one ("snake_case", "5 * 3"
stay), and a ``#`` is a heading only at the start of a line and followed by a space.
"""

from __future__ import annotations

import re

_HEADING = re.compile(r"^[ ]{0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^[ ]{0,3}(?:=+|-+)[ \t]*$")
_RULE = re.compile(r"^[ ]{0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$")
_FENCE = re.compile(r"^[ ]{0,3}(?:```|~~~)")
_DEFINITION = re.compile(r"^[ ]{0,3}\[[^\]\n]+\]:[ \t]+\S+.*$")
_QUOTE_MARK = re.compile(r"^[ ]{0,3}(?:>[ \t]?)+")
_BULLET = re.compile(r"^([ \t]*)[-*+][ \t]+(?=\S)")
_IMAGE = re.compile(r"!\[([^\]\n]*)\]\((?:[^()\s]|\([^()\s]*\))*(?:[ \t]+\"[^\"\n]*\")?\)")
_LINK = re.compile(r"(?<!\\)\[([^\]\n]+)\]\((?:[^()\s]|\([^()\s]*\))*(?:[ \t]+\"[^\"\n]*\")?\)")
_REF_LINK = re.compile(r"(?<!\\)\[([^\]\n]+)\]\[[^\]\n]*\]")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_CODE = re.compile(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)")
_STRONG = re.compile(r"(?<![\w*\\])(\*\*|__)(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_EMPHASIS = re.compile(r"(?<![\w*\\])([*_])(?=[^\s*_])(.+?)(?<=[^\s*_])\1(?![\w*])")
_STRIKE = re.compile(r"(?<![\w~\\])~~(?=\S)(.+?)(?<=\S)~~(?![\w~])")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>~|])")


def plain_text(markdown: str, title: str | None = None) -> str:
    """``markdown`` as plain text: paragraphs separated by blank lines, no markup; a heading
    that repeats ``title`` left out."""
    lines: list[str] = []
    for line in _COMMENT.sub("", markdown).split("\n"):
        if _RULE.match(line) or _DEFINITION.match(line) or _FENCE.match(line):
            lines.append("")
            continue
        if _SETEXT.match(line) and lines and lines[-1].strip():
            lines += ["", _HEADING_MARK + lines.pop(), ""]
            continue
        heading = _HEADING.match(line)
        if heading is not None:
            lines += ["", _HEADING_MARK + heading.group(2), ""]
            continue
        line = _QUOTE_MARK.sub("", line)
        lines.append(_BULLET.sub(r"\1", line))
    texts = [_inline(paragraph) for paragraph in _paragraphs(lines, title)]
    return "\n\n".join(text for text in texts if text)


_HEADING_MARK = "\x00"
"""Marks a heading line until the title check (a NUL never survives loading)."""


def _paragraphs(lines: list[str], title: str | None) -> list[str]:
    """Blank-line separated paragraphs, without a heading that repeats the title."""
    paragraphs: list[str] = []
    current: list[str] = []
    for line in [*lines, ""]:
        if line.strip():
            current.append(line.rstrip())
            continue
        if current:
            paragraphs.append("\n".join(current).strip("\n"))
            current = []
    kept = []
    for paragraph in paragraphs:
        if paragraph.startswith(_HEADING_MARK):
            text = paragraph[len(_HEADING_MARK) :]
            if title is not None and _same(_inline(text), title):
                continue
            paragraph = text
        kept.append(paragraph)
    return kept


def _inline(text: str) -> str:
    """Inline markup removed: images, links, code, emphasis, escapes."""
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _REF_LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _CODE.sub(lambda m: m.group(2).strip(), text)
    for _ in range(2):  # "***both***": strong, then emphasis
        text = _STRONG.sub(r"\2", text)
        text = _EMPHASIS.sub(r"\2", text)
    text = _STRIKE.sub(r"\1", text)
    text = _ESCAPE.sub(r"\1", text)
    return "\n".join(line.strip() for line in text.split("\n")).strip()


def _same(heading: str, title: str) -> bool:
    def key(text: str) -> str:
        return " ".join(text.replace("’", "'").lower().split()).rstrip(" .:;!?")

    return key(heading) == key(title)
