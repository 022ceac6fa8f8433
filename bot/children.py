"""The bot's child processes (``python -m scripts.fetch`` / ``scripts.build_index``): started
with ``nice``, without the bot's secrets, stopped at a deadline; their status, output and the
one line that says what they did."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["SECRET_SETTINGS", "ChildResult", "Children"]

SECRET_SETTINGS = ("TELEGRAM_BOT_TOKEN", "WEBHOOK_SECRET")
"""Never passed to a child: it does not need them."""


@dataclass(frozen=True)
class ChildResult:
    """How a child command ended: its status, its last line (the summary or the error) and
    what it printed on stdout."""

    status: int
    line: str
    stdout: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 0


class Children:
    """Starts children and stops those still running when the bot shuts down."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._extra = dict(env)
        self._running: set[asyncio.subprocess.Process] = set()

    def env(self) -> dict[str, str]:
        """This process's environment without the secrets, with the children's settings."""
        env = {k: v for k, v in os.environ.items() if k not in SECRET_SETTINGS}
        env.setdefault("EMBED_WORKERS", "1")  # one core for the build, the rest for answers
        env.setdefault("HF_HUB_OFFLINE", "1")
        env.update(self._extra)
        return env

    async def run(self, cmd: Sequence[str], timeout: float) -> ChildResult:
        """Run ``cmd`` (niced), killing it after ``timeout`` seconds."""
        nice = shutil.which("nice")
        argv = [nice, "-n", "10", *cmd] if nice else list(cmd)  # the bot's answers come first
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self.env(),
        )
        self._running.add(process)
        try:
            out, err = await asyncio.wait_for(process.communicate(), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
            return ChildResult(-9, f"stopped after {timeout:.0f} s")
        finally:
            self._running.discard(process)
        status = process.returncode if process.returncode is not None else -1
        stdout = out.decode("utf-8", "replace")
        text = stdout if status == 0 else (err.decode("utf-8", "replace") or stdout)
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return ChildResult(status, _summary_line(lines, status), stdout)

    async def close(self) -> None:
        """Stop the children still running (the bot is shutting down)."""
        for process in list(self._running):
            if process.returncode is None:
                process.kill()
                await process.wait()


def _summary_line(lines: list[str], status: int) -> str:
    """The line that says what a child did: the error, or the first line of its summary."""
    if not lines:
        return "no output" if status == 0 else f"exit status {status}"
    if status != 0:
        return next((ln for ln in reversed(lines) if ln.startswith("error")), lines[-1])
    return next((ln for ln in lines if ln.startswith(("Fetched", "Built", "Index"))), lines[0])
