"""The version folder of an index: versions, the ``CURRENT`` pointer, the lock and the files.

Layout of an index folder::

    INDEX_DIR/
      CURRENT                  the name of the version being served (replaced atomically)
      .build.lock              held by a running build (flock; released even on kill -9)
      versions/<build_id>/
        manifest.json          build id, time, model, dimension, backend, per-article hashes
        articles.jsonl         the articles (every quote is sliced from their bodies)
        sentences.npz          per sentence: article row, paragraph, index, start, end
        tokens.npz             per sentence: BM25 token ids (CSR), for lexical features
        entities.npz           per sentence: named entities, kind and span (CSR; index.entities)
        embeddings.npy         float32 (sentences x dimension), L2-normalised
        bm25/                  the bm25s index over the same sentences
        chroma/                the embedded chromadb store (absent with a Chroma server)

A build writes a complete new version, then switches ``CURRENT`` with ``os.replace`` (atomic on
POSIX), then deletes all but the last two versions. The vectors' side of a version (the
``chroma/`` folder, or a collection on a Chroma server named in the manifest) is
:mod:`index.vector_store`'s business.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import secrets
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from index.config import IndexSettings
from index.types import Article, IndexNotFoundError, NewsQuoteError

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
CURRENT_FILE = "CURRENT"
VERSIONS_DIR = "versions"
LOCK_FILE = ".build.lock"
MANIFEST_FILE = "manifest.json"
ARTICLES_FILE = "articles.jsonl"
KEEP_VERSIONS = 2
SPLITTER_VERSION = 1
"""Bump when sentence splitting changes, so the next build re-splits and re-embeds."""


class BuildLockedError(NewsQuoteError):
    """Another build holds the index lock."""


@dataclass(frozen=True, slots=True)
class ArticleEntry:
    """What the manifest records of one article: its content hash and its sentence rows."""

    hash: str
    sentences: int
    rows: tuple[int, int]


@dataclass(slots=True)
class Manifest:
    """The description of one index version (``manifest.json``)."""

    build_id: str
    built_at: str
    model: str
    dimension: int
    backend: str  # "embedded" or "server" (see index.vector_store)
    collection: str
    splitter: dict[str, int]
    articles: dict[str, ArticleEntry]
    sentences: int
    skipped: list[dict[str, str]] = field(default_factory=list)
    embedded_now: int = 0
    reused: int = 0
    entities: str = ""  # the recogniser that found the sentences' entities ("": none stored)
    format: int = FORMAT_VERSION

    def to_json(self) -> str:
        data = asdict(self)
        data["articles"] = {k: asdict(v) for k, v in self.articles.items()}
        return json.dumps(data, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        if data.get("format") != FORMAT_VERSION:
            raise ValueError(f"unsupported index format {data.get('format')!r}")
        data["articles"] = {
            k: ArticleEntry(v["hash"], int(v["sentences"]), (int(v["rows"][0]), int(v["rows"][1])))
            for k, v in data["articles"].items()
        }
        return cls(**data)

    def save(self, folder: Path) -> None:
        """Write ``manifest.json`` atomically: a version without one is incomplete."""
        path = folder / MANIFEST_FILE
        tmp = folder / (MANIFEST_FILE + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(self.to_json())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)


def new_build_id() -> str:
    """A sortable, unique build id such as ``20261123T010203123456Z-1a2b3c``.

    Microseconds, so that builds less than a second apart still sort in the order they ran
    (the random suffix alone would order them by chance, and the clean-up keeps the newest).
    """
    now = dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%S%f}Z-{secrets.token_hex(3)}"


def splitter_params(settings: IndexSettings) -> dict[str, int]:
    """The sentence-splitting parameters a version was built with."""
    return {"version": SPLITTER_VERSION, "max_chars": settings.max_sentence_chars}


# --------------------------------------------------------------------------- the folder


class IndexDir:
    """An index folder: its versions, the ``CURRENT`` pointer and the build lock."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    @property
    def pointer(self) -> Path:
        return self.root / CURRENT_FILE

    def version_dir(self, build_id: str) -> Path:
        return self.root / VERSIONS_DIR / build_id

    def current_id(self) -> str | None:
        """The build id ``CURRENT`` points at, or None when there is no index yet."""
        try:
            value = self.pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise IndexNotFoundError(f"cannot read {self.pointer}: {exc.strerror or exc}") from exc
        return value or None

    def pointer_stamp(self) -> tuple[int, int] | None:
        """A cheap fingerprint of ``CURRENT`` (inode, mtime) to notice a switch."""
        try:
            st = self.pointer.stat()
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns)

    def read_manifest(self, build_id: str) -> Manifest:
        """The manifest of one version; IndexNotFoundError when it is missing or unreadable."""
        path = self.version_dir(build_id) / MANIFEST_FILE
        try:
            return Manifest.from_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise IndexNotFoundError(f"index version {build_id} has no manifest ({path})") from exc
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexNotFoundError(f"the index manifest {path} is unreadable: {exc}") from exc

    def current_manifest(self) -> Manifest | None:
        """The manifest of the served version, or None when there is no usable index."""
        build_id = self.current_id()
        if build_id is None:
            return None
        try:
            return self.read_manifest(build_id)
        except IndexNotFoundError as exc:
            logger.warning("%s", exc)
            return None

    def switch(self, build_id: str) -> None:
        """Point ``CURRENT`` at ``build_id`` atomically (write, fsync, rename, fsync the dir)."""
        tmp = self.root / f".{CURRENT_FILE}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(build_id + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.pointer)
        _fsync_dir(self.root)

    def pointer_leftovers(self) -> list[Path]:
        """Temporary pointer files of builds killed in :meth:`switch` (delete under the lock)."""
        return sorted(self.root.glob(f".{CURRENT_FILE}.*.tmp"))

    def versions(self) -> list[str]:
        """Every version folder, oldest first (build ids sort by time)."""
        folder = self.root / VERSIONS_DIR
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if p.is_dir())

    def stale_versions(self, keep: int = KEEP_VERSIONS) -> list[str]:
        """Versions to delete: all but the current one and the newest complete ones before it."""
        current = self.current_id()
        complete = [v for v in self.versions() if (self.version_dir(v) / MANIFEST_FILE).exists()]
        kept = {current} if current else set()
        for build_id in reversed(complete):
            if len(kept) >= keep:
                break
            if current is None or build_id <= current:
                kept.add(build_id)
        return [v for v in self.versions() if v not in kept]

    def remove_version(self, build_id: str) -> None:
        """Delete one version folder (its vectors elsewhere are the vector store's to delete)."""
        shutil.rmtree(self.version_dir(build_id), ignore_errors=True)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the build lock; BuildLockedError if another build has it."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK_FILE, "a+") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise BuildLockedError(
                    f"another build is running on {self.root} (it holds {LOCK_FILE})"
                ) from exc
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- version files


