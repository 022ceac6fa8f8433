"""Which conversation a message belongs to: the bot stores each chat's context, nothing more.

A private chat is one conversation. In a group every question that does not reply to the bot
starts a conversation of its own, and a reply to one of the bot's answers (or to a question of
the thread) continues that thread's conversation. What a follow-up means is decided by
:mod:`index.dialogue.conversation`; this module only keeps the
:class:`~index.dialogue.conversation.Conversation`
objects, a bounded number of them, the least recently used forgotten first.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from index.dialogue.conversation import FOLLOWUP_MINUTES, Conversation

ThreadKey = tuple[int, int]
"""(chat id, message id of the question that started the thread); 0 for a private chat."""

MAX_CONVERSATIONS = 10_000
MAX_LINKS = 50_000


class ChatContexts:
    """The conversations of every chat and group thread the bot is talking in."""

    def __init__(
        self,
        minutes: float = FOLLOWUP_MINUTES,
        max_conversations: int = MAX_CONVERSATIONS,
        max_links: int = MAX_LINKS,
    ) -> None:
        self.minutes = minutes
        self.max_conversations = max_conversations
        self.max_links = max_links
        self._conversations: OrderedDict[ThreadKey, Conversation] = OrderedDict()
        self._threads: OrderedDict[tuple[int, int], ThreadKey] = OrderedDict()

    def thread(
        self, chat_id: int, message_id: int, *, private: bool, reply_to: int | None = None
    ) -> ThreadKey:
        """The thread a question belongs to: the whole chat when private; in a group the
        thread of the message it replies to, or a new one that starts with it."""
        if private:
            return (chat_id, 0)
        if reply_to is not None:
            known = self._threads.get((chat_id, reply_to))
            if known is not None:
                self._threads.move_to_end((chat_id, reply_to))
                return known
        return (chat_id, message_id)

    def conversation(self, key: ThreadKey) -> Conversation:
        """The conversation of a thread (a new one the first time)."""
        found = self._conversations.get(key)
        if found is None:
            found = Conversation(self.minutes)
            self._conversations[key] = found
            while len(self._conversations) > self.max_conversations:
                self._conversations.popitem(last=False)
        else:
            self._conversations.move_to_end(key)
        return found

    def link(self, key: ThreadKey, message_ids: Iterable[int]) -> None:
        """Replies to these messages (the question, the bot's answer) continue ``key``."""
        chat_id = key[0]
        for message_id in message_ids:
            self._threads[(chat_id, message_id)] = key
            self._threads.move_to_end((chat_id, message_id))
        while len(self._threads) > self.max_links:
            self._threads.popitem(last=False)

    def clear_chat(self, chat_id: int) -> None:
        """Forget every conversation of a chat (/start)."""
        for key in [k for k in self._conversations if k[0] == chat_id]:
            del self._conversations[key]
        for link in [k for k in self._threads if k[0] == chat_id]:
            del self._threads[link]

    def __len__(self) -> int:
        return len(self._conversations)
