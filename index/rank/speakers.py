"""Who said it: the speaker a quoted sentence names for what it reports.

"Shoigu said ...", "North Korea's KCNA news agency reported that ...", "Some analysts
speculate ...", "..., according to NK News, an expert site ...": the speaker is the subject of
the reporting verb (or the object of "according to", or the agent of a passive "was denied by
X"), read from spaCy's parse (:mod:`index.corpus.nlp`), never guessed:

* the subject must be able to speak: a name (a person, an organisation, a country, a
  nationality), a proper noun, or a noun for people, bodies or documents ("officials",
  "analysts", "the ministry", "a statement"); "The inclusion of envoys suggests ..." names none;
* a pronoun ("he said") is a speaker only when the quote itself names its referent: another
  reporting clause of the quote with a named subject, or exactly one person named before it;
  "it is believed", "was reported" (no agent) and "we", "they", "I" name none;
* the speaker is the subject's phrase without its appositive or relative clause ("Teruyuki
  Kato", not "Teruyuki Kato, a seismologist at the University of Tokyo,"), and without a
  leading article or "both"/"some" ("analysts", "Pyongyang and Moscow").

A word list (:data:`PREFILTER`) lets most quotes through unparsed: only a quote with a
reporting word in it is parsed, and :func:`speakers` parses the quotes of one answer in one call.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from index.corpus import nlp
from index.dialogue.asks import ORGANISATION_NOUNS, PERSON_NOUNS

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


REPORTING_LEMMAS = _words(
    "say tell report claim speculate announce state add note warn confirm deny insist argue "
    "believe suggest estimate predict write explain accuse allege assert declare reveal "
    "acknowledge admit maintain contend caution testify think expect fear concede stress "
    "emphasise emphasize tweet post reject dispute reply respond recall observe comment "
    "indicate disclose forecast promise vow pledge urge ask complain conclude find"
)
"""Lemmas of verbs that report speech or a claim (and "point out", see :data:`PHRASAL`)."""
PHRASAL = {"point": "out"}
"""Verbs that report only with their particle: "pointed out", not "pointed"."""

PREFILTER = re.compile(
    r"\b(?:sa(?:y|ys|id|ying)|t(?:ell|ells|old|elling)|report\w*|claim\w*|speculat\w*|"
    r"announc\w*|stat(?:e|es|ed|ing)|add(?:s|ed|ing)?|not(?:e|es|ed|ing)|warn\w*|confirm\w*|"
    r"den(?:y|ies|ied|ying)|insist\w*|argu\w*|believ\w*|suggest\w*|estimat\w*|predict\w*|"
    r"wr(?:ite|ites|ote|iting)|explain\w*|accus\w*|alleg\w*|assert\w*|declar\w*|reveal\w*|"
    r"acknowledg\w*|admit\w*|maintain\w*|contend\w*|caution\w*|testif\w*|think\w*|thought|"
    r"expect\w*|fear\w*|conced\w*|stress\w*|emphasi[sz]\w*|tweet\w*|post(?:s|ed)|reject\w*|"
    r"disput\w*|repl(?:y|ies|ied)|respond\w*|recall\w*|observ\w*|comment\w*|indicat\w*|"
    r"disclos\w*|forecast\w*|promis\w*|vow\w*|pledg\w*|urg(?:e|es|ed|ing)|ask(?:s|ed)?|"
    r"complain\w*|conclud\w*|f(?:ind|inds|ound)|point(?:s|ed|ing)?\s+out|according\s+to)\b",
    re.IGNORECASE,
)
"""A quote without one of these words reports nobody's words: it is never parsed."""

DOCUMENT_NOUNS = _words(
    "statement statements article articles report reports study studies survey surveys poll "
    "polls figures data estimates records document documents release communique letter website "
    "source sources media press outlet outlets agency newspaper paper analysis review filing"
)
SPEAKER_NOUNS = (
    PERSON_NOUNS
    | ORGANISATION_NOUNS
    | DOCUMENT_NOUNS
    | _words(
        "analysts experts observers critics residents witnesses survivors rescuers doctors "
        "scientists researchers seismologist seismologists engineer engineers lawyers lawyer "
        "prosecutors investigators spokesperson spokesmen spokeswomen aides aide insiders "
        "authority commission ministry ministries office bureau court agency regulator "
        "regulators carrier airline bank banks company commentators scholars historians "
        "economists officer officers rescuer receptionist professor commander governor"
    )
)
"""Nouns for those who can say something: people, bodies and the documents they issue."""
NAME_LABELS = frozenset({"PERSON", "ORG", "NORP", "GPE", "FAC"})
_SUBJECTS = frozenset({"nsubj", "nsubjpass", "csubj"})
_CUT = frozenset({"relcl", "acl", "appos", "punct", "advcl", "parataxis", "dep", "prep"})
_KEEP_PREP_WORDS = 8
_MAX_WORDS = 10
_LEADING = frozenset({"det", "preconj", "punct", "cc", "advmod"})
_PERSONAL = frozenset({"he", "she"})


@dataclass(frozen=True, slots=True)
class Speaker:
    """Who a quote reports, and the words that say so: ("Shoigu", "said"), ("NK News",
    "according to")."""

    name: str
    verb: str


