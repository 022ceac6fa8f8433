"""Features of a candidate sentence for a question: meaning, words, context and answer type.

Each candidate row gets one feature vector (:data:`FEATURES`); :mod:`index.ranker` turns it
into the probability that the sentence answers the question. Context counts: a sentence is
also judged by its neighbours, its paragraph and its article title, so "He said the talks went
well" can be found by what surrounds it.
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass

import numpy as np

from index.cohesion import cohesive_rows
from index.snapshot import Snapshot
from index.text import tokenize, words

FEATURES: tuple[str, ...] = (
    "dense",  # cosine of question and sentence
    "dense_ctx",  # cosine of question and the sentence with its neighbours (same paragraph)
    "dense_nb",  # best cosine of question and a neighbouring sentence
    "dense_gap",  # dense minus the best dense score among the candidates
    "bm25_rel",  # BM25 score over the best BM25 score among the candidates
    "cov",  # idf-weighted share of the question's words found in the sentence
    "cov_ctx",  # ... in the sentence and its neighbours
    "cov_para",  # ... in the paragraph
    "cov_title",  # ... in the article title
    "cov_gap",  # cov minus the best cov among the candidates
    "type_match",  # the question wants a date/number/name and the sentence has a new one
    "type_miss",  # the question wants one and the sentence has none
    "new_info",  # share of the sentence's words that are not in the question
    "log_len",  # log(1 + content words in the sentence)
    "bigram",  # share of the question's adjacent word pairs found adjacent in the sentence
    "rr_dense",  # 1 / (1 + rank) in the dense list (0 when not in it)
    "rr_bm25",  # 1 / (1 + rank) in the BM25 list (0 when not in it)
    "dense_para",  # cosine of question and the mean of the paragraph's sentence vectors
    "cov_unit",  # cov of the sentence with the one it leans on ("It was ..."), see cohesion
    "dense_unit",  # cosine of question and that unit
    "leans",  # 1 when the sentence leans on or leads into a neighbour
    "surface",  # share of the question's surface words (stop words too) in the sentence
)

# ----------------------------------------------------------------------------- answer types

DATE, NUMBER, NAME = "date", "number", "name"

_MODIFIERS = r"(?:[\w'-]+\s+){0,2}"  # "which Russian official", "what exact year"
_DATE_Q = re.compile(
    rf"\bwhen\b|\b(?:what|which)\s+{_MODIFIERS}(?:years?|century|centuries|decades?|dates?|"
    r"days?|months?|time period|period|era|season)\b|\bhow long ago\b|\bsince when\b",
)
_NUMBER_Q = re.compile(
    r"\bhow (?:many|much|long|old|far|large|big|tall|high|often|fast|deep|wide|heavy|large)\b|"
    rf"\b(?:what|which)\s+{_MODIFIERS}(?:percentage|percent|number|amount|proportion|fraction|"
    r"size|population|ratio|rate|total|sum|count|price|cost)\b",
)
_NAME_Q = re.compile(
    rf"\bwho(?:m|se)?\b|\bwhere\b|\b(?:what|which)\s+{_MODIFIERS}(?:person|people|man|woman|"
    r"men|women|country|countries|city|cities|region|place|continent|states?|islands?|towns?|"
    r"locations?|nations?|organi[sz]ations?|company|companies|groups?|teams?|leaders?|kings?|"
    r"queens?|rulers?|officials?|members?|ministers?|presidents?|politicians?|names?)\b",
)

_WH_WORDS = frozenset(["what", "which", "who", "whom", "whose", "when", "where", "why", "how"])

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_DATE_S = re.compile(
    r"\b(?:1\d{3}|20\d{2})s?\b|\b\d{1,3}0s\b|\b(?:in|since|by|from|until|till|after|before|"
    r"around|about|circa|c\.|ad|year)\s+\d{3,4}\b|"
    r"\b\d{1,2}(?:st|nd|rd|th)[ -]centur(?:y|ies)\b|\bcentur(?:y|ies)\b|"
    rf"\b(?:{_MONTHS})\b|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|"
    r"\b\d+\s*(?:bc|ad|bce|ce)\b|\b(?:spring|summer|autumn|winter)\b|\b(?:today|yesterday|"
    r"tomorrow|ago|decade|decades)\b|\b(?:early|late|mid)[ -]\d",
    re.IGNORECASE,
)
_NUMBER_S = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
    r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|"
    r"seventy|eighty|ninety|hundred|hundreds|thousand|thousands|million|millions|billion|"
    r"billions|trillion|dozen|dozens|half|third|quarter|twice|thrice|single|double|triple)\b",
    re.IGNORECASE,
)
_CAPITAL_WORD = re.compile(r"(?<![\w'’])[A-Z][\w'’-]*")


def answer_type(question: str) -> str | None:
    """The kind of answer a question asks for: ``date``, ``number``, ``name`` or None."""
    q = " ".join(words(question))
    if _DATE_Q.search(q):
        return DATE
    if _NUMBER_Q.search(q):
        return NUMBER
    if _NAME_Q.search(q):
        return NAME
    return None


Mention = tuple[str, ...]
"""The stemmed words of one date, number or name in a sentence (or its lower-cased text)."""


def mentions(kind: str, sentence: str) -> tuple[Mention, ...]:
    """The dates, numbers or names (``kind``) in ``sentence``, as stemmed words."""
    if kind == DATE:
        found = [m.group(0) for m in _DATE_S.finditer(sentence)]
    elif kind == NUMBER:
        found = [m.group(0) for m in _NUMBER_S.finditer(sentence)]
    else:  # names: capitalised words, but not the first word (capitalised anyway)
        found = [m.group(0) for m in _CAPITAL_WORD.finditer(sentence) if m.start() > 0]
    return tuple(tuple(tokenize(text)) or (text.lower(),) for text in found)


def has_answer_type(kind: str, sentence: str, question_stems: frozenset[str]) -> bool:
    """Whether ``sentence`` holds something of ``kind`` that the question does not mention."""
    return _has_new(mentions(kind, sentence), question_stems)


def _has_new(found: tuple[Mention, ...], question_stems: frozenset[str]) -> bool:
    return any(not all(t in question_stems for t in mention) for mention in found)


@dataclass(frozen=True, slots=True)
class RowInfo:
    """Facts about one sentence that depend only on its text (cached per snapshot)."""

    text: str
    words: frozenset[str]
    cohesive: tuple[int, int]
    found: dict[str, tuple[Mention, ...]]  # filled per answer type on first use

    def mentions(self, kind: str) -> tuple[Mention, ...]:
        """The dates, numbers or names in the sentence (computed once per kind)."""
        got = self.found.get(kind)
        if got is None:
            got = self.found[kind] = mentions(kind, self.text)
        return got


ROW_CACHE_LIMIT = 100_000


def row_info(snapshot: Snapshot, row: int) -> RowInfo:
    """The :class:`RowInfo` of ``row``, computed once per snapshot (the cache is bounded)."""
    info = snapshot.row_cache.get(row)
    if info is None:
        text = snapshot.text(row)
        info = RowInfo(
            text=text, words=frozenset(words(text)), cohesive=cohesive_rows(snapshot, row), found={}
        )
        if len(snapshot.row_cache) >= ROW_CACHE_LIMIT:
            snapshot.row_cache.clear()
        snapshot.row_cache[row] = info
    return info


# ----------------------------------------------------------------------------- the matrix


@dataclass(frozen=True, slots=True)
class Query:
    """A question prepared for scoring: its vector, words and wanted answer type."""

    text: str
    vector: np.ndarray
    token_ids: np.ndarray  # unique BM25 ids of the question's words found in the vocabulary
    weights: np.ndarray  # idf of those ids
    stems: frozenset[str]  # every stemmed content word of the question, in vocabulary or not
    bigrams: frozenset[tuple[int, int]]  # adjacent pairs of the question's vocabulary ids
    aliases: dict[int, int]  # vocabulary ids of related word forms -> the question's id
    kind: str | None
    unknown_weight: float  # idf-like weight of question words the corpus never uses


def make_query(snapshot: Snapshot, text: str, vector: np.ndarray) -> Query:
    """Prepare ``text`` (already normalised) and its embedding for :func:`feature_matrix`."""
    stems = tokenize(text)
    ids = sorted({snapshot.vocab[t] for t in stems if t in snapshot.vocab})
    seq = [snapshot.vocab.get(t, -1) for t in stems]
    bigrams = frozenset((a, b) for a, b in itertools.pairwise(seq) if a >= 0 and b >= 0)
    token_ids = np.asarray(ids, dtype=np.int64)
    weights = snapshot.idf[token_ids] if len(ids) else np.zeros(0, dtype=np.float32)
    unknown = {t for t in stems if t not in snapshot.vocab}
    aliases = {
        alias: snapshot.vocab[t]
        for t in set(stems)
        if t in snapshot.vocab
        for alias in related_forms(snapshot, t)
    }
    # A word no sentence uses is as rare as can be: weigh it like a word used once.
    rare = float(np.log1p((len(snapshot) - 0.5) / 1.5)) if len(snapshot) else 1.0
    return Query(
        text=text,
        vector=vector,
        token_ids=token_ids,
        weights=np.asarray(weights, dtype=np.float64),
        stems=frozenset(stems),
        bigrams=bigrams,
        aliases=aliases,
        kind=answer_type(text),
        unknown_weight=rare * len(unknown),
    )


MIN_SHARED_PREFIX = 5


def related_forms(snapshot: Snapshot, stem: str) -> list[int]:
    """Vocabulary ids of words sharing a long prefix with ``stem`` (russia/russian, korea/korean).

    Snowball stemming does not join a country and its adjective; a shared prefix of at least
    five letters and 80% of the shorter word does, at the cost of rare false friends.
    """
    if len(stem) < MIN_SHARED_PREFIX:
        return []
    words_sorted = snapshot.sorted_vocab
    head = stem[:MIN_SHARED_PREFIX]
    lo = bisect.bisect_left(words_sorted, head)
    out = []
    for word in words_sorted[lo : lo + 200]:
        if not word.startswith(head):
            break
        if word == stem:
            continue
        shared = _shared_prefix(word, stem)
        if shared >= 0.8 * min(len(word), len(stem)):
            out.append(snapshot.vocab[word])
    return out


def _shared_prefix(a: str, b: str) -> int:
    """The number of leading characters ``a`` and ``b`` have in common."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def neighbours(snapshot: Snapshot, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The previous and next row of each row within its paragraph, or -1."""
    prev = rows - 1
    nxt = rows + 1
    prev = np.where(prev >= snapshot.para_lo[rows], prev, -1)
    nxt = np.where(nxt < snapshot.para_hi[rows], nxt, -1)
    return prev, nxt


