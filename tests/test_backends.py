"""One contract, two vector stores: embedded chromadb and a Chroma server (``chroma run``).

Every test here runs twice, with ``CHROMA_HOST``/``CHROMA_PORT`` unset (the embedded store in
each version folder, :class:`~index.store.vector_store.EmbeddedStore`) and set (a real ``chroma
run``
on a loopback port, shared by the session, :class:`~index.store.vector_store.ServerStore`; each
test's collections carry a prefix of its own). The contract: the
:class:`~index.store.vector_store.VectorStore` calls themselves; builds, incremental rebuilds and
no-op runs; two versions kept, and the collections of removed versions deleted
from the server; a failed or killed build leaves the served version answering;
``open_index(...).answer()`` quotes verbatim; an open QA follows a rebuild without a restart.

Most tests embed with the deterministic ``hashing-64`` model; the ``slow`` one at the end builds
the seed corpus with the real all-MiniLM-L6-v2 into the server and asks through it, against the
session's seed index (the same articles and model in the embedded store).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import index.qa as answer_module
import index.store.build as build_module
from index.config import IndexSettings
from index.qa import open_index
from index.store.build import build_index
from index.store.embedder import Embedder
from index.store.vector_store import (
    EmbeddedStore,
    ServerStore,
    VectorStore,
    add_vectors,
    collection_name,
    make_store,
)
from index.store.versions import MANIFEST_FILE, IndexDir, Manifest, SentenceTable, read_articles
from index.types import Answer, IndexNotFoundError, SearchUnavailableError, StorageError
from testkit.synthetic import write_synthetic_corpus
from tests.chroma_server import ChromaServer
from tests.cli import build_cmd, clean_env
from tests.corpus import COUNCIL, FESTIVAL, HARBOUR, write_article
from tests.embedders import CountingEmbedder, ExplodingEmbedder, FailingEmbedder
from tests.verbatim import assert_verbatim

ROOT = Path(__file__).resolve().parents[1]
SEED_CORPUS = ROOT / "data" / "articles"
BACKENDS = ["embedded", "server"]

pytestmark = pytest.mark.usefixtures("offline_index_env")

SEED_QUESTION = "Which Russian official visited Pyongyang?"


# --------------------------------------------------------------------------- the two backends


@dataclass
class Backend:
    """One vector store under test, and how to look inside it."""

    name: str
    prefix: str
    server: ChromaServer | None

    @property
    def is_server(self) -> bool:
        return self.server is not None

    def settings(self, tmp_path: Path, model: str = "hashing-64", **extra: Any) -> IndexSettings:
        values: dict[str, Any] = {
            "corpus_dir": tmp_path / "corpus",
            "index_dir": tmp_path / "index",
            "embedding_model": model,
            "chroma_collection_prefix": self.prefix,
        }
        if self.server is not None:
            values.update(self.server.settings_kwargs())
        values.update(extra)
        return IndexSettings(_env_file=None, **values)

    def store(self, settings: IndexSettings, folder: Path) -> VectorStore:
        """The store the settings make (the factory picks the implementation under test)."""
        store = make_store(settings, folder)
        assert isinstance(store, ServerStore if self.is_server else EmbeddedStore)
        return store

    def env(self) -> dict[str, str]:
        """Environment variables selecting this backend for a subprocess."""
        return self.server.env() if self.server else {}

    def server_collections(self) -> list[str]:
        """This test's collections on the server (empty for the embedded store)."""
        return self.server.collection_names(self.prefix + "-") if self.server else []

    def expected_collections(self, settings: IndexSettings) -> list[str]:
        """The collections that should exist: one per version folder, on the server only."""
        if not self.server:
            return []
        return sorted(collection_name(settings, v) for v in IndexDir(settings.index_dir).versions())


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, collection_prefix: str) -> Backend:
    server = request.getfixturevalue("chroma_server") if request.param == "server" else None
    return Backend(request.param, collection_prefix, server)


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """The two seed articles plus three short ones."""
    folder = tmp_path / "corpus"
    shutil.copytree(SEED_CORPUS, folder)
    write_article(folder, "harbour.md", "Bridge reopens", *HARBOUR)
    write_article(folder, "festival.md", "Record festival", *FESTIVAL)
    write_article(folder, "council.md", "Cycle lanes", *COUNCIL)
    return folder


