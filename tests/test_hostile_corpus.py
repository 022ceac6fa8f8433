"""Hostile corpus files and settings (issue 14, findings 2, 3, 6 and 7).

One bad JSONL line costs only that line, whatever it holds (a lone surrogate escape, a raw NUL,
invalid UTF-8); a FIFO never blocks the build; a folder that cannot be read keeps its articles
in the index; odd file names stay on one line; YAML does not turn ``title: yes`` into "True";
UTF-16 without a BOM is read as text; bad settings stop at once with one line. Hypothesis feeds
random bytes and text as corpus files and shows every good article is kept.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.config import IndexSettings
from index.corpus.articles import CorpusLoad, Skipped, load_corpus
from index.store.build import build_index
from index.store.versions import IndexDir, read_articles
from index.types import Article
from tests.cli import build_cmd, clean_env, module_cmd, run
from tests.corpus import FESTIVAL, HARBOUR, write_article

pytestmark = pytest.mark.usefixtures("offline_index_env")


def _settings(tmp_path: Path) -> IndexSettings:
    return IndexSettings(
        _env_file=None,
        corpus_dir=tmp_path / "corpus",
        index_dir=tmp_path / "index",
        embedding_model="hashing-64",
    )


def _good_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    write_article(corpus, "harbour.md", "Bridge reopens", *HARBOUR)
    write_article(corpus, "festival.md", "Record festival", *FESTIVAL)
    return corpus


def _record(article_id: str, title: str, text: str) -> bytes:
    return json.dumps({"id": article_id, "title": title, "text": text}).encode()


def _storable(article: Article) -> None:
    """What the build does with every article: hash it and write it as UTF-8 JSON."""
    assert article.content_hash
    row = {f: getattr(article, f) for f in ("id", "title", "body", "url", "source", "path")}
    json.dumps(row, ensure_ascii=False).encode("utf-8")


# --------------------------------------------------------------------------- finding 2: JSONL


def test_a_lone_surrogate_escape_does_not_stop_the_build(tmp_path: Path) -> None:
    corpus = _good_corpus(tmp_path)
    (corpus / "feed.jsonl").write_bytes(
        b"\n".join(
            [
                _record("j1", "Ferry news", "The ferry runs hourly."),
                _record("j2", "\ud800", "A title that is a lone surrogate escape."),
                _record("j3", "Tram news", "The tram line opens \udfff in May."),
            ]
        )
    )
    (corpus / "yaml.md").write_text(
        '---\ntitle: "Front \\ud800 matter"\n---\n\nYAML refuses the escape itself.\n'
    )
    report = build_index(_settings(tmp_path))
    assert report.articles == 5
    assert report.skipped == [
        Skipped(
            "yaml.md",
            "broken front matter: found invalid Unicode character escape code "
            "(line 2 of the front matter)",
        )
    ]
    assert [(w.path, w.reason.split(":")[0]) for w in report.warnings] == [
        ("feed.jsonl", "line 2"),
        ("feed.jsonl", "line 3"),
    ]
    assert "lone surrogate" in report.warnings[0].reason
    assert "Warnings 2:\n  - feed.jsonl: line 2: 'title': text that is not valid" in (
        report.summary()
    )
    stored = {a.id: a for a in read_articles(_version(tmp_path))}
    assert stored["j2"].title == "\ufffd"
    assert stored["j3"].body == "The tram line opens \ufffd in May."


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        (b'{"id": "n2", "title": "N\x00two", "text": "A raw NUL."}', "binary data (contains NUL"),
        (b'{"id": "n2", "title": "Caf\xe9", "text": "Latin-1."}', "not valid UTF-8 (byte 0xe9"),
        (b"\x00\x01\x02\x03", "binary data (contains NUL bytes)"),
    ],
    ids=["nul-in-a-string", "latin1", "binary-line"],
)
def test_one_bad_jsonl_line_loses_only_itself(tmp_path: Path, bad_line: bytes, reason: str) -> None:
    corpus = _good_corpus(tmp_path)
    lines = [
        _record("n1", "N one", "The council voted 7 to 2."),
        bad_line,
        _record("n3", "N three", "Schools closed on Friday."),
    ]
    (corpus / "feed.jsonl").write_bytes(b"\r\n".join(lines) + b"\r\n")
    load = load_corpus(corpus)
    assert sorted(a.id for a in load.articles) == ["festival", "harbour", "n1", "n3"]
    [skip] = load.skipped
    assert skip.path == "feed.jsonl" and skip.reason.startswith(f"line 2: {reason}")


def test_a_utf16_jsonl_file_is_read(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = (_record("u1", "Ünïcode", "Text in UTF-16.") + b"\n").decode()
    (corpus / "le.jsonl").write_bytes(text.encode("utf-16-le"))
    (corpus / "be.jsonl").write_bytes(text.replace("u1", "u2").encode("utf-16"))  # with a BOM
    load = load_corpus(corpus)
    assert load.skipped == []
    assert [(a.id, a.title) for a in load.articles] == [("u2", "Ünïcode"), ("u1", "Ünïcode")]


# --------------------------------------------------------------------------- finding 3: entries


@contextlib.contextmanager
def _fifo(path: Path) -> Iterator[None]:
    """A FIFO at ``path``; at the end a writer opens and closes it, so no reader stays blocked."""
    os.mkfifo(path)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))


def test_a_fifo_in_the_corpus_does_not_block(tmp_path: Path) -> None:
    corpus = _good_corpus(tmp_path)
    with _fifo(corpus / "x.md"):
        done: list[object] = []
        worker = threading.Thread(target=lambda: done.append(load_corpus(corpus)), daemon=True)
        worker.start()
        worker.join(10)
        assert done, "loading the corpus blocked on a FIFO"
    [load] = done
    assert isinstance(load, CorpusLoad)
    assert sorted(a.id for a in load.articles) == ["festival", "harbour"]
    assert load.skipped == [
        Skipped("x.md", "not a regular file (a named pipe (FIFO)); only files are read")
    ]


def test_a_fifo_does_not_block_the_build_command(tmp_path: Path) -> None:
    corpus = _good_corpus(tmp_path)
    with _fifo(corpus / "x.md"):
        result = run(build_cmd(corpus, tmp_path / "index"), timeout=60)
    assert result.returncode == 0, result.stderr
    assert "  - x.md: not a regular file (a named pipe (FIFO))" in result.stdout


@contextlib.contextmanager
def _unreadable(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``folder`` cannot be listed: by its permissions, and for root (whom permissions do not
    stop) by listing it failing as it would (EACCES)."""
    real_scandir = os.scandir

    def scandir(path: str | os.PathLike[str] = ".") -> object:
        if Path(path) == folder:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_scandir(path)

    folder.chmod(0)
    with monkeypatch.context() as patch:
        patch.setattr(os, "scandir", scandir)
        try:
            yield
        finally:
            folder.chmod(0o755)