def write_articles(folder: Path, articles: Sequence[Article]) -> None:
    """Write ``articles.jsonl`` (one article per line, every field)."""
    with open(folder / ARTICLES_FILE, "w", encoding="utf-8") as fh:
        for a in articles:
            row = {
                "id": a.id,
                "title": a.title,
                "body": a.body,
                "url": a.url,
                "published": a.published,
                "source": a.source,
                "author": a.author,
                "path": a.path,
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_articles(folder: Path) -> list[Article]:
    """The articles of a version, in row order."""
    articles = []
    with open(folder / ARTICLES_FILE, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            articles.append(Article(**row))
    return articles


@dataclass(frozen=True, slots=True)
class SentenceTable:
    """The sentences of a version as parallel arrays (row ``i`` is chroma id ``str(i)``)."""

    article: npt.NDArray[np.int32]  # row in the version's article list
    paragraph: npt.NDArray[np.int32]
    index: npt.NDArray[np.int32]  # sentence number within its article
    start: npt.NDArray[np.int64]
    end: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.article.shape[0])

    def save(self, folder: Path) -> None:
        np.savez(
            folder / "sentences.npz",
            article=self.article,
            paragraph=self.paragraph,
            index=self.index,
            start=self.start,
            end=self.end,
        )

    @classmethod
    def load(cls, folder: Path) -> SentenceTable:
        with np.load(folder / "sentences.npz") as data:
            return cls(
                article=data["article"],
                paragraph=data["paragraph"],
                index=data["index"],
                start=data["start"],
                end=data["end"],
            )
