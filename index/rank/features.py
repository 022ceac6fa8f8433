"""Features of a candidate sentence for a question: meaning, words, context and answer type.

Each candidate row gets one feature vector (:data:`FEATURES`); :mod:`index.rank.ranker` turns it
into the probability that the sentence answers the question. Context counts: a sentence is
also judged by its neighbours, its paragraph and its article title, so "He said the talks went
well" can be found by what surrounds it.

:func:`feature_matrix` runs one small function per feature family (:data:`FAMILIES`); each
writes its columns by name through :class:`Columns`, so the order of :data:`FEATURES` is free
(the ranker's weights are matched to columns by name too).
"""

from __future__ import annotations

import bisect
import itertools
import re
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from index.corpus.text import tokenize, words
from index.dialogue.asks import WH_WORDS, Asked, Form, asked
from index.rank import places
from index.rank.cohesion import cohesive_rows
from index.store.entities import Entity, new_entity_kinds
from index.store.snapshot import Snapshot

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
    "kind_match",  # the question asks for a kind of entity and the sentence names a new one
    "kind_miss",  # it asks for one and the sentence names none
    "unknown",  # idf share of the question's words that no sentence uses (same for every row)
)

# ----------------------------------------------------------------------------- written facts

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


Written = tuple[str, ...]
"""The stemmed words of one date, number or name in a sentence (or its lower-cased text)."""


def written(form: Form, sentence: str) -> tuple[Written, ...]:
    """The dates, numbers or names (``form``) written in ``sentence``, as stemmed words."""
    if form == "date":
        found = [m.group(0) for m in _DATE_S.finditer(sentence)]
    elif form == "number":
        found = [m.group(0) for m in _NUMBER_S.finditer(sentence)]
    else:  # names: capitalised words, but not the first word (capitalised anyway)
        found = [m.group(0) for m in _CAPITAL_WORD.finditer(sentence) if m.start() > 0]
    return tuple(tuple(tokenize(text)) or (text.lower(),) for text in found)


def _has_new(found: tuple[Written, ...], question_stems: frozenset[str]) -> bool:
    return any(not all(t in question_stems for t in mention) for mention in found)


@dataclass(frozen=True, slots=True)
class RowInfo:
    """Facts about one sentence that depend only on its text (cached per snapshot)."""

    text: str
    words: frozenset[str]
    cohesive: tuple[int, int]
    found: dict[str, tuple[Written, ...]]  # filled per form on first use
    entities: tuple[Entity, ...]

    def written(self, form: Form) -> tuple[Written, ...]:
        """The dates, numbers or names written in the sentence (computed once per form)."""
        got = self.found.get(form)
        if got is None:
            got = self.found[form] = written(form, self.text)
        return got


ROW_CACHE_LIMIT = 100_000
_ROW_INFO: weakref.WeakKeyDictionary[Snapshot, dict[int, RowInfo]] = weakref.WeakKeyDictionary()
"""Each loaded version's :class:`RowInfo` by row, forgotten with the version."""


@dataclass(frozen=True, slots=True)
class FeatureOptions:
    """Additions to the features that a ranker can be trained without (ablations)."""

    places: bool = True
    """Capitals, countries and peoples stand for each other ("Moscow" for Russia)."""
    followers: bool = True
    """A sentence is judged with the next one when that one leans on it ("It was ...")."""


def row_info(snapshot: Snapshot, row: int, followers: bool = True) -> RowInfo:
    """The :class:`RowInfo` of ``row``, computed once per snapshot (the cache is bounded)."""
    cache = _ROW_INFO.setdefault(snapshot, {})
    key = row if followers else -1 - row
    info = cache.get(key)
    if info is None:
        text = snapshot.text(row)
        info = RowInfo(
            text=text,
            words=frozenset(words(text)),
            cohesive=cohesive_rows(snapshot, row, followers=followers),
            found={},
            entities=snapshot.sentence_entities(row),
        )
        if len(cache) >= ROW_CACHE_LIMIT:
            cache.clear()
        cache[key] = info
    return info