def find_speakers(texts: Sequence[str]) -> list[Speaker | None]:
    """The speaker of each text (a quote: one sentence or two), None where it names none.

    Only texts with a reporting word (:data:`PREFILTER`) are parsed, all in one call.
    """
    found: list[Speaker | None] = [None] * len(texts)
    wanted = [i for i, text in enumerate(texts) if PREFILTER.search(text)]
    if not wanted or not nlp.available():
        return found
    for i, doc in zip(wanted, nlp.parse([texts[i] for i in wanted]), strict=True):
        found[i] = speaker_of(doc)
    return found


def speaker(text: str) -> Speaker | None:
    """The speaker of one text (see :func:`speakers`)."""
    return find_speakers([text])[0]


def speaker_of(doc: Doc) -> Speaker | None:
    """The speaker of a parsed quote: the shallowest reporting clause with a named subject
    first; a "he"/"she" only when the quote names its referent."""
    named: list[tuple[int, int, Speaker]] = []
    pronouns: list[Token] = []
    for verb in doc:
        attribution = _attribution(verb)
        if attribution is None:
            continue
        who, said = attribution
        if who.lower_ in _PERSONAL:
            pronouns.append(who)
            continue
        name = _phrase(who)
        if name:
            named.append((_depth(verb), verb.i, Speaker(name, said)))
    if named:
        return min(named, key=lambda n: (n[0], n[1]))[2]
    for pronoun in pronouns:
        person = _referent(doc, pronoun)
        if person is not None:
            return Speaker(person, _verb_text(pronoun.head))
    return None


def _attribution(token: Token) -> tuple[Token, str] | None:
    """(the speaker's head token, the reporting words) when ``token`` reports someone."""
    if token.lower_ == "according" and token.i + 1 < len(token.doc):
        to = token.doc[token.i + 1]
        source = next((t for t in to.children if t.dep_ == "pobj"), None)
        if to.lower_ == "to" and source is not None and _can_speak(source):
            return source, "according to"
        return None
    if token.pos_ not in ("VERB", "AUX") or not _reports(token):
        return None
    subject = next((t for t in token.children if t.dep_ in _SUBJECTS), None)
    if subject is not None and subject.dep_ == "nsubjpass":
        subject = None  # "it is believed", "two designs were reported": the agent, if any
    if subject is None:
        agent = next((t for t in token.children if t.dep_ == "agent"), None)
        subject = next((t for t in agent.children if t.dep_ == "pobj"), None) if agent else None
    elif subject.tag_ in ("WP", "WDT") and token.dep_ == "relcl":
        subject = token.head  # "Michael G. Wilson, who stated that ...": Wilson
    if subject is None:
        return None
    if subject.lower_ in _PERSONAL or _can_speak(subject):
        return subject, _verb_text(token)
    return None


def _reports(verb: Token) -> bool:
    """Whether ``verb`` is a reporting verb ("said", "pointed out")."""
    lemma = verb.lemma_.lower()
    if lemma in PHRASAL:
        return any(t.dep_ == "prt" and t.lower_ == PHRASAL[lemma] for t in verb.children)
    return lemma in REPORTING_LEMMAS


def _can_speak(token: Token) -> bool:
    """Whether the phrase headed by ``token`` names someone who can say something."""
    if token.pos_ == "PRON":
        return False
    if token.pos_ == "PROPN" or token.ent_type_ in NAME_LABELS:
        return True
    if token.lemma_.lower() in SPEAKER_NOUNS or token.lower_ in SPEAKER_NOUNS:
        return True
    compounds = [t for t in token.children if t.dep_ in ("compound", "poss", "amod")]
    return any(t.ent_type_ in NAME_LABELS and t.ent_type_ != "GPE" for t in compounds)


def _phrase(head: Token) -> str:
    """The speaker's words: the phrase headed by ``head`` without its appositive, relative
    clause or leading article; its prepositional phrase only when the whole stays short."""
    tokens = _kept(head, keep_prep=True)
    if len(tokens) > _KEEP_PREP_WORDS:
        tokens = _kept(head, keep_prep=False)
    while tokens and tokens[0].dep_ in _LEADING and tokens[0].i != head.i:
        tokens = tokens[1:]
    while tokens and tokens[-1].is_punct:
        tokens = tokens[:-1]
    if not tokens or len(tokens) > _MAX_WORDS:
        return ""
    text = "".join(t.text_with_ws for t in tokens[:-1]) + tokens[-1].text
    return " ".join(text.split())


def _kept(head: Token, *, keep_prep: bool) -> list[Token]:
    cut = _CUT - {"prep"} if keep_prep else _CUT
    dropped: set[int] = set()
    for token in head.subtree:
        if token.i != head.i and token.dep_ in cut and token.i not in dropped:
            dropped.update(t.i for t in token.subtree)
    return [t for t in head.subtree if t.i not in dropped]


def _depth(token: Token) -> int:
    depth = 0
    while token.head.i != token.i:
        token, depth = token.head, depth + 1
    return depth


def _verb_text(verb: Token) -> str:
    """The reporting verb as written, with its particle ("pointed out")."""
    particle = next((t for t in verb.children if t.dep_ == "prt"), None)
    return f"{verb.text} {particle.text}" if particle is not None else verb.text


def _referent(doc: Doc, pronoun: Token) -> str | None:
    """The one person the quote names before ``pronoun``, or None (none, or several)."""
    people: list[Span] = [e for e in doc.ents if e.label_ == "PERSON" and e.end <= pronoun.i]
    surnames = {e.text.split()[-1].lower() for e in people}
    if len(surnames) != 1:
        return None
    return max(people, key=len).text
