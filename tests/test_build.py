"""Tests for index.store.build: first and incremental builds, bad input, failures and the stored
data.

Real components throughout (loaders, splitter, bm25s, embedded chromadb) in ``tmp_path``; the
fast tests embed with the deterministic ``hashing-64`` model, the ``slow`` ones with the real
all-MiniLM-L6-v2 from the bundled package.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import index.store.build as build_module
from index.config import IndexSettings
from index.corpus.articles import load_corpus
from index.corpus.sentences import split_sentences
from index.store.build import BuildReport, build_index
from index.store.embedder import HashingEmbedder, SentenceTransformerEmbedder
from index.store.vector_store import make_store
from index.store.versions import (
    CURRENT_FILE,
    BuildLockedError,
    IndexDir,
    Manifest,
    SentenceTable,
    read_articles,
)
from index.types import Article, CorpusError, Sentence, StorageError
from tests.corpus import COUNCIL, HARBOUR, write_article
from tests.embedders import CountingEmbedder, ExplodingEmbedder, FailingEmbedder

REPO = Path(__file__).resolve().parents[1]
SEED_CORPUS = REPO / "data" / "articles"

META_KEYS = {"article_id", "title", "paragraph", "sentence", "start", "end"}

pytestmark = pytest.mark.usefixtures("offline_index_env")


# --------------------------------------------------------------------------- helpers


def make_settings(tmp_path: Path, model: str = "hashing-64", **extra: Any) -> IndexSettings:
    return IndexSettings(
        _env_file=None,
        corpus_dir=tmp_path / "corpus",
        index_dir=tmp_path / "index",
        embedding_model=model,
        **extra,
    )


# Three paragraphs here (tests.corpus.FESTIVAL has two).
FESTIVAL = (
    "The summer music festival sold a record 80,000 tickets this year.",
    "Organisers added a fourth stage. Local hotels reported full bookings.",
    "Next year's festival will run for five days instead of four.",
)
LIBRARY = ("The central library will open on Sundays from next month.",)


def sentence_count(path: Path) -> int:
    """The number of sentences the splitter finds in one article file."""
    load = load_corpus(path.parent)
    [article] = [a for a in load.articles if a.path == path.name]
    return len(split_sentences(article))


@dataclass
class Version:
    """Everything one version holds on disk, read back with the store's own readers."""

    manifest: Manifest
    articles: list[Article]
    table: SentenceTable
    vectors: np.ndarray
    ids: list[str]
    chroma_vectors: np.ndarray
    documents: list[str]  # each row's text, body[start:end] (chroma stores no documents)
    metadatas: list[dict[str, Any]]

    def article_ids_in_table(self) -> set[str]:
        return {self.articles[int(a)].id for a in self.table.article}

    def rows_of(self, article_id: str) -> list[int]:
        row = next(i for i, a in enumerate(self.articles) if a.id == article_id)
        return [int(r) for r in np.flatnonzero(self.table.article == row)]

    def texts_of(self, article_id: str) -> list[str]:
        article = next(a for a in self.articles if a.id == article_id)
        return [
            article.body[int(self.table.start[r]) : int(self.table.end[r])]
            for r in self.rows_of(article_id)
        ]


def read_version(settings: IndexSettings, build_id: str | None = None) -> Version:
    index_dir = IndexDir(settings.index_dir)
    build_id = build_id or index_dir.current_id()
    assert build_id is not None
    manifest = index_dir.read_manifest(build_id)
    folder = index_dir.version_dir(build_id)
    store = make_store(settings, folder)
    try:
        got = store.open(manifest.collection).get(include=["embeddings", "documents", "metadatas"])
    finally:
        store.close()
    documents, metadatas = got["documents"], got["metadatas"]
    assert documents is not None and metadatas is not None
    assert not any(documents), "the collection stores no sentence text"
    order = np.argsort([int(i) for i in got["ids"]])
    articles = read_articles(folder)
    table = SentenceTable.load(folder)
    return Version(
        manifest=manifest,
        articles=articles,
        table=table,
        vectors=np.load(folder / "embeddings.npy"),
        ids=[got["ids"][i] for i in order],
        chroma_vectors=np.asarray(got["embeddings"], dtype=np.float32)[order],
        documents=[
            articles[int(a)].body[int(lo) : int(hi)]
            for a, lo, hi in zip(table.article, table.start, table.end, strict=True)
        ],
        metadatas=[dict(metadatas[i]) for i in order],
    )


