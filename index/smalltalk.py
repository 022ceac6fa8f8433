"""Recognise messages that are not questions: greetings, thanks, requests for help, nothing.

Only short messages that consist of such words qualify; "Hi, who led the delegation?" is a
question (the greeting is stripped by :func:`index.text.normalise_question`).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from index import wording

SmallTalk = Literal["greeting", "thanks", "help", "empty"]

_END = r"[\s!.,?:;)(*~^_\-\u2764\U0001F300-\U0001FAFF]*"
_NAME = r"(?:\s+(?:there|bot|friend|all|everyone|again))?"

_GREETING = re.compile(
    r"^(?:hi|hii+|hello|hallo|hey|heya|hiya|howdy|yo|greetings|good\s+(?:morning|afternoon|"
    r"evening|day)|morning|evening|hola|bonjour|salut|ciao|hej|servus|moin|privet|"
    r"what'?s\s+up|sup|how\s+are\s+you(?:\s+doing)?(?:\s+today)?|how'?s\s+it\s+going|"
    r"nice\s+to\s+meet\s+you|/start)" + _NAME + _END + "$",
    re.IGNORECASE,
)
_THANKS = re.compile(
    r"^(?:(?:ok(?:ay)?|great|cool|nice|perfect|awesome|got\s+it|good|fine)[\s,!.]*)?"
    r"(?:thanks?(?:\s+(?:a\s+lot|so\s+much|very\s+much|again))?|thank\s+you(?:\s+(?:so|very)"
    r"\s+much)?|thx|ty|tnx|cheers|much\s+appreciated|appreciate\s+it|merci|danke|gracias|"
    r"great|cool|nice|perfect|awesome|ok(?:ay)?|got\s+it|good\s+(?:bot|job)|bye|goodbye|"
    r"see\s+you)" + _NAME + _END + "$",
    re.IGNORECASE,
)
_HELP = re.compile(
    r"^(?:/?help|help\s+me|what\s+can\s+you\s+do|what\s+do\s+you\s+do|how\s+does\s+this\s+"
    r"work|how\s+do\s+(?:i|you)\s+use\s+(?:this|you|it)|who\s+are\s+you|what\s+are\s+you|"
    r"what\s+is\s+this(?:\s+bot)?|commands|menu|info)" + _END + "$",
    re.IGNORECASE,
)


def classify(text: str) -> SmallTalk | None:
    """``greeting``, ``thanks``, ``help``, ``empty`` (no letters or digits), or None: a question."""
    cleaned = " ".join(unicodedata.normalize("NFKC", text).split())
    if not any(ch.isalnum() for ch in cleaned):
        return "empty"
    if len(cleaned) > 60:
        return None
    if _HELP.match(cleaned):
        return "help"
    if _GREETING.match(cleaned):
        return "greeting"
    if _THANKS.match(cleaned):
        return "thanks"
    return None


REPLIES: dict[SmallTalk, str] = {
    "greeting": wording.GREETING,
    "thanks": wording.THANKS,
    "help": wording.HELP_INTRO,
    "empty": wording.EMPTY,
}