# ----------------------------------------------------------------------------- the matrix


@dataclass(frozen=True, slots=True)
class Query:
    """A question prepared for scoring: its vector, its words and what it asks for."""

    text: str
    vector: np.ndarray
    token_ids: np.ndarray  # unique BM25 ids of the question's words found in the vocabulary
    weights: np.ndarray  # idf of those ids
    stems: frozenset[str]  # every stemmed content word of the question, in vocabulary or not
    bigrams: frozenset[tuple[int, int]]  # adjacent pairs of the question's vocabulary ids
    aliases: dict[int, int]  # vocabulary ids of related word forms -> the question's id
    asked: Asked  # what it asks for (index.dialogue.asks)
    unknown_weight: float  # idf-like weight of question words the corpus never uses


def make_query(
    snapshot: Snapshot, text: str, vector: np.ndarray, options: FeatureOptions = FeatureOptions()
) -> Query:
    """Prepare ``text`` (already normalised) and its embedding for :func:`feature_matrix`."""
    vocab = snapshot.vocab
    stems = tokenize(text)
    known = _with_place_stand_ins(snapshot, stems) if options.places else stems
    ids = sorted({vocab[t] for t in known if t in vocab})
    seq = [vocab.get(t, -1) for t in known]
    bigrams = frozenset((a, b) for a, b in itertools.pairwise(seq) if a >= 0 and b >= 0)
    token_ids = np.asarray(ids, dtype=np.int64)
    weights = snapshot.idf[token_ids] if len(ids) else np.zeros(0, dtype=np.float32)
    unknown = {t for t in known if t not in vocab}
    # A word no sentence uses is as rare as can be: weigh it like a word used once.
    rare = float(np.log1p((len(snapshot) - 0.5) / 1.5)) if len(snapshot) else 1.0
    return Query(
        text=text,
        vector=vector,
        token_ids=token_ids,
        weights=np.asarray(weights, dtype=np.float64),
        stems=frozenset(stems),
        bigrams=bigrams,
        aliases=_aliases(snapshot, known, set(ids), options.places),
        asked=asked(text),
        unknown_weight=rare * len(unknown),
    )


def _aliases(
    snapshot: Snapshot, stems: list[str], question_ids: set[int], places_too: bool
) -> dict[int, int]:
    """Vocabulary ids that count as one of the question's words: related word forms
    (russia/russian) and, for a place, its country's other names (Moscow: Russia, Russian).
    A word the question uses itself is never an alias of another."""
    vocab = snapshot.vocab
    aliases: dict[int, int] = {}
    for stem in sorted(set(stems)):
        if stem in vocab:
            for alias in related_forms(snapshot, stem):
                if alias not in question_ids:
                    aliases.setdefault(alias, vocab[stem])
    if places_too:
        for phrase, others in places.related(stems).items():
            anchor = next((vocab[w] for w in reversed(phrase) if w in vocab), None)
            if anchor is None:
                continue
            for word in sorted(places.phrase_words(others)):
                if word in vocab and vocab[word] not in question_ids:
                    aliases.setdefault(vocab[word], anchor)
    return aliases


def _with_place_stand_ins(snapshot: Snapshot, stems: list[str]) -> list[str]:
    """``stems`` with each place the corpus never names replaced by a name of the same country
    that it does use (the most common): "Moscow" asked of coverage that only says "Russia"."""
    vocab = snapshot.vocab
    out = list(stems)
    for phrase, others in places.related(stems).items():
        if any(w in vocab for w in phrase):
            continue
        used = [w for w in places.phrase_words(others) if w in vocab]
        if not used:
            continue
        stand_in = max(sorted(used), key=lambda w: _document_frequency(snapshot, w))
        start = next(i for i in range(len(out)) if tuple(out[i : i + len(phrase)]) == phrase)
        out[start : start + len(phrase)] = [stand_in]
    return out


def _document_frequency(snapshot: Snapshot, word: str) -> int:
    indptr = snapshot.bm25.scores["indptr"]
    t = snapshot.vocab[word]
    return int(indptr[t + 1]) - int(indptr[t])


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


