"""Example questions for /start: questions a person would write, checked by answering them.

The first candidates are made from the articles' opening sentences (:func:`lead_questions`):
a sentence whose subject is a named person, organisation or place and whose verb has an object
("North Korean leader Kim Jong Un presented the country's latest weaponry to Russia's defence
chief") becomes "What did Kim Jong Un present to Russia's defence chief?". Each is asked, and
offered only when its answer quotes the object ("weaponry") and it reads as a question
(:func:`index.dialogue.wellformed.well_formed`: never "What did Lukas Weber tell?"); an object
that is a person ("told reporters") makes none. Questions from the titles
(:func:`example_question`) and the names the coverage mentions most (:func:`most_named`)
come after them. :class:`ExampleQuestions` keeps the questions per index version.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from index.corpus import nlp
from index.dialogue.asks import PERSON_NOUNS
from index.dialogue.wellformed import well_formed
from index.store.snapshot import Snapshot
from index.types import Answer

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token

logger = logging.getLogger(__name__)

_NAME_RE = re.compile(r"(?<=[a-z,;:] )(?:[A-Z][a-z]+(?: (?:[A-Z][a-z]+|of|de|von|al))*)")


class ExampleQuestions:
    """The example questions of each index version, found once by asking ``answer``."""

    def __init__(self, answer: Callable[[str], Answer]) -> None:
        self._answer = answer
        self._cache: dict[str, list[str]] = {}  # build id -> questions found

    def get(self, snap: Snapshot, n: int = 3) -> list[str]:
        """Up to ``n`` questions that ``snap`` answers ([] while search is unavailable)."""
        cached = self._cache.get(snap.build_id)
        if cached is not None and len(cached) >= n:
            return cached[:n]
        out: list[str] = []
        leads = lead_questions(snap, 2 * n + 2)
        titles = sorted((example_question(a.title) for a in snap.articles[: 2 * n + 2]), key=len)
        names = [f"What does the coverage say about {name}?" for name in most_named(snap)]
        candidates = [*leads, *((q, "") for q in [*titles, *names])]
        for question, fact in candidates:
            if not question or question in out:
                continue
            try:
                answer = self._answer(question)
            except Exception:  # an example is a nicety; never fail /start for it
                logger.debug("example question %r failed", question, exc_info=True)
                continue
            if answer.kind == "unavailable":
                return out  # search is down: try again later, remember nothing
            if not answer.answered or fact.lower() not in answer.quotes[0].text.lower():
                continue
            out.append(question)
            if len(out) >= n:
                break
        self._cache[snap.build_id] = out
        return out


_NAMES = frozenset({"PERSON", "ORG", "GPE", "NORP"})


def lead_questions(snap: Snapshot, articles: int = 8, sentences: int = 8) -> list[tuple[str, str]]:
    """Questions about the opening sentences of the first ``articles`` articles, each with the
    word its answer must quote: "What did Kim Jong Un present to Russia's defence chief?" and
    "weaponry". The first question of each article comes first; none without the spaCy model."""
    if not nlp.available():
        return []
    texts: list[str] = []
    owners: list[int] = []
    for article in range(min(articles, len(snap.articles))):
        rows = np.flatnonzero(snap.table.article == article)[:sentences]
        texts += [snap.text(int(r)) for r in rows]
        owners += [article] * len(rows)
    first: list[tuple[str, str]] = []
    later: list[tuple[str, str]] = []
    done: set[int] = set()
    for owner, doc in zip(owners, nlp.parse(texts), strict=True):
        made = question_about(doc)
        if made is not None and well_formed(made[0]):
            (later if owner in done else first).append(made)
            done.add(owner)
    return first + later


def question_about(sentence: Doc) -> tuple[str, str] | None:
    """A question a person would ask about ``sentence`` and the word its answer must quote
    (see :func:`what_question` and :func:`who_question`), or None."""
    return what_question(sentence) or who_question(sentence)


def who_question(sentence: Doc) -> tuple[str, str] | None:
    """ "Who led the Chinese delegation?" from "the Chinese delegation, led by politburo member
    Li Hongzhong, ...": a noun phrase with a past participle whose agent is a named person."""
    for chunk in sentence.noun_chunks:
        for verb in chunk.root.children:
            if verb.dep_ != "acl" or verb.tag_ != "VBN":
                continue
            agent = next((t for t in verb.children if t.dep_ == "agent"), None)
            person = next((t for t in agent.children if t.dep_ == "pobj"), None) if agent else None
            if person is None or person.ent_type_ != "PERSON" or len(chunk) > 6:
                continue
            phrase = chunk.text
            if chunk[0].lower_ in ("a", "an"):
                phrase = "the " + phrase.split(" ", 1)[1]
            return f"Who {verb.text} {phrase[:1].lower()}{phrase[1:]}?", person.text
    return None


