"""Who may use the bot, and how often: an allowlist and a per-user rate limiter.

Plain Python without Telegram types, so it is easy to test and to reason about.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

logger = logging.getLogger(__name__)


class AccessPolicy:
    """An optional allowlist of users and chats; admins are always allowed.

    With both lists empty everyone is allowed. Otherwise an update passes when its user is
    listed, its chat is listed, or its user is an admin.
    """

    def __init__(
        self,
        allowed_users: Iterable[int] = (),
        allowed_chats: Iterable[int] = (),
        admins: Iterable[int] = (),
    ) -> None:
        self.allowed_users = frozenset(allowed_users)
        self.allowed_chats = frozenset(allowed_chats)
        self.admins = frozenset(admins)

    @property
    def restricted(self) -> bool:
        """True when an allowlist is in force."""
        return bool(self.allowed_users or self.allowed_chats)

    def is_admin(self, user_id: int | None) -> bool:
        """True for a configured admin."""
        return user_id is not None and user_id in self.admins

    def allows(self, user_id: int | None, chat_id: int | None) -> bool:
        """Whether this user in this chat may use the bot."""
        if not self.restricted or self.is_admin(user_id):
            return True
        if user_id is not None and user_id in self.allowed_users:
            return True
        return chat_id is not None and chat_id in self.allowed_chats


@dataclass(frozen=True, slots=True)
class RateDecision:
    """The outcome of one :meth:`RateLimiter.check`."""

    allowed: bool
    retry_after: float = 0.0
    notify: bool = False  # True the first time a user is refused in a row: say "slow down" once


class RateLimiter:
    """At most ``limit`` events per user in any sliding ``window`` of seconds.

    ``limit == 0`` switches the limiter off. Thread-safe; the clock is injectable for tests.
    """

    def __init__(
        self,
        limit: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
        max_users: int = 10_000,
    ) -> None:
        if limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        if window <= 0:
            raise ValueError(f"window must be > 0 seconds, got {window}")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._max_users = max_users
        self._events: dict[int, deque[float]] = {}
        self._warned: set[int] = set()
        self._lock = threading.Lock()

    def check(self, user_id: int) -> RateDecision:
        """Record an event for ``user_id`` if the limit allows it, and say what to do."""
        if self.limit == 0:
            return RateDecision(True)
        now = self._clock()
        with self._lock:
            events = self._events.setdefault(user_id, deque())
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) < self.limit:
                events.append(now)
                self._warned.discard(user_id)
                self._forget_idle(now)
                return RateDecision(True)
            retry_after = max(0.0, events[0] + self.window - now)
            notify = user_id not in self._warned
            self._warned.add(user_id)
            return RateDecision(False, retry_after=math.ceil(retry_after), notify=notify)

    def _forget_idle(self, now: float) -> None:
        if len(self._events) <= self._max_users:
            return
        idle = [uid for uid, ev in self._events.items() if not ev or ev[-1] <= now - self.window]
        for uid in idle:
            del self._events[uid]
            self._warned.discard(uid)
