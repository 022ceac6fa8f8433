"""One loaded, read-only index version: articles, sentence table, vectors, BM25 and chroma.

A :class:`Snapshot` never changes after loading; a rebuilt index is a new snapshot, swapped in
by :class:`index.qa.QA` while the old one keeps serving the questions already under way.
The one exception is the handle on a Chroma server's collection: after a failed query it is
re-opened, with a new client, by the next query (:meth:`Snapshot.live_collection`), so a server
that comes back (even restored, with new collection ids) is used again without a restart.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from index.config import IndexSettings
from index.corpus.text import words
from index.errors import BUILD_HINT, one_line
from index.store.entities import Entity, EntityTable, entities_now, model_id
from index.store.syndication import Syndication
from index.store.vector_store import VectorStore, make_store
from index.store.versions import (
    IndexDir,
    Manifest,
    SentenceTable,
    damaged,
    read_articles,
    read_words,
    verify_version,
)
from index.types import (
    Article,
    IndexNotFoundError,
    NewsQuoteError,
    SearchUnavailableError,
    StorageError,
    newest_first,
)

if TYPE_CHECKING:
    import bm25s
    from chromadb.api.models.Collection import Collection

logger = logging.getLogger(__name__)


@dataclass(eq=False)  # one loaded version is one object: compared and hashed by identity
class Snapshot:
    """Everything needed to answer from one index version."""

    manifest: Manifest
    index_dir: IndexDir
    folder: Path
    articles: list[Article]
    table: SentenceTable
    vectors: npt.NDArray[np.float32]  # (sentences, dimension), memory-mapped
    token_indptr: npt.NDArray[np.int64]
    token_ids: npt.NDArray[np.int32]
    idf: npt.NDArray[np.float32]  # per BM25 token id
    bm25: bm25s.BM25
    vocab: dict[str, int]
    store: VectorStore
    collection: Collection
    para_lo: npt.NDArray[np.int64]  # first row of each sentence's paragraph
    para_hi: npt.NDArray[np.int64]  # one past the last row of each sentence's paragraph
    entities: EntityTable | None = None  # None: a version built before entities were stored
    syndication: Syndication = field(default_factory=Syndication)
    """Which articles are copies of one story (wire copy, reprints), the earliest first."""
    _stale: bool = field(default=False, repr=False)
    _reopen_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    _words: dict[str, int] | None = field(default=None, repr=False)

    @property
    def build_id(self) -> str:
        return self.manifest.build_id

    @cached_property
    def numbered(self) -> list[Article]:
        """The version's articles newest first: the numbers of /sources and ``/article N``
        (one numbering for everything that shows this version)."""
        return newest_first(self.articles)

    @cached_property
    def article_vectors(self) -> npt.NDArray[np.float32]:
        """Each article's mean sentence vector, L2-normalised (one row per article): how alike
        two articles' stories are."""
        out = np.zeros((len(self.articles), self.vectors.shape[1]), dtype=np.float32)
        for n, (lo, hi) in enumerate(self._article_rows()):
            if hi > lo:
                mean = np.asarray(self.vectors[lo:hi], dtype=np.float32).mean(axis=0)
                out[n] = mean / max(float(np.linalg.norm(mean)), 1e-9)
        return out

    def _article_rows(self) -> list[tuple[int, int]]:
        """The first and one-past-last row of each article, as the manifest records them."""
        entries = self.manifest.articles
        return [entries[a.id].rows if a.id in entries else (0, 0) for a in self.articles]

    def words(self) -> dict[str, int]:
        """How often each word occurs in the version's sentences (lower case): ``words.json``,
        or counted now for a version built without it."""
        if self._words is None:
            stored = read_words(self.folder)
            if stored is None:
                stored = dict(Counter(w for a in self.articles for w in words(a.body)))
            self._words = stored
        return self._words

    def live_collection(self) -> Collection:
        """The collection to query: re-opened with a fresh client after a failed query.

        One thread re-opens at a time; the others meanwhile get SearchUnavailableError at
        once instead of queueing behind a server that may take seconds to time out.

        Raises:
            SearchUnavailableError: the server does not answer, or lost the collection.
        """
        if not self._stale:
            return self.collection
        if not self._reopen_lock.acquire(blocking=False):
            raise SearchUnavailableError(f"reconnecting to {self.store.describe()}")
        try:
            if self._stale:
                self.store.close()
                try:
                    self.collection = self.store.open(self.manifest.collection)
                except IndexNotFoundError as exc:  # the server answers but lost the collection
                    raise SearchUnavailableError(str(exc)) from exc
                self._stale = False
                logger.info("reconnected to %s", self.store.describe())
            return self.collection
        finally:
            self._reopen_lock.release()

    def query_failed(self, collection: Collection) -> None:
        """Note that a query on ``collection`` failed: the next query re-opens it (server only)."""
        if self.store.remote and collection is self.collection:
            self._stale = True

    def replaced(self) -> bool:
        """Whether ``CURRENT`` has moved on from this version (a rebuild may delete it)."""
        try:
            return self.index_dir.current_id() != self.build_id
        except IndexNotFoundError:  # CURRENT is damaged or unreadable: no longer this version
            return True

    def prime(self) -> None:
        """Run one vector query so chroma loads its index now, not on a user's question.

        A large collection takes seconds to load on first use; a new version is primed before
        it replaces the one serving. Failures are left for the real query to report.
        """
        if len(self) == 0:
            return
        try:
            vector = np.asarray(self.vectors[0], dtype=np.float32)
            self.collection.query(
                query_embeddings=[vector.tolist()], n_results=1, include=["distances"]
            )
        except Exception as exc:
            logger.debug("priming index %s failed: %s", self.build_id, exc)

    def __len__(self) -> int:
        return len(self.table)

    @cached_property
    def article_rows(self) -> dict[str, int]:
        """Article id -> row in :attr:`articles`."""
        return {a.id: i for i, a in enumerate(self.articles)}

    @cached_property
    def sorted_vocab(self) -> list[str]:
        """The BM25 vocabulary in sorted order (for prefix look-ups)."""
        return sorted(self.vocab)

    def text(self, row: int) -> str:
        """The exact text of sentence ``row``: a slice of its article body."""
        return self.span_text(row, row)

    def neighbours(
        self, rows: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """The previous and the next row of each of ``rows`` within its paragraph, or -1."""
        prev = np.where(rows - 1 >= self.para_lo[rows], rows - 1, -1)
        nxt = np.where(rows + 1 < self.para_hi[rows], rows + 1, -1)
        return prev, nxt

    def span_text(self, lo: int, hi: int) -> str:
        """The body slice from the start of row ``lo`` to the end of row ``hi`` (rows of one
        article): the one place a quote's text is cut from its article."""
        article = self.articles[int(self.table.article[lo])]
        return article.body[int(self.table.start[lo]) : int(self.table.end[hi])]

    def paragraph_text(self, article: int, paragraph: int) -> str:
        """The text of paragraph ``paragraph`` of the article at ``article`` ("" when there is
        no such paragraph)."""
        rows = np.flatnonzero((self.table.article == article) & (self.table.paragraph == paragraph))
        return self.span_text(int(rows[0]), int(rows[-1])) if len(rows) else ""

    def sentence_entities(self, row: int) -> tuple[Entity, ...]:
        """The named entities of sentence ``row``, as the build found them.

        A version built before the build stored them (or by another recogniser) has them found
        now, one sentence at a time; the next build stores them.
        """
        if self.entities is not None:
            return self.entities.row(row)
        return entities_now([self.text(row)])[0]

    def tokens(self, row: int) -> npt.NDArray[np.int32]:
        """The BM25 token ids of sentence ``row``."""
        return self.token_ids[self.token_indptr[row] : self.token_indptr[row + 1]]

    def close(self) -> None:
        """Release the chroma client."""
        self.store.close()


def open_snapshot(settings: IndexSettings, build_id: str | None = None) -> Snapshot:
    """Load the version ``CURRENT`` points at (or ``build_id``).

    Raises:
        IndexNotFoundError: no index, or an unreadable one (the message says how to build it).
        SearchUnavailableError: the index lives on a Chroma server that does not answer.
    """
    index_dir = IndexDir(settings.index_dir)
    build_id = build_id or index_dir.current_id()
    if build_id is None:
        raise IndexNotFoundError(f"no index in {settings.index_dir}; {BUILD_HINT}")
    manifest = index_dir.read_manifest(build_id)
    folder = index_dir.version_dir(build_id)
    _check_backend(manifest, settings)
    if problems := verify_version(folder, manifest):
        raise damaged(build_id, index_dir.root, problems)
    files = _read_files(index_dir, folder, manifest)
    store, collection = _open_store(settings, folder, manifest)
    para_lo, para_hi = _paragraph_bounds(files.table)
    return Snapshot(
        manifest=manifest,
        index_dir=index_dir,
        folder=folder,
        articles=files.articles,
        table=files.table,
        vectors=files.vectors,
        token_indptr=files.token_indptr,
        token_ids=files.token_ids,
        idf=_idf(files.bm25, len(files.table)),
        bm25=files.bm25,
        vocab=files.vocab,
        store=store,
        collection=collection,
        para_lo=para_lo,
        para_hi=para_hi,
        entities=_load_entities(folder, len(files.table)),
        syndication=Syndication.load(folder),
    )


def _check_backend(manifest: Manifest, settings: IndexSettings) -> None:
    """An index built for one vector store cannot be served from the other."""
    if manifest.backend == "server" and not settings.uses_chroma_server:
        raise IndexNotFoundError(
            f"the index in {settings.index_dir} lives on a Chroma server: set CHROMA_HOST and "
            "CHROMA_PORT, or rebuild it for the embedded store"
        )
    if manifest.backend == "embedded" and settings.uses_chroma_server:
        raise IndexNotFoundError(
            f"the index in {settings.index_dir} was built for the embedded store, but CHROMA_HOST "
            f"is set; rebuild it into the Chroma server ({BUILD_HINT})"
        )


@dataclass(frozen=True)
class _Files:
    """What a version's files hold (the vector store aside)."""

    articles: list[Article]
    table: SentenceTable
    vectors: npt.NDArray[np.float32]
    token_indptr: npt.NDArray[np.int64]
    token_ids: npt.NDArray[np.int32]
    bm25: bm25s.BM25
    vocab: dict[str, int]


def _read_files(index_dir: IndexDir, folder: Path, manifest: Manifest) -> _Files:
    """Read a version's files; damage the checksums missed is reported as damage."""
    build_id = manifest.build_id
    try:
        articles = read_articles(folder)
        table = SentenceTable.load(folder)
        vectors = np.load(folder / "embeddings.npy", mmap_mode="r")
        with np.load(folder / "tokens.npz") as tokens:
            token_indptr, token_ids = tokens["indptr"], tokens["ids"]
        bm25, vocab = _load_bm25(folder / "bm25")
    except Exception as exc:  # damage the checks missed (an old manifest without sizes, say)
        problem = one_line(f"{type(exc).__name__}: {exc}")
        raise damaged(build_id, index_dir.root, {"a file": f"cannot be loaded: {problem}"}) from exc
    if len(table) != manifest.sentences or vectors.shape[0] != manifest.sentences:
        problem = f"holds {len(table):,} sentences where the manifest says {manifest.sentences:,}"
        raise damaged(build_id, index_dir.root, {"the sentence table": problem})
    return _Files(articles, table, vectors, token_indptr, token_ids, bm25, vocab)


def _open_store(
    settings: IndexSettings, folder: Path, manifest: Manifest
) -> tuple[VectorStore, Collection]:
    """The version's vector store and its collection (the store closed again on failure)."""
    store = make_store(settings, folder)
    try:
        return store, store.open(manifest.collection)
    except StorageError:
        store.close()
        raise
    except IndexNotFoundError as exc:
        store.close()
        raise IndexNotFoundError(f"{exc}; re{BUILD_HINT}") from exc
    except NewsQuoteError:
        store.close()
        raise
    except Exception as exc:  # chromadb's own errors (a corrupt store, say)
        store.close()
        raise IndexNotFoundError(
            f"cannot open the vector store of {manifest.build_id}: {exc}"
        ) from exc


def _load_entities(folder: Path, rows: int) -> EntityTable | None:
    """The version's stored entities, or None (with a warning) when they cannot be used."""
    try:
        table = EntityTable.load(folder)
    except (OSError, ValueError, KeyError) as exc:
        logger.warning("index %s has no usable entities (%s); rebuild it", folder.name, exc)
        return None
    if len(table) != rows or table.model != model_id():
        logger.warning("the entities of index %s do not fit it; rebuild it", folder.name)
        return None
    return table


def _load_bm25(folder: Path) -> tuple[bm25s.BM25, dict[str, int]]:
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    bm25 = bm25s.BM25.load(str(folder), mmap=True, show_progress=False)
    return bm25, dict(bm25.vocab_dict)


def _idf(bm25: bm25s.BM25, n_docs: int) -> npt.NDArray[np.float32]:
    """Lucene's idf per token id, from the document frequencies in the BM25 matrix."""
    indptr = np.asarray(bm25.scores["indptr"])
    df = np.diff(indptr).astype(np.float64)
    return np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)


def _paragraph_bounds(
    table: SentenceTable,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """For each row, the row range of its paragraph (rows are sorted by article, paragraph)."""
    n = len(table)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    change = np.ones(n, dtype=bool)
    change[1:] = (table.article[1:] != table.article[:-1]) | (
        table.paragraph[1:] != table.paragraph[:-1]
    )
    starts = np.flatnonzero(change)
    group = np.cumsum(change) - 1
    ends = np.append(starts[1:], n)
    return starts[group].astype(np.int64), ends[group].astype(np.int64)
