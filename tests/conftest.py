"""Shared fixtures: a clean, offline environment for index settings, and a real Chroma server
(``chroma run``) on a free loopback port.

``chroma_server`` is one server for the whole session, used by one test at a time (tests tell
their collections apart by a prefix of their own). A test may stop, kill, freeze or wipe it, as
the fault tests do: the next test gets it running again, on the same path and port. It skips
only when the ``chroma`` executable is not installed next to the interpreter.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from tests.chroma_server import ChromaServer, chroma_executable

_prefixes = itertools.count(1)


@pytest.fixture
def offline_index_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Index settings come only from what each test passes (no Chroma server, no stray dirs);
    offline; no telemetry."""
    for name in ("CHROMA_HOST", "CHROMA_PORT", "CORPUS_DIR", "INDEX_DIR", "EMBEDDING_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")


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
