"""Tests for index.corpus.articles: loading a corpus folder, with real files in tmp_path."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from index.corpus.articles import CorpusLoad, Skipped, load_corpus, load_file
from index.types import Article, ArticleError, CorpusError

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "tests" / "data" / "seeds"  # verbatim copies of ../shared/seeds


def _write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def _only_article(load: CorpusLoad) -> Article:
    assert load.skipped == []
    assert len(load.articles) == 1
    return load.articles[0]


def _only_skip(load: CorpusLoad) -> Skipped:
    assert load.articles == []
    assert len(load.skipped) == 1
    return load.skipped[0]


# --------------------------------------------------------------------------- markdown


def test_markdown_with_front_matter(tmp_path: Path) -> None:
    _write(
        tmp_path / "harbour.md",
        "---\n"
        "id: harbour-reopens\n"
        "title: 'Harbour reopens: ferries back'\n"
        "source: Coastal Herald\n"
        "url: https://example.com/harbour\n"
        "published: 2024-03-05\n"
        "author: Jane Doe\n"
        "---\n"
        "\n"
        "The harbour reopened on Tuesday.\n"
        "\n"
        "Ferries resumed their normal timetable.\n",
    )
    article = _only_article(load_corpus(tmp_path))
    assert article == Article(
        id="harbour-reopens",
        title="Harbour reopens: ferries back",
        body="The harbour reopened on Tuesday.\n\nFerries resumed their normal timetable.",
        url="https://example.com/harbour",
        published="2024-03-05",
        source="Coastal Herald",
        author="Jane Doe",
        path="harbour.md",
    )


def test_markdown_datetime_and_string_dates_become_plain_dates(tmp_path: Path) -> None:
    _write(tmp_path / "a.md", "---\ntitle: A\npublished: 2024-03-05 10:30:00\n---\nBody A.\n")
    _write(tmp_path / "b.md", "---\ntitle: B\npublished: '2023-12-01T08:00:00Z'\n---\nBody B.\n")
    _write(tmp_path / "c.markdown", "---\ntitle: C\npublished: March 2022\n---\nBody C.\n")
    load = load_corpus(tmp_path)
    assert [(a.id, a.published) for a in load.articles] == [
        ("a", "2024-03-05"),
        ("b", "2023-12-01"),
        ("c", "March 2022"),
    ]


def test_markdown_title_from_heading_and_id_from_file_name(tmp_path: Path) -> None:
    _write(tmp_path / "storm-report.md", "# Storm hits the coast\n\nWinds reached 100 km/h.\n")
    article = _only_article(load_corpus(tmp_path))
    assert (article.id, article.title, article.body) == (
        "storm-report",
        "Storm hits the coast",
        "Winds reached 100 km/h.",
    )


def test_bom_and_crlf_are_normalised_without_other_changes(tmp_path: Path) -> None:
    raw = (
        "---\r\ntitle: Café news\r\n---\r\n\r\n"
        "  Line one “quoted”.\r\nLine two.\r\n\r\nPara two.  \r\n"
    )
    _write(tmp_path / "cafe.md", b"\xef\xbb\xbf" + raw.encode("utf-8"))
    article = _only_article(load_corpus(tmp_path))
    assert article.title == "Café news"
    assert article.body == "Line one “quoted”.\nLine two.\n\nPara two."


# --------------------------------------------------------------------------- txt


def test_text_file_first_line_is_title(tmp_path: Path) -> None:
    _write(
        tmp_path / "news" / "kim.txt",
        "\n\nKim Jong Un’s Weapons Showcase\n\n"
        "North Korea displays missiles.\n\nMr. Shoigu visited.\n",
    )
    article = _only_article(load_corpus(tmp_path))
    assert article.id == "kim"
    assert article.title == "Kim Jong Un’s Weapons Showcase"
    assert article.body == "North Korea displays missiles.\n\nMr. Shoigu visited."
    assert article.path == "news/kim.txt"
    assert article.url is None and article.published is None and article.source is None


# --------------------------------------------------------------------------- html

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Harbour reopens after storm | Coastal Herald</title>
<meta property="og:title" content="Harbour reopens after storm">
<meta property="og:site_name" content="Coastal Herald">
<meta property="og:url" content="https://example.com/news/harbour-reopens">
<link rel="canonical" href="https://example.com/news/harbour-reopens">
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2024-03-05T10:00:00Z">
</head>
<body>
<header><nav><ul>
<li><a href="/">Home</a></li><li><a href="/world">World</a></li><li><a href="/sport">Sport</a></li>
</ul></nav></header>
<main><article>
<h1>Harbour reopens after storm</h1>
<p>The harbour at Port Ellen reopened on Tuesday after three days of closure caused by the
storm. Harbour master Mr. Angus Reid said the damage was “less severe than feared”.</p>
<p>Ferries resumed their normal timetable in the afternoon, and the first boat left at 2 p.m.
with about forty passengers on board.</p>
<p>Local businesses welcomed the news. “We lost a week of trade,” said one shop owner.</p>
</article></main>
<aside><h3>Most read</h3><ul><li><a href="/a">Ten things to do this weekend</a></li></ul></aside>
<footer><p>© 2024 Coastal Herald. All rights reserved.</p>
<a href="/privacy">Privacy policy</a> <a href="/cookies">Cookie settings</a></footer>
</body>
</html>
"""


