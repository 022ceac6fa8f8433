"""Run the real python-telegram-bot ``Application`` by long polling inside an event loop.

``Application.run_polling`` owns the event loop and blocks; tests and ``benchmarks/bench_load.py``
need the bot running while they drive the fake Bot API from the same loop, so this does what
``run_polling`` does, step by step, around a block.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from telegram.ext import Application

from bot.app import ALLOWED_UPDATES

BotApplication = Application[Any, Any, Any, Any, Any, Any]


@asynccontextmanager
async def polling(application: BotApplication, *, timeout: int = 1) -> AsyncIterator[None]:
    """Initialise, start and long-poll (``timeout`` seconds a poll) for the block; then stop."""
    assert application.post_init is not None and application.post_shutdown is not None
    async with application:
        await application.post_init(application)
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(
            poll_interval=0, timeout=timeout, allowed_updates=ALLOWED_UPDATES
        )
        try:
            yield
        finally:
            await application.updater.stop()
            await application.stop()
    await application.post_shutdown(application)
