"""The on-disk index: versions, the ``CURRENT`` pointer, the manifest and the vector store.

Layout of an index folder::

    INDEX_DIR/
      CURRENT                  the name of the version being served (replaced atomically)
      .build.lock              held by a running build (flock; released even on kill -9)
      versions/<build_id>/
        manifest.json          build id, time, model, dimension, backend, per-article hashes
        articles.jsonl         the articles (every quote is sliced from their bodies)
        sentences.npz          per sentence: article row, paragraph, index, start, end
        tokens.npz             per sentence: BM25 token ids (CSR), for lexical features
        embeddings.npy         float32 (sentences x dimension), L2-normalised
        bm25/                  the bm25s index over the same sentences
        chroma/                the embedded chromadb store (absent with a Chroma server)

A build writes a complete new version, then switches ``CURRENT`` with ``os.replace`` (atomic on
POSIX), then deletes all but the last two versions. With a Chroma server (``CHROMA_HOST``) each
version is a collection named after the build id; the manifest names it, so every replica
reading the same index folder queries the collection that matches its BM25 files.

chromadb is imported lazily: a no-op rebuild and ``--help`` never pay for it.
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
import sys
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.config import IndexSettings
from index.types import Article, IndexNotFoundError, NewsQuoteError, SearchUnavailableError

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
CURRENT_FILE = "CURRENT"
VERSIONS_DIR = "versions"
LOCK_FILE = ".build.lock"
MANIFEST_FILE = "manifest.json"
KEEP_VERSIONS = 2
SPLITTER_VERSION = 1
"""Bump when sentence splitting changes, so the next build re-splits and re-embeds."""

CHROMA_CONNECT_TIMEOUT = 2.0
"""Seconds to reach a Chroma server (and for the heartbeat made before each new client)."""
CHROMA_QUERY_TIMEOUT = 10.0
"""Seconds a question waits for a Chroma server's reply before search counts as unavailable.

chromadb's ``HttpClient`` waits forever by default: a hung server (or a dropped network) would
hold every answering thread of the bot. Read when a client is created, so tests can lower it.
"""
CHROMA_BUILD_TIMEOUT = 300.0
"""Seconds a build waits for one Chroma server request (adding a batch of vectors, say)."""


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
    backend: str  # "embedded" or "server"
    collection: str
    splitter: dict[str, int]
    articles: dict[str, ArticleEntry]
    sentences: int
    skipped: list[dict[str, str]] = field(default_factory=list)
    embedded_now: int = 0
    reused: int = 0
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
    with open(folder / "articles.jsonl", "w", encoding="utf-8") as fh:
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
    with open(folder / "articles.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            articles.append(Article(**row))
    return articles


@dataclass(frozen=True, slots=True)
class SentenceTable:
    """The sentences of a version as parallel arrays (row ``i`` is chroma id ``str(i)``)."""

    article: np.ndarray  # int32: row in the version's article list
    paragraph: np.ndarray  # int32
    index: np.ndarray  # int32: sentence number within its article
    start: np.ndarray  # int64
    end: np.ndarray  # int64

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


# --------------------------------------------------------------------------- chromadb


def _chroma_settings() -> Any:
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False, allow_reset=False)


def collection_name(settings: IndexSettings, build_id: str) -> str:
    """The chroma collection of one version: ``<prefix>-<build id>``."""
    return f"{settings.chroma_collection_prefix}-{build_id}"


class VectorStore:
    """chromadb, embedded (``PersistentClient`` in the version folder) or a Chroma server.

    Always created with ``embedding_function=None``: vectors are computed by our embedder, so
    chroma's default embedding function (which downloads a model) can never run. A server
    client gets timeouts (``timeout`` seconds per request, default
    :data:`CHROMA_QUERY_TIMEOUT`), so a hung server makes search unavailable instead of
    blocking the caller forever.
    """

    def __init__(
        self, settings: IndexSettings, folder: Path, *, server: bool, timeout: float | None = None
    ) -> None:
        self.settings = settings
        self.folder = folder
        self.server = server
        self.timeout = timeout
        self._client: Any = None

    @property
    def backend(self) -> str:
        return "server" if self.server else "embedded"

    @property
    def address(self) -> str:
        """``host:port`` of the Chroma server."""
        return f"{self.settings.chroma_host or '127.0.0.1'}:{self.settings.chroma_port or 8000}"

    def client(self) -> Any:
        """The chromadb client (created on first use)."""
        if self._client is None:
            try:
                import chromadb

                if self.server:
                    timeout = self.timeout if self.timeout is not None else CHROMA_QUERY_TIMEOUT
                    host = self.settings.chroma_host or "127.0.0.1"
                    port = int(self.settings.chroma_port or 8000)
                    # HttpClient() talks to the server without a timeout: check it answers.
                    _preflight(host, port, timeout)
                    client = chromadb.HttpClient(host=host, port=port, settings=_chroma_settings())
                    _set_http_timeout(client, timeout)
                    self._client = client
                else:
                    self._client = chromadb.PersistentClient(
                        path=str(self.folder / "chroma"), settings=_chroma_settings()
                    )
            except Exception as exc:
                raise _as_unavailable(exc, self.settings, self.server) from exc
        return self._client

    def create(self, name: str, dimension: int) -> Any:
        """A new, empty cosine collection (an old one of the same name is replaced)."""
        client = self.client()
        with contextlib.suppress(Exception):
            client.delete_collection(name)
        return client.create_collection(
            name,
            configuration={"hnsw": {"space": "cosine", "ef_construction": 100, "ef_search": 64}},
            metadata={"dimension": dimension, "created_by": "newsquote"},
            embedding_function=None,
        )

    def open(self, name: str) -> Any:
        """An existing collection; SearchUnavailableError/IndexNotFoundError when it is not."""
        if not self.server and not (self.folder / "chroma" / "chroma.sqlite3").is_file():
            # Opening would create an empty store, which a later no-op build takes for intact.
            raise IndexNotFoundError(
                f"the embedded chroma store of this index is missing ({self.folder / 'chroma'})"
            )
        try:
            return self.client().get_collection(name, embedding_function=None)
        except SearchUnavailableError:
            raise
        except Exception as exc:
            if _is_connection_error(exc):
                raise _as_unavailable(exc, self.settings, self.server) from exc
            where = f" on the Chroma server at {self.address}" if self.server else ""
            raise IndexNotFoundError(
                f"the chroma collection {name!r} of this index is missing{where} ({exc})"
            ) from exc

    def delete(self, name: str) -> None:
        """Delete a collection; a missing one is fine."""
        client = self.client()
        try:
            client.delete_collection(name)
        except Exception as exc:
            if _is_connection_error(exc):
                raise
            logger.debug("collection %s was not there: %s", name, exc)

    def list_names(self) -> list[str]:
        return [c if isinstance(c, str) else c.name for c in self.client().list_collections()]

    def close(self) -> None:
        """Release the client (and, for the embedded store, its cached system)."""
        client, self._client = self._client, None
        if client is None:
            return
        if self.server:
            # Each HttpClient registers a System of its own; close() unregisters it.
            close = getattr(client, "close", None)
            if callable(close):
                with contextlib.suppress(Exception):
                    close()
        else:
            release_embedded(self.folder / "chroma")


def _preflight(host: str, port: int, timeout: float) -> None:
    """Raise unless an HTTP server answers at ``host:port`` in time (at most 5 s)."""
    import httpx

    limit = httpx.Timeout(min(timeout, 5.0), connect=min(timeout, CHROMA_CONNECT_TIMEOUT))
    httpx.get(f"http://{host}:{port}/api/v2/heartbeat", timeout=limit)


def _set_http_timeout(client: Any, seconds: float) -> None:
    """Give an ``HttpClient``'s HTTP session (shared by its collections) a request timeout."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(seconds, connect=min(seconds, CHROMA_CONNECT_TIMEOUT))
    else:  # pragma: no cover - another chromadb layout
        logger.warning("cannot set a timeout on the Chroma client; a hung server blocks queries")