def build_id_of(report: BuildReport) -> str:
    assert report.build_id is not None
    return report.build_id


def versions(settings: IndexSettings) -> list[str]:
    return IndexDir(settings.index_dir).versions()


def current(settings: IndexSettings) -> str:
    return (settings.index_dir / CURRENT_FILE).read_text(encoding="utf-8")


def assert_consistent(version: Version) -> None:
    """Chroma, embeddings.npy, the sentence table and the article bodies agree row by row."""
    n = version.manifest.sentences
    assert len(version.table) == n
    assert version.vectors.shape == (n, version.manifest.dimension)
    assert version.ids == [str(i) for i in range(n)]
    # Equal up to float32 rounding: a cosine collection stores each vector re-normalised.
    np.testing.assert_allclose(version.chroma_vectors, version.vectors, rtol=0, atol=1e-6)
    for row, meta in enumerate(version.metadatas):
        assert set(meta) >= META_KEYS, meta
        article = version.articles[int(version.table.article[row])]
        assert meta["article_id"] == article.id
        assert meta["title"] == article.title
        assert meta["paragraph"] == int(version.table.paragraph[row])
        assert meta["sentence"] == int(version.table.index[row])
        assert (meta["start"], meta["end"]) == (
            int(version.table.start[row]),
            int(version.table.end[row]),
        )
    norms = np.linalg.norm(version.vectors, axis=1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-5)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """Three articles: harbour.md, festival.md, council.md."""
    folder = tmp_path / "corpus"
    write_article(folder, "harbour.md", "Bridge reopens", *HARBOUR, source="Coastal Herald")
    write_article(folder, "festival.md", "Record festival", *FESTIVAL, url="https://e.com/f")
    write_article(folder, "council.md", "Cycle lanes", *COUNCIL, published="2024-03-05")
    return folder


# --------------------------------------------------------------------------- first build


def test_first_build_counts_and_stores_every_sentence(tmp_path: Path, corpus: Path) -> None:
    settings = make_settings(tmp_path)
    embedder = CountingEmbedder()
    report = build_index(settings, embedder=embedder)

    counts = {p.stem: sentence_count(p) for p in corpus.iterdir()}
    total = sum(counts.values())
    assert counts == {"harbour": 3, "festival": 4, "council": 2}
    assert (report.articles, report.reused) == (3, 0)
    assert report.sentences == report.embedded == total
    assert (report.added, report.changed, report.removed, report.noop) == (3, 0, 0, False)
    assert report.skipped == []
    assert report.model == "hashing-64" and report.backend == "embedded"
    assert len(embedder.texts) == total

    assert current(settings).strip() == report.build_id
    assert versions(settings) == [report.build_id]
    version = read_version(settings)
    assert version.manifest.model == "hashing-64" and version.manifest.dimension == 64
    assert version.manifest.sentences == total
    assert {k: v.sentences for k, v in version.manifest.articles.items()} == counts
    assert (version.manifest.embedded_now, version.manifest.reused) == (total, 0)
    assert_consistent(version)
    assert sorted(version.documents) == sorted(embedder.texts)
    harbour = next(m for m in version.metadatas if m["article_id"] == "harbour")
    assert harbour["source"] == "Coastal Herald"
    assert "Built index" in report.summary() and "Skipped 0." in report.summary()


def test_chroma_vectors_equal_the_hashing_embedding_of_each_document(
    tmp_path: Path, corpus: Path
) -> None:
    settings = make_settings(tmp_path)
    build_index(settings)
    version = read_version(settings)
    expected = HashingEmbedder(64).embed(version.documents)
    np.testing.assert_allclose(version.vectors, expected, atol=1e-6)


