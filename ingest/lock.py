"""One cross-process lock per corpus folder: every change to the corpus and its fetch state
happens under it (a scheduled fetch, a cron ``scripts.fetch``, the bot's ``/add``, ``/remove`` and
documents), so no process overwrites what another has just done.

The lock is ``.coverage.lock`` in the corpus folder (hidden, so the corpus loader ignores it),
held through the ``filelock`` package (``fcntl.flock`` on POSIX: released by the kernel when a
holder dies). It is only held while files are written, never while pages download.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from index.types import NewsQuoteError

__all__ = ["LOCK_FILE", "LOCK_TIMEOUT", "CorpusBusyError", "corpus_lock"]

LOCK_FILE = ".coverage.lock"
LOCK_TIMEOUT = 120.0  # seconds; a holder only writes files, so this is generous


class CorpusBusyError(NewsQuoteError):
    """Another process held the corpus lock for longer than we were willing to wait."""


@contextmanager
def corpus_lock(corpus: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the lock of ``corpus`` (created if missing) for the block.

    Raises:
        CorpusBusyError: the lock was not free within ``timeout`` seconds.
    """
    corpus = Path(corpus)
    corpus.mkdir(parents=True, exist_ok=True)
    lock = FileLock(corpus / LOCK_FILE)
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise CorpusBusyError(
            f"the corpus is busy: another fetch or change held it for over {timeout:g} s"
        ) from None
    try:
        yield
    finally:
        lock.release()
