"""Load a corpus folder of news articles into :class:`~index.types.Article` objects.

Supported files (by extension, case-insensitive):

* ``.md`` / ``.markdown``: YAML front matter (``title``, ``id``, ``source``, ``url``,
  ``published``, ``author``); without a ``title`` the first ``# Heading`` line is the title.
  The body is turned into plain text (:mod:`index.corpus.markdown`: no heading hashes,
  emphasis, link syntax; no heading that repeats the title), so no quote carries markup.
* ``.txt``: the first non-empty line is the title, the rest is the body.
* ``.html`` / ``.htm``: main text, title, date, URL, author and site name via ``trafilatura``.
* ``.jsonl``: one article per line with ``id``, ``title``, ``text`` and optional ``url``,
  ``published``, ``source``, ``author``.

Text is UTF-8 (with or without a BOM), or UTF-16/UTF-32 with a BOM (UTF-16 is also recognised
without one). The body is the text every quote is sliced from, so besides Markdown's markup it
is only normalised in ways that cannot change wording: a BOM is dropped, line endings become
``\\n`` and surrounding whitespace is stripped; text that is not valid Unicode at all (a JSON
or YAML escape of a lone surrogate) becomes U+FFFD, with a warning.

Bad input costs only itself: a file that cannot be loaded is skipped with a one-line reason, a
bad JSONL line (invalid JSON or UTF-8, NUL bytes) only that line (see :class:`CorpusLoad`). Only
regular files are read (a FIFO never blocks the load), and a file or folder that cannot be read
is reported apart, so that a build keeps its articles rather than dropping them.
:func:`load_corpus` only raises when the folder itself is unusable.
"""

from __future__ import annotations

import codecs
import dataclasses
import datetime as dt
import json
import logging
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import frontmatter
import trafilatura
import yaml

from index.corpus.caps import within_caps
from index.corpus.markdown import plain_text
from index.corpus.text import clean_text, shown
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
    """The outcome of :func:`load_corpus`.

    ``skipped``: files and JSONL lines not loaded, with the reason. ``warnings``: articles loaded
    with a caveat (text that was not valid Unicode replaced). ``unreadable``: files and folders
    that could not be read at all (permissions, I/O errors): what they hold is unknown, so a
    build keeps the articles it had from them (see ``index.store.build``).

    Paths are relative to the corpus folder, ``/``-separated, with control characters and
    undecodable bytes escaped (:func:`index.corpus.text.shown`), so they always fit on one line.
    """

    articles: list[Article] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[Skipped] = field(default_factory=list)
    unreadable: list[Skipped] = field(default_factory=list)
    _seen: dict[str, str] = field(default_factory=dict, repr=False)  # id -> file that has it

    def skip(self, path: str, reason: str) -> None:
        """``path`` (or a line of it) is not loaded, for ``reason`` (logged, one line)."""
        reason = " ".join(reason.split())
        logger.warning("skipped %s: %s", path, reason)
        self.skipped.append(Skipped(path=path, reason=reason))

    def cannot_read(self, path: str, reason: str) -> None:
        logger.warning("%s: %s", path, reason)
        self.unreadable.append(Skipped(path=path, reason=reason))

    def take(self, rel: str, loaded: _FileResult) -> None:
        """The articles of one file, but those whose id an earlier file already used."""
        for problem in loaded.line_problems:
            self.skip(rel, problem)
        for note in loaded.notes:
            logger.warning("%s: %s", rel, note)
            self.warnings.append(Skipped(path=rel, reason=note))
        for article, line_number in loaded.articles:
            line = f"line {line_number}: " if line_number is not None else ""
            if article.id in self._seen:
                where = self._seen[article.id]
                self.skip(rel, f"{line}duplicate article id {article.id!r} (already in {where})")
                continue
            self._seen[article.id] = rel
            self.articles.append(article)


class _UnreadableError(ArticleError):
    """A file that exists but cannot be read (permissions, I/O): its content is unknown."""


