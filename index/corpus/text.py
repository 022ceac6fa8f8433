"""Word-level text helpers shared by BM25, overlap scores and the hashing test embedder.

One tokenizer for everything lexical, so the BM25 index, the query and the corroboration
overlap always agree: Unicode words, lower-cased, English stop words dropped, Snowball-stemmed
(PyStemmer, a C library).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

__all__ = [
    "STOPWORDS",
    "clean_text",
    "fold",
    "normalise_question",
    "shown",
    "stem",
    "tokenize",
    "visible",
    "words",
]

_WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")

# A compact English stop list: function words only. Question words are stop words too: they
# say what kind of answer is wanted (see ``index.rank.features``), not what it is about.
_STOPWORD_TEXT = """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom whose why will with would you your yours yourself
    yourselves also may might must shall us s t d ll m re ve y get got let etc
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

# Leading filler people put before a question; removed before retrieval.
_FILLER_RE = re.compile(
    r"^(?:(?:hi|hello|hey|ok|okay|so|um|uh|well|please|pls|quick question)[\s,!.:;-]+)*"
    r"(?:(?:(?:can|could|would|will)\s+you\s+)?(?:please\s+)?"
    r"(?:tell|show|explain\s+to|remind)\s+me\s*(?:,\s*)?(?:please\s*)?"
    r"|(?:i\s+(?:would\s+like|want|wanna|need)\s+to\s+know)\s*"
    r"|(?:do\s+you\s+know)\s*"
    r"|(?:i\s+wonder)\s*"
    r")?",
    re.IGNORECASE,
)
_TRAILING_FILLER_RE = re.compile(r"[\s,]*(?:please|pls|thanks|thank you)?[\s?!.]*$", re.IGNORECASE)


def clean_text(text: str | bytes) -> str:
    """``text`` as valid Unicode, for text that enters from outside (argv, stdin, files, updates).

    What cannot be encoded as UTF-8 becomes U+FFFD: lone surrogates (a JSON ``"\\ud800"``
    escape), the surrogate escapes Python keeps for undecodable bytes in argv and file names,
    and, for ``bytes``, invalid UTF-8. Valid text, paired surrogates included, is unchanged.
    A model's tokenizer refuses a whole call for one lone surrogate; nothing past this does.
    """
    if isinstance(text, bytes | bytearray):
        return bytes(text).decode("utf-8", errors="replace")
    if not isinstance(text, str):
        text = str(text)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # UTF-16 with surrogatepass joins the surrogate pairs; only the lone ones are replaced.
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


_UNSHOWN_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


def shown(text: str) -> str:
    """``text`` for a one-line message: control characters, line separators and surrogates
    (a file name's undecodable bytes) escaped as ``\\n``, ``\\x07``, ``\\udce9``; the rest as is.
    """
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if unicodedata.category(ch) in _UNSHOWN_CATEGORIES:
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out)


def visible(text: str) -> str:
    """``text`` without Unicode format characters (category Cf): zero-width spaces and
    joiners, bidirectional controls (U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), the BOM.
    In a label they forge names: ``Reu\u200dters \u202eswen\u202c`` reads "Reuters news"."""
    if text.isascii():
        return text
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball stem of one lower-case word."""
    return str(_stemmer().stemWord(word))


def fold(text: str) -> str:
    """``text`` lower-cased, compatibility-normalised and without accents (fiancée: fiancee)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    if decomposed.isascii():
        return decomposed
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFKC", stripped)


def words(text: str) -> list[str]:
    """Lower-case, accent-folded Unicode words of ``text`` (apostrophes inside words kept)."""
    return _WORD_RE.findall(fold(text).replace("’", "'"))


def tokenize(text: str) -> list[str]:
    """Stemmed content words of ``text``, in order, with repeats: the BM25 vocabulary."""
    out: list[str] = []
    for word in words(text):
        if word.endswith("'s"):
            word = word[:-2]
        if word in STOPWORDS or not word:
            continue
        out.append(stem(word))
    return out


def normalise_question(text: str) -> str:
    """The question without surrounding filler ("please tell me", "thanks") and odd spacing.

    Case and inner punctuation are kept (the embedding model uses them); the lexical side
    lower-cases and drops punctuation itself through :func:`tokenize`. If stripping the filler
    would leave nothing, the original (whitespace-collapsed) text is returned.
    """
    collapsed = " ".join(unicodedata.normalize("NFKC", text).split())
    stripped = _FILLER_RE.sub("", collapsed, count=1)
    stripped = _TRAILING_FILLER_RE.sub("", stripped).strip(" ,;:-")
    if not stripped or not tokenize(stripped):
        return collapsed
    if stripped[0].islower():
        stripped = stripped[0].upper() + stripped[1:]
    return stripped + "?" if collapsed.endswith("?") and not stripped.endswith("?") else stripped