# --------------------------------------------------------------------------- incremental


def test_incremental_rebuild_embeds_only_what_changed(tmp_path: Path, corpus: Path) -> None:
    settings = make_settings(tmp_path)
    first = build_index(settings)
    old = read_version(settings)

    # festival changes, council goes, library arrives (sorting first, so every row shifts).
    write_article(corpus, "festival.md", "Record festival", FESTIVAL[0], "Tickets sold out.")
    (corpus / "council.md").unlink()
    write_article(corpus, "a-library.md", "Sunday opening", *LIBRARY)
    embedder = CountingEmbedder()
    report = build_index(settings, embedder=embedder)

    changed_texts = [s.text for s in _split(corpus / "festival.md")]
    new_texts = [s.text for s in _split(corpus / "a-library.md")]
    # The changed article's kept sentence keeps its vector; only its new one meets the model.
    assert changed_texts[0] == FESTIVAL[0] and changed_texts[1] == "Tickets sold out."
    assert sorted(embedder.texts) == sorted(["Tickets sold out.", *new_texts])
    assert report.embedded == 1 + len(new_texts) == 2
    assert report.reused == 4  # harbour's sentences and the festival's first
    assert (report.articles, report.sentences) == (3, 6)
    assert (report.added, report.changed, report.removed) == (1, 1, 1)
    assert report.build_id != first.build_id
    assert current(settings).strip() == report.build_id

    new = read_version(settings)
    assert_consistent(new)
    assert [a.id for a in new.articles] == ["a-library", "festival", "harbour"]
    assert set(new.manifest.articles) == {"a-library", "festival", "harbour"}
    # The removed article is gone from the table, the articles and the chroma collection.
    assert "council" not in new.article_ids_in_table()
    # ... by content, not only by label: none of its vectors is left in the collection.
    council = old.chroma_vectors[old.rows_of("council")]
    nearest = np.abs(new.chroma_vectors[:, None, :] - council[None, :, :]).max(axis=2).min()
    assert len(council) == 2 and nearest > 1e-3
    assert not any("cycle lane" in d for d in new.documents)
    # The unchanged article kept its vectors (copied, not recomputed), in its new rows.
    np.testing.assert_array_equal(
        new.vectors[new.rows_of("harbour")], old.vectors[old.rows_of("harbour")]
    )
    assert new.texts_of("harbour") == old.texts_of("harbour")
    # The changed article holds its new text only.
    assert new.texts_of("festival") == changed_texts
    assert (new.manifest.embedded_now, new.manifest.reused) == (2, 4)
    np.testing.assert_array_equal(
        new.vectors[new.rows_of("festival")[0]], old.vectors[old.rows_of("festival")[0]]
    )
    # Every vector, copied or computed, is the embedding of its row's text.
    np.testing.assert_allclose(new.vectors, HashingEmbedder(64).embed(new.documents), atol=1e-6)


def _split(path: Path) -> list[Sentence]:
    [article] = [a for a in load_corpus(path.parent).articles if a.path == path.name]
    return split_sentences(article)


def test_a_metadata_only_change_rewrites_the_article(tmp_path: Path, corpus: Path) -> None:
    settings = make_settings(tmp_path)
    build_index(settings)
    write_article(corpus, "council.md", "Cycle lanes approved", *COUNCIL, published="2024-03-05")
    before = read_version(settings)
    report = build_index(settings, embedder=CountingEmbedder())
    # Same sentences, new metadata: nothing to embed, but the article is rewritten.
    assert (report.changed, report.embedded, report.reused) == (1, 0, 9)
    version = read_version(settings)
    np.testing.assert_array_equal(
        version.vectors[version.rows_of("council")], before.vectors[before.rows_of("council")]
    )
    assert {m["title"] for m in version.metadatas if m["article_id"] == "council"} == {
        "Cycle lanes approved"
    }


