"""A full disk, a damaged index and other broken state (issue 14, findings 4, 5 and 6).

* Full disk: a build checks for room before it writes and fails in one line; a disk that fills
  up anyway is an error, never a SIGBUS (``embeddings.npy`` gets its blocks before it is
  memory-mapped); a failed build removes what it wrote; the served version keeps answering,
  to a running QA and to a new one. Tested on a real, small tmpfs where this machine lets us
  mount one, and by injecting ENOSPC everywhere.
* Damaged index: the manifest holds every file's size (and the SHA-256 of the small ones); a
  damaged version is one line, a plain build repairs it (reusing the vectors when they are
  intact), and a running QA keeps the last good version.
* A read-only index folder, and a full disk when opening, say so (not "collection missing");
  a Chroma server that dies in the middle of a build is named in the build's one line.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import index.store.build as build_module
import index.store.versions as versions_module
from index.config import IndexSettings
from index.qa import QA, open_index
from index.store.build import build_index
from index.store.versions import CURRENT_FILE, IndexDir, read_articles
from index.types import DamagedIndexError, StorageError
from scripts import build_index as build_cli
from testkit.synthetic import write_synthetic_corpus
from tests.chroma_server import ChromaServer
from tests.cli import build_cmd, module_cmd, run
from tests.corpus import COUNCIL, FESTIVAL, HARBOUR, write_article
from tests.embedders import CountingEmbedder

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "When did the Harbour Bridge reopen?"
LATE_QUESTION = "How did the council vote on the cycle lanes?"

pytestmark = pytest.mark.usefixtures("offline_index_env")


def make_settings(base: Path, **extra: Any) -> IndexSettings:
    values: dict[str, Any] = {
        "corpus_dir": base / "corpus",
        "index_dir": base / "index",
        "embedding_model": "hashing-64",
    }
    return IndexSettings(_env_file=None, **{**values, **extra})


def make_corpus(corpus: Path) -> Path:
    write_article(corpus, "harbour.md", "Bridge reopens", *HARBOUR)
    write_article(corpus, "festival.md", "Record festival", *FESTIVAL)
    return corpus


def version(settings: IndexSettings, build_id: str | None = None) -> Path:
    index = IndexDir(settings.index_dir)
    build_id = build_id or index.current_id()
    assert build_id is not None
    return index.version_dir(build_id)


def answers(qa: QA, question: str = QUESTION) -> str:
    answer = qa.answer(question)
    assert answer.answered, answer
    return answer.quotes[0].text


@pytest.fixture
def built(tmp_path: Path) -> IndexSettings:
    make_corpus(tmp_path / "corpus")
    settings = make_settings(tmp_path)
    build_index(settings)
    return settings


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x20
    path.write_bytes(bytes(data))


# --------------------------------------------------------------------------- finding 5: damage


def test_the_manifest_checks_sizes_always_and_small_files_by_hash(
    built: IndexSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = version(built)
    manifest = IndexDir(built.index_dir).read_manifest(folder.name)
    names = set(manifest.files)
    assert {"articles.jsonl", "sentences.npz", "tokens.npz", "embeddings.npy"} <= names
    assert any(name.startswith("bm25/") for name in names)
    assert not any(name.startswith("chroma/") for name in names)  # chromadb rewrites its own
    assert all(check.sha256 for check in manifest.files.values())  # all small here
    verify_version = versions_module.verify_version
    assert verify_version(folder, manifest) == {}

    flip_byte(folder / "articles.jsonl")
    truncate(folder / "tokens.npz")
    (folder / "sentences.npz").unlink()
    problems = verify_version(folder, manifest)
    assert problems["articles.jsonl"] == "does not match its checksum"
    assert problems["tokens.npz"].startswith("has ")
    assert "the manifest says" in problems["tokens.npz"]
    assert problems["sentences.npz"] == "is missing"

    # Files over the limit are checked by size only (the choice: opening stays fast).
    monkeypatch.setattr(versions_module, "HASH_LIMIT", 0)
    assert all(c.sha256 is None for c in versions_module.checksum_files(folder).values())


@pytest.mark.parametrize("damage", ["sentences.npz truncated", "tokens.npz truncated"])
def test_a_plain_build_repairs_a_damaged_version_reusing_its_vectors(
    built: IndexSettings, damage: str
) -> None:
    truncate(version(built) / damage.split()[0])
    with pytest.raises(DamagedIndexError, match=r"is damaged \(.*npz has .* bytes"):
        open_index(built)
    embedder = CountingEmbedder()
    report = build_index(built, embedder=embedder)
    assert not report.noop  # never "up to date; nothing to do"
    assert report.embedded == 0 and embedder.texts == []  # the vectors were intact
    qa = open_index(built)
    try:
        assert "reopened" in answers(qa)
    finally:
        qa.close()


def test_damaged_vectors_are_embedded_again(built: IndexSettings) -> None:
    flip_byte(version(built) / "embeddings.npy")
    embedder = CountingEmbedder()
    report = build_index(built, embedder=embedder)
    assert report.embedded == report.sentences > 0


@pytest.mark.parametrize("damage", ["sentences.npz truncated", "CURRENT binary", "manifest"])
def test_a_running_qa_keeps_the_last_good_version(
    built: IndexSettings, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    qa = open_index(built)
    try:
        good = qa.snapshot().build_id
        write_article(built.corpus_dir, "council.md", "Council vote", *COUNCIL)
        build_index(built)  # CURRENT moves on; the QA has not looked yet
        if damage == "CURRENT binary":
            (built.index_dir / CURRENT_FILE).write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
        elif damage == "manifest":
            truncate(version(built) / "manifest.json")
        else:
            truncate(version(built) / "sentences.npz")
        with caplog.at_level(logging.WARNING, logger="index.qa"):
            for _ in range(3):
                assert qa.snapshot(force=True).build_id == good
                assert "reopened" in answers(qa)
        kept = [r for r in caplog.records if r.getMessage().startswith(f"keeping index {good}")]
        assert len(kept) == 1, "warned once, not at every look at CURRENT"
        assert "\n" not in kept[0].getMessage()

        report = build_index(built)  # a plain build repairs it, and the QA moves on
        assert not report.noop
        assert qa.snapshot(force=True).build_id == report.build_id
        assert "7 to 2" in answers(qa, LATE_QUESTION)
    finally:
        qa.close()


# --------------------------------------------------------------------------- finding 4: full disk


def _fresh_answer(settings: IndexSettings) -> str:
    qa = open_index(settings)
    try:
        return answers(qa)
    finally:
        qa.close()


def _assert_untouched(settings: IndexSettings, before: list[str], current: str) -> None:
    index = IndexDir(settings.index_dir)
    assert index.versions() == before, "the failed build left its version behind"
    assert index.current_id() == current
    assert "reopened" in _fresh_answer(settings)


def test_too_little_space_fails_before_anything_is_embedded(
    built: IndexSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = IndexDir(built.index_dir)
    before, current = index.versions(), index.current_id()
    assert current is not None
    leftover = index.version_dir("20200101T000000000000Z-000000")  # a killed build's
    leftover.mkdir()
    (leftover / "embeddings.npy").write_bytes(bytes(1000))
    write_article(built.corpus_dir, "council.md", "Council vote", *COUNCIL)
    usage = shutil.disk_usage(built.index_dir)
    monkeypatch.setattr(build_module.shutil, "disk_usage", lambda _: usage._replace(free=300 << 10))
    embedder = CountingEmbedder()
    qa = open_index(built)
    try:
        with pytest.raises(StorageError, match=r"not enough disk space .* MiB needed, 0.3 MiB"):
            build_index(built, embedder=embedder)
        assert embedder.texts == []
        assert not leftover.exists()  # removed first: what a killed build left takes space
        assert "reopened" in answers(qa)  # the running QA, too
    finally:
        qa.close()
    _assert_untouched(built, before, current)


def _enospc(*_: object, **__: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize(
    "where",
    [
        "embeddings.npy blocks",
        "the sentence table",
        "the BM25 files",
        "the chroma store",
        "the manifest",
    ],
)
def test_a_disk_that_fills_up_mid_build_fails_in_one_error_and_removes_the_version(
    built: IndexSettings, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    index = IndexDir(built.index_dir)
    before, current = index.versions(), index.current_id()
    assert current is not None
    write_article(built.corpus_dir, "council.md", "Council vote", *COUNCIL)
    targets: dict[str, tuple[Any, str]] = {
        "embeddings.npy blocks": (build_module.os, "posix_fallocate"),
        "the sentence table": (versions_module.SentenceTable, "save"),
        "the BM25 files": (build_module, "_write_lexical"),
        "the manifest": (versions_module.Manifest, "save"),
    }
    if where == "the chroma store":

        def add(*_: object, **__: object) -> None:
            from chromadb.errors import InternalError

            raise InternalError("error returned from database: (code: 13) database or disk is full")

        monkeypatch.setattr(build_module, "add_vectors", add)
    else:
        owner, name = targets[where]
        monkeypatch.setattr(owner, name, _enospc)
    with pytest.raises(StorageError, match="is full: the build stopped while writing") as caught:
        build_index(built)
    assert "\n" not in str(caught.value)
    monkeypatch.undo()
    _assert_untouched(built, before, current)


def test_without_fallocate_the_blocks_are_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unsupported(*_: object) -> None:
        raise OSError(errno.EOPNOTSUPP, "not supported")

    monkeypatch.setattr(build_module.os, "posix_fallocate", unsupported)
    path = tmp_path / "v.npy"
    vectors = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(3000, 64))
    build_module._preallocate(path, vectors.offset)
    assert os.stat(path).st_blocks * 512 >= path.stat().st_size  # no hole left to fault on
    vectors[:] = 1.0
    vectors.flush()
    assert float(np.load(path, mmap_mode="r").sum()) == 3000 * 64


def test_the_estimate_covers_what_a_build_writes(tmp_path: Path) -> None:
    write_synthetic_corpus(tmp_path / "corpus", 1500)
    settings = make_settings(tmp_path, embedding_model="hashing-384")
    report = build_index(settings)
    folder = version(settings)
    used = sum(p.stat().st_blocks * 512 for p in folder.rglob("*") if p.is_file())
    text = sum(len(a.body) + len(a.title) for a in read_articles(folder))
    estimate = build_module.estimate_bytes(report.sentences, 384, text, embedded=True)
    assert used <= estimate <= 1.6 * used, (used, estimate)


# ------------------------------------------------------------------ a real full disk (tmpfs)


@contextlib.contextmanager
def small_disk(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``where`` (skips when this machine does not allow it)."""
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({mounted.stderr.strip()})")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _free(path: Path) -> int:
    return shutil.disk_usage(path).free


