"""Build or update an index from a corpus folder: incremental, atomic, and safe on bad input.

:func:`build_index` loads the corpus, embeds only the sentences whose text is new since the
served version (unchanged articles, and the unchanged sentences of changed ones, keep their
vectors), writes a complete new version, switches ``CURRENT`` to it and deletes old
versions. When nothing changed it returns at once, without importing torch or chromadb.

A build that fails (a full disk, a Chroma server that stops, an interrupt) removes what it
wrote and leaves the served version as it was; it checks the disk for room before it writes
(:func:`estimate_bytes`), and a build starts by removing what killed builds left behind.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from index.config import IndexSettings, check_embedding_model
from index.corpus.articles import CorpusLoad, Skipped, load_corpus
from index.corpus.sentences import split_sentences
from index.corpus.text import tokenize
from index.errors import one_line, storage_problem
from index.store.embedder import Embedder, default_embed_workers, embed_chunks, make_embedder
from index.store.entities import Entity, EntityTable, model_id, sentence_entities
from index.store.syndication import SYNDICATION_FILE, find_copies, load_signatures, save_signatures
from index.store.vector_store import (
    CHROMA_BUILD_TIMEOUT,
    VectorStore,
    add_vectors,
    backend_of,
    collection_name,
    make_store,
)
from index.store.versions import (
    CHROMA_DIR,
    ArticleEntry,
    BuildLockedError,
    IndexDir,
    Manifest,
    SentenceTable,
    checksum_files,
    damaged,
    new_build_id,
    read_articles,
    splitter_params,
    verify_version,
    write_articles,
    write_words,
)
from index.types import (
    Article,
    CorpusError,
    NewsQuoteError,
    SearchUnavailableError,
    Sentence,
    SettingsError,
    StorageError,
)

logger = logging.getLogger(__name__)

EMBED_CHUNK = 256  # sentences per model call; workers take turns
SPACE_RESERVE = 1 << 20
"""Bytes a build leaves free beyond its estimate: chromadb writes to a store whenever it opens
it, so a disk filled to the last byte would stop the served version from opening."""
CHROMA_BATCH = 100_000  # capped by what the client accepts (get_max_batch_size)

T = TypeVar("T")


class ProgressBar(Protocol):
    """What a build needs of a progress bar (a tqdm bar has it)."""

    def update(self, n: int) -> object: ...

    def close(self) -> None: ...


ProgressFactory = Callable[[int], ProgressBar]
"""Called with the number of sentences to embed; returns the bar to advance."""


@dataclass
class BuildReport:
    """What a build did, for the closing summary."""

    index_dir: Path
    build_id: str | None
    articles: int
    sentences: int
    embedded: int
    reused: int
    added: int = 0
    changed: int = 0
    removed: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    embed_seconds: float = 0.0
    noop: bool = False
    model: str = ""
    backend: str = "embedded"
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds each step took: load, split, embed, table (sentences, tokens, BM25, words),
    entities, copies, chroma (for the benchmarks)."""

    @property
    def sentences_per_second(self) -> float:
        """Sentences indexed per second of the whole build (embedding included)."""
        return self.sentences / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        """A few human-readable lines: counts, skips with reasons, time and speed."""
        if self.noop:
            head = (
                f"Index {self.build_id} is up to date: {self.articles} articles, "
                f"{self.sentences} sentences; nothing to do."
            )
        else:
            head = (
                f"Built index {self.build_id} in {self.index_dir}: {self.articles} articles "
                f"({self.added} new, {self.changed} changed, {self.removed} removed), "
                f"{self.sentences} sentences ({self.embedded} embedded now, {self.reused} reused)."
            )
        lines = [head]
        if self.skipped:
            lines.append(f"Skipped {len(self.skipped)}:")
            lines.extend(f"  - {s.path}: {s.reason}" for s in self.skipped)
        else:
            lines.append("Skipped 0.")
        if self.warnings:
            lines.append(f"Warnings {len(self.warnings)}:")
            lines.extend(f"  - {s.path}: {s.reason}" for s in self.warnings)
        speed = ""
        if self.embedded and self.embed_seconds > 0:
            speed = f"; embedding {self.embedded / self.embed_seconds:,.0f} sentences/s"
        if self.noop:
            lines.append(f"Time {self.seconds:.2f} s; model {self.model}; store {self.backend}.")
        else:
            lines.append(
                f"Time {self.seconds:.2f} s ({self.sentences_per_second:,.0f} sentences/s overall"
                f"{speed}); model {self.model}; store {self.backend}."
            )
        return "\n".join(lines)