def test_an_unreadable_folder_keeps_its_articles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = _good_corpus(tmp_path)
    write_article(corpus / "sub", "council.md", "Council vote", "The council voted 7 to 2.")
    settings_ = _settings(tmp_path)
    first = build_index(settings_)
    assert first.articles == 3
    write_article(corpus, "new.md", "New story", "A new story arrived on Tuesday.")
    with _unreadable(corpus / "sub", monkeypatch):
        load = load_corpus(corpus)
        assert load.unreadable == [Skipped("sub", "cannot read the folder: Permission denied")]
        report = build_index(settings_)
    assert report.removed == 0 and report.added == 1 and report.articles == 4
    assert {a.id for a in read_articles(_version(tmp_path))} == {
        "harbour",
        "festival",
        "council",
        "new",
    }
    assert report.warnings == [
        Skipped(
            "sub",
            "cannot read the folder: Permission denied; "
            "kept its 1 article(s) from the served index",
        )
    ]
    assert "Warnings 1:\n  - sub: cannot read the folder" in report.summary()
    # Readable again: nothing changed, nothing to do; then a real removal is a removal.
    assert build_index(settings_).noop
    (corpus / "sub" / "council.md").unlink()
    assert build_index(settings_).removed == 1


def test_an_unreadable_file_keeps_its_article(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _good_corpus(tmp_path)
    settings_ = _settings(tmp_path)
    build_index(settings_)
    real_open = os.open

    def deny(path: str | os.PathLike[str], flags: int, *args: int) -> int:
        if Path(path).name == "festival.md":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", deny)
    report = build_index(settings_)
    assert report.noop and report.removed == 0 and report.articles == 2
    assert [w.path for w in report.warnings] == ["festival.md"]


def test_file_names_are_shown_on_one_line(tmp_path: Path) -> None:
    corpus = _good_corpus(tmp_path)
    (corpus / "bad\nname.pdf").write_bytes(b"%PDF")
    write_article(corpus, "new\nline.md", "Newline name", "Text of the newline file.")
    (corpus / os.fsdecode(b"latin\xe9.txt")).write_bytes(b"Title\nBody of a latin-1 name.\n")
    report = build_index(_settings(tmp_path))
    assert report.articles == 4
    assert [s.path for s in report.skipped] == ["bad\\nname.pdf"]
    summary = report.summary()
    assert "  - bad\\nname.pdf: unsupported file type .pdf" in summary.splitlines()
    assert len(summary.splitlines()) == 4  # head, "Skipped 1:", the skip, time
    paths = {a.id: a.path for a in read_articles(_version(tmp_path))}
    assert paths["new\\nline"] == "new\\nline.md"
    assert paths["latin\\udce9"] == "latin\\udce9.txt"


# --------------------------------------------------------------------------- finding 6: loader


def test_yaml_values_are_taken_as_written(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    for name, front in [
        ("yes.md", "title: yes\nsource: no"),
        ("num.md", "title: 1e3\nid: 0123"),
        ("date.md", "title: 2024-01-05\npublished: 2024-01-05"),
        ("null.md", "title: ~"),
    ]:
        (corpus / name).parent.mkdir(exist_ok=True)
        (corpus / name).write_text(f"---\n{front}\n---\n\n# Heading {name}\n\nBody.\n")
    load = load_corpus(corpus)
    got = {a.path: (a.id, a.title, a.source, a.published) for a in load.articles}
    assert got == {
        "yes.md": ("yes", "yes", "no", None),
        "num.md": ("0123", "1e3", None, None),
        "date.md": ("date", "2024-01-05", None, "2024-01-05"),
        "null.md": ("null", "Heading null.md", None, None),
    }


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("name", ["story.md", "story.txt", "story.html"])
def test_utf16_without_a_bom_is_read_as_text(tmp_path: Path, encoding: str, name: str) -> None:
    texts = {
        ".md": "---\ntitle: Zürich news\n---\n\nThe tram runs again. It stopped in May.\n",
        ".txt": "Zürich news\n\nThe tram runs again. It stopped in May.\n",
        ".html": "<html><head><title>Zürich news</title></head><body><article><p>The tram "
        "runs again. It stopped in May, and the city paid for the repairs.</p></article>"
        "</body></html>",
    }
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / name).write_bytes(texts[Path(name).suffix].encode(encoding))
    load = load_corpus(corpus)
    assert load.skipped == []
    [article] = load.articles
    assert article.title == "Zürich news" and "The tram runs again." in article.body


def test_binary_is_still_binary(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_bytes(bytes(range(256)) * 4)
    (corpus / "b.txt").write_bytes(b"A\x00B\x00\x00\x00\x01\x00" * 64)  # NULs on both sides
    load = load_corpus(corpus)
    assert [(s.path, s.reason) for s in load.skipped] == [
        ("a.md", "binary file (contains NUL bytes)"),
        ("b.txt", "binary file (contains NUL bytes)"),
    ]


# --------------------------------------------------------------------------- finding 6: settings


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("CHROMA_PORT", "0", "CHROMA_PORT: Input should be greater than or equal to 1"),
        ("CHROMA_PORT", "70000", "CHROMA_PORT: Input should be less than or equal to 65535"),
        (
            "RATE_LIMIT_WINDOW_SECONDS",
            "inf",
            "RATE_LIMIT_WINDOW_SECONDS: Input should be a finite number",
        ),
        (
            "RATE_LIMIT_WINDOW_SECONDS",
            "nan",
            "RATE_LIMIT_WINDOW_SECONDS: Input should be a finite number",
        ),
        ("ANSWER_MIN_CONFIDENCE", "nan", "ANSWER_MIN_CONFIDENCE: Input should be a finite number"),
    ],
)
def test_out_of_range_settings_stop_the_bot_with_one_line(
    tmp_path: Path, setting: str, value: str, message: str
) -> None:
    result = run(module_cmd("bot"), env=clean_env(CHROMA_HOST="127.0.0.1", **{setting: value}))
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"error: invalid setting {message}\n"


