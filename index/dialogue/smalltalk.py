"""Recognise messages that are not questions: greetings, thanks, requests for help, nothing.

Only short messages that consist of such words qualify; "Hi, who led the delegation?" is a
question (the greeting is stripped by :func:`index.corpus.text.normalise_question`).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from index import wording

SmallTalk = Literal["greeting", "thanks", "goodbye", "help", "empty"]

MAX_SMALL_TALK_CHARS = 80
"""Longer messages are questions (greetings and thanks are short)."""

_END = r"[\s!.,?:;)(*~^_\-\u2764\U0001F300-\U0001FAFF]*"
_NAME = r"(?:\s+(?:there|bot|friend|all|everyone|again))?"

_GREETING = re.compile(
    r"^(?:hi|hii+|hello|hallo|hey|heya|hiya|howdy|yo|greetings|good\s+(?:morning|afternoon|"
    r"evening|day)|morning|evening|hola|bonjour|salut|ciao|hej|servus|moin|privet|"
    r"what'?s\s+up|sup|how\s+are\s+you(?:\s+doing)?(?:\s+today)?|how'?s\s+it\s+going|"
    r"nice\s+to\s+meet\s+you|/start)" + _NAME + _END + "$",
    re.IGNORECASE,
)
# Thanks, praise and goodbyes are recognised clause by clause: "thank you, that's helpful",
# "great, thanks!", "perfect, cheers", "ok bye for now" are small talk when every clause is.
_CLAUSES = re.compile(r"\s*(?:[,.!;:…]+|\s-+\s|\s&\s|\band\b)\s*")
_LEAD = r"(?:(?:ok(?:ay)?|oh|ah|aha|wow|well|yes|yeah|yep|alright|right|cool|great|so)\s+)*"
_ADDRESS = r"(?:\s+(?:bot|mate|man|buddy|friend|pal|again|all|everyone|guys|then|too))*"
_THANKS_CLAUSE = re.compile(
    "^"
    + _LEAD
    + r"(?:(?:many|big|huge|a\s+lot\s+of)\s+)?"
    + r"(?:thanks?|thank\s+(?:you|u|ya|you\s+kindly)|thx|thnx|tnx|ty|tysm|cheers|ta|merci|danke|"
    r"gracias|much\s+appreciated|(?:i\s+|really\s+)*appreciate\s+(?:it|that|this|your\s+help))"
    r"(?:\s+(?:a\s+lot|a\s+bunch|a\s+million|so\s+much|very\s+much|so|much|loads|heaps))?"
    r"(?:\s+for\s+(?:that|this|the\s+(?:help|answer|answers|info|information|quote)|"
    r"your\s+help|helping|everything|all))?" + _ADDRESS + "$",
    re.IGNORECASE,
)
_PRAISE_WORDS = (
    r"great|good|cool|nice|perfect|awesome|excellent|brilliant|amazing|wonderful|fantastic|"
    r"helpful|useful|interesting|informative|fascinating|clear|super|lovely|neat|sweet|"
    r"splendid|superb|fine|ok(?:ay)?|alright|spot\s+on|very\s+helpful|good\s+to\s+know|"
    r"exactly\s+what\s+i\s+(?:needed|wanted)|just\s+what\s+i\s+needed"
)
_PRAISE_CLAUSE = re.compile(
    "^"
    + _LEAD
    + r"(?:(?:that|this|it)(?:'s|\s+is|\s+was|\s+were)\s+|you(?:'re|\s+are)\s+)?"
    + r"(?:(?:very|really|so|super|pretty|quite|most|extremely|truly|indeed)\s+)*"
    + r"(?:"
    + _PRAISE_WORDS
    + r"|nice\s+one|well\s+done|good\s+(?:bot|job|work|answer)|great\s+(?:bot|job|work|"
    r"answer)|love\s+(?:it|this|that)|makes\s+sense|that\s+makes\s+sense|got\s+it|"
    r"understood|noted|i\s+see|fair\s+enough|sounds\s+good|(?:that|this)\s+help(?:s|ed)|"
    r"you(?:'ve|\s+have)\s+been\s+(?:very\s+|really\s+|so\s+)?helpful)"
    + r"(?:\s+(?:indeed|thanks?))?"
    + _ADDRESS
    + "$",
    re.IGNORECASE,
)
_GOODBYE_CLAUSE = re.compile(
    "^" + _LEAD + r"(?:bye(?:\s*bye)?|good\s*bye|farewell|cya|ttyl|later|see\s+(?:you|ya|u)"
    r"(?:\s+(?:later|soon|around|tomorrow|next\s+time))?|catch\s+you\s+later|take\s+care|"
    r"good\s*night|night|have\s+a\s+(?:nice|good|great|lovely)\s+(?:day|one|evening|night|"
    r"weekend)|talk\s+(?:to\s+you\s+)?(?:later|soon)|that'?s\s+(?:all|it)|i'?m\s+done|"
    r"(?:i\s+)?(?:have|gotta|got\s+to)\s+go|nothing\s+else|no\s+more\s+questions)"
    + r"(?:\s+for\s+(?:now|today|the\s+day))?"
    + _ADDRESS
    + "$",
    re.IGNORECASE,
)
_EMOJI = re.compile(r"[\u2600-\u27BF\uFE0F\u200D\U0001F300-\U0001FAFF]")
_SMALL_TALK_CLAUSES = (_THANKS_CLAUSE, _PRAISE_CLAUSE, _GOODBYE_CLAUSE)


def _thanks_or_goodbye(text: str) -> SmallTalk | None:
    """``goodbye`` when every clause of ``text`` is thanks, praise or a goodbye and one is a
    goodbye; ``thanks`` when there is no goodbye among them; else None."""
    plain = _EMOJI.sub(" ", text.replace("’", "'"))
    clauses = [c.strip() for c in _CLAUSES.split(plain.strip(" ?!.*~^_()")) if c.strip()]
    if not clauses or not all(any(p.match(c) for p in _SMALL_TALK_CLAUSES) for c in clauses):
        return None
    return "goodbye" if any(_GOODBYE_CLAUSE.match(c) for c in clauses) else "thanks"


_HELP = re.compile(
    r"^(?:/?help|help\s+me|what\s+can\s+you\s+do|what\s+do\s+you\s+do|how\s+does\s+this\s+"
    r"work|how\s+do\s+(?:i|you)\s+use\s+(?:this|you|it)|who\s+are\s+you|what\s+are\s+you|"
    r"what\s+is\s+this(?:\s+bot)?|commands|menu|info)" + _END + "$",
    re.IGNORECASE,
)


def classify(text: str) -> SmallTalk | None:
    """``greeting``, ``thanks`` (praise too), ``goodbye``, ``help``, ``empty`` (no letters or
    digits), or None: a question."""
    cleaned = " ".join(unicodedata.normalize("NFKC", text).split())
    if not any(ch.isalnum() for ch in cleaned):
        return "empty"
    if len(cleaned) > MAX_SMALL_TALK_CHARS:
        return None
    if _HELP.match(cleaned):
        return "help"
    if _GREETING.match(cleaned):
        return "greeting"
    return _thanks_or_goodbye(cleaned)


REPLIES: dict[SmallTalk, str] = {
    "greeting": wording.GREETING,
    "thanks": wording.THANKS,
    "goodbye": wording.GOODBYE,
    "help": wording.HELP_INTRO,
    "empty": wording.EMPTY,
}
