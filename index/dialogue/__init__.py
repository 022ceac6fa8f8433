"""Understanding a message: small talk, what a question asks for, its language and spelling,
and follow-ups read against the chat's last turn. Imports the corpus and store rooms, never the
rank room."""

# ruff: noqa: F401  (the names under TYPE_CHECKING are for type checkers: at run time
# __getattr__ imports each one from its module on first use)
from typing import TYPE_CHECKING

from index.lazy import lazy_exports

_EXPORTS = {
    "Conversation": "index.dialogue.conversation",
    "asked": "index.dialogue.asks",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from index.dialogue.asks import asked
    from index.dialogue.conversation import Conversation