def test_an_unknown_embedding_model_is_one_line(tmp_path: Path) -> None:
    corpus = _good_corpus(tmp_path)
    build = run(build_cmd(corpus, tmp_path / "i", model="no-such-model"))
    assert build.returncode == 2
    [line] = build.stderr.splitlines()
    assert line.startswith("error: invalid setting EMBEDDING_MODEL: no embedding model 'no-such")
    assert not (tmp_path / "i" / "versions").exists()
    env = clean_env(EMBEDDING_MODEL="no-such-model", INDEX_DIR=str(tmp_path / "i"))
    bot = run(module_cmd("bot"), env=env)
    assert bot.returncode == 2
    [line] = bot.stderr.splitlines()
    assert line.startswith("error: invalid setting EMBEDDING_MODEL: no embedding model")


def test_check_embedding_model(tmp_path: Path) -> None:
    from index.config import check_embedding_model
    from index.types import SettingsError

    assert check_embedding_model("all-MiniLM-L6-v2") is None
    assert check_embedding_model("sentence-transformers/all-MiniLM-L6-v2") is None
    assert check_embedding_model("hashing-64") is None
    assert "8 dimensions" in str(check_embedding_model("hashing-4"))
    assert "no sentence-transformers model" in str(check_embedding_model(str(tmp_path)))
    (tmp_path / "modules.json").write_text("[]")
    assert check_embedding_model(str(tmp_path)) is None
    assert "nothing is downloaded" in str(check_embedding_model("org/not-here"))
    with pytest.raises(SettingsError, match="EMBEDDING_MODEL"):
        build_index(_settings(tmp_path).model_copy(update={"embedding_model": "org/not-here"}))