@dataclass
class _Plan:
    articles: list[Article]
    sentences: list[list[Sentence] | None]  # None: unchanged since the served version, unsplit
    skipped: list[Skipped]
    known: dict[str, ArticleEntry]  # the served version's articles (when compatible)
    warnings: list[Skipped] = field(default_factory=list)

    def split_all(self, settings: IndexSettings) -> list[list[Sentence]]:
        """Every article's sentences, splitting the ones :func:`_plan` left unsplit."""
        for i, sentences in enumerate(self.sentences):
            if sentences is None:
                self.sentences[i] = split_sentences(
                    self.articles[i], max_chars=settings.max_sentence_chars
                )
        return [s for s in self.sentences if s is not None]

    def sentence_count(self) -> int:
        """Sentences in all, counting an unsplit article as the served version does."""
        return sum(
            len(s) if s is not None else self.known[a.id].sentences
            for a, s in zip(self.articles, self.sentences, strict=True)
        )


def _plan(settings: IndexSettings, previous: Manifest | None) -> _Plan:
    """Load the corpus and split it; articles without sentences are skipped with a reason.

    An article that the served version holds with the same content (and the same splitter) had
    sentences then and is split only when a build follows (:meth:`_Plan.split_all`): a run in
    which nothing changed splits nothing, which at 50,000 sentences saves seconds.
    """
    load = load_corpus(settings.corpus_dir)
    known = previous.articles if previous is not None and _compatible(previous, settings) else {}
    plan = _Plan([], [], list(load.skipped), dict(known), list(load.warnings))
    for article in _with_unreadable(load, previous, settings, plan.warnings):
        entry = known.get(article.id)
        if entry is not None and entry.hash == article.content_hash and entry.sentences > 0:
            plan.articles.append(article)
            plan.sentences.append(None)
            continue
        sentences = split_sentences(article, max_chars=settings.max_sentence_chars)
        if not sentences:
            where = article.path or article.id
            plan.skipped.append(Skipped(path=where, reason=f"article {article.id!r} has no text"))
            logger.warning("skipped %s: article %r has no sentences", where, article.id)
            continue
        plan.articles.append(article)
        plan.sentences.append(sentences)
    if not plan.articles:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in plan.skipped[:5])
        detail = f" (skipped: {reasons})" if reasons else ""
        raise CorpusError(f"no articles to index in {settings.corpus_dir}{detail}")
    return plan


def _with_unreadable(
    load: CorpusLoad, previous: Manifest | None, settings: IndexSettings, notes: list[Skipped]
) -> list[Article]:
    """The loaded articles and the served version's articles from the files and folders that
    could not be read this time (their content is unknown: dropping them would lose them)."""
    if not load.unreadable:
        return load.articles
    served: list[Article] = []
    if previous is not None:
        try:
            served = read_articles(IndexDir(settings.index_dir).version_dir(previous.build_id))
        except (OSError, ValueError, TypeError) as exc:
            logger.warning("cannot read the served articles (%s)", exc)
    taken = {a.id for a in load.articles}
    kept: list[Article] = []
    for place in load.unreadable:
        inside = [
            a
            for a in served
            if a.id not in taken and a.path and (a.path + "/").startswith(place.path + "/")
        ]
        taken.update(a.id for a in inside)
        kept.extend(inside)
        outcome = (
            f"kept its {len(inside)} article(s) from the served index"
            if inside
            else "no article from it is indexed"
        )
        notes.append(Skipped(place.path, f"{place.reason}; {outcome}"))
    if not kept:
        return load.articles
    return sorted([*load.articles, *kept], key=lambda a: (a.path or "").split("/"))


