"""Syndicated copies: the same story published by several outlets (wire copy, reprints).

Copies are not independent corroboration: an answer quotes one of them (the earliest) and
names the others as "also published by", apart from the independent articles that "also
reported" the fact. Copies are found at build time by near-duplicate text:

1. each article's body becomes a set of word 5-grams (shingles), lower-cased and accent-folded,
   so punctuation, case and layout do not matter;
2. a MinHash signature of that set (datasketch, 128 permutations) goes into an LSH index, which
   proposes as candidates the pairs whose sets are likely to overlap (Jaccard >= ~0.4) without
   comparing every pair;
3. each candidate pair is checked exactly: it is a copy when at least ``min_containment`` of
   the smaller article's shingles are in the larger one, the two share at least
   ``MIN_JACCARD`` of all their shingles, and the smaller has at least ``MIN_SHINGLES``. A
   reprint that cut the last paragraphs or changed a few words passes; two independent reports
   that share a quoted statement do not (the statement is a small share of either), nor does a
   brief that quotes one paragraph of a long story;
4. pairs join into groups (connected components); each group's original is the earliest
   published copy (then the longest, then the smallest id).

Signatures depend only on the body, so a build keeps those of unchanged articles
(:meth:`Syndication` is rebuilt from them cheaply).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.corpus.text import words
from index.types import Article

logger = logging.getLogger(__name__)

__all__ = [
    "NUM_PERM",
    "SIGNATURES_FILE",
    "SYNDICATION_FILE",
    "Syndication",
    "find_copies",
    "load_signatures",
    "save_signatures",
    "shingles",
    "signature",
]

SYNDICATION_FILE = "syndication.json"  # in each index version: the groups
SIGNATURES_FILE = "minhash.npz"  # in each index version: signatures by body hash, for reuse

SHINGLE = 5  # words per shingle
NUM_PERM = 128  # MinHash permutations
SEED = 1
SCHEME = "affine32"  # datasketch's hashing scheme: stored signatures are only valid under it
LSH_THRESHOLD = 0.2  # LSH proposes pairs near this Jaccard and above (recall, not the decision)
MIN_CONTAINMENT = 0.6  # share of the smaller article's shingles found in the other
MIN_JACCARD = 0.3  # share of all their shingles two copies have in common
MIN_SHINGLES = 50  # shorter articles (about 55 words) are never called copies
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")


def shingles(text: str, size: int = SHINGLE) -> set[bytes]:
    """The word ``size``-grams of ``text`` (folded words, joined by spaces), as UTF-8 bytes."""
    tokens = words(text)
    if len(tokens) < size:
        return {" ".join(tokens).encode("utf-8")} if tokens else set()
    return {" ".join(tokens[i : i + size]).encode("utf-8") for i in range(len(tokens) - size + 1)}


def signature(grams: Iterable[bytes], num_perm: int = NUM_PERM) -> np.ndarray:
    """The MinHash signature (``num_perm`` uint64 values) of a shingle set."""
    from datasketch import MinHash

    minhash = MinHash(num_perm=num_perm, seed=SEED, scheme=SCHEME)
    minhash.update_batch(list(grams))
    return np.asarray(minhash.hashvalues, dtype=np.uint64)


@dataclass(frozen=True)
class Syndication:
    """Groups of articles that are copies of one story, each with its original first."""

    groups: tuple[tuple[str, ...], ...] = ()
    _index: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for number, group in enumerate(self.groups):
            for article_id in group:
                self._index[article_id] = number

    def group(self, article_id: str) -> tuple[str, ...]:
        """The copies of ``article_id``'s story, original first (just itself when none)."""
        number = self._index.get(article_id)
        return self.groups[number] if number is not None else (article_id,)

    def original(self, article_id: str) -> str:
        """The earliest copy of ``article_id``'s story (itself when it has no copies)."""
        return self.group(article_id)[0]

    def copies(self, article_id: str) -> tuple[str, ...]:
        """The other copies of ``article_id``'s story (original first); empty when none."""
        return tuple(a for a in self.group(article_id) if a != article_id)

    def same_story(self, a: str, b: str) -> bool:
        number = self._index.get(a)
        return number is not None and number == self._index.get(b)

    def to_json(self) -> dict[str, Any]:
        return {"groups": [list(group) for group in self.groups]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Syndication:
        groups = data.get("groups", [])
        return cls(tuple(tuple(str(a) for a in group) for group in groups))

    def save(self, folder: Path) -> None:
        """Write :data:`SYNDICATION_FILE` into an index version's folder."""
        path = Path(folder) / SYNDICATION_FILE
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)

    @classmethod
    def load(cls, folder: Path) -> Syndication:
        """The groups of an index version (none when it was built without them)."""
        try:
            data = json.loads((Path(folder) / SYNDICATION_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            logger.warning("ignoring the syndication groups in %s (%s)", folder, exc)
            return cls()
        return cls.from_json(data) if isinstance(data, dict) else cls()


def save_signatures(folder: Path, signatures: Mapping[str, np.ndarray]) -> None:
    """Write the signatures (by body key) into an index version's folder."""
    keys = sorted(signatures)
    values = np.stack([signatures[k] for k in keys]) if keys else np.zeros((0, NUM_PERM))
    np.savez(
        Path(folder) / SIGNATURES_FILE,
        keys=np.array(keys, dtype=str),
        values=values.astype(np.uint64),
        scheme=np.array(SCHEME),
    )


def load_signatures(folder: Path) -> dict[str, np.ndarray]:
    """The signatures an index version kept (none when missing, damaged or of another scheme)."""
    try:
        with np.load(Path(folder) / SIGNATURES_FILE) as data:
            if str(data["scheme"]) != SCHEME or data["values"].shape[1:] != (NUM_PERM,):
                return {}
            return dict(zip(data["keys"].tolist(), data["values"], strict=True))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError) as exc:
        logger.warning("cannot reuse the MinHash signatures in %s (%s)", folder, exc)
        return {}


def find_copies(
    articles: Sequence[Article],
    *,
    signatures: Mapping[str, np.ndarray] | None = None,
    min_containment: float = MIN_CONTAINMENT,
    threshold: float = LSH_THRESHOLD,
) -> tuple[Syndication, dict[str, np.ndarray]]:
    """Group the syndicated copies among ``articles``.

    ``signatures`` maps a body hash (:func:`body_key`) to a signature computed before; the
    signatures of every article are returned the same way, for the next build.
    """
    from datasketch import MinHashLSH

    known = signatures or {}
    grams: dict[str, set[bytes]] = {}
    keys = {a.id: body_key(a.body) for a in articles}
    out: dict[str, np.ndarray] = {}
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    by_id = {a.id: a for a in articles}
    pairs: list[tuple[str, str]] = []
    for article in articles:
        key = keys[article.id]
        values = known.get(key)
        if values is None or len(values) != NUM_PERM:
            grams[article.id] = shingles(article.body)
            values = signature(grams[article.id])
        out[key] = values
        minhash = _minhash(values)
        pairs += [(other, article.id) for other in lsh.query(minhash)]
        lsh.insert(article.id, minhash)

    def gram_set(article_id: str) -> set[bytes]:
        if article_id not in grams:
            grams[article_id] = shingles(by_id[article_id].body)
        return grams[article_id]

    parent = {a.id: a.id for a in articles}
    for a, b in pairs:
        if _is_copy(gram_set(a), gram_set(b), min_containment):
            parent[_root(parent, a)] = _root(parent, b)
    members: dict[str, list[Article]] = {}
    for article in articles:
        members.setdefault(_root(parent, article.id), []).append(article)
    groups = [tuple(a.id for a in sorted(group, key=_earliest)) for group in members.values()]
    groups = sorted((g for g in groups if len(g) > 1), key=lambda g: g[0])
    return Syndication(tuple(groups)), out


def body_key(body: str) -> str:
    """The key a body's signature is kept under (a hash of the text)."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:32]


def _minhash(values: np.ndarray) -> Any:
    from datasketch import LeanMinHash

    return LeanMinHash(seed=SEED, hashvalues=values, scheme=SCHEME)


def _is_copy(a: set[bytes], b: set[bytes], min_containment: float) -> bool:
    smaller = min(len(a), len(b))
    if smaller < MIN_SHINGLES:
        return False
    shared = len(a & b)
    return shared >= min_containment * smaller and shared >= MIN_JACCARD * len(a | b)


def _root(parent: dict[str, str], node: str) -> str:
    while parent[node] != node:
        parent[node] = parent[parent[node]]
        node = parent[node]
    return node


def _earliest(article: Article) -> tuple[int, str, int, str]:
    """Sort key: dated before undated, earlier first, then the longest body, then the id."""
    day = article.published or ""
    dated = bool(_ISO_DAY.match(day))
    return (0 if dated else 1, day[:10] if dated else "", -len(article.body), article.id)
