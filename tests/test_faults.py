"""Faults on the search side: the Chroma server goes away, the index is missing or damaged, and
the index is rebuilt while questions are being answered.

* A Chroma server stopped, killed or frozen while a QA is open: ``answer()`` returns
  ``kind="unavailable"`` (never raises), and once the server is back on the same path and port
  the same QA answers again by itself.
* ``python -m scripts.ask`` against a stopped server exits 3 with one line and no traceback
  (a single question, ``--json`` and ``--batch``); ``python -m bot`` stops with one line too.
* A missing or damaged index gives one line that says how to build it, exit status 2, from
  ``scripts.ask`` and from ``python -m bot``; building as it says repairs it.
* Rebuilds (in another thread or another process) while one QA answers 200 questions on
  8 threads: every answer is answered and verbatim.

The session's one Chroma server (``chroma_server``), which these tests stop, kill, freeze and wipe
(the next test gets it running again); ``hashing-64`` everywhere, so no test here loads the real
model.
"""

from __future__ import annotations

import io
import itertools
import json
import random
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import index.store.vector_store as vector_store_module
from bot.console import run_console
from bot.settings import BotSettings
from index.config import IndexSettings
from index.corpus.articles import load_corpus
from index.qa import open_index
from index.store.build import build_index
from index.store.vector_store import add_vectors, make_store
from index.store.versions import (
    CURRENT_FILE,
    MANIFEST_FILE,
    IndexDir,
    SentenceTable,
    read_articles,
)
from index.types import Answer, SearchUnavailableError
from scripts import ask
from tests.chroma_server import ChromaServer
from tests.cli import clean_env, module_cmd, run
from tests.corpus import FESTIVAL, HARBOUR, write_article
from tests.embedders import CountingEmbedder
from tests.verbatim import assert_verbatim

ROOT = Path(__file__).resolve().parents[1]
SEED_CORPUS = ROOT / "data" / "articles"
QUESTION = "Who led the Chinese delegation?"
UNAVAILABLE = "temporarily unavailable"
BOT = module_cmd("bot")

pytestmark = pytest.mark.usefixtures("offline_index_env")

# Answered from every version the load test builds (the rebuilds only add unrelated articles).
LOAD_QUESTIONS = (
    "Who led the Chinese delegation?",
    "When did the Harbour Bridge reopen?",
    "How many tickets did the summer music festival sell?",
    "How many steel cables did the engineers replace?",
)


# --------------------------------------------------------------------------- helpers


def make_corpus(folder: Path) -> Path:
    shutil.copytree(SEED_CORPUS, folder)
    write_article(folder, "harbour.md", "Bridge reopens", *HARBOUR)
    write_article(folder, "festival.md", "Record festival", *FESTIVAL)
    return folder


def make_settings(
    tmp_path: Path, server: ChromaServer | None = None, **extra: Any
) -> IndexSettings:
    chroma = server.settings_kwargs() if server else {}
    return IndexSettings(
        _env_file=None,
        corpus_dir=tmp_path / "corpus",
        index_dir=tmp_path / "index",
        embedding_model="hashing-64",
        **chroma,
        **extra,
    )


def bodies(corpus: Path) -> dict[str, str]:
    return {a.id: a.body for a in load_corpus(corpus).articles}


def assert_unavailable(answer: Answer) -> None:
    assert answer.kind == "unavailable", answer
    assert not answer.answered and not answer.quotes
    assert answer.reason and UNAVAILABLE in answer.reason.lower()


def one_error_line(stderr: str) -> str:
    """The single ``error:`` line of a failed run (and nothing that looks like a traceback)."""
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr
    return errors[0]


@pytest.fixture
def served(tmp_path: Path, chroma_server: ChromaServer) -> Iterator[Any]:
    """The running server with a hashing-64 index built into it: (server, settings)."""
    server = chroma_server
    make_corpus(tmp_path / "corpus")
    settings = make_settings(tmp_path, server)
    report = build_index(settings)
    assert report.backend == "server"
    yield server, settings