def feature_matrix(
    snapshot: Snapshot,
    query: Query,
    rows: np.ndarray,
    bm25: np.ndarray,
    dense_order: np.ndarray,
    bm25_order: np.ndarray,
) -> np.ndarray:
    """One row of :data:`FEATURES` per candidate ``rows``.

    ``bm25`` holds the candidates' BM25 scores; ``dense_order`` and ``bm25_order`` are the two
    ranked candidate lists the rows came from.
    """
    n = len(rows)
    out = np.zeros((n, len(FEATURES)), dtype=np.float64)
    if n == 0:
        return out
    prev, nxt = neighbours(snapshot, rows)

    # Meaning: cosine with the sentence, its neighbours and the three together.
    vec = np.asarray(snapshot.vectors[rows], dtype=np.float32)
    dim = vec.shape[1]
    zero = np.zeros(dim, dtype=np.float32)
    pv = np.asarray(snapshot.vectors[np.maximum(prev, 0)], dtype=np.float32)
    nv = np.asarray(snapshot.vectors[np.maximum(nxt, 0)], dtype=np.float32)
    pv[prev < 0] = zero
    nv[nxt < 0] = zero
    q = query.vector.astype(np.float32)
    dense = vec @ q
    cos_p = np.where(prev >= 0, pv @ q, -1.0)
    cos_n = np.where(nxt >= 0, nv @ q, -1.0)
    window = vec + pv + nv
    window /= np.maximum(np.linalg.norm(window, axis=1, keepdims=True), 1e-9)
    out[:, 0] = dense
    out[:, 1] = window @ q
    out[:, 2] = np.maximum(np.maximum(cos_p, cos_n), 0.0)
    out[:, 3] = dense - dense.max()
    top_bm25 = float(bm25.max()) if n else 0.0
    out[:, 4] = bm25 / top_bm25 if top_bm25 > 0 else 0.0

    # Words: idf-weighted coverage of the question in the sentence, window, paragraph, title.
    qids = query.token_ids.tolist()
    qweight = dict(zip(qids, query.weights.tolist(), strict=True))
    total = sum(qweight.values()) + query.unknown_weight
    para_cache: dict[int, set[int]] = {}
    title_cache: dict[int, set[str]] = {}
    qset = set(qids)
    aliases = query.aliases

    def ids(row: int) -> set[int]:
        found = snapshot.tokens(row).tolist()
        return {aliases.get(t, t) for t in found} if aliases else set(found)

    for i, row in enumerate(rows.tolist()):
        own = ids(row)
        ctx = set(own)
        if prev[i] >= 0:
            ctx.update(ids(int(prev[i])))
        if nxt[i] >= 0:
            ctx.update(ids(int(nxt[i])))
        lo = int(snapshot.para_lo[row])
        para = para_cache.get(lo)
        if para is None:
            hi = int(snapshot.para_hi[row])
            found = snapshot.token_ids[snapshot.token_indptr[lo] : snapshot.token_indptr[hi]]
            para = {aliases.get(int(t), int(t)) for t in set(found.tolist())}
            para_cache[lo] = para
        art = int(snapshot.table.article[row])
        title = title_cache.get(art)
        if title is None:
            title = set(tokenize(snapshot.articles[art].title))
            title_cache[art] = title
        if total > 0:
            out[i, 5] = sum(qweight[t] for t in own & qset) / total
            out[i, 6] = sum(qweight[t] for t in ctx & qset) / total
            out[i, 7] = sum(qweight[t] for t in para & qset) / total
            title_hits = {snapshot.vocab[s] for s in title if s in snapshot.vocab} & qset
            out[i, 8] = sum(qweight[t] for t in title_hits) / total
        out[i, 12] = len(own - qset) / len(own) if own else 0.0
        out[i, 13] = np.log1p(len(own))
        if query.bigrams:
            seq = snapshot.tokens(row).tolist()
            pairs = set(itertools.pairwise(seq))
            out[i, 14] = len(query.bigrams & pairs) / len(query.bigrams)
    out[:, 9] = out[:, 5] - out[:, 5].max()

    # Where the two retrievers ranked the candidate.
    for col, order in ((15, dense_order), (16, bm25_order)):
        rank = {int(r): k for k, r in enumerate(order.tolist())}
        out[:, col] = [1.0 / (1 + rank[r]) if r in rank else 0.0 for r in rows.tolist()]

    # The paragraph as a whole.
    lo_rows = snapshot.para_lo[rows]
    hi_rows = snapshot.para_hi[rows]
    para_vec: dict[int, float] = {}
    for i, (lo, hi) in enumerate(zip(lo_rows.tolist(), hi_rows.tolist(), strict=True)):
        if lo not in para_vec:
            mean = np.asarray(snapshot.vectors[lo:hi], dtype=np.float32).sum(axis=0)
            para_vec[lo] = float(mean @ q) / max(float(np.linalg.norm(mean)), 1e-9)
        out[i, 17] = para_vec[lo]

    infos = [row_info(snapshot, row) for row in rows.tolist()]
    qwords = set(words(query.text)) - _WH_WORDS
    if qwords:
        for i, info in enumerate(infos):
            out[i, 21] = len(qwords & info.words) / len(qwords)

    # The sentence together with the neighbour it leans on or leads into.
    for i, info in enumerate(infos):
        lo, hi = info.cohesive
        if lo == hi:
            out[i, 18], out[i, 19] = out[i, 5], out[i, 0]
            continue
        out[i, 20] = 1.0
        unit: set[int] = set()
        for r in range(lo, hi + 1):
            unit |= ids(r)
        out[i, 18] = sum(qweight[t] for t in unit & qset) / total if total > 0 else 0.0
        mean = np.asarray(snapshot.vectors[lo : hi + 1], dtype=np.float32).sum(axis=0)
        out[i, 19] = float(mean @ q) / max(float(np.linalg.norm(mean)), 1e-9)

    # Answer type: does the sentence hold the kind of thing the question asks for?
    if query.kind is not None:
        for i, info in enumerate(infos):
            if _has_new(info.mentions(query.kind), query.stems):
                out[i, 10] = 1.0
            else:
                out[i, 11] = 1.0
    return out
