"""Shared fixtures: a clean, offline environment for index settings, and a real Chroma server
(``chroma run``) on a free loopback port.

``chroma_server`` is one server for the whole session (tests tell their collections apart by a
prefix of their own); tests that stop, kill or freeze a server use ``chroma_server_factory`` for
private ones, which it stops at the end of the test. Both skip only when the ``chroma``
executable is not installed next to the interpreter.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

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
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """One running Chroma server shared by the session (do not stop it in a test)."""
    _require_chroma()
    server = ChromaServer(tmp_path_factory.mktemp("chroma-shared") / "data")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def chroma_server_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[], ChromaServer]]:
    """Start private Chroma servers (each stopped when the test ends); for fault tests."""
    _require_chroma()
    servers: list[ChromaServer] = []

    def start() -> ChromaServer:
        server = ChromaServer(tmp_path_factory.mktemp("chroma-private") / "data")
        servers.append(server)
        server.start()
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def collection_prefix() -> str:
    """A collection prefix no other test in this session uses (for a shared server)."""
    return f"t{next(_prefixes):03d}"
