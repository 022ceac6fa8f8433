"""Long-lived helpers the handlers share, kept in ``application.bot_data``.

The question answerer itself lives in ``bot_data["qa"]``; everything else the handlers need
(settings, access policy, rate limiter, the worker threads, the coverage service for fetches
and the admins' changes, recent answers for the "More" button, each chat's conversation for
follow-up questions) is one :class:`BotServices` in
``bot_data["services"]``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot.access import AccessPolicy, RateLimiter
from bot.corpus_changes import CoverageService
from bot.settings import BotSettings
from bot.threads import ChatContexts
from index import QuestionAnswerer
from index.types import Answer

logger = logging.getLogger(__name__)

T = TypeVar("T")

QA_KEY = "qa"
SERVICES_KEY = "services"
OWNS_QA_KEY = "owns_qa"
INLINE_RATE_FACTOR = 3


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """An answer sent to a chat, kept for its "More" button."""

    answer: Answer
    chunks: int


class RecentAnswers:
    """The last ``capacity`` answers by a short random key (callback data holds 64 bytes)."""

    def __init__(self, capacity: int = 2000) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self._items: OrderedDict[str, StoredAnswer] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, answer: Answer, chunks: int = 1) -> str:
        """Remember ``answer`` and return its key."""
        key = secrets.token_urlsafe(9)
        with self._lock:
            self._items[key] = StoredAnswer(answer, chunks)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return key

    def get(self, key: str) -> StoredAnswer | None:
        """The answer stored under ``key``, or None when it has been forgotten."""
        with self._lock:
            return self._items.get(key)

    def __len__(self) -> int:
        return len(self._items)


@dataclass
class BotServices:
    """Everything the handlers share apart from the question answerer."""

    settings: BotSettings
    access: AccessPolicy
    limiter: RateLimiter
    inline_limiter: RateLimiter
    executor: ThreadPoolExecutor
    coverage: CoverageService
    answers: RecentAnswers = field(default_factory=RecentAnswers)
    contexts: ChatContexts = field(default_factory=ChatContexts)
    """When the /sources numbers of the articles were read, and the numbers by article id."""
    started_at: float = field(default_factory=time.time)
    answer_kinds: Counter[str] = field(default_factory=Counter)
    search_down_since: float | None = None  # wall time of the first failure in a row

    @classmethod
    def from_settings(cls, settings: BotSettings) -> BotServices:
        """Build the services a bot with these settings needs."""
        return cls(
            settings=settings,
            access=AccessPolicy(
                settings.allowed_user_ids, settings.allowed_chat_ids, settings.admin_user_ids
            ),
            limiter=RateLimiter(settings.rate_limit_questions, settings.rate_limit_window_seconds),
            # Telegram sends an inline query as the user types: allow more of those.
            inline_limiter=RateLimiter(
                settings.rate_limit_questions * INLINE_RATE_FACTOR,
                settings.rate_limit_window_seconds,
            ),
            executor=ThreadPoolExecutor(
                max_workers=settings.qa_workers, thread_name_prefix="newsquote-qa"
            ),
            contexts=ChatContexts(settings.followup_minutes),
            coverage=CoverageService(settings),
        )

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking call on the worker threads, off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args))

    def count_answer(self, kind: str) -> None:
        """Count one answer of ``kind``; ``unavailable`` marks search down, a search clears it."""
        self.answer_kinds[kind] += 1
        if kind == "unavailable":
            self.search_down_since = self.search_down_since or time.time()
        elif kind in ("answer", "partial", "comparison", "refusal"):
            self.search_down_since = None

    def close(self) -> None:
        """Stop the worker threads (running calls finish, queued ones are dropped)."""
        self.executor.shutdown(wait=False, cancel_futures=True)


def get_services(bot_data: dict[Any, Any]) -> BotServices:
    """The :class:`BotServices` of an application."""
    services = bot_data.get(SERVICES_KEY)
    if not isinstance(services, BotServices):
        raise RuntimeError("bot_data has no BotServices: build the app with build_application()")
    return services


def get_qa(bot_data: dict[Any, Any]) -> QuestionAnswerer:
    """The question answerer of an application (opened in post_init)."""
    qa = bot_data.get(QA_KEY)
    if qa is None:
        raise RuntimeError("the question answerer is not open yet (post_init has not run)")
    return qa
