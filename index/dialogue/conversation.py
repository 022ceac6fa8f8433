"""Follow-up questions: a chat's short memory, and questions that lean on it made whole.

A :class:`Conversation` keeps the last turn of one chat (the question, the top quote and its
article, when it was asked) for ``FOLLOWUP_MINUTES``. :meth:`Conversation.resolve` decides
whether a new question leans on that turn and, if it does, rewrites it into a question that
stands alone:

* pronouns take their antecedent from the last turn: after "Who led the Russian delegation?",
  "And what did he give him?" is read as "And what did Shoigu give Kim Jong Un?";
* "there" is the last place named, "that letter" the letter named last;
* ellipsis takes the frame of the last question: "What about the Chinese delegation?",
  "And the other one?" (the other delegation the coverage names), "Why?", "Where was that?";
* "else" asks for another quote than the last one, "next" for what follows it.

A question with nothing to resolve ignores the context. Parsing is spaCy's
(:mod:`index.corpus.nlp`);
it runs only when a question holds a word that might lean on the context (a pronoun, "other",
"and ..." or very few words), and the last turn is parsed only then.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from index.corpus import nlp
from index.corpus.text import tokenize, words
from index.dialogue.asks import PERSON_NOUNS, WH_TAGS
from index.dialogue.mentions import (
    Kind,
    Mention,
    frequent_names,
    mark_answer,
    mentions,
    salient,
)
from index.dialogue.wellformed import well_formed
from index.types import Answer

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

logger = logging.getLogger(__name__)

FOLLOWUP_MINUTES = 10.0
"""How long a chat's last turn is remembered (the bot's ``FOLLOWUP_MINUTES`` setting)."""

MAX_OPTIONS = 3
"""At most this many people or places are offered when a follow-up is unclear."""

SHORT_QUESTION_WORDS = 3
"""Questions of at most this many words may be ellipsis ("Why?", "And Putin?")."""

_CUES = re.compile(
    r"\b(?:he|him|his|himself|she|her|hers|herself|it|its|itself|they|them|their|theirs|"
    r"themselves|that|this|these|those|there|other|others|another|else|next|afterwards|"
    r"one|ones|so)\b|^\W*(?:and|but|so|also|what\s+about|how\s+about)\b",
    re.IGNORECASE,
)

# Personal pronouns: the kinds they refer to, plural or not.
_PERSON: frozenset[Kind] = frozenset({"person"})
_NON_PERSON: frozenset[Kind] = frozenset({"thing", "group", "place"})
_ANY: frozenset[Kind] = frozenset({"person", "group", "place", "thing"})
_PRONOUNS: dict[str, tuple[frozenset[Kind], bool]] = {
    **dict.fromkeys(("he", "him", "his", "himself"), (_PERSON, False)),
    **dict.fromkeys(("she", "her", "hers", "herself"), (_PERSON, False)),
    **dict.fromkeys(("it", "its", "itself"), (_NON_PERSON, False)),
    **dict.fromkeys(("they", "them", "their", "theirs", "themselves"), (_ANY, True)),
    **dict.fromkeys(("these", "those"), (_ANY, True)),
}
_SUBJECTS = frozenset({"nsubj", "nsubjpass"})
_DEMONSTRATIVES = frozenset({"this", "that", "these", "those"})
# Verbs whose object is a statement: "Who reported that?", "Who denied it?", "Who said so?".
_SAY_VERBS = frozenset(
    [
        "say",
        "report",
        "claim",
        "think",
        "believe",
        "announce",
        "state",
        "suggest",
        "deny",
        "confirm",
        "reject",
        "dispute",
        "admit",
    ]
)
_VAGUE_VERBS = frozenset({"do", "happen", "be", "occur", "go"})
_EVENT_WH = frozenset({"why", "where", "when", "how"})
_MORE_WORDS = frozenset({"else", "another", "more"})
_NEXT_WORDS = frozenset({"next", "afterwards"})
_ELLIPSIS_FILLER = frozenset(
    {"and", "but", "so", "about", "exactly", "then", "also", "too", "now", "again", "please"}
)


@dataclass(frozen=True, slots=True)
class QuotePlace:
    """Where a quote stands: its article, paragraph and character offsets."""

    article_id: str
    paragraph: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Followup:
    """A question as asked, and as it is to be answered.

    ``resolved`` is the question made to stand alone (the same text when it ignores the
    context). When it ``leans`` on the last turn, ``prefer`` is the last answer's quote (its
    article wins when the question alone does not decide), ``avoid`` a quote not to give again
    ("who else?"), and ``after`` a quote whose continuation is asked for ("what next?").
    ``fallback`` is a fuller rewrite to answer when ``resolved`` finds nothing ("Who said so?"
    with the last question put in for "so"). A rewrite is only used when it reads as a question
    (:func:`index.dialogue.wellformed.well_formed`); otherwise ``resolved`` is the question as
    typed, with ``options`` naming what its pronoun could mean.
    """

    question: str
    resolved: str
    leans: bool = False
    prefer: QuotePlace | None = None
    avoid: QuotePlace | None = None
    after: QuotePlace | None = None
    fallback: str | None = None
    options: tuple[str, ...] = ()
    """When the question leans on the last turn but could not be read safely ("Why was he
    there?" with two men in the last answer): the people or places it could mean, for a reply
    that asks which."""
    chosen: bool = False
    """A reply to "which do you mean?" put into the question it answers: the rewrite is what
    was asked, never the reply as typed ("Shoigu")."""

    @property
    def rewritten(self) -> bool:
        """Whether the question was reworded (and a reader may like to see how)."""
        return self.resolved != self.question


@dataclass(slots=True)
class Turn:
    """One question of a conversation, what it was read as, and its answer's top quote."""

    question: str
    resolved: str
    asked_at: float
    quote: str = ""
    place: QuotePlace | None = None
    _docs: tuple[Doc, Doc | None] | None = field(default=None, repr=False, compare=False)
    _mentions: tuple[Mention, ...] | None = field(default=None, repr=False, compare=False)

    @property
    def article_id(self) -> str | None:
        return self.place.article_id if self.place else None

    def docs(self) -> tuple[Doc, Doc | None]:
        """The question (as resolved) and the quote, parsed with named entities (once)."""
        if self._docs is None:
            texts = [self.resolved, self.quote] if self.quote else [self.resolved]
            parsed = nlp.parse(texts)
            self._docs = (parsed[0], parsed[1] if self.quote else None)
        return self._docs

    def mentions(self) -> tuple[Mention, ...]:
        """What the turn named (the question's, then the quote's), its answer marked."""
        if self._mentions is None:
            question, quote = self.docs()
            found = mentions(question, "question")
            if quote is not None:
                found += mark_answer(question, quote, mentions(quote, "quote"))
            self._mentions = tuple(found)
        return self._mentions

    def answer_mention(self) -> Mention | None:
        return next((m for m in self.mentions() if m.answer), None)


class Conversation:
    """The context of one chat: its last turn, forgotten after ``minutes``.

    Not thread-safe: a chat asks one question at a time (the bot serialises each chat).
    """

    def __init__(
        self, minutes: float = FOLLOWUP_MINUTES, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if minutes < 0:
            raise ValueError(f"minutes must be at least 0, got {minutes}")
        self.minutes = minutes
        self.clock = clock
        self._last: Turn | None = None
        self._pending: Followup | None = None  # a follow-up that asked "which do you mean?"

    @property
    def last(self) -> Turn | None:
        """The last turn, or None when there is none or it has expired."""
        turn = self._last
        if turn is not None and self.clock() - turn.asked_at > self.minutes * 60:
            self._last = None
            return None
        return turn

    def resolve(self, question: str, background: Sequence[str] = ()) -> Followup:
        """``question`` as it is to be answered, given the last turn (see :func:`resolve`); the
        reply to "which do you mean?" ("Shoigu") is the question that asked it, made whole
        with the one meant."""
        pending, self._pending = self._pending, None
        if pending is not None and self.last is not None:
            chosen = choose(pending, question)
            if chosen is not None:
                return chosen
        return resolve(question, self.last, background)

    def remember(self, followup: Followup, answer: Answer) -> None:
        """Make this question and its answer the last turn (small talk changes nothing; a
        question that was answered with "which do you mean?" waits for the reply)."""
        if answer.kind == "clarify":
            self._pending = followup
            return
        if answer.kind in ("greeting", "thanks", "help", "empty", "unavailable"):
            return
        turn = Turn(followup.question, followup.resolved, self.clock())
        if answer.quotes:
            top = answer.quotes[0]
            turn.quote = top.text
            turn.place = QuotePlace(top.article_id, top.paragraph, top.start, top.end)
        self._last = turn

    def clear(self) -> None:
        """Forget the last turn (/start)."""
        self._last = None
        self._pending = None


_REFERRING = re.compile(r"\b(he|him|she|her|they|them|his|their|there)\b", re.IGNORECASE)


def choose(pending: Followup, reply: str) -> Followup | None:
    """The ``pending`` question with the option ``reply`` names put in for its pronoun ("Why
    was Shoigu there?" for "Shoigu" after "Why was he there?"); None when the reply names
    none of the options, or several."""
    said = set(tokenize(reply))
    named = [o for o in pending.options if said and said <= set(tokenize(o))]
    found = _REFERRING.search(pending.question)
    if len(named) != 1 or found is None:
        return None
    word, option = found.group(1).lower(), named[0]
    text = {"his": _possessive(option), "their": _possessive(option), "there": f"in {option}"}
    question = pending.question
    resolved = question[: found.start()] + text.get(word, option) + question[found.end() :]
    return Followup(reply, _tidy(resolved), leans=True, prefer=pending.prefer, chosen=True)


def might_lean(question: str) -> bool:
    """A cheap first look: False when the question surely stands alone (no parse needed)."""
    return bool(_CUES.search(question)) or len(words(question)) <= SHORT_QUESTION_WORDS


def resolve(question: str, last: Turn | None, background: Sequence[str] = ()) -> Followup:
    """Read ``question`` in the context of the ``last`` turn.

    ``background`` holds texts to look in when the last turn itself names nothing that fits
    (the last answer's article first): "him" after a question that named one person, "the
    other one" when the quote names only one delegation.
    """
    alone = Followup(question, question)
    if last is None or not might_lean(question) or not nlp.available():
        return alone
    [doc] = nlp.parse([question], entities=False)
    reader = _Reader(doc, last, background)
    resolved = reader.rewrite()
    if resolved is None and not reader.leans:
        return alone
    rewrite = _tidy(resolved) if resolved else None
    if rewrite is not None and not well_formed(rewrite, question):
        logger.info("follow-up %r: rewrite %r does not read as a question", question, rewrite)
        rewrite = None
    fallback = _tidy(reader.fallback) if reader.fallback else None
    return Followup(
        question=question,
        resolved=rewrite or question,
        leans=True,
        prefer=last.place,
        avoid=last.place if reader.more else None,
        after=last.place if reader.next else None,
        fallback=fallback if fallback is not None and well_formed(fallback) else None,
        options=() if rewrite else reader.options(),
    )


class _Reader:
    """One question read against the last turn."""

    def __init__(self, doc: Doc, last: Turn, background: Sequence[str]) -> None:
        self.doc = doc
        self.last = last
        self.background = background
        self.named = set(tokenize(doc.text))  # what the question names itself
        lowered = {t.lower_ for t in doc}
        self.more = bool(lowered & _MORE_WORDS)
        self.next = bool(lowered & _NEXT_WORDS) or "after that" in doc.text.lower()
        self.leans = self.more or self.next
        self.fallback: str | None = None  # a fuller rewrite, for when the first finds nothing
        self.fallback_edits: list[tuple[int, int, str]] = []

    def rewrite(self) -> str | None:
        """The question made to stand alone, or None when there is nothing to resolve."""
        if not any(t.pos_ in ("VERB", "AUX") for t in self.doc):
            return self.ellipsis()
        wh = self.wh()
        if wh is not None and wh.lower_ in _EVENT_WH and self.vague():
            return self.event(wh.text)
        return self.substitute()

    def wh(self) -> Token | None:
        return next((t for t in self.doc if t.tag_ in WH_TAGS), None)

    # ----------------------------------------------------------------- ellipsis

    def ellipsis(self) -> str | None:
        """A question without a verb: "Why?", "And Putin?", "What about the other one?"."""
        content = [
            t
            for t in self.doc
            if not (t.is_punct or t.tag_ in WH_TAGS or t.dep_ == "cc")
            and t.lower_ not in _ELLIPSIS_FILLER | _MORE_WORDS
        ]
        wh = self.wh()
        if not content:
            self.leans = True
            if wh is not None and wh.lower_ in _EVENT_WH and not self.more:
                return self.event(wh.text)
            self.more = True  # "Who else?", "And?", "What about it?": the same, another quote
            return self.last.resolved
        phrase = self.doc[content[0].i : content[-1].i + 1]
        self.leans = True
        if wh is not None and wh.i < phrase.start:
            asked = self.wh_ellipsis(self.doc[wh.i : phrase.end])
            if asked is not None:
                return asked
        return self.swap(phrase)

    def wh_ellipsis(self, asked: Span) -> str | None:
        """ "How many drones?" after the yes-or-no "Were any drones shown at the event?": the
        last question asked with the new question phrase in place of its own ("How many drones
        were shown at the event?"); None when the last question asked something else."""
        last, _ = self.last.docs()
        first = next((t for t in last if not t.is_punct), None)
        if first is None or first.pos_ != "AUX":
            return None
        head = asked.root.lemma_.lower()
        chunk = next((c for c in last.noun_chunks if c.root.lemma_.lower() == head), None)
        if chunk is None:
            return None
        after = last.text[chunk.end_char :]
        if chunk.root.dep_ in _SUBJECTS and chunk.start == first.i + 1:
            return f"{asked.text} {first.lower_}{after}"  # "were shown at the event?"
        before = last.text[: chunk.start_char]
        return f"{asked.text} {before[:1].lower()}{before[1:]}{after.lstrip()}"

    def swap(self, phrase: Span) -> str | None:
        """The last question with ``phrase`` in place of what it stands for."""
        targets = [m for m in self.last.mentions() if m.source == "question"]
        if not targets:
            return None
        if any(t.lower_ in ("other", "others") for t in phrase):
            target = next((m for m in targets if m.modifier), targets[0])
            replacement = self.sibling(target)
            if replacement is None:
                return None
            return _splice(self.last.resolved, target.start, target.end, replacement)
        if phrase.root.lower_ in ("one", "ones") or phrase.root.pos_ == "ADJ":
            return self.swap_modifier(phrase, targets)
        target = self.same_slot(phrase, targets)
        return _splice(self.last.resolved, target.start, target.end, phrase.text)

    def swap_modifier(self, phrase: Span, targets: Sequence[Mention]) -> str | None:
        """ "And the Chinese one?", "And the Chinese?": a new modifier for the last phrase
        that had one (else for the last subject)."""
        modifier = " ".join(t.text for t in phrase if t.pos_ in ("ADJ", "PROPN"))
        if not modifier:
            return None
        target = next((m for m in targets if m.modifier), None)
        if target is None:
            subject = salient(targets)[0]
            return _splice(self.last.resolved, subject.start, subject.end, f"the {modifier}")
        at = self.last.resolved.find(target.modifier, target.start, target.end)
        return _splice(self.last.resolved, at, at + len(target.modifier), modifier)

    def same_slot(self, phrase: Span, targets: Sequence[Mention]) -> Mention:
        """The mention of the last question that ``phrase`` takes the place of."""
        head = phrase.root.lower_
        for mention in targets:
            if mention.head == head:
                return mention
        kind = self.kind_of(phrase)
        same = [m for m in salient(targets) if m.kind == kind]
        return same[0] if same else salient(targets)[0]

    def kind_of(self, phrase: Span) -> Kind:
        """A phrase's kind, from what the last turn or the article say about the same name."""
        words_ = set(tokenize(phrase.text))
        for mention in [*self.last.mentions(), *self.names()]:
            if mention.words & words_:
                return mention.kind
        return "person" if phrase.root.pos_ == "PROPN" else "thing"

    def sibling(self, target: Mention) -> str | None:
        """ "The other one": another of the same sort as ``target`` that the coverage names
        ("the Chinese delegation" for "the Russian delegation")."""
        texts = [self.last.quote, *self.background]
        if target.modifier and target.head:
            found = sibling_modifiers(target.head, target.modifier, texts)
            if found and target.modifier in target.brief:
                return target.brief.replace(target.modifier, found[0], 1)
            if found:  # "the delegation from China": "the Russian delegation"
                return f"the {found[0]} {target.head}"
            origin = sibling_origins(target.head, target.modifier, texts)
            if origin:  # "the Russian delegation": "the delegation from China"
                return f"the {target.head} from {origin[0]}"
            return None  # another delegation the coverage does not name: nothing to guess
        pool = [*self.last.mentions(), *self.names()]
        others = [
            m
            for m in salient(pool)
            if m.kind == target.kind and m.source != "question" and not (m.words & target.words)
        ]
        return others[0].text if others else None

    # ----------------------------------------------------------------- events

    def vague(self) -> bool:
        """ "Where was that?", "Why did they do it?": a verb that says nothing and only
        pronouns around it."""
        root = next((t for t in self.doc if t.dep_ == "ROOT"), None)
        if root is None or root.lemma_.lower() not in _VAGUE_VERBS:
            return False
        arguments = [t for t in root.children if t.dep_ in (*_SUBJECTS, "dobj", "attr")]
        return all(t.pos_ == "PRON" or t.tag_ in WH_TAGS for t in arguments)

    def event(self, wh: str) -> str | None:
        """The last question asked again with another question word: "Where did Kim show
        Shoigu?" for "Where was that?" after "What did Kim show Shoigu?"."""
        statement = proposition(self.last.docs()[0], self.last.answer_mention())
        if statement is None:
            return None
        aux, rest = statement
        return f"{wh[:1].upper()}{wh[1:].lower()} {aux} {rest}?"

    # ----------------------------------------------------------------- substitution

    def substitute(self) -> str | None:
        """Pronouns, "there", "that letter" and "the other one" replaced by what they mean."""
        edits: list[tuple[int, int, str]] = []
        used: list[Mention] = []
        for token in self.doc:
            edit = self.reference(token, used)
            if edit is not None:
                edits.append(edit)
        if self.fallback_edits:
            self.fallback = _edited(self.doc.text, [*edits, *self.fallback_edits])
        if not edits:
            return None
        self.leans = True
        return _edited(self.doc.text, edits)

    def reference(self, token: Token, used: list[Mention]) -> tuple[int, int, str] | None:
        """The edit that resolves ``token``, if it refers back to the last turn."""
        word = token.lower_
        if token.dep_ == "det" and word in _DEMONSTRATIVES:
            return self.demonstrative(token)
        if word in ("other", "another") and token.dep_ == "amod":
            return self.other(token)
        if word == "there" and not self.existential(token):
            place = self.antecedent(frozenset({"place"}), None, used)
            return (token.idx, _end(token), f"in {place.text}") if place else None
        said = token.head.lemma_.lower() in _SAY_VERBS and token.dep_ in ("dobj", "advmod")
        if (word in ("that", "this") and token.pos_ == "PRON" and token.dep_ != "det") or (
            word in ("so", "it") and said
        ):
            self.statement(token)
            return None
        if word not in _PRONOUNS or token.tag_ not in ("PRP", "PRP$", "DT"):
            return None
        if self.bound(token):
            return None
        kinds, plural = _PRONOUNS[word]
        mention = self.antecedent(kinds, plural, used)
        if mention is None:
            return None
        used.append(mention)
        text = _possessive(mention.text) if token.tag_ == "PRP$" else mention.text
        return token.idx, _end(token), text

    def existential(self, there: Token) -> bool:
        """Whether ``there`` points to no place: "Where was there rain?", or "How much rainfall
        was there in Riverside?" (the question names its own place right after it)."""
        if there.dep_ == "expl" or there.tag_ == "EX":
            return True
        after = self.doc[there.i + 1] if there.i + 1 < len(self.doc) else None
        return (
            after is not None
            and after.dep_ == "prep"
            and any(t.pos_ == "PROPN" for t in after.subtree)
        )

    def bound(self, pronoun: Token) -> bool:
        """Whether the question itself names what ``pronoun`` refers to ("What did Kim call
        his country's military?"). An object pronoun never refers to its own verb's subject."""
        kinds, plural = _PRONOUNS[pronoun.lower_]
        own_subject = {t.i for t in pronoun.head.subtree if t.dep_ in _SUBJECTS}
        wh = self.wh()
        asked = _wh_phrase(wh) if wh is not None else set()
        for token in self.doc[: pronoun.i]:
            if token.pos_ not in ("PROPN", "NOUN") or token.dep_ == "compound" or token.i in asked:
                continue
            if pronoun.dep_ not in _SUBJECTS and pronoun.tag_ != "PRP$" and token.i in own_subject:
                continue
            person = token.pos_ == "PROPN" or token.lemma_.lower() in PERSON_NOUNS
            if kinds == _PERSON and not person:
                continue
            if plural and token.tag_ not in ("NNS", "NNPS"):
                continue
            return True
        return False

    def antecedent(
        self, kinds: frozenset[Kind], plural: bool | None, used: Sequence[Mention]
    ) -> Mention | None:
        """The most salient mention of the last turn (else of the article) that fits."""
        for pool in (self.last.mentions(), self.names()):
            ranked = salient(pool)
            fitting = [m for m in ranked if self.free(m, used) and m.kind in kinds]
            if plural:
                plurals = [m for m in fitting if m.plural]
                collective = [m for m in fitting if m.kind in ("group", "place")]
                fitting = plurals + [m for m in collective if m not in plurals]
            elif plural is False:
                fitting = [m for m in fitting if not m.plural or m.kind == "group"]
            if fitting:
                return fitting[0]
        return None

    def free(self, mention: Mention, used: Sequence[Mention]) -> bool:
        """Not already used for another pronoun, and not named by the question itself."""
        return (
            bool(mention.words)
            and not (mention.words & self.named)
            and all(not (mention.words & u.words) for u in used)
        )

    def statement(self, token: Token) -> None:
        """ "Who reported that?", "Has anyone denied this?": the question's own words find the
        sentence, usually beside the last quote; the last turn's words would pull the search
        back to the quote already given. So nothing is replaced at first; the last question as a
        statement is kept for when the question alone finds nothing ("Who said so?")."""
        self.leans = True
        statement = proposition(self.last.docs()[0], self.last.answer_mention())
        if statement is not None:
            self.fallback_edits.append((token.idx, _end(token), statement[1]))
        return None

    def demonstrative(self, det: Token) -> tuple[int, int, str] | None:
        """ "that letter": the letter the last turn named, in its short form ("the autographed
        letter"): enough to tell it from another letter, not so much that the search is pulled
        back to the quote already given."""
        head = det.head
        if head.pos_ not in ("NOUN", "PROPN"):
            return None
        self.leans = True
        for mention in salient(self.last.mentions()):
            if mention.head in (head.lower_, head.lemma_.lower()):
                return det.idx, _end(head), mention.brief or mention.text
        return None

    def other(self, token: Token) -> tuple[int, int, str] | None:
        """ "the other one", "the other delegation": the sibling of the last turn's phrase."""
        head = token.head
        targets = [m for m in salient(self.last.mentions()) if m.source == "question" or m.answer]
        same = [m for m in targets if m.head == head.lower_ and head.lower_ not in ("one", "ones")]
        target = same[0] if same else next((m for m in targets if m.modifier), None)
        if target is None:
            return None
        replacement = self.sibling(target)
        if replacement is None:
            return None
        start = min(t.idx for t in head.subtree if t.i <= token.i)
        self.leans = True
        return start, _end(head), replacement

    def options(self) -> tuple[str, ...]:
        """The last turn's people or places the question's pronouns could mean, when there are
        several (:data:`MAX_OPTIONS` at most); () when there is one or none."""
        kinds: set[Kind] = set()
        for token in self.doc:  # the first word that refers back decides
            if token.lower_ in _PRONOUNS and not self.bound(token):
                kinds = set(_PRONOUNS[token.lower_][0]) & {"person", "place", "group"}
            elif token.lower_ == "there" and not self.existential(token):
                kinds = {"place"}
            if kinds:
                break
        found: list[Mention] = []
        for mention in salient(self.last.mentions()):
            if mention.kind in kinds and self.free(mention, found):
                found.append(mention)
        return tuple(m.text for m in found[:MAX_OPTIONS]) if len(found) > 1 else ()

    def names(self) -> list[Mention]:
        """The names the background texts use most (parsed only when needed)."""
        found: list[Mention] = []
        for text in self.background[:1]:
            found += _background_names(text)
        return found


def proposition(question: Doc, answer: Mention | None) -> tuple[str, str] | None:
    """A question as an auxiliary and a statement without its question word, the answer put
    in: "What did Kim show Shoigu?" with the answer "the latest weapons" gives ("did",
    "Kim show Shoigu the latest weapons"); "Who led the delegation?" with the answer Shoigu
    gives ("did", "Shoigu lead the delegation")."""
    wh = next((t for t in question if t.tag_ in WH_TAGS), None)
    if wh is None:
        return None
    phrase = _wh_phrase(wh)
    rest = [t for t in question if t.i not in phrase and not t.is_punct and t.dep_ != "cc"]
    if not rest:
        return None
    if any(question[i].dep_ in _SUBJECTS for i in phrase):
        verb = question[max(phrase)].head
        filler = answer.text if answer is not None else _definite(question, phrase)
        aux = next((t for t in rest if t.pos_ == "AUX" and t.i < verb.i), None)
        if aux is None and verb.lemma_ == "be":  # "Who was in North Korea?": "was", "Kim in ..."
            return verb.text, f"{filler} {_join(t for t in rest if t.i != verb.i)}"
        if aux is None:
            words_ = [
                verb.lemma_ + verb.whitespace_ if t.i == verb.i else t.text_with_ws for t in rest
            ]
            return "did", f"{filler} {''.join(words_).strip()}"
        return aux.text, f"{filler} {_join(t for t in rest if t.i != aux.i)}"
    aux = next((t for t in rest if t.pos_ == "AUX" and t.i > max(phrase)), None)
    statement = _join(t for t in rest if aux is None or t.i != aux.i)
    if answer is not None and wh.lower_ in ("what", "which", "whom"):
        statement = f"{statement} {answer.text}"
    return (aux.text if aux is not None else "did"), statement


def _join(tokens: Iterable[Token]) -> str:
    return "".join(t.text_with_ws for t in tokens).strip()


def _wh_phrase(wh: Token) -> set[int]:
    """The question word with the words it governs: "which Russian official", "how many"."""
    phrase = {wh.i}
    if wh.dep_ == "det" and wh.head.pos_ in ("NOUN", "PROPN"):
        phrase |= {t.i for t in wh.head.subtree if t.i <= wh.head.i}
    if (
        wh.lower_ == "how"
        and wh.i + 1 < len(wh.doc)
        and wh.doc[wh.i + 1].lower_ in ("many", "much")
    ):
        phrase.add(wh.i + 1)
    return phrase


def _definite(question: Doc, phrase: set[int]) -> str:
    """ "Which Russian official" as "the Russian official"; a bare "who" as "someone"."""
    words_ = [question[i].text for i in sorted(phrase)][1:]
    return "the " + " ".join(words_) if words_ else "someone"


def sibling_modifiers(head: str, modifier: str, texts: Sequence[str]) -> list[str]:
    """Names the texts put before ``head`` other than ``modifier``, the most frequent first:
    "Chinese" for ("delegation", "Russian") in "... the Chinese delegation, led by ..."."""
    pattern = re.compile(r"((?:[A-Z][\w’'-]*\s+)*[A-Z][\w’'-]*)\s+" + re.escape(head) + r"s?\b")
    counts: dict[str, int] = {}
    for text in texts:
        for match in pattern.finditer(text):
            words_ = match.group(1).split()
            while words_ and words_[0].lower() in ("the", "a", "an", "this", "that", "these"):
                words_ = words_[1:]
            name = " ".join(words_)
            if name and name[:4].lower() != modifier[:4].lower():  # China, Chinese: the same
                counts[name] = counts.get(name, 0) + 1
    return sorted(counts, key=lambda k: -counts[k])


def sibling_origins(head: str, modifier: str, texts: Sequence[str]) -> list[str]:
    """Names the texts put after "<head> from" other than ``modifier``'s: "China" for
    ("delegation", "Russian") in "... a delegation from China, led by ..."."""
    pattern = re.compile(
        re.escape(head) + r"s?\s+from\s+((?:[A-Z][\w’'-]*\s+)*[A-Z][\w’'-]*)", re.IGNORECASE
    )
    found: list[str] = []
    for text in texts:
        for match in pattern.finditer(text):
            name = match.group(1)
            same = name[:4].lower() == modifier[:4].lower()  # China, Chinese: the same
            if name[:1].isupper() and not same and name not in found:
                found.append(name)
    return found


@lru_cache(maxsize=32)
def _background_names(text: str) -> tuple[Mention, ...]:
    [doc] = nlp.parse([text])
    return tuple(frequent_names(doc))


def _edited(text: str, edits: Sequence[tuple[int, int, str]]) -> str:
    for start, end, replacement in sorted(edits, reverse=True):
        text = _splice(text, start, end, replacement)
    return text


def _possessive(name: str) -> str:
    """ "Shoigu's", "the delegates'"."""
    return name + ("'" if name.endswith("s") else "'s")


def _splice(text: str, start: int, end: int, replacement: str) -> str:
    if start == 0 and replacement[:1].islower() and text[:1].isupper():
        replacement = replacement[:1].upper() + replacement[1:]
    return text[:start] + replacement + text[end:]


def _end(token: Token) -> int:
    return token.idx + len(token.text)


def _tidy(text: str) -> str:
    """A rewritten question tidied: no leading "and", one space between words, a capital."""
    text = re.sub(r"^\W*(?:and|but|so|also)\b[\s,]*", "", " ".join(text.split()), flags=re.I)
    text = re.sub(r"\s+([?,.!;:])", r"\1", text)
    return text[:1].upper() + text[1:]