def what_question(sentence: Doc) -> tuple[str, str] | None:
    """ "What did <named subject> <verb> [to <noun phrase>]?" about a sentence whose subject
    names someone and whose verb has an object; with the object's head word."""
    root = next((t for t in sentence if t.dep_ == "ROOT"), None)
    if root is None or root.pos_ != "VERB" or root.tag_ not in ("VBD", "VBZ", "VBP"):
        return None
    subject = next((t for t in root.children if t.dep_ == "nsubj"), None)
    obj = next((t for t in root.children if t.dep_ == "dobj"), None)
    if subject is None or obj is None or _someone(obj):
        return None  # "told reporters that ...": not "What did X tell?"
    names = [e for e in sentence.ents if e.label_ in _NAMES and e.root.i == subject.i]
    if not names:
        return None
    aux = "did" if root.tag_ == "VBD" else ("does" if root.tag_ == "VBZ" else "do")
    words = ["What", aux, names[0].text, root.lemma_]
    heads = [*root.children, *obj.children, *(c for t in obj.conjuncts for c in t.children)]
    prep = next((t for t in heads if t.lower_ == "to" and t.dep_ in ("prep", "dative")), None)
    target = next((t for t in prep.children if t.dep_ == "pobj"), None) if prep else None
    if prep is not None and target is not None:
        phrase = next((c for c in sentence.noun_chunks if c.root.i == target.i), None)
        if phrase is not None and len(phrase) <= 6:
            words += [prep.text, phrase.text]
    return " ".join(words) + "?", obj.text


def _someone(token: Token) -> bool:
    """Whether an object is a person ("reporters", "him", "Shoigu"): what was done to them is
    not asked with "What"."""
    lemma = token.lemma_.lower()
    return token.pos_ == "PRON" or token.ent_type_ in ("PERSON", "NORP") or lemma in PERSON_NOUNS


def example_question(title: str) -> str:
    """A question about an article from its title: "What does the coverage say about <title>?".

    The title is cut at its first ": " when the part before has three words or more (" – ",
    " — ", " - " and " | " are tried only when that part is shorter); then at most twelve words
    are kept, without end punctuation. "" when nothing is left.
    """
    title = " ".join(title.split())
    for separator in (": ", " – ", " — ", " - ", " | "):
        head = title.split(separator, 1)[0]
        if len(head.split()) >= 3:
            title = head
            break
    title = title.rstrip(" .:;!?")
    if not title:
        return ""
    words = title.split()
    if len(words) > 12:
        title = " ".join(words[:12])
    return f"What does the coverage say about {title}?"


def most_named(snap: Snapshot, limit: int = 6, sample: int = 400) -> list[str]:
    """Capitalised names (not at a sentence start) used most often in the first sentences."""
    counts: dict[str, int] = {}
    for row in range(min(sample, len(snap))):
        for match in _NAME_RE.finditer(snap.text(row)):
            name = match.group(0)
            if len(name.split()) >= 2 and name.split()[-1] not in {"of", "de", "von", "al"}:
                counts[name] = counts.get(name, 0) + 1
    ranked = sorted(counts, key=lambda k: (-counts[k], k))
    return [name for name in ranked if counts[name] >= 2][:limit]
