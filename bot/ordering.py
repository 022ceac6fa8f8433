"""Updates of one chat are handled one after another; different chats run side by side.

python-telegram-bot runs updates concurrently (``concurrent_updates``), so two questions sent
quickly in one chat could be answered in the wrong order, and a follow-up could be read before
the answer it leans on exists. :class:`ChatOrderedUpdateProcessor` keeps, per chat, the order
in which updates arrived: each waits for the one before it in the same chat. Updates without a
chat (inline queries) are not held back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


def chat_key(update: object) -> int | None:
    """The chat an update belongs to (None for inline queries and other chat-less updates)."""
    if isinstance(update, Update) and update.effective_chat is not None:
        return update.effective_chat.id
    return None


class ChatOrderedUpdateProcessor(BaseUpdateProcessor):
    """Process updates concurrently across chats and in arrival order within each chat.

    ``max_concurrent_updates`` bounds the updates in progress, the waiting ones included; it
    should be well above the number of chats expected to ask at once, since a chat's queued
    updates hold their places while they wait.
    """

    __slots__ = ("_tails",)

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._tails: dict[int, asyncio.Future[None]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the chat's previous update to finish, then process this one."""
        key = chat_key(update)
        if key is None:
            await coroutine
            return
        previous = self._tails.get(key)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[key] = done
        try:
            if previous is not None:
                await asyncio.shield(previous)
            await coroutine
        finally:
            done.set_result(None)
            if self._tails.get(key) is done:
                del self._tails[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release: every update finishes its own turn."""

    def waiting_chats(self) -> int:
        """How many chats have an update in progress (for tests and the health check)."""
        return len(self._tails)