def release_embedded(path: Path) -> None:
    """Forget chromadb's cached system for an embedded store path (before deleting it)."""
    if "chromadb" not in sys.modules:
        return  # nothing can be cached, and importing chromadb only to learn that is slow
    try:
        from chromadb.api.shared_system_client import SharedSystemClient
    except ImportError:  # pragma: no cover - other chromadb layouts
        return
    cache = getattr(SharedSystemClient, "_identifier_to_system", {})
    system = cache.pop(str(path), None)
    if system is not None:
        with contextlib.suppress(Exception):
            system.stop()


def _is_connection_error(exc: BaseException) -> bool:
    text = f"{type(exc).__name__}: {exc}".lower()
    needles = ("connect", "connection", "timed out", "timeout", "refused", "unreachable")
    return any(n in text for n in needles)


def _as_unavailable(exc: BaseException, settings: IndexSettings, server: bool) -> NewsQuoteError:
    if server:
        where = f"{settings.chroma_host}:{settings.chroma_port}"
        detail = str(exc) or type(exc).__name__
        return SearchUnavailableError(f"the Chroma server at {where} does not answer ({detail})")
    return IndexNotFoundError(f"cannot open the embedded chroma store: {exc}")


def store_for(settings: IndexSettings, folder: Path) -> VectorStore:
    """The vector store the settings ask for, for building the version in ``folder``."""
    return VectorStore(
        settings, folder, server=settings.uses_chroma_server, timeout=CHROMA_BUILD_TIMEOUT
    )


def add_vectors(
    collection: Any,
    rows: Sequence[int],
    embeddings: np.ndarray,
    metadatas: Sequence[dict[str, Any]],
    batch_size: int,
) -> None:
    """Add the sentences at ``rows`` (ids ``str(row)``) in batches the client accepts.

    ``embeddings`` and ``metadatas`` are aligned with ``rows``. No documents: a sentence's
    text is its article's ``body[start:end]`` (``articles.jsonl``), and chroma's full-text
    index of documents would cost a third of the add and the disk for nothing.
    """
    for lo in range(0, len(metadatas), batch_size):
        hi = min(lo + batch_size, len(metadatas))
        collection.add(
            ids=[str(rows[i]) for i in range(lo, hi)],
            # A plain array: chroma reads a memory map element by element (0.4 ms a vector).
            embeddings=np.ascontiguousarray(embeddings[lo:hi], dtype=np.float32),
            metadatas=list(metadatas[lo:hi]),
        )


def remove_version(index_dir: IndexDir, build_id: str, settings: IndexSettings) -> None:
    """Delete one version folder, and its collection when the index lives on a Chroma server.

    The collection name follows from the build id, so a build killed before writing its
    manifest still has its half-written collection removed.
    """
    folder = index_dir.version_dir(build_id)
    if settings.uses_chroma_server:
        store = VectorStore(settings, folder, server=True, timeout=CHROMA_BUILD_TIMEOUT)
        try:
            store.delete(collection_name(settings, build_id))
        except Exception as exc:
            logger.warning("could not delete the collection of version %s: %s", build_id, exc)
        finally:
            store.close()
    release_embedded(folder / "chroma")
    shutil.rmtree(folder, ignore_errors=True)