Hits = dict[int, float]
"""The question's words (vocabulary ids) a text holds, each with the weight it earns."""

COLUMN: dict[str, int] = {name: i for i, name in enumerate(FEATURES)}
"""The column of each feature in a feature matrix."""


class Columns:
    """A feature matrix written and read by feature name, never by column number."""

    def __init__(self, n: int) -> None:
        self.matrix = np.zeros((n, len(FEATURES)), dtype=np.float64)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.matrix[:, COLUMN[name]]

    def __setitem__(self, name: str, values: np.ndarray | list[float] | float) -> None:
        self.matrix[:, COLUMN[name]] = values


@dataclass
class Candidates:
    """What the feature families read: the question, the candidate rows and their context."""

    snapshot: Snapshot
    query: Query
    rows: np.ndarray
    bm25: np.ndarray  # the candidates' BM25 scores
    dense_order: np.ndarray  # the ranked dense list the rows came from
    bm25_order: np.ndarray  # the ranked BM25 list
    prev: np.ndarray  # the previous row in the paragraph, or -1
    nxt: np.ndarray  # the next row in the paragraph, or -1
    q: np.ndarray  # the question's vector, float32
    qweight: dict[int, float]  # the question's vocabulary ids -> idf
    qset: set[int]
    total: float  # the question's whole weight, words the corpus never uses included
    infos: list[RowInfo]
    hit_cache: dict[int, Hits] = field(default_factory=dict)

    def ids(self, row: int) -> set[int]:
        """The token ids of ``row``, related word forms mapped to the question's."""
        found = self.snapshot.tokens(row).tolist()
        aliases = self.query.aliases
        return {aliases.get(t, t) for t in found} if aliases else set(found)

    def hits(self, tokens: Iterable[int]) -> Hits:
        """The question's words among ``tokens``, each with the weight it earns: its idf, or,
        when found through an alias (a related form, another name of a place), at most the
        alias's own idf: "Pyongyang" found as the common "Korea" earns what "Korea" is worth."""
        out: Hits = {}
        for t in tokens:
            weight = self.qweight.get(t)
            if weight is None:
                q = self.query.aliases.get(t)
                if q is None:
                    continue
                weight, t = min(self.qweight[q], float(self.snapshot.idf[t])), q
            if weight > out.get(t, 0.0):
                out[t] = weight
        return out

    def row_hits(self, row: int) -> Hits:
        """:meth:`hits` of one row (computed once)."""
        found = self.hit_cache.get(row)
        if found is None:
            found = self.hit_cache[row] = self.hits(self.snapshot.tokens(row).tolist())
        return found

    def share(self, *found: Hits) -> float:
        """The share of the question's weight that the hits cover together."""
        if len(found) == 1:
            return sum(found[0].values()) / self.total
        merged: Hits = {}
        for hits in found:
            for t, weight in hits.items():
                merged[t] = max(weight, merged.get(t, 0.0))
        return sum(merged.values()) / self.total

    def unit_cosine(self, lo: int, hi: int) -> float:
        """Cosine of the question and the mean vector of rows ``lo`` to ``hi - 1``."""
        mean = np.asarray(self.snapshot.vectors[lo:hi], dtype=np.float32).sum(axis=0)
        return float(mean @ self.q) / max(float(np.linalg.norm(mean)), 1e-9)


