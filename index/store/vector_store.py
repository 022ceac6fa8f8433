"""Where a version's vectors live: chromadb, embedded in the version folder or on a Chroma server.

:class:`VectorStore` is what the index needs of either: create, open, delete and list the
collections (one per index version, named :func:`collection_name`, sentence row ``i`` stored as
id ``str(i)``), and close the client. :func:`make_store` picks the implementation from the
settings, once: :class:`EmbeddedStore` (a ``PersistentClient`` in ``<version>/chroma``) when
``CHROMA_HOST``/``CHROMA_PORT`` are unset, :class:`ServerStore` (an ``HttpClient``, checked
and given timeouts) when they are set.

Collections are always created and opened with ``embedding_function=None``: vectors are
computed by our embedder, so chroma's default embedding function (which downloads a model) can
never run. chromadb is imported lazily, when a client is first needed: a no-op rebuild and
``--help`` never pay for it.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
import numpy.typing as npt

from index.config import IndexSettings
from index.errors import storage_problem
from index.types import IndexNotFoundError, NewsQuoteError, SearchUnavailableError, StorageError

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection
    from chromadb.api.types import Metadata
    from chromadb.config import Settings

logger = logging.getLogger(__name__)

CHROMA_CONNECT_TIMEOUT = 2.0
"""Seconds to reach a Chroma server (and for the heartbeat made before each new client)."""
CHROMA_QUERY_TIMEOUT = 10.0
"""Seconds a question waits for a Chroma server's reply before search counts as unavailable.

chromadb's ``HttpClient`` waits forever by default: a hung server (or a dropped network) would
hold every answering thread of the bot. Read when a client is created, so tests can lower it.
"""
CHROMA_BUILD_TIMEOUT = 300.0
"""Seconds a build waits for one Chroma server request (adding a batch of vectors, say)."""
FALLBACK_MAX_BATCH = 1000
"""Vectors per ``add`` when the client cannot say how many it accepts."""

Backend = Literal["embedded", "server"]


class VectorStore(Protocol):
    """The collections of an index's versions, in one chromadb store."""

    backend: Backend
    remote: bool
    """True when queries go over the network: a failed query means the server did not answer,
    and the collection is re-opened (with a new client) by the next query."""

    def describe(self) -> str:
        """Where the vectors are, for messages: "the Chroma server at host:port", say."""
        ...

    def connect(self) -> None:
        """Create the client now (a build checks the server before embedding for minutes).

        Raises:
            SearchUnavailableError: a Chroma server does not answer.
            IndexNotFoundError: the embedded store cannot be opened.
        """
        ...

    def create(self, name: str, dimension: int) -> Collection:
        """A new, empty cosine collection (an old one of the same name is replaced)."""
        ...

    def open(self, name: str) -> Collection:
        """An existing collection.

        Raises:
            IndexNotFoundError: the collection (or the embedded store) is missing.
            SearchUnavailableError: a Chroma server does not answer.
        """
        ...

    def delete(self, name: str) -> None:
        """Delete a collection; a missing one is fine."""
        ...

    def discard(self, name: str) -> None:
        """Let go of a version's collection before its folder is deleted.

        A server deletes the collection; the embedded store, whose files go with the folder,
        only forgets chromadb's cached client for them (without importing chromadb).
        """
        ...

    def list_names(self) -> list[str]:
        """The names of every collection in the store."""
        ...

    def max_batch(self) -> int:
        """The most vectors one ``add`` may carry."""
        ...

    def close(self) -> None:
        """Release the client (the next call creates a new one)."""
        ...


def collection_name(settings: IndexSettings, build_id: str) -> str:
    """The chroma collection of one version: ``<prefix>-<build id>``."""
    return f"{settings.chroma_collection_prefix}-{build_id}"


def backend_of(settings: IndexSettings) -> Backend:
    """The store the settings ask for: "server" when CHROMA_HOST and CHROMA_PORT are set."""
    return "server" if settings.uses_chroma_server else "embedded"


def make_store(
    settings: IndexSettings, folder: Path, *, timeout: float | None = None
) -> VectorStore:
    """The vector store the settings ask for, for the version in ``folder``.

    ``timeout``: seconds per request to a Chroma server (default :data:`CHROMA_QUERY_TIMEOUT`;
    a build passes :data:`CHROMA_BUILD_TIMEOUT`). The embedded store has no use for it.
    """
    if settings.chroma_host and settings.chroma_port is not None:
        return ServerStore(settings.chroma_host, int(settings.chroma_port), timeout=timeout)
    return EmbeddedStore(folder / "chroma")


