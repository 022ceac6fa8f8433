"""Split article bodies into paragraphs and sentences with exact character offsets.

Every :class:`~index.types.Sentence` produced here satisfies
``article.body[s.start:s.end] == s.text``: sentences are located in the body by position,
never rebuilt from the segmenter's output.

Sentence boundaries come from ``pysbd`` (rule-based: Mr./Dr./U.S./St., curly quotes, ellipses,
...), but pysbd is only asked *where* sentences are, never what they say:

* A fast path first cuts a paragraph at unambiguous ends (``said. The``: a lower-case word that
  is not an abbreviation, an end mark, a capital; no quotation or bracket open). Pieces with
  no sentence punctuation before their end (most of them) never reach pysbd, which is slow
  (about 2,500 sentences/s on its own).
* pysbd runs on a copy of the text in which every whitespace character is a plain space (same
  length, so positions line up; a single line break inside a paragraph is a soft wrap, not a
  sentence boundary). Each segment it returns is located in that copy with a forward-moving
  ``str.find``. A segment that cannot be found (pysbd rewrites a few rare characters such as
  ``∯``) is ignored: located segments only contribute *cut points*, and everything between two
  cut points is kept, so no text is ever lost.
* ``Segmenter.segment`` itself is not used: its ``char_span`` mapping runs one uncached regex
  over the whole text per sentence (quadratic, and it drops or misplaces repeated sentences).
  ``Segmenter.processor(text).process()`` gives the same segments without that step.
* pysbd slows down more than linearly on long inputs, so pieces longer than ``_CHUNK_CHARS``
  are cut into chunks at safe sentence ends (or clause boundaries) first.
* Two pysbd quirks are patched: a sentence ending in a closing single curly quote
  (``‘Fine.’ She left.``) is split, and a piece with no letter or digit (a stray ``’`` or ``)``)
  is merged into its neighbour.

Pieces longer than ``max_chars`` are split at the last clause boundary (``; : , — –``) before
the cap, else at the last whitespace, else (no whitespace at all) hard at the cap. Of a run of
more than :data:`~index.corpus.caps.MAX_SENTENCE_CHARS` characters without a space, only the
start is indexed (with a warning).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import lru_cache
from itertools import pairwise

import pysbd
from pysbd.languages import Language

from index.corpus.caps import MAX_SENTENCE_CHARS
from index.types import Article, Sentence

logger = logging.getLogger(__name__)

__all__ = ["paragraph_spans", "split_corpus", "split_sentences"]

# Paragraphs longer than this are cut into chunks before pysbd sees them (pysbd's cost grows
# faster than linearly with the input length; ~1,500 characters is its sweet spot).
_CHUNK_CHARS = 1500

# Characters that can end a sentence, and characters that may follow the end mark.
_TERMINALS = ".!?…‼⁇⁈⁉。！？"
_CLOSERS = "\"'”’»)]}"
_TERMINAL_RE = re.compile("[" + re.escape(_TERMINALS) + "]")

# An unambiguous sentence end: a whole word ending in at least two lower-case letters (so not
# an initial, "Mr" or "U.S"; the caller also rejects pysbd's abbreviations), an end mark,
# optional closing quotes or brackets, whitespace, then an upper-case letter or digit (possibly
# after an opening quote or bracket). The whitespace run is the cut.
_SAFE_CUT_RE = re.compile(
    r"(?<![\w.’'-])(?P<word>[A-Za-z]*[a-z]{2}(?:[’'][a-z]+)?)[.!?]+[\"'”’)\]]*"
    r"(?P<gap>\s+)(?=[\"“‘(\[]?[A-Z0-9])",
)
_WORD_CHAR_RE = re.compile(r"[^\W_]")
# A ’ that closes a quotation rather than being an apostrophe inside a word.
_CLOSING_SINGLE_QUOTE_RE = re.compile(r"’(?![A-Za-z])")

# pysbd does not end a sentence after a closing single curly quote (‘Fine.’ She left.), since
# ’ is also the apostrophe. Such an end is accepted when a ‘ was opened since the last one.
_SINGLE_QUOTE_END_RE = re.compile(r"[.!?]’(?P<gap>\s+)(?=[“‘\"(]?[A-Z0-9])")

# Clause boundaries for splitting an over-long sentence: , ; : followed by whitespace, or a dash.
_CLAUSE_RE = re.compile(r"[;:,](?=\s)|[—–]")
_UNBROKEN_RE = re.compile(rf"\S{{{MAX_SENTENCE_CHARS + 1},}}")


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    """The shared pysbd segmenter (built once)."""
    return pysbd.Segmenter(language="en", clean=False, char_span=False)


@lru_cache(maxsize=1)
def _abbreviations() -> frozenset[str]:
    """pysbd's English abbreviations, lower-case, without the final period."""
    module = Language.get_language_code("en")
    return frozenset(a.strip().lower().rstrip(".") for a in module.Abbreviation.ABBREVIATIONS)


@lru_cache(maxsize=1)
def _space_table() -> dict[int, int]:
    """A ``str.translate`` table turning every whitespace character into a plain space."""
    # Every character for which str.isspace() is true lies below U+3001.
    return {c: 0x20 for c in range(0x3001) if chr(c).isspace() and c != 0x20}


