"""What a turn of a conversation talks about: the people, places, groups and things it names.

:func:`mentions` reads them from a spaCy ``Doc`` (noun phrases, named entities and "A and B"),
each with its kind, number, grammatical role and place in the text. :func:`mark_answer` finds
the one that answers a question in its quote ("Who led the delegation?": the person nearest the
quote's words for "led" and "delegation"). :func:`salient` orders a turn's mentions the way a
reader resolves "he" or "it": the answer, then the question's subject, objects and the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from index.corpus.text import tokenize
from index.dialogue.asks import ORGANISATION_NOUNS, PERSON_NOUNS, WH_TAGS, MentionKind, asked
from index.store import entities

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

Kind = MentionKind
Role = Literal["subject", "object", "oblique", "other"]

_KIND_OF_ENTITY: dict[str, Kind] = {
    entities.PERSON: "person",
    entities.ORGANISATION: "group",
    entities.GROUP: "group",
    entities.PLACE: "place",
    entities.EVENT: "thing",
    entities.DATE: "time",
}
_LABEL_KINDS: dict[str, Kind] = {
    label: _KIND_OF_ENTITY[kind]
    for label, kind in entities.LABEL_KIND.items()
    if kind in _KIND_OF_ENTITY and label != "LANGUAGE"
}
"""What a named entity is for a pronoun, by spaCy label: the one label map of
:mod:`index.store.entities`, with organisations counted as groups ("they", "it")."""
NAME_LABELS = frozenset({"PERSON", "NORP", "ORG", "GPE", "LOC", "FAC"})
GROUP_NOUNS = ORGANISATION_NOUNS | {"country", "nation"}
"""Nouns for a body of people, which "they" or "it" can refer to ("the delegation")."""

_ROLES: dict[str, Role] = {
    "nsubj": "subject",
    "nsubjpass": "subject",
    "dobj": "object",
    "dative": "object",
    "attr": "object",
    "oprd": "object",
    "pobj": "oblique",
}
_ARTICLES = frozenset({"a", "an"})


@dataclass(frozen=True, slots=True)
class Mention:
    """Something a text names, and how a later question could refer to it."""

    text: str  # how to say it in a question: "Li Hongzhong", "the Chinese delegation"
    kind: Kind
    plural: bool = False
    head: str = ""  # the head word, lower case: "delegation", "hongzhong"
    brief: str = ""  # without its "of ..." or "from ..." complement: "the autographed letter"
    modifier: str = ""  # a name inside it: "Russian" in "the Russian delegation"
    modifier_label: str = ""  # the modifier's entity label: "NORP"
    role: Role = "other"
    source: Literal["question", "quote", "background"] = "question"
    start: int = 0  # character offsets in the text it comes from
    end: int = 0
    answer: bool = False  # it answers the question of its turn

    def fits(self, kind: Kind | Literal["any"], plural: bool | None) -> bool:
        """Whether a pronoun of this kind and number can refer to it."""
        if plural is not None and plural != self.plural and self.kind != "group":
            return False
        return kind == "any" or self.kind == kind

    @property
    def words(self) -> set[str]:
        """Its stemmed content words (to tell whether a question already names it)."""
        return set(tokenize(self.text))


def mentions(doc: Doc, source: Literal["question", "quote", "background"]) -> list[Mention]:
    """The mentions of a parsed text, in order: noun phrases, names, and "A and B" pairs."""
    found: list[Mention] = []
    covered: set[int] = set()
    for chunk in doc.noun_chunks:
        mention = _from_chunk(chunk, source)
        if mention is not None:
            found.append(mention)
            covered.update(range(chunk.start, chunk.end))
            pair = _coordination(chunk, mention)
            if pair is not None:
                found.append(pair)
    for ent in doc.ents:
        if ent.label_ in NAME_LABELS and not covered.intersection(range(ent.start, ent.end)):
            found.append(_from_entity(ent, source))
    return sorted(found, key=lambda m: m.start)


def _from_chunk(chunk: Span, source: Literal["question", "quote", "background"]) -> Mention | None:
    tokens = [t for t in chunk if t.dep_ not in ("cc", "preconj") and t.lower_ != "both"]
    root = chunk.root
    if not tokens or root.pos_ == "PRON" or any(t.tag_ in WH_TAGS for t in tokens):
        return None
    role = _ROLES.get(root.dep_, "other")
    name = _entity_of(root)
    if name is not None and name.label_ in NAME_LABELS:
        return replace(_from_entity(name, source), role=role)
    start, end = tokens[0].idx, _extended_end(chunk)
    text, brief = chunk.doc.text[start:end], chunk.doc.text[start : chunk.end_char]
    if tokens[0].lower_ in _ARTICLES:
        text = "the " + text[len(tokens[0].text) :].lstrip()
        brief = "the " + brief[len(tokens[0].text) :].lstrip()
    extension = [t for t in chunk.doc if chunk.end <= t.i and t.idx < end]
    modifier = next(
        (t for t in [*tokens, *extension] if t is not root and t.ent_type_ in NAME_LABELS), None
    )
    modifier_span = _entity_of(modifier) if modifier is not None else None
    kind = _noun_kind(root)
    if kind == "thing" and root.pos_ == "PROPN" and any(_is_title(t) for t in tokens):
        kind = "person"  # "Mayor Ana Ruiz", when the model does not know the name
    return Mention(
        text=_clean(text),
        brief=_clean(brief),
        kind=kind,
        plural=root.tag_ in ("NNS", "NNPS"),
        head=root.lower_,
        modifier=modifier_span.text if modifier_span is not None else "",
        modifier_label=modifier_span.label_ if modifier_span is not None else "",
        role=role,
        source=source,
        start=start,
        end=end,
    )


def _clean(text: str) -> str:
    """A phrase without line breaks and without quotation marks cut in half by the parse."""
    text = " ".join(text.split())
    if text.count("“") != text.count("”"):
        text = text.replace("“", "").replace("”", "")
    if text.count('"') % 2:
        text = text.replace('"', "")
    return text.strip()


def _from_entity(ent: Span, source: Literal["question", "quote", "background"]) -> Mention:
    kind = _LABEL_KINDS.get(ent.label_, "thing")
    plural = ent.label_ == "NORP" or ent.root.tag_ in ("NNS", "NNPS")
    return Mention(
        text=ent.text,
        kind=kind,
        plural=plural,
        head=ent.root.lower_,
        role=_ROLES.get(ent.root.dep_, "other"),
        source=source,
        start=ent.start_char,
        end=ent.end_char,
    )


def _entity_of(token: Token | None) -> Span | None:
    if token is None or not token.ent_type_:
        return None
    return next((e for e in token.doc.ents if e.start <= token.i < e.end), None)


def _noun_kind(root: Token) -> Kind:
    lemma = root.lemma_.lower()
    if root.ent_type_ in _LABEL_KINDS:
        return _LABEL_KINDS[root.ent_type_]
    if lemma in PERSON_NOUNS or root.lower_ in PERSON_NOUNS:
        return "person"
    if lemma in GROUP_NOUNS:
        return "group"
    return "thing"


def _is_title(token: Token) -> bool:
    """ "Mayor", "President", "Mr.": a word for a person before a name."""
    word = token.lower_.rstrip(".")
    return word in PERSON_NOUNS or word in ("mr", "mrs", "ms", "dr", "sir", "madam", "lady", "lord")


def _extended_end(chunk: Span) -> int:
    """Where a noun phrase ends with its "of ..." or "from ..." complement ("the letter from
    President Xi"), which tells two letters apart."""
    end = chunk.end_char
    for child in chunk.root.rights:
        if child.dep_ == "prep" and child.lower_ in ("of", "from") and child.i == chunk.end:
            objects = [t for t in child.children if t.dep_ == "pobj"]
            if objects:
                last = max(objects[0].subtree, key=lambda t: t.i)
                end = last.idx + len(last.text)
            break
    return end


def _coordination(chunk: Span, first: Mention) -> Mention | None:
    """ "Pyongyang and Moscow": one plural mention for a noun phrase and its conjuncts."""
    conjuncts = [t for t in chunk.root.children if t.dep_ == "conj" and t.pos_ in ("PROPN", "NOUN")]
    if not conjuncts:
        return None
    last = conjuncts[-1]
    end = max(t.idx + len(t.text) for t in last.subtree if t.dep_ != "punct")
    text = chunk.doc.text[first.start : end]
    return replace(first, text=" ".join(text.split()), plural=True, end=end, modifier="")


# --------------------------------------------------------------------------- answers


def mark_answer(question: Doc, quote: Doc, quote_mentions: Sequence[Mention]) -> list[Mention]:
    """``quote_mentions`` with the one that answers ``question`` marked.

    It is of a wanted kind, not already named in the question, and (unless a place or a time is
    asked for) not a scene-setting phrase ("During the event, ..."); a place asked for is
    where something happens ("to Pyongyang"). When the quote uses the question's verb, the
    answer is the phrase nearest that verb in the parse ("led by politburo member Li
    Hongzhong"); otherwise the last one, where English puts new information.
    """
    kinds = asked(question.text).mention_kinds
    in_question = set(tokenize(question.text))
    verbs = {w for t in question if t.pos_ == "VERB" for w in tokenize(t.text)}
    anchors = [t for t in quote if set(tokenize(t.text)) & verbs]
    wh_nouns = {t.head.lemma_.lower() for t in question if t.tag_ in WH_TAGS and t.dep_ == "det"}
    for kind in kinds:
        candidates = [
            (m, root)
            for m in quote_mentions
            if m.kind == kind and m.words and not m.words <= in_question
            for root in [_root(quote, m)]
            if root is not None and (kind in ("place", "time") or not _framing(root))
        ]
        if not candidates:
            continue
        named = [c for c in candidates if c[1].lemma_.lower() in wh_nouns]
        if named:  # "What propellant": the phrase about propellants
            candidates = named
        located = [c for c in candidates if kind == "place" and _locative(c[1])]
        if located:  # "a visit to Pyongyang", not "the leader of North Korea"
            candidates = located
        if anchors:
            best = min(candidates, key=lambda c: _nearness(c, anchors))[0]
        else:
            best = candidates[-1][0]
        return [replace(m, answer=True) if m is best else m for m in quote_mentions]
    return list(quote_mentions)


def _nearness(candidate: tuple[Mention, Token], anchors: Sequence[Token]) -> tuple[int, int, int]:
    """Sort key: fewest arcs to the verb, then after it rather than before, then longest
    ("Pyongyang and Moscow" rather than "Pyongyang")."""
    mention, root = candidate
    arcs, anchor = min((_tree_distance(root, a), a.i) for a in anchors)
    return arcs, int(root.i < anchor), -(mention.end - mention.start)


_LOCATIVE = frozenset({"in", "at", "to", "near", "inside", "outside", "across", "into", "from"})


def _locative(root: Token) -> bool:
    """Whether a place is where something happens ("in Pyongyang", "a visit to Pyongyang")."""
    return root.dep_ == "pobj" and root.head.lower_ in _LOCATIVE


def _root(doc: Doc, mention: Mention) -> Token | None:
    """The syntactic head of a mention's words."""
    inside = [t for t in doc if mention.start <= t.idx < mention.end]
    return next((t for t in inside if not mention.start <= t.head.idx < mention.end), None)


def _tree_distance(a: Token, b: Token) -> int:
    """The number of dependency arcs between two tokens."""
    up_a = [a, *a.ancestors]
    up_b = [b, *b.ancestors]
    common = next((t for t in up_a if t in up_b), None)
    if common is None:
        return len(up_a) + len(up_b)
    return up_a.index(common) + up_b.index(common)


def _framing(root: Token) -> bool:
    """Whether a phrase sets the scene before its clause's subject ("During the event", "Amid
    the visit"): not what the sentence is about."""
    if root.dep_ != "pobj" or root.head.dep_ != "prep":
        return False
    preposition = root.head
    subjects = [t.i for t in preposition.head.children if t.dep_ in ("nsubj", "nsubjpass")]
    return bool(subjects) and preposition.i < min(subjects)


_ROLE_ORDER: dict[Role, int] = {"subject": 0, "object": 1, "oblique": 2, "other": 3}
_SOURCE_ORDER = {"question": 0, "quote": 1, "background": 2}


def salient(candidates: Iterable[Mention]) -> list[Mention]:
    """Mentions in the order a reader would pick them for a pronoun: the answer of the last
    turn, then the last question's subject, objects and the rest, then the quote's, then the
    article's."""
    return sorted(
        candidates,
        key=lambda m: (not m.answer, _SOURCE_ORDER[m.source], _ROLE_ORDER[m.role], m.start),
    )


def frequent_names(doc: Doc) -> list[Mention]:
    """The people, places and groups an article names, the most often named first; short forms
    ("Mr. Kim") count for the longest name that holds them ("Kim Jong Un")."""
    names = [e for e in doc.ents if e.label_ in NAME_LABELS and e.label_ != "NORP"]
    longest: dict[str, Span] = {}
    for ent in sorted(names, key=lambda e: -len(e.text)):
        key = _name_key(ent, longest)
        longest.setdefault(key, ent)
    counts: dict[str, int] = {}
    first: dict[str, int] = {}
    for ent in names:
        key = _name_key(ent, longest)
        counts[key] = counts.get(key, 0) + 1
        first.setdefault(key, ent.start_char)
    ranked = sorted(counts, key=lambda k: (-counts[k], first[k]))
    return [
        replace(_from_entity(longest[k], "background"), role="other", start=n, end=n)
        for n, k in enumerate(ranked)
    ]


def _name_key(ent: Span, longest: dict[str, Span]) -> str:
    """The longest name already seen that shares a capitalised word with ``ent`` (same label)."""
    own = {w for w in ent.text.split() if w[:1].isupper() and not w.endswith(".")}
    for key, span in longest.items():
        if span.label_ == ent.label_ and own & set(span.text.split()):
            return key
    return ent.text