# --------------------------------------------------------------------------- server down


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_a_stopped_server_gives_unavailable_and_the_qa_recovers_by_itself(
    served: tuple[ChromaServer, IndexSettings], how: str
) -> None:
    server, settings = served
    texts = bodies(settings.corpus_dir)
    qa = open_index(settings)
    try:
        baseline = qa.answer(QUESTION)
        assert_verbatim(baseline, texts)

        server.stop() if how == "stop" else server.kill()
        for question in (QUESTION, "When did the Harbour Bridge reopen?", QUESTION):
            started = time.monotonic()
            assert_unavailable(qa.answer(question))
            assert time.monotonic() - started < 5
        # What needs no vectors still works, and small talk does not touch the server.
        assert qa.info().backend == "server" and len(qa.articles()) == 4
        assert qa.example_questions(1) == []  # none while down, never an error
        assert qa.answer("hello").kind == "greeting"

        server.start()  # same path, same port; the QA is not told
        assert qa.answer(QUESTION) == baseline
        [example] = qa.example_questions(1)  # the outage was not remembered as "no examples"
        assert qa.answer(example).answered
        assert_verbatim(qa.answer("When did the Harbour Bridge reopen?"), texts)

        # And again: recovery is not a one-off.
        server.stop()
        assert_unavailable(qa.answer(QUESTION))
        server.start()
        assert qa.answer(QUESTION) == baseline
    finally:
        qa.close()


def test_a_build_against_a_stopped_server_fails_before_embedding(
    served: tuple[ChromaServer, IndexSettings],
) -> None:
    """The build checks the server first: no minutes of embedding lost, the old version kept."""
    server, settings = served
    before = IndexDir(settings.index_dir).current_id()
    write_article(settings.corpus_dir, "late.md", "Late news", "The ferry resumed on Monday.")
    server.stop()
    embedder = CountingEmbedder()
    with pytest.raises(SearchUnavailableError, match="does not answer"):
        build_index(settings, embedder=embedder)
    assert embedder.texts == []
    assert IndexDir(settings.index_dir).versions() == [before]
    server.start()
    report = build_index(settings, embedder=embedder)
    assert report.embedded == len(embedder.texts) > 0  # the new article, now
    assert IndexDir(settings.index_dir).current_id() == report.build_id != before


