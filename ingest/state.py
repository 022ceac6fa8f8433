"""What the fetcher remembers between runs, per URL: the validators for a conditional GET, the
id of the article a page gave, and for a feed its title and the entries taken from it (so a
feed that answers 304 still has its articles checked).

A small JSON file, by default ``.fetch-state.json`` in the corpus folder (hidden, so the corpus
loader ignores it), written atomically under the corpus lock (:mod:`ingest.lock`): a run loads
it again when it writes, adopts what it learnt meanwhile (:meth:`FetchState.adopt`) and keeps
what other processes did (an article removed during the run stays removed). A missing or
damaged file only costs full downloads.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.feeds import Feed, FeedEntry
from ingest.http import Validators
from ingest.names import BadIdError, checked_id
from ingest.writer import atomic_write

logger = logging.getLogger(__name__)

__all__ = ["STATE_FILE", "FetchState", "Remembered"]

STATE_FILE = ".fetch-state.json"
VERSION = 1


@dataclass(frozen=True)
class Remembered:
    """One URL's validators, and what it gave: an article id (a page) or a feed."""

    validators: Validators
    article_id: str | None = None
    feed: Feed | None = None


class FetchState:
    """URL -> :class:`Remembered`, loaded from and saved to one JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._urls: dict[str, Remembered] = {}
        self._touched: set[str] = set()  # URLs remembered or forgotten since loading
        self.removed: set[str] = set()  # article ids an admin removed: never fetched again

    @classmethod
    def load(cls, path: Path) -> FetchState:
        """The state in ``path``; empty when the file is missing or damaged (with a warning)."""
        state = cls(path)
        try:
            data = json.loads(state.path.read_text(encoding="utf-8"))
            urls = data["urls"] if data.get("version") == VERSION else {}
            state.removed = {i for i in map(_valid_id, data.get("removed", [])) if i}
            for url, item in urls.items():
                if item.get("id") is not None and _valid_id(item["id"]) is None:
                    continue  # an id that cannot name a file: the page is fetched afresh
                state._urls[url] = Remembered(
                    Validators(item.get("etag"), item.get("last_modified")),
                    item.get("id"),
                    _feed_from_json(url, item["feed"]) if item.get("feed") else None,
                )
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            logger.warning("ignoring the fetch state in %s (%s)", path, exc)
            state._urls.clear()
            state.removed.clear()
        return state

    def get(self, url: str) -> Remembered | None:
        return self._urls.get(url)

    def remember(
        self,
        url: str,
        validators: Validators,
        article_id: str | None = None,
        feed: Feed | None = None,
    ) -> None:
        """Keep what ``url`` gave (forgetting it when the server gave no validators)."""
        self._touched.add(url)
        if validators:
            self._urls[url] = Remembered(validators, article_id, feed)
        else:
            self._urls.pop(url, None)

    def adopt(self, other: FetchState) -> None:
        """Take what ``other`` remembered or forgot since it was loaded (a run's feeds, read
        while this, fresher, copy was being changed by another process); ``removed`` stays
        this copy's."""
        for url in other._touched:
            self._touched.add(url)
            remembered = other._urls.get(url)
            if remembered is None:
                self._urls.pop(url, None)
            else:
                self._urls[url] = remembered

    def save(self) -> None:
        """Write the file atomically (temp file, fsync, rename)."""
        urls: dict[str, Any] = {}
        for url, r in sorted(self._urls.items()):
            item: dict[str, Any] = {
                "etag": r.validators.etag,
                "last_modified": r.validators.last_modified,
            }
            if r.article_id:
                item["id"] = r.article_id
            if r.feed is not None:
                item["feed"] = _feed_to_json(r.feed)
            urls[url] = item
        data = {"version": VERSION, "urls": urls, "removed": sorted(self.removed)}
        text = json.dumps(data, indent=1, ensure_ascii=False)
        atomic_write(self.path, text + "\n")


def _valid_id(value: object) -> str | None:
    """``value`` when it is an article id that can name a file (else None, with a warning)."""
    try:
        return checked_id(str(value))
    except BadIdError as exc:
        logger.warning("ignoring an entry of the fetch state: %s", exc)
        return None


def _feed_to_json(feed: Feed) -> dict[str, Any]:
    return {
        "title": feed.title,
        "entries": [
            {
                "link": e.link,
                "title": e.title,
                "published": e.published.isoformat() if e.published else None,
                "author": e.author,
            }
            for e in feed.entries
        ],
    }


def _feed_from_json(url: str, data: dict[str, Any]) -> Feed:
    entries = [
        FeedEntry(
            link=str(e["link"]),
            title=e.get("title"),
            published=dt.datetime.fromisoformat(e["published"]) if e.get("published") else None,
            author=e.get("author"),
        )
        for e in data.get("entries", [])
    ]
    return Feed(url=url, title=data.get("title"), entries=entries)