def stored(settings: IndexSettings, manifest: Manifest) -> dict[str, Any]:
    """A version's collection read back through the backend (ids, vectors, metadata)."""
    folder = IndexDir(settings.index_dir).version_dir(manifest.build_id)
    store = make_store(settings, folder)
    try:
        got = store.open(manifest.collection).get(include=["embeddings", "metadatas"])
    finally:
        store.close()
    metadatas = got["metadatas"]
    assert metadatas is not None
    order = np.argsort([int(i) for i in got["ids"]])
    return {
        "ids": [got["ids"][i] for i in order],
        "vectors": np.asarray(got["embeddings"], dtype=np.float32)[order],
        "metadatas": [metadatas[i] for i in order],
    }


def assert_version_consistent(backend: Backend, settings: IndexSettings, build_id: str) -> None:
    """The collection, embeddings.npy and the sentence table agree, row by row."""
    index_dir = IndexDir(settings.index_dir)
    manifest = index_dir.read_manifest(build_id)
    folder = index_dir.version_dir(build_id)
    assert manifest.backend == backend.name
    assert manifest.collection == collection_name(settings, build_id)
    assert (folder / "chroma").is_dir() == (not backend.is_server)
    got = stored(settings, manifest)
    n = manifest.sentences
    assert got["ids"] == [str(i) for i in range(n)]
    vectors = np.load(folder / "embeddings.npy")
    np.testing.assert_allclose(got["vectors"], vectors, atol=1e-6)
    table = SentenceTable.load(folder)
    articles = read_articles(folder)
    places = [
        (articles[int(table.article[r])].id, int(table.start[r]), int(table.end[r]))
        for r in range(n)
    ]
    assert [(m["article_id"], m["start"], m["end"]) for m in got["metadatas"]] == places


def same_answer(a: Answer, b: Answer) -> bool:
    """Equal answers: the same quotes (scores equal up to float rounding) or the same reason."""

    def key(answer: Answer) -> list[Any]:
        quotes = [(q.article_id, q.start, q.end, q.text, q.also_in) for q in answer.quotes]
        return [answer.kind, answer.answered, answer.reason, quotes]

    scores_a = [q.score for q in a.quotes]
    scores_b = [q.score for q in b.quotes]
    return key(a) == key(b) and scores_a == pytest.approx(scores_b, abs=1e-4)


def bodies_of(corpus: Path) -> dict[str, str]:
    from index.corpus.articles import load_corpus

    return {a.id: a.body for a in load_corpus(corpus).articles}


def current(settings: IndexSettings) -> str | None:
    return IndexDir(settings.index_dir).current_id()


# --------------------------------------------------------------------------- the store itself


def test_the_store_creates_opens_lists_and_deletes_collections(
    tmp_path: Path, backend: Backend
) -> None:
    settings = backend.settings(tmp_path)
    store = backend.store(settings, tmp_path / "version")
    name = collection_name(settings, "contract")
    vectors = np.eye(4, dtype=np.float32)[:3]
    try:
        assert store.backend == backend.name and store.remote == backend.is_server
        store.connect()
        assert store.max_batch() >= 1
        collection = store.create(name, 4)
        add_vectors(collection, [0, 1, 2], vectors, [{"article_id": "a"}] * 3, batch_size=2)
        assert name in store.list_names()
        store.close()  # the next call makes a new client
        again = store.open(name)
        assert again.count() == 3
        hit = again.query(query_embeddings=[vectors[1].tolist()], n_results=1)
        assert hit["ids"][0] == ["1"]
        assert store.create(name, 4).count() == 0  # created again: empty
        store.delete(name)
        store.delete(name)  # a missing collection is fine
        assert name not in store.list_names()
        with pytest.raises(IndexNotFoundError, match="missing"):
            store.open(name)
    finally:
        store.close()


def test_discard_lets_go_of_a_version_before_its_folder_is_deleted(
    tmp_path: Path, backend: Backend
) -> None:
    settings = backend.settings(tmp_path)
    folder = tmp_path / "version"
    folder.mkdir()
    name = collection_name(settings, "discarded")
    store = backend.store(settings, folder)
    store.create(name, 4).add(ids=["0"], embeddings=np.ones((1, 4), dtype=np.float32))
    store.discard(name)
    store.close()
    assert name not in backend.server_collections()
    shutil.rmtree(folder)
    # The same folder (or name) serves a new version from scratch, with no stale client.
    fresh = backend.store(settings, folder)
    try:
        assert fresh.create(name, 4).count() == 0
        assert name in fresh.list_names()
    finally:
        fresh.discard(name)
        fresh.close()