@dataclass
class _FileResult:
    """Articles read from one file (with their JSONL line numbers), unusable lines, caveats."""

    articles: list[tuple[Article, int | None]]
    line_problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def load_corpus(directory: Path) -> CorpusLoad:
    """Load every supported file under ``directory`` (recursively, in sorted order).

    Hidden files and folders (``.git``, ``.DS_Store``, ...) are ignored. Unsupported or broken
    files, bad JSONL lines and duplicate article ids are skipped and listed in
    :attr:`CorpusLoad.skipped` (with a warning in the log); the first file to use an id keeps it.
    Files and subfolders that cannot be read are listed in :attr:`CorpusLoad.unreadable`.

    Raises:
        CorpusError: ``directory`` does not exist, is not a folder, or cannot be read.
    """
    directory = Path(directory)
    if not directory.exists():
        raise CorpusError(f"corpus folder {str(directory)!r} does not exist")
    if not directory.is_dir():
        raise CorpusError(f"corpus path {str(directory)!r} is not a folder")

    result = CorpusLoad()
    files, folders = _corpus_files(directory)
    for folder in folders:
        result.cannot_read(folder.path, folder.reason)
    for path in files:
        rel = _relative(path, directory)
        suffix = path.suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            kind = f"unsupported file type {shown(suffix)}" if suffix else "unsupported file type"
            result.skip(rel, kind)
            continue
        try:
            result.take(rel, _load(path, rel))
        except _UnreadableError as exc:
            result.cannot_read(rel, str(exc))
        except ArticleError as exc:
            result.skip(rel, str(exc))
        except Exception as exc:  # a bug or a library failure: one file must not stop the load
            logger.exception("unexpected error while loading %s", rel)
            result.skip(rel, f"cannot load: {type(exc).__name__}: {exc}")
    return result


def load_file(path: Path, *, relative_to: Path | None = None) -> list[Article]:
    """Load the article(s) of one file.

    ``Article.path`` is ``path`` relative to ``relative_to`` when given, else the path as passed.
    A JSONL file returns its good lines (bad ones are logged); it only fails when none is good.

    Raises:
        ArticleError: the file cannot be read, has an unsupported type or holds no usable article.
    """
    path = Path(path)
    rel = _relative(path, relative_to) if relative_to is not None else shown(path.as_posix())
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ArticleError(f"unsupported file type {suffix}" if suffix else "unsupported file type")
    loaded = _load(path, rel)
    for problem in loaded.line_problems:
        logger.warning("skipped part of %s: %s", rel, problem)
    for note in loaded.notes:
        logger.warning("%s: %s", rel, note)
    return [article for article, _ in loaded.articles]


# --------------------------------------------------------------------------- walking


def _corpus_files(directory: Path) -> tuple[list[Path], list[Skipped]]:
    """Every non-hidden entry below ``directory`` that is not a folder, sorted by relative
    path, and the subfolders that could not be listed (with the reason).

    Raises:
        CorpusError: ``directory`` itself cannot be listed.
    """
    found: list[Path] = []
    errors: list[OSError] = []
    for root, dirs, files in os.walk(directory, onerror=errors.append):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found.extend(Path(root, name) for name in files if not name.startswith("."))
    unreadable: list[Skipped] = []
    for exc in errors:
        folder = Path(exc.filename) if exc.filename else directory
        reason = f"cannot read the folder: {exc.strerror or exc}"
        if folder == directory:
            raise CorpusError(f"{reason} ({shown(str(directory))})")
        unreadable.append(Skipped(_relative(folder, directory), reason))
    return sorted(found, key=lambda p: p.relative_to(directory).parts), unreadable


def _relative(path: Path, directory: Path) -> str:
    """``path`` relative to ``directory``, ``/``-separated and printable on one line."""
    return shown(path.relative_to(directory).as_posix())


# --------------------------------------------------------------------------- reading


def _load(path: Path, rel: str) -> _FileResult:
    """Dispatch on the file extension (which the caller has checked)."""
    suffix = path.suffix.lower()
    data = _read_file(path)
    if not data.strip():
        raise ArticleError("empty file")
    if suffix in JSONL_SUFFIXES:
        return _parse_jsonl(data, rel)
    if suffix in HTML_SUFFIXES:
        article = _parse_html(data, path, rel)
    else:
        text = _decode(data)
        if not text.strip():
            raise ArticleError("empty file")
        parse = _parse_markdown if suffix in MARKDOWN_SUFFIXES else _parse_text
        article = parse(text, path, rel)
    article, notes = _checked(article)
    return _FileResult([(article, None)], notes=notes)