def test_html_main_text_and_metadata(tmp_path: Path) -> None:
    _write(tmp_path / "harbour.html", _PAGE)
    article = _only_article(load_corpus(tmp_path))
    assert article.id == "harbour"
    assert article.title == "Harbour reopens after storm"
    assert article.url == "https://example.com/news/harbour-reopens"
    assert article.published == "2024-03-05"
    assert article.author == "Jane Doe"
    assert article.source == "Coastal Herald"
    paragraphs = article.body.split("\n\n")
    assert len(paragraphs) == 3
    assert paragraphs[0].startswith("The harbour at Port Ellen reopened on Tuesday")
    assert "“less severe than feared”" in paragraphs[0]
    assert (
        paragraphs[2]
        == "Local businesses welcomed the news. “We lost a week of trade,” said one shop owner."
    )
    for boilerplate in ("Home", "Sport", "©", "Privacy", "Cookie", "Most read", "Ten things"):
        assert boilerplate not in article.body


def test_html_without_declared_date_has_no_date(tmp_path: Path) -> None:
    page = _PAGE.replace(
        '<meta property="article:published_time" content="2024-03-05T10:00:00Z">', ""
    )
    _write(tmp_path / "harbour.htm", page)
    article = _only_article(load_corpus(tmp_path))
    assert article.published is None  # not guessed from the "© 2024" footer


def test_html_without_main_text_is_skipped(tmp_path: Path) -> None:
    _write(
        tmp_path / "nav.html",
        "<html><head><title>Menu</title></head><body><nav></nav></body></html>",
    )
    skipped = _only_skip(load_corpus(tmp_path))
    assert skipped.path == "nav.html"
    assert skipped.reason.startswith("empty body")


# --------------------------------------------------------------------------- jsonl