# --------------------------------------------------------------------------- fuzzing (item 7)

SUFFIXES = [".md", ".txt", ".html", ".jsonl", ".markdown", ""]
file_names = st.binary(min_size=1, max_size=30).filter(
    lambda b: b"/" not in b and b"\x00" not in b and not b.startswith(b".")
)
hostile_chars = st.characters(categories=["Cs", "Cc", "Cf", "Zl", "Lu", "Ll", "Nd", "Po"])
contents = st.one_of(
    st.binary(max_size=300),
    st.text(hostile_chars, max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.text(max_size=200).map(lambda t: t.encode("utf-16-le")),
)
bad_lines = st.one_of(
    st.binary(max_size=80),
    st.builds(
        lambda title, text: json.dumps({"id": "x", "title": title, "text": text}).encode(),
        st.text(hostile_chars, max_size=20),
        st.text(hostile_chars, max_size=40),
    ),
).map(lambda b: b.replace(b"\n", b" ").replace(b"\r", b" "))


def _write_good(corpus: Path) -> set[str]:
    write_article(corpus, "good-harbour.md", "Bridge reopens", *HARBOUR)
    (corpus / "good.txt").write_text("Record festival\n\n" + "\n\n".join(FESTIVAL) + "\n")
    return {"good-harbour", "good"}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(files=st.lists(st.tuples(file_names, st.sampled_from(SUFFIXES), contents), max_size=6))
def test_fuzz_corpus_files_keep_every_good_article(
    tmp_path_factory: pytest.TempPathFactory, files: list[tuple[bytes, str, bytes]]
) -> None:
    corpus = tmp_path_factory.mktemp("fuzz")
    good = _write_good(corpus)
    for stem, suffix, data in files:
        name = os.fsdecode(b"zz-" + stem) + suffix  # after the good files: they keep their ids
        (corpus / name).write_bytes(data)
    load = load_corpus(corpus)
    assert good <= {a.id for a in load.articles}
    for article in load.articles:
        _storable(article)
    for entry in [*load.skipped, *load.warnings]:
        shown = f"{entry.path}: {entry.reason}"
        assert len(shown.splitlines()) == 1 and shown.encode("utf-8")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(bad_lines, max_size=8), utf16=st.booleans())
def test_fuzz_jsonl_lines_keep_every_good_line(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], utf16: bool
) -> None:
    corpus = tmp_path_factory.mktemp("fuzz-jsonl")
    good = [_record(f"g{n}", f"Good {n}", f"Good line number {n}.") for n in range(3)]
    mixed = [good[0], *lines[:4], good[1], *lines[4:], good[2]]
    data = b"\n".join(mixed) + b"\n"
    if utf16:
        data = data.decode("utf-8", "replace").encode("utf-16")
    (corpus / "feed.jsonl").write_bytes(data)
    load = load_corpus(corpus)
    ids = [a.id for a in load.articles]
    assert ids[:1] == ["g0"] and {"g1", "g2"} <= set(ids)
    for article in load.articles:
        _storable(article)


def _version(tmp_path: Path) -> Path:
    index = IndexDir(tmp_path / "index")
    build_id = index.current_id()
    assert build_id is not None
    return index.version_dir(build_id)