def _read_file(path: Path) -> bytes:
    """The bytes of a regular file; anything else (a FIFO, a device) is refused unread.

    Opened without blocking and checked on the open descriptor, so a FIFO (or a file replaced
    by one meanwhile) never waits for a writer.

    Raises:
        ArticleError: not a regular file, or gone.
        _UnreadableError: it exists but cannot be read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ArticleError("cannot read file: it was removed while loading") from None
    except OSError as exc:
        raise _UnreadableError(f"cannot read file: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ArticleError(f"not a regular file ({_file_kind(mode)}); only files are read")
        with open(fd, "rb", closefd=False) as handle:
            return handle.read()
    except OSError as exc:
        raise _UnreadableError(f"cannot read file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _file_kind(mode: int) -> str:
    kinds = {
        stat.S_ISFIFO: "a named pipe (FIFO)",
        stat.S_ISSOCK: "a socket",
        stat.S_ISCHR: "a character device",
        stat.S_ISBLK: "a block device",
        stat.S_ISDIR: "a folder",
    }
    return next((name for test, name in kinds.items() if test(mode)), "not a file")


_BOMS = (  # UTF-32 first: its little-endian BOM begins with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _wide_encoding(data: bytes) -> tuple[str, int] | None:
    """``(encoding, BOM length)`` for UTF-16/32 text (with a BOM, or UTF-16 without one)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return None if encoding == "utf-8" else (encoding, len(bom))
    guessed = _utf16_without_bom(data)
    return (guessed, 0) if guessed else None


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` when ``data`` reads as UTF-16 text without a BOM.

    Text in a Latin script has a NUL as every other byte in UTF-16 (the high byte of each
    character), on one side only; binary data has NULs anywhere. The text must also decode and
    be printable, so a binary file is never taken for text.
    """
    if len(data) < 4 or len(data) % 2:
        return None
    sample = data[:4096]
    pairs = len(sample) // 2
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if odd >= pairs / 4 and even <= pairs / 50:
        encoding = "utf-16-le"
    elif even >= pairs / 4 and odd <= pairs / 50:
        encoding = "utf-16-be"
    else:
        return None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    head = text[:2048]
    odd_chars = sum(1 for ch in head if not (ch.isprintable() or ch.isspace()))
    return encoding if odd_chars <= len(head) / 100 else None


def _decode(data: bytes) -> str:
    """The text of a whole file (UTF-8, or UTF-16/32), line endings normalised to ``\\n``."""
    wide = _wide_encoding(data)
    if wide is not None:
        return _decode_wide(data, *wide)
    if b"\x00" in data:
        raise ArticleError("binary file (contains NUL bytes)")
    offset = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[offset:].decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = data[offset + exc.start]
        raise ArticleError(
            f"not valid UTF-8 (byte 0x{bad:02x} at offset {exc.start + offset})"
        ) from None
    return _normalise_newlines(text)


def _decode_wide(data: bytes, encoding: str, bom: int) -> str:
    """UTF-16/32 text after its BOM (``bom`` bytes)."""
    name = encoding.upper().removesuffix("-LE").removesuffix("-BE")
    try:
        text = data[bom:].decode(encoding)
    except UnicodeDecodeError as exc:
        raise ArticleError(f"not valid {name} text (at byte offset {exc.start + bom})") from None
    if "\x00" in text:
        raise ArticleError(f"binary file ({name} with NUL characters)")
    return _normalise_newlines(text)


def _checked(article: Article) -> tuple[Article, list[str]]:
    """``article`` as valid Unicode and within the size caps, with a note for each change."""
    article, notes = _valid_unicode(article)
    article, cut = within_caps(article)
    return article, notes + cut


def _valid_unicode(article: Article) -> tuple[Article, list[str]]:
    """``article`` with text that is not valid Unicode (lone surrogates, from a JSON or YAML
    escape such as ``"\\ud800"``) replaced by U+FFFD, and a note naming the fields."""
    fields = ("id", "title", "body", "url", "published", "source", "author")
    bad = {
        name: clean_text(value)
        for name in fields
        if isinstance(value := getattr(article, name), str) and clean_text(value) != value
    }
    if not bad:
        return article, []
    note = (
        f"{', '.join(repr(n) for n in bad)}: text that is not valid Unicode "
        "(a lone surrogate) replaced with U+FFFD"
    )
    return dataclasses.replace(article, **bad), [note]


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
        metadata.update(_as_written(fm, metadata))

    title = _clean_title(metadata.get("title"), "front matter")
    if title is None:
        heading = _HEADING_RE.search(body)
        if heading is not None and heading.group("title").strip():
            title = heading.group("title").strip()
            body = body[: heading.start()] + body[heading.end() :]
    if title is None:
        raise ArticleError("missing title (no 'title' in front matter and no '# Heading' line)")
    # a fetched page is stored as written (``format: text``); anything else is Markdown
    body = body.strip() if metadata.get("format") == "text" else plain_text(body, title)
    if not body:
        raise ArticleError("empty body")
    return Article(
        id=_article_id(metadata.get("id"), shown(path.stem), "front matter"),
        title=title,
        body=body,
        path=rel,
        **_optional_fields(metadata, "front matter"),
    )


_AS_WRITTEN = ("title", "id", "source", "author", "url")


def _as_written(front_matter: str, metadata: dict[str, Any]) -> dict[str, str]:
    """The text fields that YAML read as something else, as written.

    YAML 1.1 reads ``title: yes`` as True, ``title: 1e3`` as 1000.0 and ``id: 0123`` as 83; a
    title or an id is text, so such a plain value is taken exactly as it stands in the file.
    """
    wanted = [k for k in _AS_WRITTEN if metadata.get(k) is not None]
    wanted = [k for k in wanted if not isinstance(metadata[k], (str, dict, list))]
    if not wanted:
        return {}
    node = yaml.compose(front_matter, Loader=yaml.SafeLoader)  # parsed once already: no error
    if not isinstance(node, yaml.MappingNode):
        return {}
    raw = {
        key.value: value.value
        for key, value in node.value
        if isinstance(key, yaml.ScalarNode) and isinstance(value, yaml.ScalarNode)
    }
    return {k: raw[k] for k in wanted if isinstance(raw.get(k), str)}


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
    return Article(id=shown(path.stem), title=title, body=body, path=rel)


def html_fields(html: str | bytes, url: str | None = None) -> dict[str, Any] | None:
    """trafilatura's main text and metadata of a page (None: it found no main text), the one
    way the corpus loader and the fetcher read HTML. Broken markup raises what trafilatura or
    lxml raise."""
    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        # No guessing dates from copyright lines and the like: a date must be declared.
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if document is None:
        return None
    return document if isinstance(document, dict) else document.as_dict()


def _parse_html(data: bytes, path: Path, rel: str) -> Article:
    """The main text and metadata of an HTML page, through trafilatura."""
    html: str | bytes
    if _wide_encoding(data) is not None:
        html = _decode(data)
    elif b"\x00" in data:
        raise ArticleError("binary file (contains NUL bytes)")
    else:
        try:
            html = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            html = data  # a legacy encoding: trafilatura reads the declared charset
    try:
        fields = html_fields(html)
    except Exception as exc:  # trafilatura/lxml raise many kinds of errors on broken markup
        raise ArticleError(f"cannot parse HTML: {type(exc).__name__}: {exc}") from None
    if fields is None:
        raise ArticleError("empty body (no main text found in the HTML)")
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
        id=shown(path.stem),
        title=title,
        body=body,
        url=_optional_text(fields.get("url"), "url", "HTML"),
        published=_optional_text(fields.get("date"), "published", "HTML"),
        source=_optional_text(source, "source", "HTML"),
        author=_optional_text(fields.get("author"), "author", "HTML"),
        path=rel,
    )


def _parse_jsonl(data: bytes, rel: str) -> _FileResult:
    """One article per line; a bad line (invalid JSON or UTF-8, NUL bytes, a missing field)
    is reported and costs only itself (the file fails only when no line is good)."""
    result = _FileResult([])
    for number, raw in _jsonl_lines(data):
        try:
            line = _decode_line(raw)
            if not line.strip():
                continue
            article, notes = _checked(_parse_jsonl_line(line, rel))
        except ArticleError as exc:
            result.line_problems.append(f"line {number}: {exc}")
            continue
        result.articles.append((article, number))
        result.notes.extend(f"line {number}: {note}" for note in notes)
    if not result.articles:
        problems = result.line_problems
        detail = f" ({problems[0]})" if problems else ""
        raise ArticleError(f"no usable article in the JSONL file{detail}")
    return result


def _jsonl_lines(data: bytes) -> list[tuple[int, str | bytes]]:
    """Numbered lines: text for a UTF-16/32 file (decoded whole), else bytes, each decoded on
    its own so that one bad line does not cost the others."""
    wide = _wide_encoding(data)
    if wide is not None:
        encoding, bom = wide
        try:  # a bad code unit is a lone surrogate, which the line's check reports
            text = data[bom:].decode(encoding, "surrogatepass")
        except UnicodeDecodeError:  # a cut-off last character
            text = data[bom:].decode(encoding, "replace")
        return list(enumerate(_normalise_newlines(text).split("\n"), start=1))
    data = data.removeprefix(codecs.BOM_UTF8)
    return list(enumerate(data.splitlines(), start=1))


def _decode_line(line: str | bytes) -> str:
    if isinstance(line, str):
        if "\x00" in line:
            raise ArticleError("binary data (contains NUL characters)")
        return line
    if b"\x00" in line:
        raise ArticleError("binary data (contains NUL bytes)")
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArticleError(
            f"not valid UTF-8 (byte 0x{line[exc.start]:02x} at column {exc.start + 1})"
        ) from None


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