def feature_matrix(
    snapshot: Snapshot,
    query: Query,
    rows: np.ndarray,
    bm25: np.ndarray,
    dense_order: np.ndarray,
    bm25_order: np.ndarray,
    options: FeatureOptions = FeatureOptions(),
) -> np.ndarray:
    """One row of :data:`FEATURES` per candidate ``rows``.

    ``bm25`` holds the candidates' BM25 scores; ``dense_order`` and ``bm25_order`` are the two
    ranked candidate lists the rows came from.
    """
    out = Columns(len(rows))
    if len(rows) == 0:
        return out.matrix
    prev, nxt = snapshot.neighbours(rows)
    qids = query.token_ids.tolist()
    qweight = dict(zip(qids, query.weights.tolist(), strict=True))
    c = Candidates(
        snapshot=snapshot,
        query=query,
        rows=rows,
        bm25=bm25,
        dense_order=dense_order,
        bm25_order=bm25_order,
        prev=prev,
        nxt=nxt,
        q=query.vector.astype(np.float32),
        qweight=qweight,
        qset=set(qids),
        total=sum(qweight.values()) + query.unknown_weight,
        infos=[row_info(snapshot, row, options.followers) for row in rows.tolist()],
    )
    for family in FAMILIES:
        family(c, out)
    return out.matrix


def meaning(c: Candidates, out: Columns) -> None:
    """Cosine of the question with the sentence, its neighbours and the three together."""
    snapshot, prev, nxt = c.snapshot, c.prev, c.nxt
    vec = np.asarray(snapshot.vectors[c.rows], dtype=np.float32)
    zero = np.zeros(vec.shape[1], dtype=np.float32)
    pv = np.asarray(snapshot.vectors[np.maximum(prev, 0)], dtype=np.float32)
    nv = np.asarray(snapshot.vectors[np.maximum(nxt, 0)], dtype=np.float32)
    pv[prev < 0] = zero
    nv[nxt < 0] = zero
    dense = vec @ c.q
    cos_p = np.where(prev >= 0, pv @ c.q, -1.0)
    cos_n = np.where(nxt >= 0, nv @ c.q, -1.0)
    window = vec + pv + nv
    window /= np.maximum(np.linalg.norm(window, axis=1, keepdims=True), 1e-9)
    out["dense"] = dense
    out["dense_ctx"] = window @ c.q
    out["dense_nb"] = np.maximum(np.maximum(cos_p, cos_n), 0.0)
    out["dense_gap"] = dense - dense.max()


def paragraph_meaning(c: Candidates, out: Columns) -> None:
    """Cosine of the question and the mean of the paragraph's sentence vectors."""
    by_start: dict[int, float] = {}
    values = []
    bounds = zip(
        c.snapshot.para_lo[c.rows].tolist(), c.snapshot.para_hi[c.rows].tolist(), strict=True
    )
    for lo, hi in bounds:
        if lo not in by_start:
            by_start[lo] = c.unit_cosine(lo, hi)
        values.append(by_start[lo])
    out["dense_para"] = values


def retrieval(c: Candidates, out: Columns) -> None:
    """The BM25 score against the best, and the rank in each retriever's list."""
    top = float(c.bm25.max())
    out["bm25_rel"] = c.bm25 / top if top > 0 else 0.0
    for name, order in (("rr_dense", c.dense_order), ("rr_bm25", c.bm25_order)):
        rank = {int(r): k for k, r in enumerate(order.tolist())}
        out[name] = [1.0 / (1 + rank[r]) if r in rank else 0.0 for r in c.rows.tolist()]


def word_share(c: Candidates, out: Columns) -> None:
    """idf-weighted share of the question's words in the sentence, its neighbours, its
    paragraph and its article title."""
    n = len(c.rows)
    cov, ctx_cov, para_cov, title_cov = (np.zeros(n) for _ in range(4))
    para_cache: dict[int, Hits] = {}
    for i, row in enumerate(c.rows.tolist()):
        if c.total <= 0:
            break
        own = c.row_hits(row)
        cov[i] = c.share(own)
        around = [c.row_hits(other) for other in (int(c.prev[i]), int(c.nxt[i])) if other >= 0]
        ctx_cov[i] = c.share(own, *around)
        lo = int(c.snapshot.para_lo[row])
        if lo not in para_cache:
            para_cache[lo] = _paragraph_hits(c, lo, int(c.snapshot.para_hi[row]))
        para_cov[i] = c.share(para_cache[lo])
        title_cov[i] = c.share(c.hits(_title_ids(c, row)))
    out["cov"] = cov
    out["cov_ctx"] = ctx_cov
    out["cov_para"] = para_cov
    out["cov_title"] = title_cov
    out["cov_gap"] = cov - cov.max()
    # The same for every candidate, so it cannot reorder them: it tells the calibrated score how
    # much of the question the corpus has no word for ("Who is the president of *France*?").
    out["unknown"] = np.full(n, c.query.unknown_weight / c.total if c.total > 0 else 0.0)


