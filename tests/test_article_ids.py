"""Article ids become file names, so an id that is a path never reaches the file system:
``/remove ../outside/victim``, an uploaded document whose front matter says ``id: ../x``, a
300-character id or a tampered state file are refused in one line naming the id."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.edits import CoverageError, add_document, remove_article
from ingest.extract import Page
from ingest.names import MAX_ID_BYTES, BadIdError, article_file, checked_id
from ingest.state import FetchState
from ingest.writer import write_page
from tests.corpus import HARBOUR, write_article


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """A corpus folder with one article, and a victim file beside it."""
    corpus = tmp_path / "corpus"
    write_article(corpus, "by-hand.md", "By hand", *HARBOUR)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.md").write_text("---\ntitle: Victim\n---\n\nKeep me.\n", encoding="utf-8")
    return corpus, outside / "victim.md"


@pytest.mark.parametrize(
    ("article", "why"),
    [
        ("../outside/victim", "no '/'"),
        ("../../README", "no '/'"),
        ("..", "starts with a dot"),
        (".", "starts with a dot"),
        ("/abs/path", "no '/'"),
        ("a\\b", "no '/'"),
        ("x" * 300, f"300 bytes long; at most {MAX_ID_BYTES}"),
        ("bad\x00id", "control or invisible"),
        ("line\nbreak", "control or invisible"),
        ("rtl\u202eid", "control or invisible"),
        ("", "empty"),
    ],
)
def test_remove_refuses_an_id_that_is_no_file_name(
    layout: tuple[Path, Path], article: str, why: str
) -> None:
    corpus, victim = layout
    with pytest.raises(CoverageError) as caught:
        remove_article(corpus, article)
    message = str(caught.value)
    assert message.startswith("not a valid article id: '") and why in message
    assert "\n" not in message and len(message) < 200
    assert str(corpus) not in message and str(victim) not in message
    assert victim.exists() and (corpus / "by-hand.md").exists()


def test_an_uploaded_document_cannot_probe_outside_the_corpus(layout: tuple[Path, Path]) -> None:
    corpus, victim = layout
    probe = b"---\nid: ../outside/victim\ntitle: Probe\n---\n\nText of the probe.\n"
    with pytest.raises(CoverageError) as caught:
        add_document(corpus, "probe.md", probe)
    assert str(caught.value) == (
        "probe.md: not a valid article id: '../outside/victim' "
        "(an id is a name, not a path: no '/' or '\\')"
    )
    assert not (corpus / "probe.md").exists() and victim.exists()


def test_the_writer_never_writes_outside_the_corpus(tmp_path: Path) -> None:
    page = Page(url="http://example.com/a", title="T", body="Body text.")
    with pytest.raises(BadIdError):
        write_page(tmp_path / "corpus", "../escaped", page, "2024-03-04T00:00:00Z")
    assert list(tmp_path.rglob("*.md")) == []


def test_a_tampered_state_file_loses_only_its_bad_ids(tmp_path: Path) -> None:
    path = tmp_path / ".fetch-state.json"
    good = {"etag": '"1"', "last_modified": None, "id": "0123456789abcdef"}
    bad = {"etag": '"2"', "last_modified": None, "id": "../../README"}
    data = {
        "version": 1,
        "urls": {"http://a.example/1": good, "http://a.example/2": bad},
        "removed": ["../x", "fedcba9876543210"],
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    state = FetchState.load(path)
    assert state.removed == {"fedcba9876543210"}
    assert state.get("http://a.example/1") is not None
    assert state.get("http://a.example/2") is None


@given(st.text(max_size=80))
def test_any_accepted_id_names_a_file_inside_the_corpus(text: str) -> None:
    corpus = Path("/srv/corpus")
    try:
        checked_id(text)
    except BadIdError as exc:
        assert "\n" not in str(exc)
        return
    path = article_file(corpus, text)
    assert path.parent == corpus and path.name == f"{text}.md"