def paragraph_spans(body: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each paragraph of ``body``; paragraphs are separated by blank lines.

    A blank line is empty or holds only whitespace. Spans exclude the whitespace around a
    paragraph, and empty paragraphs are dropped, so ``body[start:end]`` is never empty and
    never starts or ends with whitespace.
    """
    spans: list[tuple[int, int]] = []
    para_start = -1  # offset of the first line of the current paragraph, -1 when outside one
    para_end = -1  # end of the last non-blank line seen in the current paragraph
    pos = 0
    length = len(body)
    while pos <= length:
        newline = body.find("\n", pos)
        line_end = length if newline == -1 else newline
        line = body[pos:line_end]
        if line.strip():
            if para_start < 0:
                para_start = pos + (len(line) - len(line.lstrip()))
            para_end = pos + len(line.rstrip())
        elif para_start >= 0:
            spans.append((para_start, para_end))
            para_start = -1
        if newline == -1:
            break
        pos = newline + 1
    if para_start >= 0:
        spans.append((para_start, para_end))
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink ``[start, end)`` so that it neither starts nor ends with whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _has_word(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` holds a letter or a digit."""
    return _WORD_CHAR_RE.search(text, start, end) is not None


def _needs_segmenter(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` has sentence punctuation anywhere but at its very end."""
    core = text[start:end].rstrip(_TERMINALS + _CLOSERS + " ")
    return _TERMINAL_RE.search(core) is not None


def _single_quote_open(span: str) -> bool:
    """Whether ``span`` has a ‘ that no closing ’ (not an apostrophe) follows."""
    opened = span.rfind("‘")
    return opened >= 0 and _CLOSING_SINGLE_QUOTE_RE.search(span, opened) is None


def _plain_sentence_ends(flat: str) -> list[int]:
    """Unambiguous sentence ends in a paragraph, found without pysbd (the fast path).

    A cut is taken at ``word. Next`` (see ``_SAFE_CUT_RE``) when the word is not a known
    abbreviation and no quotation or bracket is open since the previous cut: pysbd keeps
    quoted or bracketed sentences together, and so does this.
    """
    abbreviations = _abbreviations()
    cuts: list[int] = []
    previous = 0
    for match in _SAFE_CUT_RE.finditer(flat):
        if match.group("word").lower() in abbreviations:
            continue
        gap = match.start("gap")
        span = flat[previous:gap]
        if (
            span.count("“") > span.count("”")
            or span.count("(") > span.count(")")
            or span.count("[") > span.count("]")
            or span.count('"') % 2
            or _single_quote_open(span)
        ):
            continue
        cuts.append(gap)
        previous = gap
    return cuts


def _chunks(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """Cut ``text[start:end]`` into pieces of about ``limit`` characters at safe sentence ends."""
    if end - start <= limit:
        return [(start, end)]
    abbreviations = _abbreviations()
    cuts = [
        m.start("gap")
        for m in _SAFE_CUT_RE.finditer(text, start, end)
        if m.group("word").lower() not in abbreviations
    ]
    pieces: list[tuple[int, int]] = []
    i = 0
    lo = start
    while end - lo > limit:
        hi = lo + limit
        while i < len(cuts) and cuts[i] <= lo:
            i += 1
        best = -1
        j = i
        while j < len(cuts) and cuts[j] <= hi:
            best = cuts[j]
            j += 1
        if best < lo + limit // 2:
            # No sentence end in the second half of the window: take the next one if it is
            # near, else cut like an over-long sentence (clause boundary or whitespace).
            if j < len(cuts) and cuts[j] <= lo + 2 * limit:
                best = cuts[j]
            elif best <= lo:
                best = _cut_point(text, lo, hi)
        pieces.append((lo, best))
        lo = best
        while lo < end and text[lo].isspace():
            lo += 1
    if lo < end:
        pieces.append((lo, end))
    return pieces


def _segment(flat: str, start: int, end: int) -> list[int]:
    """Cut points (absolute offsets) of the sentences pysbd finds in ``flat[start:end]``."""
    chunk = flat[start:end]
    try:
        # The leading space matters: pysbd only sees a ‘ quotation that follows whitespace.
        segments = _segmenter().processor(" " + chunk).process()
    except Exception:  # pysbd is regex soup; never let one odd paragraph stop a build
        logger.debug("pysbd failed on a chunk of %d characters", len(chunk), exc_info=True)
        return []
    cuts: list[int] = []
    cursor = 0
    for segment in segments or ():
        if not isinstance(segment, str):
            continue
        needle = segment.strip()
        if not needle:
            continue
        found = chunk.find(needle, cursor)
        if found < 0:
            # pysbd changed the text of this segment (rare placeholder characters);
            # its text stays inside the neighbouring pieces.
            continue
        cuts.append(start + found)
        cursor = found + len(needle)
        cuts.append(start + cursor)
    return cuts


def _single_quote_cuts(flat: str) -> list[int]:
    """Cut points after ``.’`` / ``!’`` / ``?’`` with a ``‘`` opened since the last such cut."""
    cuts: list[int] = []
    previous = 0
    for match in _SINGLE_QUOTE_END_RE.finditer(flat):
        if flat.rfind("‘", previous, match.start()) >= 0:
            previous = match.start("gap")
            cuts.append(previous)
    return cuts


def _cut_point(text: str, lo: int, hi: int) -> int:
    """Where to end a piece starting at ``lo`` that must end at or before ``hi`` (``hi > lo``).

    The last clause boundary in the second three quarters of the window, else the last
    whitespace, else ``hi`` itself. The result is always in ``(lo, hi]``.
    """
    min_end = lo + max(1, (hi - lo) // 4)
    best = -1
    for match in _CLAUSE_RE.finditer(text, lo, hi + 1):
        if match.end() > hi:
            break
        if match.end() >= min_end:
            best = match.end()
    if best > lo:
        return best
    for pos in range(min(hi, len(text) - 1), lo, -1):
        if text[pos].isspace():
            return pos
    return hi


def _limit(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Split the trimmed piece ``text[start:end]`` into trimmed pieces of <= ``max_chars``."""
    out: list[tuple[int, int]] = []
    while end - start > max_chars:
        cut = _cut_point(text, start, start + max_chars)
        piece = _trim(text, start, cut)
        if piece[0] < piece[1]:
            out.append(piece)
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        out.append((start, end))
    return out


def _sentence_spans(body: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Trimmed sentence spans inside the paragraph ``body[start:end]``."""
    flat = body[start:end].translate(_space_table())
    offset = start
    limit = max(_CHUNK_CHARS, max_chars)
    cuts = {0, len(flat)}
    piece_start = 0
    for piece_end in [*_plain_sentence_ends(flat), len(flat)]:
        lo, hi = _trim(flat, piece_start, piece_end)
        piece_start = piece_end
        for chunk_lo, chunk_hi in _chunks(flat, lo, hi, limit) if lo < hi else ():
            cuts.add(chunk_lo)
            cuts.add(chunk_hi)
            if _needs_segmenter(flat, chunk_lo, chunk_hi):
                cuts.update(_segment(flat, chunk_lo, chunk_hi))
    if "‘" in flat:
        cuts.update(_single_quote_cuts(flat))
    pieces: list[tuple[int, int]] = []
    ordered = sorted(cuts)
    for a, b in pairwise(ordered):
        s, e = _trim(flat, a, b)
        if s >= e:
            continue
        if pieces and not _has_word(flat, s, e):
            pieces[-1] = (pieces[-1][0], e)  # a stray ’ or ) belongs to the sentence before
        elif len(pieces) == 1 and not _has_word(flat, *pieces[0]):
            pieces[0] = (pieces[0][0], e)  # and a leading one to the sentence after
        else:
            pieces.append((s, e))
    spans: list[tuple[int, int]] = []
    for s, e in pieces:
        spans.extend((x + offset, y + offset) for x, y in _limit(flat, s, e, max_chars))
    return spans


def _indexed_parts(body: str, start: int, end: int) -> list[tuple[int, int]]:
    """``body[start:end]`` less what follows the first :data:`~index.corpus.caps.MAX_SENTENCE_CHARS`
    characters of any longer run without a space: that is no sentence (a 4.5 MB "word"), and
    would give thousands of pieces. Logged."""
    parts: list[tuple[int, int]] = []
    for run in _UNBROKEN_RE.finditer(body, start, end):
        logger.warning(
            "%s characters without a space (%r...): only the first %s are indexed",
            f"{run.end() - run.start():,}",
            run.group()[:30],
            f"{MAX_SENTENCE_CHARS:,}",
        )
        parts.append((start, run.start() + MAX_SENTENCE_CHARS))
        start = run.end()
    parts.append((start, end))
    return parts


def split_sentences(article: Article, max_chars: int = 400) -> list[Sentence]:
    """The sentences of ``article.body``, in order, with exact offsets.

    Guarantees: ``article.body[s.start:s.end] == s.text``; ``s.text`` is non-empty, has no
    leading or trailing whitespace and is at most ``max_chars`` long; sentences do not overlap
    and each lies inside its paragraph (``s.paragraph`` indexes :func:`paragraph_spans`).
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, got {max_chars}")
    body = article.body
    sentences: list[Sentence] = []
    for paragraph, (p_start, p_end) in enumerate(paragraph_spans(body)):
        parts = _indexed_parts(body, p_start, p_end)
        for start, end in (s for part in parts for s in _sentence_spans(body, *part, max_chars)):
            sentences.append(
                Sentence(
                    article_id=article.id,
                    paragraph=paragraph,
                    index=len(sentences),
                    start=start,
                    end=end,
                    text=body[start:end],
                )
            )
    return sentences


def split_corpus(articles: Iterable[Article], max_chars: int = 400) -> list[Sentence]:
    """The sentences of every article, article after article (see :func:`split_sentences`)."""
    sentences: list[Sentence] = []
    for article in articles:
        sentences.extend(split_sentences(article, max_chars=max_chars))
    return sentences