def test_a_changed_model_name_forces_a_full_re_embedding(tmp_path: Path, corpus: Path) -> None:
    build_index(make_settings(tmp_path))
    settings = make_settings(tmp_path, model="hashing-32")
    embedder = CountingEmbedder(32)
    report = build_index(settings, embedder=embedder)
    assert (report.embedded, report.reused, report.noop) == (9, 0, False)
    assert len(embedder.texts) == 9
    version = read_version(settings)
    assert version.manifest.model == "hashing-32" and version.manifest.dimension == 32
    assert_consistent(version)


def test_a_changed_splitter_setting_forces_a_full_re_embedding(
    tmp_path: Path, corpus: Path
) -> None:
    build_index(make_settings(tmp_path))
    report = build_index(
        make_settings(tmp_path, max_sentence_chars=100), embedder=CountingEmbedder()
    )
    assert (report.embedded, report.reused) == (report.sentences, 0)


def test_full_re_embeds_everything(tmp_path: Path, corpus: Path) -> None:
    settings = make_settings(tmp_path)
    first = build_index(settings)
    embedder = CountingEmbedder()
    report = build_index(settings, full=True, embedder=embedder)
    assert (report.embedded, report.reused, report.noop) == (9, 0, False)
    assert len(embedder.texts) == 9
    assert report.build_id != first.build_id
    assert versions(settings) == [first.build_id, report.build_id]
    assert_consistent(read_version(settings))


def test_a_rebuild_with_nothing_changed_is_a_no_op(tmp_path: Path, corpus: Path) -> None:
    settings = make_settings(tmp_path)
    first = build_index(settings)
    index_dir = IndexDir(settings.index_dir)
    stamp = index_dir.pointer_stamp()
    (corpus / "notes.pdf").write_bytes(b"%PDF-1.4")  # a new skip is not a change

    report = build_index(settings, embedder=ExplodingEmbedder())
    assert report.noop
    assert report.build_id == first.build_id
    assert (report.articles, report.sentences, report.embedded, report.reused) == (3, 9, 0, 9)
    assert [s.path for s in report.skipped] == ["notes.pdf"]
    assert versions(settings) == [first.build_id]
    assert index_dir.pointer_stamp() == stamp
    assert "up to date" in report.summary() and "notes.pdf" in report.summary()