def _is_noop(plan: _Plan, previous: Manifest | None, settings: IndexSettings, full: bool) -> bool:
    if full or previous is None or not _compatible(previous, settings):
        return False
    if previous.entities != model_id():
        return False
    current = {a.id: a.content_hash for a in plan.articles}
    return current == {k: v.hash for k, v in previous.articles.items()}


def _compatible(previous: Manifest, settings: IndexSettings) -> bool:
    """Whether the served version's vectors and sentences can be reused by this build."""
    return (
        previous.model == settings.embedding_model
        and previous.splitter == splitter_params(settings)
        and previous.backend == backend_of(settings)
    )


def build_index(
    settings: IndexSettings,
    *,
    full: bool = False,
    embedder: Embedder | None = None,
    progress: ProgressFactory | None = None,
) -> BuildReport:
    """Build or update the index at ``settings.index_dir`` from ``settings.corpus_dir``.

    Raises:
        CorpusError: the corpus folder is missing or holds no usable article (index untouched).
        BuildLockedError: another build is running on the same index.
        SettingsError: the embedding model is not available here.
    """
    started = time.perf_counter()
    if embedder is None and (problem := check_embedding_model(settings.embedding_model)):
        raise SettingsError(f"invalid setting EMBEDDING_MODEL: {problem}")
    index_dir = IndexDir(settings.index_dir)
    previous = index_dir.current_manifest()
    loading = time.perf_counter()
    plan = _plan(settings, previous)
    loaded = time.perf_counter() - loading
    if (
        previous is not None
        and _is_noop(plan, previous, settings, full)
        and _version_intact(index_dir, previous, settings)
    ):
        _remove_leftovers(index_dir, settings)
        total = plan.sentence_count()
        return BuildReport(
            index_dir=index_dir.root,
            build_id=previous.build_id,
            articles=len(plan.articles),
            sentences=total,
            embedded=0,
            reused=total,
            skipped=plan.skipped,
            warnings=plan.warnings,
            seconds=time.perf_counter() - started,
            noop=True,
            model=previous.model,
            backend=previous.backend,
        )
    with index_dir.lock():
        _cleanup(index_dir, settings)  # first: what a killed build left takes space
        previous = index_dir.current_manifest()
        reusable = previous if previous and not full and _compatible(previous, settings) else None
        report = _write_version(index_dir, plan, reusable, previous, settings, embedder, progress)
    report.seconds = time.perf_counter() - started
    report.phases = {"load": loaded, **report.phases}
    return report


def _version_intact(index_dir: IndexDir, manifest: Manifest, settings: IndexSettings) -> bool:
    """Whether the served version's files match its manifest (and its collection is there):
    a damaged version is rebuilt by a plain build, never taken for up to date."""
    folder = index_dir.version_dir(manifest.build_id)
    if problems := verify_version(folder, manifest):
        logger.warning("%s", damaged(manifest.build_id, index_dir.root, problems))
        return False
    if not (folder / SYNDICATION_FILE).exists():
        return False  # a version built before syndication is rebuilt once
    if manifest.backend == "embedded" and not (folder / CHROMA_DIR / "chroma.sqlite3").is_file():
        return False
    if manifest.backend == "server":
        store = make_store(settings, folder, timeout=CHROMA_BUILD_TIMEOUT)
        try:
            return manifest.collection in store.list_names()
        except Exception:
            return False
        finally:
            store.close()
    return True


def _write_version(
    index_dir: IndexDir,
    plan: _Plan,
    reusable: Manifest | None,
    previous: Manifest | None,
    settings: IndexSettings,
    embedder: Embedder | None,
    progress: ProgressFactory | None,
) -> BuildReport:
    build_id = new_build_id()
    folder = index_dir.version_dir(build_id)
    folder.mkdir(parents=True)
    store = make_store(settings, folder, timeout=CHROMA_BUILD_TIMEOUT)
    try:
        # Connect first: a Chroma server that does not answer fails the build before the model
        # runs for minutes (the collection itself is written last).
        store.connect()
        served = _served(index_dir, reusable)
        ctx = BuildContext(settings, build_id, folder, store, served, embedder, progress)
        report = _fill_version(ctx, plan)
        store.close()
        index_dir.switch(build_id)
    except BaseException as exc:
        # Our own errors say what they are; anything else may be a full disk in disguise.
        full = (
            isinstance(exc, Exception)
            and not isinstance(exc, NewsQuoteError)
            and _disk_full(exc, folder)
        )
        store.close()
        logger.warning("build %s failed; the served index is unchanged", build_id)
        _remove_version(index_dir, build_id, settings)
        if full and not isinstance(exc, StorageError):
            raise StorageError(
                f"the disk holding {index_dir.root} is full: the build stopped while writing "
                f"the new version ({one_line(f'{type(exc).__name__}: {exc}')})"
            ) from exc
        raise
    old_ids = set(previous.articles) if previous else set()
    new_ids = {a.id for a in plan.articles}
    report.removed = len(old_ids - new_ids)
    report.added = len(new_ids - old_ids)
    report.index_dir = index_dir.root
    _cleanup(index_dir, settings)
    return report


