"""The words the search side puts in an :class:`~index.types.Answer`, in one place.

An answer's ``reason`` (small talk replies, refusals, partial answers, an unavailable search)
is shown to people as it is, so it is written here; everything else the bot, the terminal chat
and the scripts say is in :mod:`bot.wording`. Plain strings and small format functions only.
"""

from __future__ import annotations

from collections.abc import Sequence

# --------------------------------------------------------------------------- answers by kind
# One wording per ``Answer.kind``: the search side gives it as the answer's ``reason``
# (``index.dialogue.smalltalk.REPLIES``, ``QA``) and the bot and the terminal chat show it.

GREETING = "Hello! I answer questions about the news I have read, quoting the articles."
THANKS = "You're welcome! Ask me anything else about the coverage."
GOODBYE = "Goodbye! Come back any time with a question about the coverage."
HELP_INTRO = (
    "Send me a question in plain words and I reply with the best matching quote "
    "from the articles, its source, and other articles reporting the same."
)
EMPTY = "Send me a question about the news."
"""The reply to a message without words (``kind == "empty"``)."""

SEARCH_UNAVAILABLE = "Search is temporarily unavailable"
UNAVAILABLE = f"{SEARCH_UNAVAILABLE}, please try again in a minute."
"""The reply while the search backend is down (``kind == "unavailable"``)."""

NOT_ENGLISH = "I answer questions in English, and this looks like {}. Please ask in English."
"""The reply to a question in another language (``kind == "language"``)."""


def not_english(language: str) -> str:
    """The reply to a question in ``language`` (its English name, "German")."""
    return NOT_ENGLISH.format(language)


NOT_IN_COVERAGE = "Not in the coverage."
"""How every refusal (``kind == "refusal"``) begins."""
NOT_FOUND_UNQUOTED = "that"
"""Stands in for the question when there is none to quote."""


def refusal_reason(total: int, titles: Sequence[str]) -> str:
    """The reason of a refusal: what the coverage is about (the first ``titles`` of ``total``)."""
    about = ", ".join(f"“{t}”" for t in titles)
    if total > len(titles):
        about += f" and {total - len(titles)} more"
    articles = "article" if total == 1 else "articles"
    return (
        f"{NOT_IN_COVERAGE} The {total} indexed {articles} ({about}) do not answer this "
        "question; see /sources for the list."
    )


ASKED_KIND_NOUN: dict[str, str] = {
    "person": "name",
    "place": "place",
    "organisation": "organisation",
    "date": "date",
    "number": "figure",
    "event": "event or title",
    "group": "nationality or group",
}
"""How a partial answer names the kind of fact asked for (``index.store.entities`` kinds)."""
CLOSEST = "The closest it says:"
PARTIAL = "The coverage gives no {noun} in answer to {{}}."
"""How a partial answer begins; ``{}`` holds the question (in quotes)."""


UNANSWERED = "The coverage does not answer {} directly."
"""How a partial answer begins when no sentence answers the question; ``{}`` holds it."""


ASKED_CHARS = 200
"""A question longer than this is shortened where a reason repeats it."""


def _asked(question: str) -> str:
    """The question in quotation marks (shortened), as a reason repeats it."""
    if not question:
        return NOT_FOUND_UNQUOTED
    if len(question) > ASKED_CHARS:
        question = question[: ASKED_CHARS - 1].rstrip() + "…"
    return f"“{question}”"


def partial_unanswered(question: str) -> str:
    """The reason of a partial answer when the coverage is on the topic but no sentence
    answers the question."""
    return UNANSWERED.format(_asked(question)) + " " + CLOSEST


def partial_lead(kind: str) -> str:
    """:data:`PARTIAL` for ``kind`` (an ``index.store.entities`` kind), the question left as
    ``{}``."""
    return PARTIAL.format(noun=ASKED_KIND_NOUN.get(kind, "answer"))


def partial_reason(kind: str, question: str) -> str:
    """The reason of a partial answer: no quote holds the kind of fact the question asks for."""
    return partial_lead(kind).format(_asked(question)) + " " + CLOSEST


COMPARE_NONE = "None of the {} indexed articles addresses {}."
"""The reason of a comparison that finds no article addressing the topic."""


CLARIFY = "Which do you mean: {}? Send the one you mean, or ask again with the name."
"""The reply to a follow-up that could mean several people or places (``kind == "clarify"``)."""


def clarify(options: Sequence[str]) -> str:
    """The reason of a ``clarify`` answer: which of ``options`` is meant."""
    named = [f"“{o}”" for o in options]
    listed = ", ".join(named[:-1]) + " or " + named[-1] if len(named) > 1 else "".join(named)
    return CLARIFY.format(listed)


NO_BYLINE = "{} names no author. The closest it says:"
"""The reason of the answer to "who wrote the story?" when the article has no byline."""


def no_byline(label: str) -> str:
    """:data:`NO_BYLINE` for an article's outlet or title."""
    return NO_BYLINE.format(f"“{label}”")
