"""Questions about who wrote a story: "Who wrote the story about the rate rise?".

No sentence of an article says who wrote it, so such a question is not searched as it stands
(it would be declined): :func:`byline_topic` gives the story it asks about ("the rate rise"),
the story is found by that, and the answer's citation and ``author`` give the byline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_STORY = r"(?:(?:the|that|this|a|an)\s+)?(?:news\s+)?(?:story|article|report|piece|coverage|item)"
_ABOUT = r"(?:\s+(?:about|on|of|covering|reporting|that\s+reported|that\s+said)\b)?"
_PATTERNS = [
    re.compile(
        r"^who\s+(?:wrote|authored|penned|filed|bylined|has\s+written|had\s+written)\s+"
        rf"{_STORY}{_ABOUT}\s*(?P<topic>.*)$",
        re.IGNORECASE,
    ),
    re.compile(
        r"^who\s+(?:is|was|are|were)\s+the\s+(?:author|writer|reporter|journalist)s?\s+of\s+"
        rf"{_STORY}{_ABOUT}\s*(?P<topic>.*)$",
        re.IGNORECASE,
    ),
    re.compile(
        rf"^whose\s+byline\s+(?:is|was)\s+(?:on|under)\s+(?:(?:{_STORY}){_ABOUT}\s*)?(?P<topic>.*)$",
        re.IGNORECASE,
    ),
    re.compile(
        rf"^(?:what\s+is\s+)?the\s+byline\s+of\s+(?:(?:{_STORY}){_ABOUT}\s*)?(?P<topic>.*)$",
        re.IGNORECASE,
    ),
]
_PATTERNS += [  # the story named before its noun: "Who wrote the Tamber flood story?"
    re.compile(
        r"^who\s+(?:wrote|authored|penned|filed|(?:is|was)\s+the\s+(?:author|writer)\s+of)\s+"
        r"(?:the\s+|that\s+|this\s+)?(?P<topic>.+?)\s+(?:news\s+)?(?:story|article|report|piece)$",
        re.IGNORECASE,
    )
]
_NOTHING = frozenset({""})


@dataclass(frozen=True, slots=True)
class BylineQuestion:
    """A question asking who wrote a story; ``topic`` is the story ("" for "Who wrote the
    story?": the one the last answer quoted)."""

    topic: str


def byline_topic(question: str) -> BylineQuestion | None:
    """The story a question asks the author of, or None when it asks something else."""
    text = " ".join(question.split()).strip(" ?!.")
    for pattern in _PATTERNS:
        match = pattern.match(text)
        if match:
            topic = match.group("topic").strip(" ,:;")
            return BylineQuestion("" if topic.lower() in _NOTHING else topic)
    return None