def test_jsonl_loads_good_lines_and_skips_bad_ones(tmp_path: Path) -> None:
    lines = [
        json.dumps(
            {"id": "a1", "title": "First", "text": "Body one.\r\nMore.", "url": "https://x/1"}
        ),
        '{"id": "a2", "title": "Broken", "text": ',
        "",
        json.dumps(
            {"id": "a3", "title": "Third", "text": "Body three.", "published": "2024-01-02"}
        ),
        json.dumps({"id": "a4", "title": "No text"}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"id": "a1", "title": "Again", "text": "Duplicate."}),
    ]
    _write(tmp_path / "feed.jsonl", "\n".join(lines) + "\n")
    load = load_corpus(tmp_path)
    assert [(a.id, a.title, a.body, a.path) for a in load.articles] == [
        ("a1", "First", "Body one.\nMore.", "feed.jsonl"),
        ("a3", "Third", "Body three.", "feed.jsonl"),
    ]
    assert load.articles[0].url == "https://x/1"
    assert load.articles[1].published == "2024-01-02"
    reasons = [s.reason for s in load.skipped]
    assert all(s.path == "feed.jsonl" for s in load.skipped)
    assert reasons[0].startswith("line 2: invalid JSON")
    assert reasons[1] == "line 5: missing 'text'"
    assert reasons[2].startswith("line 6: expected a JSON object")
    assert reasons[3] == "line 7: duplicate article id 'a1' (already in feed.jsonl)"