def add_vectors(
    collection: Collection,
    rows: Sequence[int],
    embeddings: npt.NDArray[np.float32],
    metadatas: Sequence[Metadata],
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


# --------------------------------------------------------------------------- implementations


class _ChromaStore(ABC):
    """What both stores share: a lazily created chromadb client and the collection calls."""

    backend: Backend
    remote: bool

    def __init__(self) -> None:
        self._client: ClientAPI | None = None

    @abstractmethod
    def describe(self) -> str: ...

    @abstractmethod
    def discard(self, name: str) -> None: ...

    @abstractmethod
    def _connect(self) -> ClientAPI:
        """A new chromadb client."""

    @abstractmethod
    def _unavailable(self, exc: BaseException) -> NewsQuoteError:
        """The error to raise when the client cannot be created or reached."""

    @abstractmethod
    def _release(self, client: ClientAPI) -> None:
        """Let go of a client being closed."""

    def client(self) -> ClientAPI:
        """The chromadb client (created on first use)."""
        if self._client is None:
            try:
                self._client = self._connect()
            except Exception as exc:
                raise self._unavailable(exc) from exc
        return self._client

    def connect(self) -> None:
        self.client()

    def create(self, name: str, dimension: int) -> Collection:
        client = self.client()
        with contextlib.suppress(Exception):
            client.delete_collection(name)
        return client.create_collection(
            name,
            configuration={"hnsw": {"space": "cosine", "ef_construction": 100, "ef_search": 64}},
            metadata={"dimension": dimension, "created_by": "newsquote"},
            embedding_function=None,
        )

    def open(self, name: str) -> Collection:
        try:
            return self.client().get_collection(name, embedding_function=None)
        except NewsQuoteError:  # the client could not be created: its own words
            raise
        except Exception as exc:
            if _is_connection_error(exc):
                raise self._unavailable(exc) from exc
            raise IndexNotFoundError(
                f"the chroma collection {name!r} of this index is missing{self._on()} ({exc})"
            ) from exc

    def _on(self) -> str:
        """Where a missing collection was looked for, as a suffix of the message ("" here)."""
        return ""

    def delete(self, name: str) -> None:
        client = self.client()
        try:
            client.delete_collection(name)
        except Exception as exc:
            if _is_connection_error(exc):
                raise
            logger.debug("collection %s was not there: %s", name, exc)

    def list_names(self) -> list[str]:
        return [c if isinstance(c, str) else c.name for c in self.client().list_collections()]

    def max_batch(self) -> int:
        try:
            return int(self.client().get_max_batch_size())
        except Exception:
            return FALLBACK_MAX_BATCH

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            self._release(client)


class EmbeddedStore(_ChromaStore):
    """chromadb's ``PersistentClient`` on a folder of the index version (``<version>/chroma``)."""

    backend: Backend = "embedded"
    remote = False

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def describe(self) -> str:
        return f"the embedded chroma store in {self.path}"

    def _connect(self) -> ClientAPI:
        import chromadb

        return chromadb.PersistentClient(path=str(self.path), settings=_chroma_settings())

    def _unavailable(self, exc: BaseException) -> NewsQuoteError:
        problem = storage_problem(exc)
        if problem is None:
            return IndexNotFoundError(f"cannot open the embedded chroma store: {exc}")
        # chromadb writes to its SQLite database (and creates its journal) whenever it opens
        # a store, even to read: a full disk or a read-only folder stops it, the index is fine.
        remedy = (
            "free some space"
            if "full" in problem or "quota" in problem
            else "make the index folder writable, or serve the index from a Chroma server"
        )
        return StorageError(
            f"cannot open the embedded chroma store in {self.path}: {problem} (chromadb writes "
            f"to its database whenever it opens it; {remedy}; the index itself is intact)"
        )

    def open(self, name: str) -> Collection:
        if not (self.path / "chroma.sqlite3").is_file():
            # Opening would create an empty store, which a later no-op build takes for intact.
            raise IndexNotFoundError(
                f"the embedded chroma store of this index is missing ({self.path})"
            )
        return super().open(name)

    def discard(self, name: str) -> None:
        self.close()
        release_embedded(self.path)

    def _release(self, client: ClientAPI) -> None:
        release_embedded(self.path)


class ServerStore(_ChromaStore):
    """chromadb's ``HttpClient`` to a Chroma server, checked first and given timeouts.

    ``HttpClient()`` itself talks to the server without a timeout, so a heartbeat with one
    comes first; then every request of the client (and of its collections) gets ``timeout``
    seconds, so a hung server makes search unavailable instead of blocking the caller forever.
    """

    backend: Backend = "server"
    remote = True

    def __init__(self, host: str, port: int, *, timeout: float | None = None) -> None:
        super().__init__()
        self.host = host
        self.port = port
        self.timeout = timeout

    @property
    def address(self) -> str:
        """``host:port`` of the Chroma server."""
        return f"{self.host}:{self.port}"

    def describe(self) -> str:
        return f"the Chroma server at {self.address}"

    def _connect(self) -> ClientAPI:
        import chromadb

        timeout = self.timeout if self.timeout is not None else CHROMA_QUERY_TIMEOUT
        _preflight(self.host, self.port, timeout)
        client = chromadb.HttpClient(host=self.host, port=self.port, settings=_chroma_settings())
        _set_http_timeout(client, timeout)
        return client

    def _unavailable(self, exc: BaseException) -> NewsQuoteError:
        detail = str(exc) or type(exc).__name__
        return SearchUnavailableError(f"{self.describe()} does not answer ({detail})")

    def _on(self) -> str:
        return f" on {self.describe()}"

    def discard(self, name: str) -> None:
        self.delete(name)

    def _release(self, client: ClientAPI) -> None:
        # Each HttpClient registers a System of its own; close() unregisters it.
        close = getattr(client, "close", None)
        if callable(close):
            with contextlib.suppress(Exception):
                close()


# --------------------------------------------------------------------------- chromadb details


def _chroma_settings() -> Settings:
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False, allow_reset=False)


def _preflight(host: str, port: int, timeout: float) -> None:
    """Raise unless an HTTP server answers at ``host:port`` in time (at most 5 s)."""
    import httpx

    limit = httpx.Timeout(min(timeout, 5.0), connect=min(timeout, CHROMA_CONNECT_TIMEOUT))
    httpx.get(f"http://{host}:{port}/api/v2/heartbeat", timeout=limit)


def _set_http_timeout(client: ClientAPI, seconds: float) -> None:
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
