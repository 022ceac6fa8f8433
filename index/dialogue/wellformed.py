"""Whether a question put together by the program reads as a question: the check a follow-up's
rewrite ("Why was Kim in North Korea?") and an example question must pass before they are
used or shown.

Rewrites are made by splicing words, and splicing can go wrong in ways a parse shows: "Why did
Kim else be in North Korea?" (do-support with "be", an "else" after a name), "Many drones were
shown" (no question word, where the question asked had one), "Were how many drones shown?" (a
question word in the middle), "What did Lukas Weber tell?" (a verb that needs its listener
left without one). :func:`well_formed` says no to each of these; it parses with spaCy
(:mod:`index.corpus.nlp`) and says yes without it, as there is then nothing to check against.
"""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING

from index.corpus import nlp
from index.dialogue.asks import WH_TAGS, WH_WORDS

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token

_ELSE_AFTER = frozenset(
    {
        *WH_WORDS,
        "anyone",
        "anybody",
        "anything",
        "anywhere",
        "someone",
        "somebody",
        "something",
        "somewhere",
        "everyone",
        "everybody",
        "everything",
        "nobody",
        "nothing",
        "nowhere",
        "no",
        "one",
    }
)
_OPENERS = frozenset({"what", "how"})
"""Question words that only open an ellipsis when "about" follows ("What about Putin?")."""
NEEDS_LISTENER = frozenset({"tell", "inform", "remind", "assure", "notify"})
"""Verbs whose object is who is told: "What did X tell?" is not a question a person asks."""


def well_formed(question: str, asked: str | None = None) -> bool:
    """Whether ``question`` reads as a question (see the module's docstring); with ``asked``,
    the question as typed, also whether it keeps the question word ``asked`` opens with."""
    if not nlp.available():
        return True
    [doc] = nlp.parse([question], entities=False)
    if asked is not None and not keeps_question_word(doc, asked):
        return False
    return not problems(doc)


def problems(doc: Doc) -> list[str]:
    """What is wrong with a parsed question (empty when nothing is)."""
    words = [t for t in doc if not (t.is_punct or t.is_space)]
    if not words:
        return ["no words"]
    found: list[str] = []
    if not doc.text.rstrip().endswith("?"):
        found.append("no question mark")
    first = words[0]
    if not (_is_wh(first) or first.pos_ == "AUX" or first.lower_ in ("do", "does", "did")):
        found.append("neither a question word nor an auxiliary first")
    if not any(t.dep_ == "ROOT" and _verbal(t) for t in doc):
        found.append("no verb at the root")
    found += _garbled(words)
    return found


def _verbal(root: Token) -> bool:
    """Whether a root is a verb, or works as one: the small model tags "present" in "What did
    Kim present to Shoigu?" as an adjective, but "did" and a subject hang from it."""
    if root.pos_ in ("VERB", "AUX"):
        return True
    return any(t.dep_ in ("aux", "auxpass") for t in root.children) and any(
        t.dep_ in ("nsubj", "nsubjpass") for t in root.children
    )


def _garbled(words: list[Token]) -> list[str]:
    found = []
    for before, token in pairwise(words):
        if token.lower_ == before.lower_:
            found.append(f"{token.text!r} twice")
        if token.lower_ == "else" and before.lower_ not in _ELSE_AFTER:
            found.append(f"'else' after {before.text!r}")
        if token.lower_ in ("many", "much") and before.lower_ == "how" and before.i != words[0].i:
            found.append("'how many' in the middle")
    for token in words:
        if token.lemma_.lower() == "do" and token.dep_ == "aux" and token.head.lemma_ == "be":
            found.append("'do' with 'be'")
        if token.lemma_.lower() in NEEDS_LISTENER and not _has_listener(token):
            found.append(f"{token.text!r} without whom")
    return found


def _has_listener(verb: Token) -> bool:
    """Whether a verb like "tell" has whom it tells: "Who did X tell?", "What did X tell
    reporters?", not "What did X tell?"."""
    for child in verb.children:
        if child.dep_ in ("dative", "iobj"):
            return True
        if child.dep_ == "dobj" and child.lower_ != "what":
            return True
    return False


def keeps_question_word(rewrite: Doc, asked: str) -> bool:
    """Whether a rewrite opens with the question word the question as typed opens with ("How
    many drones?" must stay a "how many" question); any rewrite of a question without one."""
    typed = [w.strip("?,.!").lower() for w in asked.split()]
    typed = [w for w in typed if w and w not in ("and", "but", "so", "also")]
    if not typed or typed[0] not in WH_WORDS:
        return True
    if typed[0] in _OPENERS and len(typed) > 1 and typed[1] == "about":
        return True
    first = next((t for t in rewrite if not t.is_punct), None)
    return first is not None and first.lower_ == typed[0]


def _is_wh(token: Token) -> bool:
    return token.tag_ in WH_TAGS or token.lower_ in WH_WORDS