def test_a_real_full_disk_is_one_line_and_the_served_version_keeps_answering(
    tmp_path: Path,
) -> None:
    with small_disk(tmp_path / "disk", "6m") as disk:
        make_corpus(tmp_path / "corpus")
        settings = make_settings(tmp_path, index_dir=disk / "index")
        build_index(settings)
        before, current = IndexDir(disk / "index").versions(), IndexDir(disk / "index").current_id()
        assert current is not None
        free = _free(disk)
        write_synthetic_corpus(tmp_path / "corpus" / "more", 4000)

        # The estimate refuses the build at once (the real model's 384 numbers a sentence).
        result = run(
            build_cmd(tmp_path / "corpus", disk / "index", model="hashing-384"), timeout=300
        )
        assert result.returncode == 1, result.stderr
        [line] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert "not enough disk space" in line and "Traceback" not in result.stderr
        _assert_untouched(settings, before, current)
        assert _free(disk) == free

        # With the estimate fooled, the disk fills up for real: an error, never a SIGBUS, and
        # the half-written version is removed (a child process: a SIGBUS would kill pytest).
        script = (
            "import sys, index.store.build as b\n"
            "from scripts.build_index import main\n"
            "b.estimate_bytes = lambda *a, **k: 0\n"
            "sys.exit(main(sys.argv[1:]))\n"
        )
        args = build_cmd(tmp_path / "corpus", disk / "index", "--quiet", model="hashing-384")
        result = run([sys.executable, "-c", script, *args[3:]], timeout=300)
        assert result.returncode == 1, (result.returncode, result.stderr)  # SIGBUS: -7
        [line] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert "disk" in line and "full" in line, line
        _assert_untouched(settings, before, current)
        assert _free(disk) == free


