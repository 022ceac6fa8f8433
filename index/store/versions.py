"""The version folder of an index: versions, the ``CURRENT`` pointer, the lock and the files.

Layout of an index folder::

    INDEX_DIR/
      CURRENT                  the name of the version being served (replaced atomically)
      .build.lock              held by a running build (flock; released even on kill -9)
      versions/<build_id>/
        manifest.json          build id, time, model, dimension, backend, per-article hashes,
                               and the size (and SHA-256) of every file below
        articles.jsonl         the articles (every quote is sliced from their bodies)
        sentences.npz          per sentence: article row, paragraph, index, start, end
        tokens.npz             per sentence: BM25 token ids (CSR), for lexical features
        entities.npz           per sentence: named entities, kind and span (CSR; see
                               index.store.entities)
        embeddings.npy         float32 (sentences x dimension), L2-normalised
        bm25/                  the bm25s index over the same sentences
        chroma/                the embedded chromadb store (absent with a Chroma server)

A build writes a complete new version, then switches ``CURRENT`` with ``os.replace`` (atomic on
POSIX), then deletes all but the last two versions. A version is checked against its manifest
when it is opened (:func:`verify_version`): every file's size, and the SHA-256 of the files up
to :data:`HASH_LIMIT` (the big memory-mapped ones, such as ``embeddings.npy``, by size only, so
opening stays fast at any size). The vectors' side of a version (the ``chroma/`` folder, or a
collection on a Chroma server named in the manifest) is :mod:`index.store.vector_store`'s business.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from index.config import IndexSettings
from index.corpus.text import words
from index.errors import BUILD_HINT
from index.types import Article, DamagedIndexError, IndexNotFoundError, NewsQuoteError

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
CURRENT_FILE = "CURRENT"
VERSIONS_DIR = "versions"
LOCK_FILE = ".build.lock"
MANIFEST_FILE = "manifest.json"
ARTICLES_FILE = "articles.jsonl"
CHROMA_DIR = "chroma"
"""The embedded vector store's folder: chromadb's own files, which it rewrites while open (so
they have no checksums; chromadb reports its own damage)."""
REQUIRED = (ARTICLES_FILE, "sentences.npz", "tokens.npz", "embeddings.npy", "bm25")
"""What every version holds besides its manifest (checked also for manifests without sizes)."""
HASH_LIMIT = 16 * 1024 * 1024
"""Files up to this size (bytes) have a SHA-256 in the manifest, checked at every opening:
about 10 ms for 16 MiB here. Bigger ones (the memory-mapped vectors and BM25 arrays of a large
index) are checked by size, which catches truncation, the damage a full disk or a killed copy
leaves; hashing them would make opening take seconds."""
_BUILD_ID_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,127}")
KEEP_VERSIONS = 2
SPLITTER_VERSION = 2  # 2: a run of over 4,000 characters without a space is cut
"""Bump when sentence splitting changes, so the next build re-splits and re-embeds."""


class BuildLockedError(NewsQuoteError):
    """Another build holds the index lock."""


@dataclass(frozen=True, slots=True)
class ArticleEntry:
    """What the manifest records of one article: its content hash and its sentence rows."""

    hash: str
    sentences: int
    rows: tuple[int, int]


@dataclass(frozen=True, slots=True)
class FileCheck:
    """What the manifest records of one file of the version: its size, and its SHA-256 when it
    is small (see :data:`HASH_LIMIT`)."""

    size: int
    sha256: str | None = None


@dataclass(slots=True)
class Manifest:
    """The description of one index version (``manifest.json``)."""

    build_id: str
    built_at: str
    model: str
    dimension: int
    backend: str  # "embedded" or "server" (see index.store.vector_store)
    collection: str
    splitter: dict[str, int]
    articles: dict[str, ArticleEntry]
    sentences: int
    skipped: list[dict[str, str]] = field(default_factory=list)
    embedded_now: int = 0
    reused: int = 0
    entities: str = ""  # the recogniser that found the sentences' entities ("": none stored)
    files: dict[str, FileCheck] = field(default_factory=dict)
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
        data["files"] = {
            k: FileCheck(int(v["size"]), v.get("sha256")) for k, v in data.get("files", {}).items()
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
        """The build id ``CURRENT`` points at, or None when there is no index yet.

        Raises:
            DamagedIndexError: ``CURRENT`` holds something other than a version's name.
            IndexNotFoundError: ``CURRENT`` cannot be read.
        """
        try:
            raw = self.pointer.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise IndexNotFoundError(f"cannot read {self.pointer}: {exc.strerror or exc}") from exc
        value = raw.decode("ascii", errors="replace").strip()
        if not value:
            return None
        if not _BUILD_ID_RE.fullmatch(value):
            raise DamagedIndexError(
                f"{self.pointer} is damaged: it does not hold the name of an index version; "
                f"re{BUILD_HINT}"
            )
        return value

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
        except OSError as exc:
            raise IndexNotFoundError(f"cannot read the index manifest {path}: {exc}") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise DamagedIndexError(f"the index manifest {path} is damaged: {exc}") from exc

    def current_manifest(self) -> Manifest | None:
        """The manifest of the served version, or None when there is no usable index (``CURRENT``
        or the manifest missing or damaged: a build then writes a complete new version)."""
        try:
            build_id = self.current_id()
            return self.read_manifest(build_id) if build_id is not None else None
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
        """Versions to delete: all but the current one and the newest complete ones before it.

        With ``CURRENT`` damaged, the newest complete versions are kept.
        """
        try:
            current = self.current_id()
        except IndexNotFoundError:
            current = None
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


# --------------------------------------------------------------------------- checksums


def checksum_files(folder: Path) -> dict[str, FileCheck]:
    """Size (and SHA-256, up to :data:`HASH_LIMIT`) of each file of a version, by relative
    path; the manifest and the embedded store's own files aside."""
    checks: dict[str, FileCheck] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if rel.startswith(f"{CHROMA_DIR}/") or rel == MANIFEST_FILE or not path.is_file():
            continue
        size = path.stat().st_size
        checks[rel] = FileCheck(size, _sha256(path) if size <= HASH_LIMIT else None)
    return checks


