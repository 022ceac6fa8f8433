"""One Markdown file per article, with YAML front matter, written atomically.

The file is ``<corpus>/<id>.md``::

    ---
    id: 3f2a9b0c1d2e4f56
    title: 'Kim shows weapons to Russian defence chief'
    url: https://example.com/world/kim-weapons
    published: '2024-03-03T10:00:00Z'
    source: Reuters
    author: Jane Doe
    fetched_at: '2024-03-03T11:02:13Z'
    ---

    First paragraph.

    Second paragraph.

Values are written by ``yaml.safe_dump``, which quotes any text YAML would read as something
else (``yes``, ``2024``, ``null``), so :mod:`index.corpus.articles` reads back exactly what was
written. A write goes to a hidden temporary file in the same folder, is flushed to disk and
renamed over the article: a reader (or a kill -9) never sees half a file, and the loader never
reads a leftover temporary file, which the next run deletes.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import frontmatter
import yaml

from ingest.extract import Page
from ingest.names import article_file

logger = logging.getLogger(__name__)

__all__ = ["Outcome", "Written", "article_path", "atomic_write", "remove_leftovers", "write_page"]

TMP_SUFFIX = ".partial"
FILE_MODE = 0o644
LEFTOVER_AGE = 3600.0  # seconds; a younger temporary file may belong to a run going on now
SHRINK_LIMIT = 0.5  # an update keeping less than this share of the words is not trusted

Outcome = Literal["new", "updated", "unchanged", "kept"]


@dataclass(frozen=True)
class Written:
    """What :func:`write_page` did; ``reason`` says why an update was refused (``kept``)."""

    article_id: str
    outcome: Outcome
    path: Path
    reason: str | None = None


def article_path(corpus: Path, article_id: str) -> Path:
    """``<corpus>/<id>.md`` (raises :class:`~ingest.names.BadIdError` for an invalid id)."""
    return article_file(corpus, article_id)


def write_page(corpus: Path, article_id: str, page: Page, fetched_at: str) -> Written:
    """Write ``page`` as the article ``article_id``: new, updated (its text or metadata
    changed), unchanged (nothing to write), or kept (the page now has less than half the
    words of the good copy on disk: a paywall or a broken page, not an edit).
    """
    path = article_path(corpus, article_id)
    meta: dict[str, Any] = {
        "id": article_id,
        "title": page.title,
        "url": page.url,
        "published": page.published,
        "source": page.source,
        "author": page.author,
        "format": "text",  # plain text: the loader must not read it as Markdown
    }
    old = _read_existing(path)
    if old is not None:
        old_meta, old_body = old
        if {k: old_meta.get(k) for k in meta} == meta and old_body == page.body:
            return Written(article_id, "unchanged", path)
        old_words = len(old_body.split())
        if page.words < SHRINK_LIMIT * old_words:
            reason = (
                f"the page now has {page.words} words against {old_words} in the copy on "
                "disk (a paywall or a broken page?); kept the earlier copy"
            )
            return Written(article_id, "kept", path, reason)
    atomic_write(path, render(meta | {"fetched_at": fetched_at}, page.body))
    return Written(article_id, "new" if old is None else "updated", path)


def render(meta: dict[str, Any], body: str) -> str:
    """Front matter and body as the text of a Markdown file."""
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1_000_000)
    return f"---\n{front}---\n\n{body}\n"


def _read_existing(path: Path) -> tuple[dict[str, Any], str] | None:
    """The front matter and body of the article file at ``path``; None when there is none or
    it cannot be read (then the new copy replaces it)."""
    try:
        post = frontmatter.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        logger.warning("replacing unreadable article file %s (%s)", path, exc)
        return None
    return dict(post.metadata), post.content.strip()


def atomic_write(path: Path, content: str | bytes) -> None:
    """Replace ``path`` with ``content`` (text is written as UTF-8) so that no reader ever
    sees a partial file."""
    path = Path(path)
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TMP_SUFFIX)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), FILE_MODE)  # mkstemp makes it private
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def remove_leftovers(folder: Path, *, older_than: float = LEFTOVER_AGE) -> int:
    """Delete the temporary files a killed run left in ``folder`` (those older than
    ``older_than`` seconds: a younger one may be another run's write); how many there were."""
    removed = 0
    now = time.time()
    for leftover in Path(folder).glob(f".*{TMP_SUFFIX}"):
        try:
            if now - leftover.stat().st_mtime >= older_than:
                leftover.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