# --------------------------------------------------------------------------- building


def test_a_build_writes_one_complete_version(
    tmp_path: Path, corpus: Path, backend: Backend
) -> None:
    settings = backend.settings(tmp_path)
    embedder = CountingEmbedder()
    report = build_index(settings, embedder=embedder)
    assert report.backend == backend.name and not report.noop
    assert report.articles == 5 and report.sentences == report.embedded == len(embedder.texts)
    assert report.build_id is not None and current(settings) == report.build_id
    assert IndexDir(settings.index_dir).versions() == [report.build_id]
    assert_version_consistent(backend, settings, report.build_id)
    assert backend.server_collections() == backend.expected_collections(settings)


def test_an_incremental_rebuild_embeds_only_what_changed(
    tmp_path: Path, corpus: Path, backend: Backend
) -> None:
    settings = backend.settings(tmp_path)
    first = build_index(settings)
    write_article(corpus, "festival.md", "Record festival", FESTIVAL[0], "Tickets sold out.")
    (corpus / "council.md").unlink()
    write_article(corpus, "a-library.md", "Sunday opening", "The library opens on Sundays.")
    embedder = CountingEmbedder()
    report = build_index(settings, embedder=embedder)

    # The changed article's kept sentence (FESTIVAL[0]) keeps its vector.
    assert sorted(embedder.texts) == sorted(["Tickets sold out.", "The library opens on Sundays."])
    assert (report.embedded, report.reused) == (2, report.sentences - 2)
    assert (report.added, report.changed, report.removed) == (1, 1, 1)
    assert report.build_id is not None and report.build_id != first.build_id
    assert current(settings) == report.build_id
    assert IndexDir(settings.index_dir).versions() == [first.build_id, report.build_id]
    assert_version_consistent(backend, settings, report.build_id)
    # The previous version is kept whole (its collection too) for the replicas still on it.
    assert first.build_id is not None
    assert_version_consistent(backend, settings, first.build_id)
    assert backend.server_collections() == backend.expected_collections(settings)


def test_a_run_with_nothing_changed_is_a_no_op(
    tmp_path: Path, corpus: Path, backend: Backend
) -> None:
    settings = backend.settings(tmp_path)
    first = build_index(settings)
    stamp = IndexDir(settings.index_dir).pointer_stamp()
    collections = backend.server_collections()
    report = build_index(settings, embedder=ExplodingEmbedder())
    assert report.noop and report.build_id == first.build_id and report.backend == backend.name
    assert "is up to date" in report.summary()
    assert IndexDir(settings.index_dir).pointer_stamp() == stamp
    assert IndexDir(settings.index_dir).versions() == [first.build_id]
    assert backend.server_collections() == collections


def test_old_versions_and_their_collections_are_removed_keeping_two(
    tmp_path: Path, corpus: Path, backend: Backend
) -> None:
    settings = backend.settings(tmp_path)
    ids = []
    for n in range(4):
        write_article(corpus, f"extra-{n}.md", f"Extra {n}", f"Extra article number {n} here.")
        report = build_index(settings)
        ids.append(report.build_id)
        kept = IndexDir(settings.index_dir).versions()
        assert kept == ids[-2:]
        assert backend.server_collections() == backend.expected_collections(settings)
    if backend.is_server:
        assert backend.server_collections() == sorted(
            collection_name(settings, str(b)) for b in ids[-2:]
        )
    assert_version_consistent(backend, settings, str(ids[-1]))


def test_a_vanished_server_collection_is_rebuilt_not_skipped(
    tmp_path: Path, corpus: Path, chroma_server: ChromaServer, collection_prefix: str
) -> None:
    """A no-op needs the served collection intact: on a server it can disappear on its own."""
    backend = Backend("server", collection_prefix, chroma_server)
    settings = backend.settings(tmp_path)
    first = build_index(settings)
    assert first.build_id is not None
    manifest = IndexDir(settings.index_dir).read_manifest(first.build_id)
    store = make_store(settings, tmp_path)
    try:
        store.delete(manifest.collection)
    finally:
        store.close()
    report = build_index(settings)
    assert not report.noop and report.build_id != first.build_id
    assert report.build_id is not None
    assert_version_consistent(backend, settings, report.build_id)
    assert backend.server_collections() == [collection_name(settings, report.build_id)]


