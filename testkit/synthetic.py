"""A synthetic news corpus of distinct sentences, for tests and benchmarks of the indexer.

``write_synthetic_corpus(folder, n)`` writes about ``n`` distinct sentences of plausible local
news as one JSONL corpus file (12 to 30 sentences an article, in paragraphs of one to four); the
same ``n`` and ``seed`` always give the same corpus.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

_PLACES = (
    "Riverton", "the harbour district", "Northgate", "the old town", "Lakeside", "the valley",
    "Kingsbridge", "the eastern suburbs", "Port Ellis", "the county", "Millbrook", "the capital",
)  # fmt: skip
_ACTORS = (
    "The city council", "Mayor Helen Ortiz", "The transport authority", "Local residents",
    "The regional health board", "Dr. Samuel Reyes", "Union leaders", "The finance ministry",
    "Teachers at three schools", "The fire service", "A spokesperson for the police",
    "Shop owners", "The U.S. embassy", "Environmental groups", "The national weather office",
)  # fmt: skip
_ACTIONS = (
    "approved a budget of {n} million for", "voted against plans for", "announced a review of",
    "raised concerns about", "promised new funding for", "criticised the delays to",
    "published a report on", "called for an inquiry into", "welcomed the decision on",
    "postponed the vote on", "set aside {n} hectares for", "hired {n} new staff for",
)  # fmt: skip
_OBJECTS = (
    "the new cycle lanes", "the hospital extension", "the flood barrier", "school meals",
    "the ferry timetable", "affordable housing", "the bridge repairs", "the summer festival",
    "street lighting", "the water treatment plant", "bus fares", "the public library",
)  # fmt: skip
_TAILS = (
    "on Tuesday", "after a long debate", "despite strong opposition", "earlier this week",
    "for the third year running", "following complaints from residents", "in a statement",
    "at a packed public meeting", "ahead of the winter season", "without further comment",
)  # fmt: skip
_QUOTES = (
    "“We have waited long enough,” said one resident.",
    "“This is a good day for {place},” the mayor told reporters.",
    "Officials said the work would take {n} months.",
    "Critics argued that the cost had doubled since {year}.",
    "The decision affects about {n},000 households.",
    "Mr. Okafor, who chairs the committee, declined to comment.",
    "Turnout was {n} per cent, the highest since {year}.",
)  # fmt: skip


def _sentence(rng: random.Random) -> str:
    if rng.random() < 0.25:
        template = rng.choice(_QUOTES)
    else:
        template = (
            f"{rng.choice(_ACTORS)} in {{place}} {rng.choice(_ACTIONS)} "
            f"{rng.choice(_OBJECTS)} {rng.choice(_TAILS)}."
        )
        if rng.random() < 0.3:  # some longer sentences, as in real coverage
            template = template[:-1] + f", and {rng.choice(_ACTORS).lower()} {rng.choice(_TAILS)}."
    return template.format(
        place=rng.choice(_PLACES), n=rng.randint(2, 90), year=rng.randint(1995, 2023)
    )


def synthetic_articles(sentences: int, seed: int = 7) -> list[dict[str, Any]]:
    """JSONL records with about ``sentences`` sentences in all (12 to 30 per article).

    Every sentence is distinct, so a build cannot embed fewer texts than the raw encode does.
    """
    rng = random.Random(seed)
    seen: set[str] = set()

    def fresh() -> str:
        for _ in range(20):
            text = _sentence(rng)
            if text not in seen:
                break
        else:
            text = text[:-1] + f" (item {len(seen)})."
        seen.add(text)
        return text

    records: list[dict[str, Any]] = []
    left = sentences
    while left > 0:
        count = min(left, rng.randint(12, 30))
        paragraphs: list[str] = []
        made = 0
        while made < count:
            size = min(count - made, rng.randint(1, 4))
            paragraphs.append(" ".join(fresh() for _ in range(size)))
            made += size
        number = len(records)
        records.append(
            {
                "id": f"synthetic-{number:05d}",
                "title": f"{rng.choice(_ACTORS)} and {rng.choice(_OBJECTS)} ({number})",
                "text": "\n\n".join(paragraphs),
                "url": f"https://news.example.com/{number}",
                "published": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                "source": "Synthetic Gazette",
            }
        )
        left -= count
    return records


def write_synthetic_corpus(folder: Path, sentences: int, seed: int = 7) -> Path:
    """Write ``synthetic.jsonl`` (about ``sentences`` sentences) into ``folder``; its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "synthetic.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        for record in synthetic_articles(sentences, seed):
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path