def test_a_read_only_index_folder_is_reported_as_such(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", "8m") as disk:
        make_corpus(tmp_path / "corpus")
        settings = make_settings(tmp_path, index_dir=disk / "index")
        # In a child: no file of ours stays open on the disk.
        built = run(build_cmd(settings.corpus_dir, disk / "index"))
        assert built.returncode == 0, built.stderr
        remount = subprocess.run(["mount", "-o", "remount,ro", str(disk)], capture_output=True)
        assert remount.returncode == 0, remount.stderr
        ask = run(module_cmd("scripts.ask", "--index", str(disk / "index"), QUESTION))
        assert ask.returncode == 2
        assert ask.stderr.count("\n") == 1 and ask.stderr.startswith("error: cannot open")
        assert "read-only" in ask.stderr and "missing" not in ask.stderr
        write_article(settings.corpus_dir, "council.md", "Council vote", *COUNCIL)
        build = run(build_cmd(settings.corpus_dir, disk / "index"))
        assert build.returncode == 1
        assert build.stderr.count("\n") == 1 and "read-only" in build.stderr, build.stderr


# ------------------------------------------------------------------ opening: the words for it


@pytest.mark.parametrize(
    ("sqlite_says", "words"),
    [
        ("(code: 8) attempt to write a readonly database", "the index folder is read-only"),
        ("(code: 13) database or disk is full", "the disk is full"),
    ],
)
def test_opening_says_read_only_or_full_not_missing(
    built: IndexSettings, monkeypatch: pytest.MonkeyPatch, sqlite_says: str, words: str
) -> None:
    import chromadb
    from chromadb.errors import InternalError

    def refuse(*_: object, **__: object) -> None:
        raise InternalError(f"error returned from database: {sqlite_says}")

    monkeypatch.setattr(chromadb, "PersistentClient", refuse)
    with pytest.raises(StorageError) as caught:
        open_index(built)
    message = str(caught.value)
    assert words in message and "missing" not in message and "build_index" not in message


# ------------------------------------------------------------------ finding 6: Chroma dies mid-way


def test_a_build_whose_chroma_server_dies_names_chroma(
    tmp_path: Path,
    chroma_server: ChromaServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = chroma_server
    make_corpus(tmp_path / "corpus")
    settings = make_settings(tmp_path, **server.settings_kwargs())
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    first = build_index(settings)
    write_article(settings.corpus_dir, "council.md", "Council vote", *COUNCIL)
    real_add = build_module.add_vectors

    def add_then_die(*args: Any, **kwargs: Any) -> None:
        server.kill()
        real_add(*args, **kwargs)

    monkeypatch.setattr(build_module, "add_vectors", add_then_die)
    status = build_cli.main(
        [
            "--corpus",
            str(settings.corpus_dir),
            "--index",
            str(settings.index_dir),
            "--quiet",
            "--model",
            "hashing-64",
        ]
    )
    err = capsys.readouterr().err
    [line] = [line for line in err.splitlines() if line.startswith("error:")]
    assert status == 3, err
    assert line.startswith(f"error: the Chroma server at {server.host}:{server.port} failed")
    assert "while the build added its vectors" in line
    assert IndexDir(settings.index_dir).current_id() == first.build_id
    assert IndexDir(settings.index_dir).versions() == [first.build_id]