# --------------------------------------------------------------------------- failed and killed


@pytest.mark.parametrize("where", ["embedding", "writing vectors"])
def test_a_failed_build_leaves_the_old_version_serving(
    tmp_path: Path,
    corpus: Path,
    backend: Backend,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:
    settings = backend.settings(tmp_path)
    first = build_index(settings)
    assert first.build_id is not None
    before = backend.server_collections()
    qa = open_index(settings)
    try:
        baseline = qa.answer(SEED_QUESTION)
        write_article(corpus, "a-new.md", "New", "A new article arrives in the corpus.")
        embedder: CountingEmbedder = CountingEmbedder()
        if where == "embedding":
            embedder = FailingEmbedder(ok_calls=0, error=RuntimeError("the model crashed"))
            error: type[BaseException] = RuntimeError
        else:
            real_add = build_module.add_vectors

            def add_then_fail(collection: Any, *args: Any, **kwargs: Any) -> None:
                real_add(collection, *args, **kwargs)
                raise OSError(28, "No space left on device")

            monkeypatch.setattr(build_module, "add_vectors", add_then_fail)
            # Our disk, full; or, with a server, whatever its client raises is the server's.
            error = SearchUnavailableError if settings.uses_chroma_server else StorageError
        with pytest.raises(error):
            build_index(settings, embedder=embedder)

        assert current(settings) == first.build_id
        assert IndexDir(settings.index_dir).versions() == [first.build_id]
        assert backend.server_collections() == before  # the failed build's collection is gone
        monkeypatch.setattr(answer_module, "POINTER_CHECK_SECONDS", 0.0)
        again = qa.answer(SEED_QUESTION)
        assert again == baseline and again.answered
    finally:
        qa.close()
    monkeypatch.undo()
    assert_version_consistent(backend, settings, first.build_id)
    assert not build_index(settings).noop  # the next build goes through


def _kill_when(
    proc: subprocess.Popen[bytes], ready: Callable[[], bool], timeout: float = 120
) -> None:
    """SIGKILL ``proc`` (our own build, by its id) as soon as ``ready()`` says so."""
    deadline = time.monotonic() + timeout
    try:
        while not ready():
            if proc.poll() is not None:
                out, err = proc.communicate()
                pytest.fail(f"the build ended before the kill point: {out!r} {err!r}")
            if time.monotonic() > deadline:
                pytest.fail("the kill point was never reached")
            time.sleep(0.01)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.slow  # a build process killed mid-write
@pytest.mark.timeout(300)  # 6,000 synthetic articles: 30-55 s on the loaded machine
def test_a_build_killed_while_writing_vectors_leaves_the_old_version_serving(
    tmp_path: Path, corpus: Path, backend: Backend
) -> None:
    settings = backend.settings(tmp_path)
    first = build_index(settings)
    assert first.build_id is not None
    before = backend.server_collections()
    write_synthetic_corpus(corpus, 6000)
    index_dir = IndexDir(settings.index_dir)

    def writing_vectors() -> bool:
        """Kill once the new version's collection exists (its vectors are being added)."""
        if backend.is_server:
            return len(backend.server_collections()) > len(before)
        fresh = [v for v in index_dir.versions() if v != first.build_id]
        return bool(fresh) and (index_dir.version_dir(fresh[-1]) / "chroma").is_dir()

    proc = subprocess.Popen(
        build_cmd(corpus, settings.index_dir, "--quiet"),
        cwd=tmp_path,
        env=clean_env(CHROMA_COLLECTION_PREFIX=backend.prefix, **backend.env()),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _kill_when(proc, writing_vectors)
    [partial] = [v for v in index_dir.versions() if v != first.build_id]
    assert not (index_dir.version_dir(partial) / MANIFEST_FILE).exists()
    assert current(settings) == first.build_id

    qa = open_index(settings)
    try:
        assert qa.info().build_id == first.build_id
        assert_verbatim(qa.answer(SEED_QUESTION), bodies_of(SEED_CORPUS))
    finally:
        qa.close()

    # A run with nothing new clears the debris: the folder and, on a server, its collection.
    (corpus / "synthetic.jsonl").unlink()
    assert build_index(settings, embedder=ExplodingEmbedder()).noop
    assert index_dir.versions() == [first.build_id]
    assert backend.server_collections() == before


# --------------------------------------------------------------------------- answering


QUESTIONS = {
    "Who led the Chinese delegation?": "Li Hongzhong",
    "When did the Harbour Bridge reopen?": "Harbour Bridge reopened",
    "How many tickets did the summer music festival sell?": "80,000 tickets",
    "How did the city council vote on the cycle lane network?": "voted 7 to 2",
}


def test_open_index_answers_with_verbatim_quotes(
    tmp_path: Path, corpus: Path, backend: Backend
) -> None:
    settings = backend.settings(tmp_path)
    build_index(settings)
    bodies = bodies_of(corpus)
    qa = open_index(settings)
    try:
        assert qa.info().backend == backend.name
        for question, expected in QUESTIONS.items():
            answer = qa.answer(question)
            assert_verbatim(answer, bodies)
            assert expected in answer.quotes[0].text, (question, answer.quotes[0].text)
            assert answer.timings["chroma"] >= 0
        assert qa.answer("hello").kind == "greeting"
        refusal = qa.answer("What is the best lasagna recipe?")
        assert refusal.kind == "refusal" and not refusal.quotes
    finally:
        qa.close()


def test_an_open_qa_follows_a_rebuild_without_restart(
    tmp_path: Path, corpus: Path, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(answer_module, "POINTER_CHECK_SECONDS", 0.0)
    settings = backend.settings(tmp_path)
    first = build_index(settings)
    question = "When will the central library open on Sundays?"
    qa = open_index(settings)
    try:
        assert qa.info().build_id == first.build_id
        before = qa.answer(question)
        assert all(q.article_id != "a-library" for q in before.quotes)

        library = "The central library will open on Sundays from next month."
        write_article(corpus, "a-library.md", "Sunday opening", library)
        second = build_index(settings)
        answer = qa.answer(question)
        assert qa.info().build_id == second.build_id
        assert_verbatim(answer, bodies_of(corpus))
        assert answer.quotes[0].text == library and answer.quotes[0].article_id == "a-library"

        # Removed again: the article is no longer quoted, and nothing breaks.
        (corpus / "a-library.md").unlink()
        third = build_index(settings)
        answer = qa.answer(question)
        assert qa.info().build_id == third.build_id
        assert all(q.article_id != "a-library" for q in answer.quotes)
        assert_verbatim(qa.answer(SEED_QUESTION), bodies_of(corpus))
        assert backend.server_collections() == backend.expected_collections(settings)
    finally:
        qa.close()


# --------------------------------------------------------------------------- the real model


SEED_QUESTIONS = ROOT / "data" / "eval" / "seed_questions.jsonl"


@pytest.mark.slow
def test_real_model_index_on_the_server_answers_like_the_embedded_one(
    tmp_path: Path,
    chroma_server: ChromaServer,
    collection_prefix: str,
    real_embedder: Embedder,
    seed_index: IndexSettings,
) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEED_CORPUS, corpus)
    bodies = bodies_of(corpus)
    server = Backend("server", collection_prefix, chroma_server)
    settings = server.settings(tmp_path, model="all-MiniLM-L6-v2")
    report = build_index(settings, embedder=real_embedder)
    assert report.build_id is not None and report.backend == "server"
    assert report.sentences == report.embedded > 20
    assert_version_consistent(server, settings, report.build_id)
    assert server.server_collections() == [collection_name(settings, report.build_id)]

    questions = ["Who led the Chinese delegation?"]
    if SEED_QUESTIONS.is_file():
        import json

        lines = SEED_QUESTIONS.read_text(encoding="utf-8").splitlines()
        questions += [json.loads(line)["question"] for line in lines if line.strip()]
    qa = open_index(settings, embedder=real_embedder)
    reference = open_index(seed_index, embedder=real_embedder)  # the same, embedded
    try:
        assert qa.info().backend == "server" and reference.info().backend == "embedded"
        answer = qa.answer("Who led the Chinese delegation?")
        assert_verbatim(answer, bodies)
        assert "Li Hongzhong" in answer.quotes[0].text
        assert qa.answer("What is the best lasagna recipe?").kind == "refusal"
        for question in questions:
            got, expected = qa.answer(question), reference.answer(question)
            assert got.kind != "unavailable"
            if got.answered:
                assert_verbatim(got, bodies)
            # The same vectors give the same answer, whichever store holds them.
            assert same_answer(got, expected), (question, got, expected)
    finally:
        qa.close()
        reference.close()
