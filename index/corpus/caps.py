"""Size caps on what enters the corpus and the index, applied before any splitting.

A page whose ``<h1>`` is one 4.5 MB word gave a 10,000-character title and 12,041 "sentences"
(36 s and 908 MB to build). No real title, article or sentence comes near these caps; what goes
past one is cut, and the caller logs why.
"""

from __future__ import annotations

import dataclasses

from index.types import Article

__all__ = [
    "MAX_ARTICLE_CHARS",
    "MAX_SENTENCE_CHARS",
    "MAX_TITLE_CHARS",
    "cut_body",
    "cut_title",
    "within_caps",
]

MAX_TITLE_CHARS = 300
MAX_ARTICLE_CHARS = 200_000  # about 30,000 words: longer than any news article
MAX_SENTENCE_CHARS = 4_000  # a sentence longer than this is not one: the rest is not indexed


def cut_title(title: str, limit: int = MAX_TITLE_CHARS) -> str:
    """``title`` within ``limit`` characters, cut at a word boundary and marked with "…"."""
    if len(title) <= limit:
        return title
    cut = title[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def cut_body(body: str, limit: int = MAX_ARTICLE_CHARS) -> str:
    """``body`` within ``limit`` characters: its paragraphs up to the last one that fits, less
    any paragraph that alone is over the limit (no text, a 4.5 MB "word"); cut hard at the
    limit when no paragraph fits."""
    if len(body) <= limit:
        return body
    kept: list[str] = []
    size = 0
    for paragraph in body.split("\n\n"):
        if len(paragraph) > limit:
            continue
        if size + len(paragraph) > limit:
            break
        kept.append(paragraph)
        size += len(paragraph) + 2
    return "\n\n".join(kept) if kept else body[:limit].rstrip()


def within_caps(article: Article) -> tuple[Article, list[str]]:
    """``article`` with its title and body within the caps, and a note for each cut."""
    changes: dict[str, str] = {}
    notes: list[str] = []
    if len(article.title) > MAX_TITLE_CHARS:
        changes["title"] = cut_title(article.title)
        notes.append(f"a title of {len(article.title):,} characters cut to {MAX_TITLE_CHARS}")
    if len(article.body) > MAX_ARTICLE_CHARS:
        changes["body"] = cut_body(article.body)
        notes.append(
            f"a body of {len(article.body):,} characters cut to {len(changes['body']):,} "
            f"(at most {MAX_ARTICLE_CHARS:,})"
        )
    return (dataclasses.replace(article, **changes) if changes else article), notes
