"""Comparing the coverage: what each article says about a topic, and which say nothing.

:func:`comparison_topic` recognises questions that ask for a comparison ("How do the reports
differ on Covid easing?", "Which outlets report the drone designs?", "/compare ...") and
returns their topic.
"""

from __future__ import annotations

import re

_REPORTS = (
    r"(?:the\s+)?(?:two\s+|different\s+|various\s+|other\s+|several\s+|news\s+)?"
    r"(?:reports?|articles?|outlets?|sources?|stories|story|coverage|papers?|newspapers?|media|"
    r"publications?|news\s+(?:outlets?|sites?|sources?))"
)
_ON = r"(?:\s+(?:on|about|over|in|regarding|concerning|when\s+it\s+comes\s+to|as\s+to))?"
_PATTERNS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        rf"^(?:how|in\s+what\s+ways?|where|why)\s+(?:do|does|did)\s+{_REPORTS}\s+"
        rf"(?:differ|disagree|vary|compare|contrast|diverge){_ON}\s+(?P<topic>.+)$",
        rf"^(?:what(?:'s|\s+is|\s+are)\s+the\s+)?differences?\s+(?:between|among)\s+{_REPORTS}"
        rf"{_ON}\s+(?P<topic>.+)$",
        rf"^(?:which|what)\s+{_REPORTS}\s+(?:report(?:s|ed)?|say|says|said|mention(?:s|ed)?|"
        r"cover(?:s|ed)?|wr(?:ite|ote)\s+about|talk(?:s|ed)?\s+about|carr(?:y|ies|ied))"
        r"(?:\s+(?:that|about|on))?\s+(?P<topic>.+)$",
        rf"^(?:what|how)\s+(?:does|do|did)\s+(?:each|every|all(?:\s+the)?|both(?:\s+the)?)\s+"
        r"(?:of\s+the\s+)?(?:outlets?|sources?|articles?|reports?|papers?)\s+"
        rf"(?:say|report|write|cover){_ON}\s+(?P<topic>.+)$",
        rf"^do\s+{_REPORTS}\s+(?:agree|disagree){_ON}\s+(?P<topic>.+)$",
        rf"^compare\s+(?:the\s+)?(?:coverage|reports?|articles?|outlets?|sources?)(?:\s+of)?{_ON}\s+"
        r"(?P<topic>.+)$",
        rf"^compare\s+(?P<topic>.+?)\s+(?:across|between|among)\s+{_REPORTS}$",
    )
]


def comparison_topic(question: str) -> str | None:
    """The topic of a question that asks to compare the coverage, or None for any other."""
    text = " ".join(question.split()).strip(" ?!.")
    for pattern in _PATTERNS:
        match = pattern.match(text)
        if match:
            topic = match.group("topic").strip(" ,:;")
            return topic or None
    return None
