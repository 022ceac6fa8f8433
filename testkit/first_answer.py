"""Timing the bot's first answers after a start: the real ``python -m bot`` process against the
fake Bot API (used by ``benchmarks/bench_first_answer.py`` and ``tests/test_bot_ready.py``).

:func:`one_start` starts the bot once: it sends a question while the bot is starting, waits
until the bot is ready (it sets its command menu, the last step before it takes updates), then
times the first answer and ``later`` more. A latency is from the update being offered to the
bot to the answer arriving at the Bot API.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from testkit import OFFLINE
from testkit.fake_bot_api import TOKEN, FakeBotAPI

ROOT = Path(__file__).resolve().parents[1]
USER = 1001


@dataclass(frozen=True, slots=True)
class Start:
    """What one start of the bot measured (seconds)."""

    ready: float  # from the process start to the command menu being set
    early_answered: float  # from the process start to the answer of the question sent early
    first_answer: float  # from the process start to the first answer after ready
    first_latency: float  # the first answer after ready: update offered -> answer sent
    later_latencies: tuple[float, ...]


def bot_env(index_dir: Path, api_url: str) -> dict[str, str]:
    """A clean environment for ``python -m bot``: only what this benchmark sets."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "CHROMA_"))}
    return {
        **keep,
        **OFFLINE,
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api_url,
        "INDEX_DIR": str(index_dir),
        "RATE_LIMIT_QUESTIONS": "0",
        "LOG_LEVEL": "WARNING",
    }


async def ask(fake: FakeBotAPI, question: str, count: int, timeout: float = 300) -> float:
    """Send ``question`` and wait for the ``count``-th message to the user; the latency."""
    fake.push_private_text(question, user_id=USER)
    offered = time.monotonic()
    await fake.wait_for("sendMessage", chat_id=USER, count=count, timeout=timeout)
    return time.monotonic() - offered


async def one_start(index_dir: Path, questions: list[str], later: int) -> Start:
    """Start the bot once and time its answers (see the module docstring)."""
    async with FakeBotAPI() as fake:
        started = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            env=bot_env(index_dir, fake.base_url),
            cwd=ROOT,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            fake.push_private_text(questions[0], user_id=USER)  # while the bot is starting
            await fake.wait_for("setMyCommands", timeout=600)
            ready = time.monotonic() - started
            await fake.wait_for("sendMessage", chat_id=USER, count=1, timeout=300)
            early = time.monotonic() - started
            first = await ask(fake, questions[1], 2)
            first_at = time.monotonic() - started
            latencies = []
            for n in range(later):
                question = questions[2 + n % (len(questions) - 2)]
                latencies.append(await ask(fake, question, 3 + n))
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.communicate(), timeout=60)
        return Start(ready, early, first_at, first, tuple(latencies))