def test_a_frozen_server_times_out_as_unavailable_and_recovers(
    served: tuple[ChromaServer, IndexSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hung server (SIGSTOP: connections accepted, nothing answered) must not hang answers."""
    server, settings = served
    monkeypatch.setattr(vector_store_module, "CHROMA_QUERY_TIMEOUT", 1.0)
    monkeypatch.setattr(vector_store_module, "CHROMA_CONNECT_TIMEOUT", 1.0)
    qa = open_index(settings)
    try:
        baseline = qa.answer(QUESTION)
        server.freeze()
        try:
            for _ in range(2):
                started = time.monotonic()
                assert_unavailable(qa.answer(QUESTION))
                assert time.monotonic() - started < 8
        finally:
            server.thaw()
        assert qa.answer(QUESTION) == baseline
    finally:
        qa.close()


def test_the_qa_reconnects_to_a_restored_server(
    served: tuple[ChromaServer, IndexSettings],
) -> None:
    """The server loses its data and is restored from the index folder: a new collection of
    the same name (a new chroma id). The QA must re-open the collection, not keep the old one."""
    server, settings = served
    texts = bodies(settings.corpus_dir)
    qa = open_index(settings)
    try:
        baseline = qa.answer(QUESTION)
        server.stop()
        shutil.rmtree(server.path)
        server.start()
        assert_unavailable(qa.answer(QUESTION))  # the collection is gone

        restore_collection(settings)
        answer = qa.answer(QUESTION)
        assert answer == baseline
        assert_verbatim(answer, texts)
    finally:
        qa.close()


def restore_collection(settings: IndexSettings) -> None:
    """Re-create the served version's collection from its files (a server restore)."""
    index_dir = IndexDir(settings.index_dir)
    build_id = index_dir.current_id()
    assert build_id is not None
    manifest = index_dir.read_manifest(build_id)
    folder = index_dir.version_dir(build_id)
    table = SentenceTable.load(folder)
    articles = read_articles(folder)
    vectors = np.load(folder / "embeddings.npy")
    metadatas = [{"article_id": articles[int(a)].id} for a in table.article]
    store = make_store(settings, folder)
    try:
        collection = store.create(manifest.collection, manifest.dimension)
        add_vectors(collection, range(len(table)), vectors, metadatas, 1000)
    finally:
        store.close()


def test_the_console_chat_says_unavailable_and_recovers(
    served: tuple[ChromaServer, IndexSettings],
) -> None:
    """``python -m bot``'s terminal chat, in process: the server goes away between questions."""
    server, settings = served
    stdout, stderr = io.StringIO(), io.StringIO()
    script = iter([QUESTION, "stop", QUESTION, "start", QUESTION])
    marks: list[int] = []

    class Input(io.StringIO):
        def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
            marks.append(len(stdout.getvalue()))
            for line in script:
                if line == "stop":
                    server.stop()
                elif line == "start":
                    server.start()
                else:
                    return line + "\n"
            return ""

    bot_settings = BotSettings(_env_file=None, index=settings)
    assert run_console(bot_settings, None, Input(), stdout, stderr) == 0
    out = stdout.getvalue()
    first, down, again = (out[lo:hi] for lo, hi in itertools.pairwise(marks))
    assert "Li Hongzhong" in first
    assert down.startswith("Q: Who led the Chinese delegation?\nSearch is temporarily unavailable")
    assert "Li Hongzhong" in again
    assert "Traceback" not in stderr.getvalue()


# --------------------------------------------------------------------------- scripts.ask, bot


@pytest.mark.slow  # five command-line processes against a server
def test_ask_against_a_stopped_server_exits_3_in_one_line(
    tmp_path: Path, served: tuple[ChromaServer, IndexSettings]
) -> None:
    server, settings = served
    env = clean_env(**server.env())
    index = str(settings.index_dir)
    ok = run(module_cmd("scripts.ask", "--index", index, "--json", QUESTION), env=env, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["answered"] is True

    server.stop()
    questions = tmp_path / "questions.txt"
    questions.write_text(f"{QUESTION}\nhello\n", encoding="utf-8")
    runs = {
        "text": ["scripts.ask", "--index", index, QUESTION],
        "json": ["scripts.ask", "--index", index, "--json", QUESTION],
        "batch": ["scripts.ask", "--index", index, "--batch", str(questions), "--json"],
    }
    for name, args in runs.items():
        result = run(module_cmd(*args), env=env, cwd=tmp_path, stdin=f"{QUESTION}\n")
        assert result.returncode == 3, (name, result.stdout, result.stderr)
        assert result.stdout == "", name
        line = one_error_line(result.stderr)
        assert result.stderr.strip() == line, name
        assert "search is temporarily unavailable" in line, line
        assert f"{server.host}:{server.port}" in line, line

    # The terminal chat cannot start without its server: one line, no traceback.
    bot = run(BOT, env={**env, "INDEX_DIR": index}, cwd=tmp_path, stdin=f"{QUESTION}\n")
    assert bot.returncode == 3 and bot.stdout == "", bot.stderr
    line = one_error_line(bot.stderr)
    assert "search is temporarily unavailable" in line and "Chroma server" in line, line

    server.start()
    back = run(module_cmd(*runs["batch"]), env=env, cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    first, second = (json.loads(line) for line in back.stdout.splitlines())
    assert first["answered"] and second["kind"] == "greeting"


def test_ask_batch_when_the_server_stops_midway_exits_3(
    served: tuple[ChromaServer, IndexSettings],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The index opens, then the server goes away: the answers say so, and the exit status."""
    server, settings = served
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)

    class Questions(io.StringIO):
        def __iter__(self) -> Iterator[str]:  # type: ignore[override]
            yield QUESTION + "\n"
            server.stop()
            yield QUESTION + "\n"
            yield "hello\n"

    status = ask.main(["--index", str(settings.index_dir), "--batch", "-"], stdin=Questions())
    out, err = capsys.readouterr()
    assert status == 3
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["kind"] for r in rows] == ["answer", "unavailable", "greeting"]
    assert rows[1]["answered"] is False and rows[1]["quotes"] == []
    assert err.strip() == "error: search was unavailable for 1 question(s)"


# --------------------------------------------------------------------------- missing or damaged


def _truncate(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def _version(index: Path) -> Path:
    build_id = IndexDir(index).current_id()
    assert build_id is not None
    return IndexDir(index).version_dir(build_id)


def _flip_byte(path: Path) -> None:
    """One byte changed in the middle, the size kept (bit rot, a bad copy)."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x20
    path.write_bytes(bytes(data))


def _write_bytes(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _empty_folder(index: Path) -> None:
    shutil.rmtree(index)
    index.mkdir()


DAMAGE: dict[str, Callable[[Path], None]] = {
    "no index folder": shutil.rmtree,
    "empty index folder": _empty_folder,
    "CURRENT empty": lambda index: _write(index / CURRENT_FILE, "\n"),
    "CURRENT names a missing version": lambda index: _write(
        index / CURRENT_FILE, "20200101T000000000000Z-000000\n"
    ),
    "manifest.json truncated": lambda index: _truncate(_version(index) / MANIFEST_FILE),
    "manifest.json deleted": lambda index: (_version(index) / MANIFEST_FILE).unlink(),
    "embeddings.npy deleted": lambda index: (_version(index) / "embeddings.npy").unlink(),
    "embeddings.npy truncated": lambda index: _truncate(_version(index) / "embeddings.npy"),
    "articles.jsonl truncated": lambda index: _truncate(_version(index) / "articles.jsonl"),
    "sentences.npz deleted": lambda index: (_version(index) / "sentences.npz").unlink(),
    "sentences.npz truncated": lambda index: _truncate(_version(index) / "sentences.npz"),
    "tokens.npz truncated": lambda index: _truncate(_version(index) / "tokens.npz"),
    "articles.jsonl changed": lambda index: _flip_byte(_version(index) / "articles.jsonl"),
    "CURRENT holds binary bytes": lambda index: _write_bytes(
        index / CURRENT_FILE, b"\x89PNG\r\n\x1a\n\x00\xff"
    ),
    "bm25 deleted": lambda index: shutil.rmtree(_version(index) / "bm25"),
    "chroma store deleted": lambda index: shutil.rmtree(_version(index) / "chroma"),
}


@pytest.fixture(scope="module")
def built_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An embedded hashing-64 index of the test corpus, to copy and damage."""
    base = tmp_path_factory.mktemp("damaged")
    make_corpus(base / "corpus")
    settings = make_settings(base)
    build_index(settings)
    return base


def damaged_copy(tmp_path: Path, built_index: Path, damage: str) -> Path:
    """A copy of the built index (and its corpus) in ``tmp_path``, damaged; its folder."""
    shutil.copytree(built_index / "corpus", tmp_path / "corpus")
    shutil.copytree(built_index / "index", tmp_path / "index")
    DAMAGE[damage](tmp_path / "index")
    return tmp_path / "index"


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_missing_or_damaged_index_says_how_to_build_it(
    tmp_path: Path, built_index: Path, damage: str
) -> None:
    index = damaged_copy(tmp_path, built_index, damage)
    env = clean_env()
    result = run(module_cmd("scripts.ask", "--index", str(index), QUESTION), env=env, cwd=tmp_path)
    assert result.returncode == 2, (damage, result.stdout, result.stderr)
    assert result.stdout == ""
    line = one_error_line(result.stderr)
    assert result.stderr.strip() == line
    assert "python -m scripts.build_index" in line, line

    # The bot's terminal chat (what `python -m bot` runs without a token), in process.
    settings = make_settings(tmp_path)
    stdout, stderr = io.StringIO(), io.StringIO()
    bot_settings = BotSettings(_env_file=None, index=settings)
    assert run_console(bot_settings, None, io.StringIO(QUESTION + "\n"), stdout, stderr) == 2
    assert stdout.getvalue() == ""
    line = one_error_line(stderr.getvalue())
    assert "build_index" in line or "make index" in line, line

    # Doing what the message says repairs it: a plain build, never "up to date".
    assert "--full" not in line
    assert not build_index(settings).noop
    qa = open_index(settings)
    try:
        assert_verbatim(qa.answer(QUESTION), bodies(tmp_path / "corpus"))
    finally:
        qa.close()


@pytest.mark.parametrize(
    "damage",
    [
        "CURRENT names a missing version",
        "CURRENT holds binary bytes",
        "manifest.json truncated",
        "sentences.npz truncated",
        "bm25 deleted",
    ],
)
def test_python_m_bot_with_a_damaged_index_exits_2_in_one_line(
    tmp_path: Path, built_index: Path, damage: str
) -> None:
    index = damaged_copy(tmp_path, built_index, damage)
    env = clean_env(INDEX_DIR=str(index), CORPUS_DIR=str(tmp_path / "corpus"))
    bot = run(BOT, env=env, cwd=tmp_path, stdin=f"{QUESTION}\n")
    assert bot.returncode == 2, (damage, bot.stdout, bot.stderr)
    assert bot.stdout == ""
    line = one_error_line(bot.stderr)
    assert "build_index" in line or "make index" in line, line


def test_a_missing_server_collection_is_a_clear_index_error(
    tmp_path: Path, served: tuple[ChromaServer, IndexSettings]
) -> None:
    """The server runs but has lost the served collection: exit 2 and how to rebuild."""
    server, settings = served
    manifest = IndexDir(settings.index_dir).read_manifest(_version(settings.index_dir).name)
    store = make_store(settings, tmp_path)
    try:
        store.delete(manifest.collection)
    finally:
        store.close()
    env = clean_env(**server.env())
    result = run(
        module_cmd("scripts.ask", "--index", str(settings.index_dir), QUESTION),
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr
    line = one_error_line(result.stderr)
    assert manifest.collection in line and "build_index" in line, line
    assert not build_index(settings).noop  # a plain rebuild repairs it


# --------------------------------------------------------------------------- rebuild under load


LOADS = [
    pytest.param("embedded", "thread", id="embedded-thread"),
    pytest.param("server", "thread", id="server-thread"),
    # a build process for each rebuild
    pytest.param("server", "process", id="server-process", marks=pytest.mark.slow),
]
QUESTIONS_PER_PHASE = 50
REBUILDS = 3  # the third deletes the version the QA started on (two versions are kept)


@pytest.mark.parametrize(("backend", "builder"), LOADS)
@pytest.mark.timeout(180)  # with a build process for each rebuild: 27-33 s on the loaded machine
def test_rebuilds_while_200_questions_are_answered_fail_none(
    tmp_path: Path,
    request: pytest.FixtureRequest,
    collection_prefix: str,
    backend: str,
    builder: str,
) -> None:
    """One QA, 8 threads, 200 questions; three rebuilds (a thread or a process) meanwhile.

    The questions come in four phases of 50: phase ``k`` starts when rebuild ``k`` has
    finished, so every rebuild runs while questions are being answered, and the QA swaps
    versions (and loses the oldest one to the clean-up) in the middle of the load.
    """
    server: ChromaServer | None = (
        request.getfixturevalue("chroma_server") if backend == "server" else None
    )
    corpus = make_corpus(tmp_path / "corpus")
    settings = make_settings(tmp_path, server, chroma_collection_prefix=collection_prefix)
    first = build_index(settings)
    texts = bodies(corpus)
    built: list[str] = []
    errors: list[BaseException] = []
    started = threading.Event()
    finished = [threading.Event() for _ in range(REBUILDS)]
    answered = 0
    count_lock = threading.Lock()

    def rebuild(n: int) -> str:
        write_article(corpus, f"zz-extra-{n}.md", f"Gardening {n}", f"Tomatoes like sun {n}.")
        if builder == "thread":
            report = build_index(settings)
            assert report.build_id is not None and not report.noop
            return report.build_id
        env = clean_env(CHROMA_COLLECTION_PREFIX=collection_prefix)
        if server is not None:
            env.update(server.env())
        args = ["scripts.build_index", "--corpus", str(corpus), "--index", str(settings.index_dir)]
        result = run(module_cmd(*args, "--model", "hashing-64", "--quiet"), env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        build_id = IndexDir(settings.index_dir).current_id()
        assert build_id is not None
        return build_id

    def builds() -> None:
        try:
            assert started.wait(60)
            for n in range(REBUILDS):
                built.append(rebuild(n))
                finished[n].set()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            for event in finished:
                event.set()

    def ask_one(n: int) -> Answer:
        phase = n // QUESTIONS_PER_PHASE
        if phase:
            assert finished[phase - 1].wait(120)
        time.sleep(random.Random(n).uniform(0, 0.01))
        answer = qa.answer(LOAD_QUESTIONS[n % len(LOAD_QUESTIONS)])
        nonlocal answered
        with count_lock:
            answered += 1
            if answered == 20:
                started.set()
        return answer

    qa = open_index(settings)
    thread = threading.Thread(target=builds)
    thread.start()
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(ask_one, range(QUESTIONS_PER_PHASE * (REBUILDS + 1))))
        thread.join(120)
        assert not errors, errors
        # The QA moves to the last build by itself (it looks at CURRENT once a second).
        deadline = time.monotonic() + 10
        while qa.info().build_id != built[-1]:
            answers.append(qa.answer(LOAD_QUESTIONS[0]))
            assert time.monotonic() < deadline, "the QA never picked up the last build"
            time.sleep(0.05)
    finally:
        started.set()
        thread.join(120)
        qa.close()
    assert len(answers) >= 200 and len(built) == REBUILDS and first.build_id not in built
    failed = [a for a in answers if not a.answered]
    assert not failed, [(a.kind, a.reason) for a in failed[:5]]
    for answer in answers:
        assert_verbatim(answer, texts)
    assert IndexDir(settings.index_dir).versions() == built[-2:]
    if server is not None:
        names = server.collection_names(collection_prefix + "-")
        assert names == sorted(f"{collection_prefix}-{b}" for b in built[-2:])