def test_jsonl_without_any_good_line_is_skipped(tmp_path: Path) -> None:
    _write(tmp_path / "bad.jsonl", "{nope\n")
    skipped = _only_skip(load_corpus(tmp_path))
    assert "no usable article" in skipped.reason
    assert "line 1" in skipped.reason


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.md", b"", "empty file"),
        ("blank.txt", b"  \n\n \t\n", "empty file"),
        ("binary.txt", b"Title\n\x00\x01\x02body", "binary file (contains NUL bytes)"),
        ("latin1.txt", b"Title\nCaf\xe9 au lait.\n", "not valid UTF-8 (byte 0xe9 at offset 9)"),
        ("no-body.md", b"---\ntitle: Only a title\n---\n\n", "empty body"),
        ("no-body.txt", b"Only a headline\n\n", "empty body (only a title line)"),
        ("report.pdf", b"%PDF-1.4", "unsupported file type .pdf"),
        ("README", b"hello", "unsupported file type"),
    ],
)
def test_bad_files_are_skipped_with_a_reason(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    _write(tmp_path / name, content)
    skipped = _only_skip(load_corpus(tmp_path))
    assert skipped == Skipped(path=name, reason=reason)


def test_invalid_utf8_offset_counts_the_bom(tmp_path: Path) -> None:
    _write(tmp_path / "x.md", b"\xef\xbb\xbf# T\n\nab\xff")
    assert _only_skip(load_corpus(tmp_path)).reason == "not valid UTF-8 (byte 0xff at offset 10)"


def test_broken_front_matter_is_skipped(tmp_path: Path) -> None:
    _write(tmp_path / "broken.md", "---\ntitle: [unclosed\nid: x\n---\n\nBody.\n")
    _write(tmp_path / "list.md", "---\n- a\n- b\n---\n\nBody.\n")
    load = load_corpus(tmp_path)
    assert load.articles == []
    by_path = {s.path: s.reason for s in load.skipped}
    assert by_path["broken.md"].startswith("broken front matter: ")
    assert "line" in by_path["broken.md"]
    assert "\n" not in by_path["broken.md"]
    assert by_path["list.md"] == "broken front matter: expected key: value pairs, got a list"


def test_missing_title_is_skipped(tmp_path: Path) -> None:
    _write(tmp_path / "untitled.md", "---\nsource: Somewhere\n---\n\nJust a body.\n")
    assert _only_skip(load_corpus(tmp_path)).reason.startswith("missing title")


def test_duplicate_id_keeps_the_first_file_in_sorted_order(tmp_path: Path) -> None:
    _write(tmp_path / "b.md", "---\nid: story\ntitle: B\n---\nBody B.\n")
    _write(tmp_path / "a.md", "---\nid: story\ntitle: A\n---\nBody A.\n")
    _write(tmp_path / "sub" / "story.txt", "Title\nBody C.\n")
    load = load_corpus(tmp_path)
    assert [(a.title, a.path) for a in load.articles] == [("A", "a.md")]
    assert load.skipped == [
        Skipped("b.md", "duplicate article id 'story' (already in a.md)"),
        Skipped("sub/story.txt", "duplicate article id 'story' (already in a.md)"),
    ]


def test_hidden_files_and_folders_are_ignored(tmp_path: Path) -> None:
    _write(tmp_path / ".git" / "config.txt", "Title\nBody.\n")
    _write(tmp_path / ".DS_Store", b"\x00\x00\x00\x01Bud1")
    _write(tmp_path / "sub" / ".hidden.md", "# Hidden\n\nBody.\n")
    _write(tmp_path / "sub" / "z.txt", "Zed\nBody z.\n")
    _write(tmp_path / "a.txt", "Ay\nBody a.\n")
    load = load_corpus(tmp_path)
    assert load.skipped == []
    assert [a.path for a in load.articles] == ["a.txt", "sub/z.txt"]


def test_every_skip_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _write(tmp_path / "a.pdf", b"%PDF")
    _write(tmp_path / "b.txt", b"")
    with caplog.at_level(logging.WARNING, logger="index.corpus.articles"):
        load = load_corpus(tmp_path)
    assert len(load.skipped) == 2
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert messages == ["skipped a.pdf: unsupported file type .pdf", "skipped b.txt: empty file"]


def test_missing_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nope")


def test_file_instead_of_folder_raises(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.txt", "Title\nBody.\n")
    with pytest.raises(CorpusError, match="not a folder"):
        load_corpus(path)


def test_empty_folder_loads_nothing(tmp_path: Path) -> None:
    assert load_corpus(tmp_path) == CorpusLoad(articles=[], skipped=[])


# --------------------------------------------------------------------------- load_file


def test_load_file_returns_articles_and_raises_on_bad_input(tmp_path: Path) -> None:
    good = _write(tmp_path / "dir" / "good.txt", "Title\nBody.\n")
    assert load_file(good, relative_to=tmp_path) == [
        Article(id="good", title="Title", body="Body.", path="dir/good.txt")
    ]
    with pytest.raises(ArticleError, match="empty file"):
        load_file(_write(tmp_path / "empty.md", b""))
    with pytest.raises(ArticleError, match=r"unsupported file type \.docx"):
        load_file(_write(tmp_path / "x.docx", b"PK"))
    with pytest.raises(ArticleError, match="cannot read file"):
        load_file(tmp_path / "missing.txt")


# --------------------------------------------------------------------------- the shipped corpus


@pytest.mark.parametrize(
    ("name", "seed"),
    [
        ("kim-weapons-showcase-foreign-allies", "000_3e70d4bc8ca341fa.txt"),
        ("kim-weapons-russian-defence-chief", "001_ce98a0bc724eb095.txt"),
    ],
)
def test_converted_seed_articles_are_verbatim(name: str, seed: str) -> None:
    seed_text = (SEEDS / seed).read_text(encoding="utf-8")
    seed_lines = seed_text.split("\n")
    [article] = load_file(REPO / "data" / "articles" / f"{name}.md")
    assert article.id == name
    assert article.title == seed_lines[0]
    assert article.url is None and article.published is None and article.source is None
    paragraphs = article.body.split("\n\n")
    assert len(paragraphs) >= 8
    for paragraph in paragraphs:
        assert paragraph in seed_lines  # each kept paragraph is a whole line of the seed
        assert paragraph in seed_text
    for residue in ("north korea flag", "Credit: Unsplash"):
        assert residue not in article.body
    assert paragraphs.count(
        "North Korea displays the latest missiles and drones to Russian and Chinese delegates."
    ) == (1 if name == "kim-weapons-showcase-foreign-allies" else 0)


def test_shipped_corpus_loads_cleanly() -> None:
    load = load_corpus(REPO / "data" / "articles")
    assert load.skipped == []
    assert {a.id for a in load.articles} >= {
        "kim-weapons-showcase-foreign-allies",
        "kim-weapons-russian-defence-chief",
    }
