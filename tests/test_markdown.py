"""Markdown articles are stored as plain text: no quote carries markup, and the title is not
quoted twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.corpus.articles import load_file
from index.corpus.markdown import plain_text
from index.corpus.sentences import split_sentences

ARTICLE = """---
title: "Tamber flood death toll rises to 17"
source: Northern Courier
author: Jane Doe
---

# Tamber flood death toll rises to 17

**TAMBER** — The *death toll* rose to 17 on Tuesday, [officials said](https://example.org/a).

## Rescue efforts

- Boats reached the village of Ostrin on Monday.
- The pump_station at km 5 * 3 was lost.

> “We are still searching,” said Ana Moreno.

![A flooded street](https://example.org/photo.jpg)

***

Call 555\\-0100 for help, or see <https://example.org/help>. Use `the form`.
"""


@pytest.mark.parametrize(
    ("markdown", "text"),
    [
        ("# Heading\n\nBody.", "Heading\n\nBody."),
        ("Some **bold** and __strong__ and *em* and _em_.", "Some bold and strong and em and em."),
        ('See [the report](https://x.example/r "title") now.', "See the report now."),
        ("A ![photo](p.jpg) here.", "A  here."),
        ("snake_case, 5 * 3 and a_b_c stay.", "snake_case, 5 * 3 and a_b_c stay."),
        ("#1 priority is not a heading.", "#1 priority is not a heading."),
        ("> quoted line\n> more", "quoted line\nmore"),
        ("Text\n\n---\n\nMore", "Text\n\nMore"),
        ("[1]: https://example.org\n\nBody", "Body"),
    ],
)
def test_markup_goes_and_the_words_stay(markdown: str, text: str) -> None:
    assert plain_text(markdown) == text


def test_a_heading_that_repeats_the_title_is_dropped() -> None:
    assert plain_text("# The Title\n\nBody.", "The title") == "Body."
    assert plain_text("## Another heading\n\nBody.", "The title") == "Another heading\n\nBody."


def test_a_markdown_article_is_quoted_without_markup(tmp_path: Path) -> None:
    path = tmp_path / "flood.md"
    path.write_text(ARTICLE, encoding="utf-8")
    [article] = load_file(path)
    assert article.title == "Tamber flood death toll rises to 17"
    assert article.author == "Jane Doe"
    assert article.title not in article.body  # not quoted twice
    sentences = split_sentences(article)
    for sentence in sentences:
        assert article.body[sentence.start : sentence.end] == sentence.text
        for markup in ("#", "**", "](", "![", "`", "> ", "\\-", "<http"):
            assert markup not in sentence.text, sentence.text
    texts = [s.text for s in sentences]
    assert "TAMBER — The death toll rose to 17 on Tuesday, officials said." in texts
    assert any("pump_station at km 5 * 3" in t for t in texts)