# --------------------------------------------------------------------------- one new version


@dataclass(frozen=True)
class Served:
    """The served version a build copies vectors from."""

    manifest: Manifest
    folder: Path
    vectors: npt.NDArray[np.float32]  # memory-mapped, (sentences, dimension)


@dataclass(frozen=True)
class BuildContext:
    """What every step of one build needs: where it writes, and what it may reuse."""

    settings: IndexSettings
    build_id: str
    folder: Path
    store: VectorStore
    served: Served | None  # None: every sentence is embedded
    embedder: Embedder | None  # None: the settings' model, loaded when something needs it
    progress: ProgressFactory | None


@dataclass
class RowPlan:
    """Where each sentence row of the new version gets its vector.

    A vector depends on its sentence's text alone, so an unchanged article copies its block of
    rows, and a changed one (a correction, a new title) copies the rows whose text it kept.
    """

    blocks: list[tuple[int, int, int]] = field(default_factory=list)  # (old_lo, old_hi, new_lo)
    copies: list[tuple[int, int]] = field(default_factory=list)  # single rows: (old, new)
    to_embed: list[int] = field(default_factory=list)  # new rows the model must embed
    entries: dict[str, ArticleEntry] = field(default_factory=dict)  # the new manifest's
    changed: int = 0  # articles the served version holds with other content
    total: int = 0  # rows in all


@dataclass(frozen=True)
class VectorFile:
    """The version's ``embeddings.npy``, written."""

    vectors: npt.NDArray[np.float32]  # memory-mapped, (rows, dimension)
    dimension: int
    embed_seconds: float


def _fill_version(ctx: BuildContext, plan: _Plan) -> BuildReport:
    """Write every file of the version: plan -> vectors -> table -> syndication -> chroma ->
    manifest."""
    phases = _Phases()
    with phases("split"):
        per_article = plan.split_all(ctx.settings)
        flat = [s for sentences in per_article for s in sentences]
        rows = _plan_rows(plan.articles, per_article, ctx.served)
    text_chars = sum(len(a.body) + len(a.title) for a in plan.articles)
    with phases("embed"):
        written = _write_vectors(ctx, rows, flat, text_chars)
    with phases("table"):
        table = _write_table(ctx.folder, plan.articles, per_article, flat)
    with phases("entities"):
        _write_entities(ctx, rows, flat)
    with phases("copies"):
        _write_syndication(ctx, plan.articles)
    with phases("chroma"):
        name = _write_collection(ctx, plan.articles, table, flat, written)
    manifest = _write_manifest(ctx, plan, rows, written.dimension, name)
    return BuildReport(
        index_dir=ctx.folder,
        build_id=ctx.build_id,
        articles=len(plan.articles),
        sentences=rows.total,
        embedded=manifest.embedded_now,
        reused=manifest.reused,
        changed=rows.changed,
        skipped=plan.skipped,
        warnings=plan.warnings,
        embed_seconds=written.embed_seconds,
        model=manifest.model,
        backend=manifest.backend,
        phases=phases.seconds,
    )


