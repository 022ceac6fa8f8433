"""Small articles for index tests, and writing them into a corpus folder as Markdown."""

from __future__ import annotations

from pathlib import Path

HARBOUR = (
    "The Harbour Bridge reopened to traffic on Monday after three months of repairs.",
    "Engineers replaced 40 steel cables. The mayor said the work came in under budget.",
)
FESTIVAL = (
    "The summer music festival sold a record 80,000 tickets this year.",
    "Organisers added a fourth stage. Local hotels reported full bookings.",
)
COUNCIL = (
    "The city council voted 7 to 2 to extend the cycle lane network.",
    "Construction starts in spring.",
)


def write_article(corpus: Path, name: str, title: str, *paragraphs: str, **meta: str) -> Path:
    """A Markdown article with front matter (``id`` defaults to the file name)."""
    corpus.mkdir(parents=True, exist_ok=True)
    front = ["---", f"title: {title}", *(f"{k}: {v}" for k, v in meta.items()), "---"]
    path = corpus / name
    path.write_text("\n".join(front) + "\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return path