def verify_version(folder: Path, manifest: Manifest) -> dict[str, str]:
    """What is wrong with a version's files, by its manifest: file -> problem (empty: none)."""
    problems = {name: "is missing" for name in REQUIRED if not (folder / name).exists()}
    for rel, check in manifest.files.items():
        if rel.split("/")[0] in problems:
            continue  # the folder or file is missing, said above
        try:
            size = (folder / rel).stat().st_size
        except FileNotFoundError:
            problems[rel] = "is missing"
            continue
        except OSError as exc:
            problems[rel] = f"cannot be read ({exc.strerror or exc})"
            continue
        if size != check.size:
            problems[rel] = f"has {size:,} bytes where the manifest says {check.size:,}"
        elif check.sha256 is not None and _sha256(folder / rel) != check.sha256:
            problems[rel] = "does not match its checksum"
    return problems


def damaged(build_id: str, root: Path, problems: dict[str, str]) -> DamagedIndexError:
    """The one-line error for a version with ``problems`` (see :func:`verify_version`)."""
    first = next(iter(problems.items()), ("a file", "is damaged"))
    more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
    return DamagedIndexError(
        f"the index version {build_id} in {root} is damaged ({' '.join(first)}{more}); "
        f"re{BUILD_HINT}"
    )


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


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


WORDS_FILE = "words.json"


def write_words(folder: Path, texts: Iterable[str]) -> None:
    """How often each word (lower case, as :func:`index.corpus.text.words` reads it) occurs in
    ``texts``: ``words.json``, what the speller takes for the corpus's vocabulary."""
    counts = Counter(w for text in texts for w in words(text))
    (folder / WORDS_FILE).write_text(json.dumps(dict(counts.most_common())), encoding="utf-8")


def read_words(folder: Path) -> dict[str, int] | None:
    """The counts of :func:`write_words`, or None for a version built without them."""
    try:
        data = json.loads((folder / WORDS_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return {str(k): int(v) for k, v in data.items()}


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