class _Phases:
    """Seconds spent in each named step of a build (``with phases("embed"): ...``)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


def _served(index_dir: IndexDir, reusable: Manifest | None) -> Served | None:
    """The served version to copy from, or None when there is none or its vectors are bad."""
    if reusable is None:
        return None
    folder = index_dir.version_dir(reusable.build_id)
    if "embeddings.npy" in verify_version(folder, reusable):
        logger.warning("the vectors of %s are damaged; re-embedding", reusable.build_id)
        return None
    vectors = _old_vectors(folder, reusable)
    return Served(reusable, folder, vectors) if vectors is not None else None


def _plan_rows(
    articles: list[Article], per_article: list[list[Sentence]], served: Served | None
) -> RowPlan:
    """Plan: which rows are copied from the served version, and which the model embeds."""
    plan = RowPlan()
    old_texts = _OldTexts(served.folder) if served is not None else None
    for article, sentences in zip(articles, per_article, strict=True):
        row, n = plan.total, len(sentences)
        entry = served.manifest.articles.get(article.id) if served is not None else None
        if entry is not None and entry.hash == article.content_hash and entry.sentences == n:
            plan.blocks.append((entry.rows[0], entry.rows[1], row))
        else:
            known: dict[str, int] = {}
            if entry is not None and old_texts is not None:
                plan.changed += 1
                known = old_texts.rows_by_text(article.id, entry.rows)
            for i, sentence in enumerate(sentences):
                if sentence.text in known:
                    plan.copies.append((known[sentence.text], row + i))
                else:
                    plan.to_embed.append(row + i)
        plan.entries[article.id] = ArticleEntry(article.content_hash, n, (row, row + n))
        plan.total += n
    return plan


def _write_vectors(
    ctx: BuildContext, rows: RowPlan, flat: list[Sentence], text_chars: int
) -> VectorFile:
    """Vectors: copy what the served version has, embed the rest, into ``embeddings.npy``.

    The disk is checked for room for the whole version first, and the file gets its blocks
    before the model runs: a full disk is a clear error now, not a SIGBUS at a memory-mapped
    page later (or a failure after minutes of embedding).
    """
    embedder, dimension = _embedder_for(ctx, rows)
    _check_space(ctx, rows.total, dimension, text_chars)
    vectors = np.lib.format.open_memmap(
        ctx.folder / "embeddings.npy", mode="w+", dtype=np.float32, shape=(rows.total, dimension)
    )
    _preallocate(ctx.folder / "embeddings.npy", vectors.offset)
    if ctx.served is not None:
        old = ctx.served.vectors
        for old_lo, old_hi, new_lo in rows.blocks:
            vectors[new_lo : new_lo + (old_hi - old_lo)] = old[old_lo:old_hi]
        if rows.copies:
            old_rows, new_rows = (list(t) for t in zip(*rows.copies, strict=True))
            vectors[new_rows] = old[old_rows]
    embed_seconds = 0.0
    if rows.to_embed:
        assert embedder is not None
        workers = ctx.settings.embed_workers or default_embed_workers()
        embed_seconds = _embed_rows(embedder, flat, rows.to_embed, vectors, ctx.progress, workers)
    vectors.flush()
    return VectorFile(vectors, dimension, embed_seconds)


def estimate_bytes(sentences: int, dimension: int, text_chars: int, *, embedded: bool) -> int:
    """The disk a version of ``sentences`` vectors of ``dimension`` takes, a little over.

    Measured (hashing-64 and -384, 2,000 and 8,000 sentences): embeddings.npy 4 bytes a number;
    the embedded chroma store twice that (its HNSW index and its log each hold the vectors)
    plus ~1.1 KiB a sentence of metadata and ~2 MiB of its own; the sentence table, tokens and
    BM25 ~0.2 KiB a sentence; articles.jsonl the text.
    """
    vectors = sentences * dimension * 4
    chroma = 2 * vectors + sentences * 1200 + (2 << 20) if embedded else 0
    return vectors + chroma + sentences * 400 + text_chars + (64 << 10)


def _check_space(ctx: BuildContext, sentences: int, dimension: int, text_chars: int) -> None:
    """Raise StorageError unless the disk has room for the version (and a reserve)."""
    needed = (
        estimate_bytes(sentences, dimension, text_chars, embedded=not ctx.store.remote)
        + SPACE_RESERVE
    )
    free = shutil.disk_usage(ctx.folder).free
    if free < needed:
        raise StorageError(
            f"not enough disk space for the new index version in {ctx.folder.parent.parent}: "
            f"about {_mib(needed)} needed, {_mib(free)} free"
        )


def _disk_full(exc: Exception, folder: Path) -> bool:
    """Whether a build failed for want of disk space: it says so, or the disk is (nearly) full
    (chromadb's errors do not always say why: "Failed to apply logs to the hnsw segment")."""
    if storage_problem(exc) in ("the disk is full", "the disk quota is used up"):
        return True
    try:
        return shutil.disk_usage(folder).free < SPACE_RESERVE
    except OSError:
        return False


def _mib(size: int) -> str:
    return f"{size / (1 << 20):,.1f} MiB"


def _preallocate(path: Path, offset: int) -> None:
    """Give ``path`` (an .npy file whose data starts at ``offset``) all its disk blocks now.

    A memory map over a sparse file takes blocks as its pages are first written, and on a full
    disk that is a SIGBUS that kills the process (no message, no clean-up). Allocated up front,
    a full disk is an OSError (ENOSPC) here.
    """
    with open(path, "r+b") as fh:
        size = os.fstat(fh.fileno()).st_size
        try:
            os.posix_fallocate(fh.fileno(), 0, size)
            return
        except AttributeError:  # not on this platform
            pass
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                raise
        fh.seek(offset)  # no fallocate here: write the zeros, the blocks come with them
        zeros = bytes(1 << 20)
        for start in range(offset, size, len(zeros)):
            fh.write(zeros[: min(len(zeros), size - start)])
        fh.flush()


def _embedder_for(ctx: BuildContext, rows: RowPlan) -> tuple[Embedder | None, int]:
    """The embedder (loaded only when something is to be embedded) and the vectors' size."""
    if ctx.served is not None and not rows.to_embed:
        return ctx.embedder, ctx.served.manifest.dimension
    embedder = ctx.embedder or make_embedder(ctx.settings.embedding_model)
    if ctx.served is not None and embedder.dimension != ctx.served.manifest.dimension:
        raise RuntimeError("the model's dimension changed under the same name; use --full")
    return embedder, embedder.dimension


def _write_table(
    folder: Path, articles: list[Article], per_article: list[list[Sentence]], flat: list[Sentence]
) -> SentenceTable:
    """Table: the sentence table, the articles and the BM25 files of the version."""
    article_of = [i for i, sentences in enumerate(per_article) for _ in sentences]
    table = SentenceTable(
        article=np.array(article_of, dtype=np.int32).reshape(-1),
        paragraph=np.array([s.paragraph for s in flat], dtype=np.int32),
        index=np.array([s.index for s in flat], dtype=np.int32),
        start=np.array([s.start for s in flat], dtype=np.int64),
        end=np.array([s.end for s in flat], dtype=np.int64),
    )
    table.save(folder)
    write_articles(folder, articles)
    _write_lexical(folder, flat)
    return table


def _write_entities(ctx: BuildContext, rows: RowPlan, flat: list[Sentence]) -> None:
    """Entities: each sentence's named entities (``entities.npz``), copied like its vector
    from the served version when the text is the same, found by the recogniser otherwise."""
    reuse: list[tuple[Entity, ...] | None] = [None] * rows.total
    old = _old_entities(ctx.served)
    if old is not None:
        for old_lo, old_hi, new_lo in rows.blocks:
            for k in range(old_hi - old_lo):
                reuse[new_lo + k] = old.row(old_lo + k)
        for old_row, new_row in rows.copies:
            reuse[new_row] = old.row(old_row)
    sentence_entities([s.text for s in flat], reuse).save(ctx.folder)


def _old_entities(served: Served | None) -> EntityTable | None:
    """The served version's entities, when they are readable and from the same recogniser."""
    if served is None:
        return None
    try:
        old = EntityTable.load(served.folder)
    except (OSError, ValueError, KeyError) as exc:
        logger.info("cannot reuse the entities of %s (%s)", served.manifest.build_id, exc)
        return None
    if old.model != model_id() or len(old) != served.manifest.sentences:
        return None
    return old


def _write_syndication(ctx: BuildContext, articles: list[Article]) -> None:
    """Syndication: which articles are copies of one story (wire copy, reprints), by
    near-duplicate text; the served version's MinHash signatures are reused."""
    known = load_signatures(ctx.served.folder) if ctx.served is not None else {}
    found, signatures = find_copies(articles, signatures=known)
    save_signatures(ctx.folder, signatures)
    found.save(ctx.folder)
    if found.groups:
        logger.info("%d stories published in more than one outlet", len(found.groups))


def _write_collection(
    ctx: BuildContext,
    articles: list[Article],
    table: SentenceTable,
    flat: list[Sentence],
    written: VectorFile,
) -> str:
    """Chroma: the version's collection, written last; returns its name.

    In the largest batches the client accepts: its add holds the GIL throughout, so adding
    each chunk while the model embedded the next stalled the model, and small batches cost
    more. The sentence text is not stored there: it is body[start:end].
    """
    name = collection_name(ctx.settings, ctx.build_id)
    article_of = table.article.tolist()
    metadatas = [_metadata(articles[a], s) for a, s in zip(article_of, flat, strict=True)]
    try:
        collection = ctx.store.create(name, written.dimension)
        batch = min(CHROMA_BATCH, ctx.store.max_batch())
        add_vectors(collection, range(len(flat)), written.vectors, metadatas, batch)
    except NewsQuoteError:
        raise
    except Exception as exc:
        if ctx.store.remote:  # whatever the HTTP client says, it is the server that failed
            raise SearchUnavailableError(
                f"{ctx.store.describe()} failed while the build added its vectors "
                f"({type(exc).__name__}: {exc})"
            ) from exc
        raise
    return name


def _write_manifest(
    ctx: BuildContext, plan: _Plan, rows: RowPlan, dimension: int, collection: str
) -> Manifest:
    """Manifest: written last, so a version without one is known to be incomplete."""
    manifest = Manifest(
        build_id=ctx.build_id,
        built_at=_now_iso(),
        model=ctx.settings.embedding_model,
        dimension=dimension,
        backend=ctx.store.backend,
        collection=collection,
        splitter=splitter_params(ctx.settings),
        articles=rows.entries,
        sentences=rows.total,
        skipped=[{"path": s.path, "reason": s.reason} for s in plan.skipped],
        embedded_now=len(rows.to_embed),
        reused=rows.total - len(rows.to_embed),
        entities=model_id(),
        files=checksum_files(ctx.folder),
    )
    manifest.save(ctx.folder)
    return manifest


class _OldTexts:
    """The sentence texts of the served version, read once and only when an article changed."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._bodies: dict[str, str] | None = None
        self._table: SentenceTable | None = None

    def rows_by_text(self, article_id: str, rows: tuple[int, int]) -> dict[str, int]:
        """Old row of each sentence text of ``article_id`` (its rows were ``rows``)."""
        try:
            if self._bodies is None or self._table is None:
                self._bodies = {a.id: a.body for a in read_articles(self.folder)}
                self._table = SentenceTable.load(self.folder)
            body = self._bodies[article_id]
            lo, hi = rows
            starts, ends = self._table.start[lo:hi].tolist(), self._table.end[lo:hi].tolist()
        except Exception as exc:  # damaged files (a truncated npz is a BadZipFile): re-embed
            logger.warning("cannot reuse the sentences of %s (%s); re-embedding", article_id, exc)
            return {}
        return {body[a:b]: lo + i for i, (a, b) in enumerate(zip(starts, ends, strict=True))}


def _old_vectors(folder: Path, manifest: Manifest) -> npt.NDArray[np.float32] | None:
    """The served version's vectors, or None when they are missing or damaged."""
    try:
        vectors = np.load(folder / "embeddings.npy", mmap_mode="r")
    except (OSError, ValueError) as exc:
        logger.warning("cannot reuse the vectors of %s (%s); re-embedding", manifest.build_id, exc)
        return None
    if vectors.shape != (manifest.sentences, manifest.dimension):
        logger.warning(
            "the vectors of %s do not match its manifest; re-embedding", manifest.build_id
        )
        return None
    return vectors


def embed_order(items: Sequence[T], length: Callable[[T], int]) -> list[list[T]]:
    """``items`` longest first (less padding per model batch), in chunks of :data:`EMBED_CHUNK`:
    the order in which a build embeds its sentences."""
    order = sorted(items, key=length, reverse=True)
    return [order[lo : lo + EMBED_CHUNK] for lo in range(0, len(order), EMBED_CHUNK)]


def _embed_rows(
    embedder: Embedder,
    flat: list[Sentence],
    rows: list[int],
    out: npt.NDArray[np.float32],
    progress: ProgressFactory | None,
    workers: int,
) -> float:
    """Embed the sentences at ``rows`` into ``out``, longest first (less padding per batch).

    With ``workers`` > 1, that many model copies embed chunks side by side (``embed_chunks``).
    """
    chunks = embed_order(rows, lambda r: len(flat[r].text))
    texts = ([flat[r].text for r in chunk] for chunk in chunks)
    bar = progress(len(rows)) if progress else None
    started = time.perf_counter()
    try:
        for chunk, vectors in zip(chunks, embed_chunks(embedder, texts, workers), strict=True):
            out[chunk] = vectors
            if bar is not None:
                bar.update(len(chunk))
    finally:
        if bar is not None:
            bar.close()
    return time.perf_counter() - started


def _write_lexical(folder: Path, flat: list[Sentence]) -> None:
    """The BM25 index (bm25s) and, per sentence, its token ids (CSR) for lexical features."""
    import bm25s

    # bm25s sets its logger to DEBUG when first imported, which overrides the CLI's level.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    tokens = [tokenize(s.text) for s in flat]
    bm25 = bm25s.BM25()
    bm25.index(tokens, show_progress=False)
    bm25.save(str(folder / "bm25"), show_progress=False)
    vocab: dict[str, int] = bm25.vocab_dict
    lengths = np.fromiter((len(t) for t in tokens), dtype=np.int64, count=len(tokens))
    indptr = np.zeros(len(tokens) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    ids = np.fromiter(
        (vocab[t] for ts in tokens for t in ts), dtype=np.int32, count=int(indptr[-1])
    )
    np.savez(folder / "tokens.npz", indptr=indptr, ids=ids)
    write_words(folder, (s.text for s in flat))


def _metadata(article: Article, sentence: Sentence) -> dict[str, str | int]:
    """What the collection stores with a sentence's vector: where it is, and its article."""
    meta: dict[str, str | int] = {
        "article_id": article.id,
        "paragraph": sentence.paragraph,
        "sentence": sentence.index,
        "start": sentence.start,
        "end": sentence.end,
    }
    meta.update(article.metadata())
    return meta


def _now_iso() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _remove_leftovers(index_dir: IndexDir, settings: IndexSettings) -> None:
    """On a no-op run, delete what a killed build left behind, unless a build is running now.

    A build killed with kill -9 leaves a partial version folder; a later build that changes
    something removes it, but a run with nothing to do would otherwise keep it forever.
    """
    if not index_dir.stale_versions() and not index_dir.pointer_leftovers():
        return
    try:
        with index_dir.lock():
            _cleanup(index_dir, settings)
    except BuildLockedError:
        logger.debug("a build is running; its folder is not a leftover")


def _cleanup(index_dir: IndexDir, settings: IndexSettings) -> None:
    """Delete all but the last two versions (with their server collections, if any)."""
    for build_id in index_dir.stale_versions():
        logger.info("removing old index version %s", build_id)
        _remove_version(index_dir, build_id, settings)
    for leftover in index_dir.pointer_leftovers():  # under the build lock: no build writes one
        leftover.unlink(missing_ok=True)


def _remove_version(index_dir: IndexDir, build_id: str, settings: IndexSettings) -> None:
    """Delete one version: its collection (when it lives on a Chroma server), then its folder.

    The collection name follows from the build id, so a build killed before writing its
    manifest still has its half-written collection removed.
    """
    store = make_store(settings, index_dir.version_dir(build_id), timeout=CHROMA_BUILD_TIMEOUT)
    try:
        store.discard(collection_name(settings, build_id))
    except Exception as exc:
        logger.warning("could not delete the collection of version %s: %s", build_id, exc)
    finally:
        store.close()
    index_dir.remove_version(build_id)
