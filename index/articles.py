"""Load a corpus folder of news articles into :class:`~index.types.Article` objects.

Supported files (by extension, case-insensitive):

* ``.md`` / ``.markdown``: YAML front matter (``title``, ``id``, ``source``, ``url``,
  ``published``, ``author``); without a ``title`` the first ``# Heading`` line is the title.
* ``.txt``: the first non-empty line is the title, the rest is the body.
* ``.html`` / ``.htm``: main text, title, date, URL, author and site name via ``trafilatura``.
* ``.jsonl``: one article per line with ``id``, ``title``, ``text`` and optional ``url``,
  ``published``, ``source``, ``author``.

The body is the text every quote is sliced from, so it is only normalised in ways that cannot
change wording: a UTF-8 BOM is dropped, line endings become ``\\n`` and surrounding whitespace
is stripped. A file that cannot be loaded is skipped with a one-line reason (see
:class:`CorpusLoad`); :func:`load_corpus` only raises when the folder itself is unusable.
"""

from __future__ import annotations

import codecs
import datetime as dt
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import frontmatter
import trafilatura
import yaml

from index.types import Article, ArticleError, CorpusError

logger = logging.getLogger(__name__)

__all__ = ["CorpusLoad", "Skipped", "load_corpus", "load_file"]

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
TEXT_SUFFIXES = frozenset({".txt"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
JSONL_SUFFIXES = frozenset({".jsonl"})
SUPPORTED_SUFFIXES = MARKDOWN_SUFFIXES | TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES

_HEADING_RE = re.compile(r"^#[ \t]+(?P<title>.*?)[ \t#]*$", re.MULTILINE)


@dataclass(frozen=True)
class Skipped:
    """A file (or a JSONL line) that was not loaded, and why."""

    path: str
    reason: str


@dataclass
class CorpusLoad:
    """The outcome of :func:`load_corpus`: the articles, and what was skipped."""

    articles: list[Article] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


@dataclass
class _FileResult:
    """Articles read from one file (with their JSONL line numbers) and the unusable lines."""

    articles: list[tuple[Article, int | None]]
    line_problems: list[str]


def load_corpus(directory: Path) -> CorpusLoad:
    """Load every supported file under ``directory`` (recursively, in sorted order).

    Hidden files and folders (``.git``, ``.DS_Store``, ...) are ignored. Unsupported or broken
    files, bad JSONL lines and duplicate article ids are skipped and listed in
    :attr:`CorpusLoad.skipped` (with a warning in the log); the first file to use an id keeps it.

    Raises:
        CorpusError: ``directory`` does not exist or is not a folder.
    """
    directory = Path(directory)
    if not directory.exists():
        raise CorpusError(f"corpus folder {str(directory)!r} does not exist")
    if not directory.is_dir():
        raise CorpusError(f"corpus path {str(directory)!r} is not a folder")

    result = CorpusLoad()
    seen: dict[str, str] = {}  # article id -> relative path of the file that has it

    def skip(path: str, reason: str) -> None:
        reason = " ".join(reason.split())  # always one line
        logger.warning("skipped %s: %s", path, reason)
        result.skipped.append(Skipped(path=path, reason=reason))

    for path in _corpus_files(directory):
        rel = path.relative_to(directory).as_posix()
        suffix = path.suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            skip(rel, f"unsupported file type {suffix}" if suffix else "unsupported file type")
            continue
        try:
            loaded = _load(path, rel)
        except ArticleError as exc:
            skip(rel, str(exc))
            continue
        except Exception as exc:  # a bug or a library failure: one file must not stop the load
            logger.exception("unexpected error while loading %s", rel)
            skip(rel, f"cannot load: {type(exc).__name__}: {exc}")
            continue
        for problem in loaded.line_problems:
            skip(rel, problem)
        for article, line_number in loaded.articles:
            line = f"line {line_number}: " if line_number is not None else ""
            if article.id in seen:
                skip(
                    rel,
                    f"{line}duplicate article id {article.id!r} (already in {seen[article.id]})",
                )
                continue
            seen[article.id] = rel
            result.articles.append(article)
    return result


def load_file(path: Path, *, relative_to: Path | None = None) -> list[Article]:
    """Load the article(s) of one file.

    ``Article.path`` is ``path`` relative to ``relative_to`` when given, else the path as passed.
    A JSONL file returns its good lines (bad ones are logged); it only fails when none is good.

    Raises:
        ArticleError: the file cannot be read, has an unsupported type or holds no usable article.
    """
    path = Path(path)
    rel = path.relative_to(relative_to).as_posix() if relative_to is not None else path.as_posix()
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ArticleError(f"unsupported file type {suffix}" if suffix else "unsupported file type")
    loaded = _load(path, rel)
    for problem in loaded.line_problems:
        logger.warning("skipped part of %s: %s", rel, problem)
    return [article for article, _ in loaded.articles]


# --------------------------------------------------------------------------- walking


def _corpus_files(directory: Path) -> list[Path]:
    """Every non-hidden file below ``directory``, sorted by relative path."""
    found: list[Path] = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found.extend(Path(root, name) for name in files if not name.startswith("."))
    return sorted(found, key=lambda p: p.relative_to(directory).parts)


# --------------------------------------------------------------------------- reading


def _load(path: Path, rel: str) -> _FileResult:
    """Dispatch on the file extension (which the caller has checked)."""
    suffix = path.suffix.lower()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ArticleError(f"cannot read file: {exc.strerror or exc}") from exc
    if not data.strip():
        raise ArticleError("empty file")
    if suffix in HTML_SUFFIXES:
        return _FileResult([(_parse_html(data, path, rel), None)], [])
    text = _decode(data)
    if not text.strip():
        raise ArticleError("empty file")
    if suffix in MARKDOWN_SUFFIXES:
        return _FileResult([(_parse_markdown(text, path, rel), None)], [])
    if suffix in TEXT_SUFFIXES:
        return _FileResult([(_parse_text(text, path, rel), None)], [])
    return _parse_jsonl(text, rel)


def _check_binary(data: bytes) -> None:
    """Reject UTF-16/32 and binary data (NUL bytes)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ArticleError("UTF-16 text is not supported (save the file as UTF-8)")
    if b"\x00" in data:
        raise ArticleError("binary file (contains NUL bytes)")


def _decode(data: bytes) -> str:
    """UTF-8 text with the BOM dropped and line endings normalised to ``\\n``."""
    _check_binary(data)
    offset = 0
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
        offset = len(codecs.BOM_UTF8)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = data[exc.start]
        raise ArticleError(
            f"not valid UTF-8 (byte 0x{bad:02x} at offset {exc.start + offset})"
        ) from None
    return _normalise_newlines(text)


def _normalise_newlines(text: str) -> str:
    """``\\r\\n`` and lone ``\\r`` become ``\\n``; nothing else changes."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _clean_title(value: object, where: str) -> str | None:
    """A title from metadata: text on one line, or None when missing or blank."""
    if value is None:
        return None
    if isinstance(value, (dict, list, tuple, set)):
        raise ArticleError(f"{where} 'title' must be text, not a {type(value).__name__}")
    title = str(value).strip()
    if "\n" in title or "\r" in title:
        title = " ".join(title.split())
    return title or None


def _optional_text(value: object, name: str, where: str) -> str | None:
    """An optional metadata value as stripped text (``published`` dates become YYYY-MM-DD)."""
    if value is None:
        return None
    if name == "published":
        return _format_date(value)
    if isinstance(value, (dict, list, tuple, set)):
        raise ArticleError(f"{where} {name!r} must be text, not a {type(value).__name__}")
    text = str(value).strip()
    return text or None


class _OptionalFields(TypedDict):
    url: str | None
    published: str | None
    source: str | None
    author: str | None


def _optional_fields(values: dict[str, Any], where: str) -> _OptionalFields:
    """``url``, ``published``, ``source`` and ``author`` from a metadata mapping."""
    return _OptionalFields(
        url=_optional_text(values.get("url"), "url", where),
        published=_optional_text(values.get("published"), "published", where),
        source=_optional_text(values.get("source"), "source", where),
        author=_optional_text(values.get("author"), "author", where),
    )


def _format_date(value: object) -> str | None:
    """``YYYY-MM-DD`` for a date, a datetime or an ISO date string; other text unchanged."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        return text


def _article_id(value: object, fallback: str, where: str) -> str:
    """An explicit id (text or integer, on one line) or ``fallback``."""
    if value is None:
        return fallback
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ArticleError(f"{where} 'id' must be text or a number, not a {type(value).__name__}")
    article_id = str(value).strip()
    if not article_id:
        return fallback
    if any(ch in article_id for ch in "\n\r\t"):
        raise ArticleError(f"{where} 'id' must be on one line")
    return article_id


def _parse_markdown(text: str, path: Path, rel: str) -> Article:
    """A Markdown article with optional YAML front matter."""
    metadata: dict[str, Any] = {}
    body = text
    handler = frontmatter.YAMLHandler()
    if handler.detect(text.lstrip()):
        try:
            fm, body = handler.split(text.lstrip())
        except ValueError:
            raise ArticleError("broken front matter (no closing '---' line)") from None
        try:
            loaded = handler.load(fm)
        except yaml.YAMLError as exc:
            raise ArticleError(f"broken front matter: {_yaml_problem(exc)}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ArticleError(
                f"broken front matter: expected key: value pairs, got a {type(loaded).__name__}"
            )
        metadata = {str(k): v for k, v in loaded.items()}

    title = _clean_title(metadata.get("title"), "front matter")
    if title is None:
        heading = _HEADING_RE.search(body)
        if heading is not None and heading.group("title").strip():
            title = heading.group("title").strip()
            body = body[: heading.start()] + body[heading.end() :]
    if title is None:
        raise ArticleError("missing title (no 'title' in front matter and no '# Heading' line)")
    body = body.strip()
    if not body:
        raise ArticleError("empty body")
    return Article(
        id=_article_id(metadata.get("id"), path.stem, "front matter"),
        title=title,
        body=body,
        path=rel,
        **_optional_fields(metadata, "front matter"),
    )


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """One line describing a YAML error, with its line in the front matter."""
    if isinstance(exc, yaml.MarkedYAMLError):
        problem = exc.problem or exc.context or "invalid YAML"
        mark = exc.problem_mark or exc.context_mark
        if mark is not None:
            return f"{problem} (line {mark.line + 1} of the front matter)"
        return problem
    return " ".join(str(exc).split()) or "invalid YAML"


def _parse_text(text: str, path: Path, rel: str) -> Article:
    """A plain-text article: the first non-empty line is the title."""
    stripped = text.lstrip()
    title_line, _, rest = stripped.partition("\n")
    title = title_line.strip()
    if not title:
        raise ArticleError("missing title")
    body = rest.strip()
    if not body:
        raise ArticleError("empty body (only a title line)")
    return Article(id=path.stem, title=title, body=body, path=rel)


def _parse_html(data: bytes, path: Path, rel: str) -> Article:
    """The main text and metadata of an HTML page, through trafilatura."""
    _check_binary(data)
    html: str | bytes
    try:
        html = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        html = data  # a legacy encoding: trafilatura reads the declared charset
    try:
        document = trafilatura.bare_extraction(
            html,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            # No guessing dates from copyright lines and the like: a date must be declared.
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    except Exception as exc:  # trafilatura/lxml raise many kinds of errors on broken markup
        raise ArticleError(f"cannot parse HTML: {type(exc).__name__}: {exc}") from None
    if document is None:
        raise ArticleError("empty body (no main text found in the HTML)")
    fields: dict[str, Any] = document if isinstance(document, dict) else document.as_dict()
    title = _clean_title(fields.get("title"), "HTML")
    if title is None:
        raise ArticleError("missing title (no <title>, og:title or <h1> in the HTML)")
    raw = _normalise_newlines(str(fields.get("text") or ""))
    paragraphs = [line.strip() for line in raw.split("\n") if line.strip()]
    if paragraphs and " ".join(paragraphs[0].split()) == " ".join(title.split()):
        paragraphs = paragraphs[1:]  # the headline is the title, not part of the body
    body = "\n\n".join(paragraphs)
    if not body:
        raise ArticleError("empty body (no main text found in the HTML)")
    sitename = fields.get("sitename")
    source = sitename if sitename and sitename != fields.get("hostname") else None
    return Article(
        id=path.stem,
        title=title,
        body=body,
        url=_optional_text(fields.get("url"), "url", "HTML"),
        published=_optional_text(fields.get("date"), "published", "HTML"),
        source=_optional_text(source, "source", "HTML"),
        author=_optional_text(fields.get("author"), "author", "HTML"),
        path=rel,
    )


def _parse_jsonl(text: str, rel: str) -> _FileResult:
    """One article per line; bad lines are reported, not fatal (unless no line is good)."""
    articles: list[tuple[Article, int | None]] = []
    problems: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            articles.append((_parse_jsonl_line(line, rel), number))
        except ArticleError as exc:
            problems.append(f"line {number}: {exc}")
    if not articles:
        detail = f" ({problems[0]})" if problems else ""
        raise ArticleError(f"no usable article in the JSONL file{detail}")
    return _FileResult(articles, problems)


def _parse_jsonl_line(line: str, rel: str) -> Article:
    """One JSONL record."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ArticleError(f"invalid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(record, dict):
        raise ArticleError(f"expected a JSON object, got {type(record).__name__}")
    for name in ("id", "title", "text"):
        if record.get(name) in (None, ""):
            raise ArticleError(f"missing {name!r}")
    article_id = _article_id(record["id"], "", "JSONL")
    if not article_id:
        raise ArticleError("missing 'id'")
    title = _clean_title(record["title"], "JSONL")
    if title is None:
        raise ArticleError("missing 'title'")
    if not isinstance(record["text"], str):
        raise ArticleError(f"'text' must be a string, not {type(record['text']).__name__}")
    body = _normalise_newlines(record["text"]).strip()
    if not body:
        raise ArticleError("empty body")
    return Article(
        id=article_id,
        title=title,
        body=body,
        path=rel,
        **_optional_fields(record, "JSONL"),
    )