def test_a_no_op_splits_nothing_and_a_change_splits_it_first(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deciding that nothing changed must not cost the splitting of the corpus (seconds at
    50,000 sentences); a build that follows splits every article, the changed one first."""
    settings = make_settings(tmp_path)
    build_index(settings)
    real_split = build_module.split_sentences
    split_ids: list[str] = []

    def split(article: Article, max_chars: int = 400) -> list[Sentence]:
        split_ids.append(article.id)
        return real_split(article, max_chars=max_chars)

    monkeypatch.setattr(build_module, "split_sentences", split)
    assert build_index(settings).noop
    assert split_ids == []
    write_article(corpus, "festival.md", "Record festival", FESTIVAL[0], "Tickets sold out.")
    report = build_index(settings)
    assert not report.noop and report.embedded == 1
    assert split_ids[0] == "festival" and sorted(split_ids) == ["council", "festival", "harbour"]
    assert_consistent(read_version(settings))


def test_a_served_version_missing_a_file_is_rebuilt_not_skipped(
    tmp_path: Path, corpus: Path
) -> None:
    settings = make_settings(tmp_path)
    first = build_index(settings)
    (IndexDir(settings.index_dir).version_dir(build_id_of(first)) / "embeddings.npy").unlink()
    embedder = CountingEmbedder()
    report = build_index(settings, embedder=embedder)
    assert not report.noop and report.build_id != first.build_id
    assert (report.embedded, report.reused) == (9, 0)  # nothing left to copy from
    assert_consistent(read_version(settings))


def test_damaged_vectors_are_re_embedded_on_the_next_change(tmp_path: Path, corpus: Path) -> None:
    settings = make_settings(tmp_path)
    first = build_index(settings)
    vectors = IndexDir(settings.index_dir).version_dir(build_id_of(first)) / "embeddings.npy"
    vectors.write_bytes(vectors.read_bytes()[:200])  # truncated
    write_article(corpus, "a-library.md", "Sunday opening", *LIBRARY)
    report = build_index(settings)
    assert (report.embedded, report.reused) == (10, 0)
    assert_consistent(read_version(settings))


def test_old_versions_are_cleaned_keeping_the_last_two(tmp_path: Path, corpus: Path) -> None:
    settings = make_settings(tmp_path)
    ids = []
    for n in range(4):
        write_article(corpus, "extra.md", "Extra", f"Edition number {n} of the extra article.")
        ids.append(build_id_of(build_index(settings)))
    assert ids == sorted(ids) and len(set(ids)) == 4
    assert versions(settings) == ids[-2:]
    assert current(settings).strip() == ids[-1]
    # The version kept besides the current one is complete and readable.
    assert_consistent(read_version(settings, ids[-2]))


# --------------------------------------------------------------------------- bad input


BAD_INPUTS: list[tuple[str, bytes, str]] = [
    ("empty.md", b"", "empty file"),
    ("blank.txt", b"  \n\n \n", "empty file"),
    ("binary.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary file"),
    (
        "latin1.txt",
        "Caf\u00e9 news\n\nThe caf\u00e9 opened.\n".encode("latin-1"),
        "not valid UTF-8",
    ),
    ("unclosed.md", b"---\ntitle: No end\n\nBody text here.\n", "broken front matter"),
    ("badyaml.md", b"---\ntitle: [unclosed\n---\nBody text here.\n", "broken front matter"),
    (
        "zz-dupe.md",
        b"---\nid: harbour\ntitle: Copy\n---\nA copied article.\n",
        "duplicate article id",
    ),
    ("title-only.txt", b"Just a headline\n", "empty body"),
    ("no-body.md", b"---\ntitle: Nothing follows\n---\n\n", "empty body"),
]


@pytest.mark.parametrize(("name", "content", "reason"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_each_bad_input_is_skipped_with_a_reason_and_the_rest_indexed(
    tmp_path: Path, corpus: Path, name: str, content: bytes, reason: str
) -> None:
    (corpus / name).write_bytes(content)
    settings = make_settings(tmp_path)
    report = build_index(settings)
    assert [s.path for s in report.skipped] == [name]
    [skip] = report.skipped
    assert reason in skip.reason
    assert "\n" not in skip.reason
    assert (report.articles, report.sentences) == (3, 9)
    assert f"Skipped 1:\n  - {name}: {skip.reason}" in report.summary()
    version = read_version(settings)
    assert {a.id for a in version.articles} == {"harbour", "festival", "council"}
    assert version.manifest.skipped == [{"path": name, "reason": skip.reason}]
    assert_consistent(version)


def test_all_bad_inputs_together_are_counted(tmp_path: Path, corpus: Path) -> None:
    for name, content, _ in BAD_INPUTS:
        (corpus / name).write_bytes(content)
    jsonl = corpus / "feed.jsonl"
    jsonl.write_text(
        '{"id": "j1", "title": "Ferry news", "text": "The ferry runs hourly."}\n'
        "{not json}\n"
        '{"id": "j2", "title": "Blank", "text": "   "}\n',
        encoding="utf-8",
    )
    report = build_index(make_settings(tmp_path))
    assert (report.articles, report.sentences) == (4, 10)
    assert len(report.skipped) == len(BAD_INPUTS) + 2
    jsonl_reasons = [s.reason for s in report.skipped if s.path == "feed.jsonl"]
    assert [r.split(":")[0] for r in jsonl_reasons] == ["line 2", "line 3"]
    assert f"Skipped {len(BAD_INPUTS) + 2}:" in report.summary()


def test_an_article_without_sentences_is_skipped_by_the_build(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The loaders already refuse an empty body, so no real file reaches this check today;
    # a splitter that finds nothing in an article must still skip it, not break the build.
    real_split = build_module.split_sentences

    def split(article: Article, max_chars: int = 400) -> list[Sentence]:
        return [] if article.id == "council" else real_split(article, max_chars=max_chars)

    monkeypatch.setattr(build_module, "split_sentences", split)
    settings = make_settings(tmp_path)
    report = build_index(settings)
    assert [(s.path, s.reason) for s in report.skipped] == [
        ("council.md", "article 'council' has no text")
    ]
    assert (report.articles, report.sentences) == (2, 7)
    assert "council" not in read_version(settings).article_ids_in_table()


@pytest.mark.parametrize("case", ["missing", "empty", "only-bad-files", "not-a-folder"])
@pytest.mark.parametrize("full", [False, True], ids=["incremental", "full"])
def test_an_unusable_corpus_raises_and_leaves_the_index_untouched(
    tmp_path: Path, corpus: Path, case: str, full: bool
) -> None:
    settings = make_settings(tmp_path)
    first = build_index(settings)
    index_dir = IndexDir(settings.index_dir)
    stamp, pointer = index_dir.pointer_stamp(), current(settings)
    manifest_text = (index_dir.version_dir(build_id_of(first)) / "manifest.json").read_text()

    other = tmp_path / "other"
    if case == "empty":
        other.mkdir()
    elif case == "only-bad-files":
        other.mkdir()
        (other / "empty.md").write_bytes(b"")
        (other / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    elif case == "not-a-folder":
        other.write_text("not a folder", encoding="utf-8")
    bad = settings.model_copy(update={"corpus_dir": other})

    with pytest.raises(CorpusError) as excinfo:
        build_index(bad, full=full, embedder=ExplodingEmbedder())
    message = str(excinfo.value)
    assert str(other) in message and "\n" not in message
    if case == "only-bad-files":
        assert "empty.md: empty file" in message
    assert index_dir.pointer_stamp() == stamp and current(settings) == pointer
    assert versions(settings) == [first.build_id]
    assert (
        index_dir.version_dir(build_id_of(first)) / "manifest.json"
    ).read_text() == manifest_text
    assert_consistent(read_version(settings))


def test_an_unusable_corpus_without_an_index_creates_nothing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    with pytest.raises(CorpusError, match="does not exist"):
        build_index(settings)
    assert not settings.index_dir.exists()


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize(
    "error", [RuntimeError("model crashed"), KeyboardInterrupt()], ids=["error", "interrupt"]
)
def test_a_build_failing_part_way_keeps_the_served_index(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    settings = make_settings(tmp_path)
    first = build_index(settings)
    index_dir = IndexDir(settings.index_dir)
    stamp = index_dir.pointer_stamp()
    before = read_version(settings)

    monkeypatch.setattr(build_module, "EMBED_CHUNK", 2)  # several chunks; fail in the third
    embedder = FailingEmbedder(ok_calls=2, error=error)
    with pytest.raises(type(error)):
        build_index(settings, full=True, embedder=embedder)
    assert embedder.calls == 2

    assert index_dir.pointer_stamp() == stamp
    assert current(settings).strip() == first.build_id
    assert versions(settings) == [first.build_id]  # the partial version is gone
    after = read_version(settings)
    assert_consistent(after)
    np.testing.assert_array_equal(after.vectors, before.vectors)
    assert after.documents == before.documents

    monkeypatch.undo()
    report = build_index(settings, full=True)
    assert versions(settings) == [first.build_id, report.build_id]


def test_a_build_failing_while_writing_chroma_keeps_the_served_index(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path)
    first = build_index(settings)
    real_add = build_module.add_vectors

    def add_then_fail(collection: Any, *args: Any, **kwargs: Any) -> None:
        real_add(collection, *args, **kwargs)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(build_module, "add_vectors", add_then_fail)
    write_article(corpus, "a-library.md", "Sunday opening", *LIBRARY)
    with pytest.raises(StorageError, match=r"is full: .*No space left"):
        build_index(settings)
    assert current(settings).strip() == first.build_id
    assert versions(settings) == [first.build_id]
    assert_consistent(read_version(settings))


def test_a_second_concurrent_build_is_refused(tmp_path: Path, corpus: Path) -> None:
    settings = make_settings(tmp_path)
    entered, release = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    class BlockingEmbedder(CountingEmbedder):
        def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
            entered.set()
            assert release.wait(30)
            return super().embed(texts)

    def first_build() -> None:
        try:
            outcome["report"] = build_index(settings, embedder=BlockingEmbedder())
        except BaseException as exc:  # pragma: no cover - reported below
            outcome["error"] = exc

    thread = threading.Thread(target=first_build)
    thread.start()
    try:
        assert entered.wait(30)
        with pytest.raises(BuildLockedError, match="another build is running"):
            build_index(settings, embedder=ExplodingEmbedder())
        with pytest.raises(BuildLockedError):
            build_index(settings, full=True, embedder=ExplodingEmbedder())
    finally:
        release.set()
        thread.join(30)
    assert "error" not in outcome, outcome.get("error")
    report: BuildReport = outcome["report"]
    assert current(settings).strip() == report.build_id
    assert versions(settings) == [report.build_id]
    # The lock is released: the next build runs (and is a no-op).
    assert build_index(settings).noop


def test_a_no_op_run_removes_what_a_killed_build_left(tmp_path: Path, corpus: Path) -> None:
    settings = make_settings(tmp_path)
    first = build_index(settings)
    index_dir = IndexDir(settings.index_dir)
    # What kill -9 leaves: a version folder without a manifest, and one complete but never
    # switched to (killed between the manifest and the pointer).
    partial = index_dir.version_dir("29991231T235959000000Z-dead00")
    (partial / "chroma").mkdir(parents=True)
    (partial / "embeddings.npy").write_bytes(b"\x93NUMPY")
    unswitched = index_dir.version_dir("29991231T235959000001Z-dead01")
    shutil.copytree(index_dir.version_dir(build_id_of(first)), unswitched)
    # ... and one killed while writing the new pointer, before its rename.
    (settings.index_dir / ".CURRENT.99999.tmp").write_text("29991231T235959000001Z-dead01\n")

    report = build_index(settings, embedder=ExplodingEmbedder())
    assert report.noop
    assert versions(settings) == [first.build_id]
    assert current(settings).strip() == first.build_id
    assert not (settings.index_dir / ".CURRENT.99999.tmp").exists()


def test_a_no_op_run_leaves_a_running_builds_folder_alone(tmp_path: Path, corpus: Path) -> None:
    settings = make_settings(tmp_path)
    first = build_index(settings)
    index_dir = IndexDir(settings.index_dir)
    in_progress = index_dir.version_dir("29991231T235959000000Z-beef00")
    in_progress.mkdir(parents=True)
    with index_dir.lock():  # as if another process were building into it
        assert build_index(settings).noop
        assert in_progress.is_dir()
    assert versions(settings) == [first.build_id, in_progress.name]


# --------------------------------------------------------------------------- the real model


@pytest.mark.slow
def test_real_model_build_of_the_seed_corpus(
    tmp_path: Path, real_embedder: SentenceTransformerEmbedder
) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEED_CORPUS, corpus)
    settings = make_settings(tmp_path, model="all-MiniLM-L6-v2")
    report = build_index(settings, embedder=real_embedder)
    assert report.articles == 2 and report.embedded == report.sentences > 20
    version = read_version(settings)
    assert version.manifest.model == "all-MiniLM-L6-v2" and version.manifest.dimension == 384
    assert_consistent(version)
    np.testing.assert_allclose(version.vectors, real_embedder.embed(version.documents), atol=1e-5)

    # Chroma finds each stored sentence by its own vector (cosine distance ~0).
    store = make_store(settings, settings.index_dir / "versions" / build_id_of(report))
    try:
        collection = store.open(version.manifest.collection)
        for row in (0, len(version.ids) // 2, len(version.ids) - 1):
            hit = collection.query(
                query_embeddings=[real_embedder.embed_query(version.documents[row])], n_results=1
            )
            distances = hit["distances"]
            assert hit["ids"][0] == [str(row)] and distances is not None
            assert distances[0][0] < 1e-3
    finally:
        store.close()

    # Add a paragraph to one article: only the new sentence meets the model.
    path = sorted(corpus.glob("*.md"))[0]
    text = path.read_text(encoding="utf-8").rstrip()
    path.write_text(text + "\n\nThe talks are expected to resume next week.\n", encoding="utf-8")
    again = build_index(settings, embedder=real_embedder)
    assert again.sentences == report.sentences + 1
    assert (again.changed, again.embedded, again.reused) == (1, 1, report.sentences)
    new = read_version(settings)
    assert_consistent(new)
    added = new.documents.index("The talks are expected to resume next week.")
    np.testing.assert_allclose(
        new.vectors[added], real_embedder.embed_query(new.documents[added]), atol=1e-5
    )
    for row, text in enumerate(version.documents):  # the rest kept their vectors
        kept = new.vectors[new.documents.index(text)]
        np.testing.assert_allclose(kept, version.vectors[row], atol=1e-6)
    untouched = next(a.id for a in new.articles if a.path != path.name)
    np.testing.assert_array_equal(
        new.vectors[new.rows_of(untouched)], version.vectors[version.rows_of(untouched)]
    )


@pytest.fixture
def two_copies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> IndexSettings:
    """Settings for the seed corpus embedded by two model copies, in many small chunks."""
    shutil.copytree(SEED_CORPUS, tmp_path / "corpus")
    monkeypatch.setattr(build_module, "EMBED_CHUNK", 5)
    return make_settings(tmp_path, model="all-MiniLM-L6-v2", embed_workers=2)


@pytest.mark.slow
def test_parallel_embedding_gives_the_vectors_of_one_model_call(
    two_copies: IndexSettings, real_embedder: SentenceTransformerEmbedder
) -> None:
    import torch

    settings = two_copies
    threads = torch.get_num_threads()
    report = build_index(settings, embedder=real_embedder)
    assert torch.get_num_threads() == threads  # the build's one-thread copies leave no trace
    assert report.embedded == report.sentences > 20
    version = read_version(settings)
    assert_consistent(version)
    np.testing.assert_allclose(version.vectors, real_embedder.embed(version.documents), atol=1e-5)


@pytest.mark.slow
def test_a_failing_model_copy_fails_the_build_and_keeps_the_served_index(
    two_copies: IndexSettings,
    real_embedder: SentenceTransformerEmbedder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import torch

    settings = two_copies
    first = build_index(settings, embedder=real_embedder)
    real_encode = real_embedder._encode
    calls = 0

    def encode_then_fail(model: Any, texts: list[str], show_progress: bool = False) -> np.ndarray:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("a model copy crashed")
        return real_encode(model, texts, show_progress)

    monkeypatch.setattr(real_embedder, "_encode", encode_then_fail)
    threads = torch.get_num_threads()
    with pytest.raises(RuntimeError, match="a model copy crashed"):
        build_index(settings, full=True, embedder=real_embedder)
    assert torch.get_num_threads() == threads
    assert current(settings).strip() == first.build_id
    assert versions(settings) == [first.build_id]
    assert_consistent(read_version(settings))


@pytest.mark.slow
def test_real_model_is_loaded_by_the_build_itself(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write_article(corpus, "harbour.md", "Bridge reopens", *HARBOUR)
    settings = make_settings(tmp_path, model="all-MiniLM-L6-v2")
    report = build_index(settings)  # no embedder passed: make_embedder loads the bundled model
    assert report.embedded == 3 and report.embed_seconds > 0
    version = read_version(settings)
    assert version.manifest.dimension == 384
    assert_consistent(version)