def _paragraph_hits(c: Candidates, lo: int, hi: int) -> Hits:
    snap = c.snapshot
    return c.hits(set(snap.token_ids[snap.token_indptr[lo] : snap.token_indptr[hi]].tolist()))


def _title_ids(c: Candidates, row: int) -> set[int]:
    snap = c.snapshot
    title = set(tokenize(snap.articles[int(snap.table.article[row])].title))
    return {snap.vocab[s] for s in title if s in snap.vocab}


def wording(c: Candidates, out: Columns) -> None:
    """How the sentence's words relate to the question's: new words, length, word pairs, and
    the question's surface words (stop words too)."""
    n = len(c.rows)
    new_info, log_len, bigram, surface = (np.zeros(n) for _ in range(4))
    qwords = set(words(c.query.text)) - WH_WORDS
    for i, row in enumerate(c.rows.tolist()):
        own = c.ids(row)
        new_info[i] = len(own - c.qset) / len(own) if own else 0.0
        log_len[i] = np.log1p(len(own))
        if c.query.bigrams:
            pairs = set(itertools.pairwise(c.snapshot.tokens(row).tolist()))
            bigram[i] = len(c.query.bigrams & pairs) / len(c.query.bigrams)
        if qwords:
            surface[i] = len(qwords & c.infos[i].words) / len(qwords)
    out["new_info"] = new_info
    out["log_len"] = log_len
    out["bigram"] = bigram
    out["surface"] = surface


def cohesion(c: Candidates, out: Columns) -> None:
    """The sentence together with the neighbour it leans on or leads into (see cohesion)."""
    n = len(c.rows)
    cov_unit, dense_unit, leans = np.zeros(n), np.zeros(n), np.zeros(n)
    dense = out["dense"]
    for i, (row, info) in enumerate(zip(c.rows.tolist(), c.infos, strict=True)):
        lo, hi = info.cohesive
        if lo == hi:
            cov_unit[i] = c.share(c.row_hits(row)) if c.total > 0 else 0.0
            dense_unit[i] = dense[i]
            continue
        leans[i] = 1.0
        cov_unit[i] = c.share(*(c.row_hits(r) for r in range(lo, hi + 1))) if c.total > 0 else 0.0
        dense_unit[i] = c.unit_cosine(lo, hi + 1)
    out["cov_unit"] = cov_unit
    out["dense_unit"] = dense_unit
    out["leans"] = leans


def answer_kind(c: Candidates, out: Columns) -> None:
    """Does the sentence hold the kind of thing the question asks for (a date, a number, a
    name) that the question itself does not mention?"""
    form = c.query.asked.form
    if form is None:
        return
    found = [_has_new(info.written(form), c.query.stems) for info in c.infos]
    out["type_match"] = [1.0 if f else 0.0 for f in found]
    out["type_miss"] = [0.0 if f else 1.0 for f in found]


def entity_kind(c: Candidates, out: Columns) -> None:
    """Does the sentence name an entity of the kind the question asks for (a person, a place,
    a date ...) that the question does not already name?"""
    asked = c.query.asked
    if not asked.accepts:
        return
    found = [
        bool(new_entity_kinds(info.text, info.entities, c.query.stems) & asked.accepts)
        for info in c.infos
    ]
    out["kind_match"] = [1.0 if f else 0.0 for f in found]
    out["kind_miss"] = [0.0 if f else 1.0 for f in found]


FAMILIES = (
    meaning,
    paragraph_meaning,
    retrieval,
    word_share,
    wording,
    cohesion,
    answer_kind,
    entity_kind,
)
"""The feature families, in the order they run (``cohesion`` reads ``dense``)."""
