"""Micro-batching of question embeddings: questions that arrive together share one model call.

A :class:`QueryBatcher` wraps an :class:`~index.store.embedder.Embedder` and offers the same
``embed_query(text) -> np.ndarray``. Callers on many threads hand in one question each; the
first caller to find the model idle becomes the *leader*: it waits up to ``max_wait`` seconds
for more questions (never longer than it takes to fill ``max_batch``), embeds them all with one
``embed(texts)`` call, and hands every caller its row. Questions arriving while the model is busy
queue up and go into the next call together, so under load the batch size grows by itself even
with ``max_wait=0``, and an idle bot pays nothing for the batching.

There is no background thread: the work runs on the callers' threads, one model call at a time,
which also keeps Hugging Face's fast tokenizers (not thread-safe) away from concurrent use.

:class:`index.qa.QA` embeds every question through one of these (``QA.queries``).
A lone question goes through the embedder's ``embed_query``; several go through ``embed`` in
one call (the embedders here embed questions and sentences alike). When a shared call fails
(one text the tokenizer refuses makes the whole call fail), each of its questions is embedded
again on its own, so only the one that fails alone gets the error.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.store.embedder import Embedder

logger = logging.getLogger(__name__)

DEFAULT_MAX_BATCH = 16
DEFAULT_MAX_WAIT = 0.0


@dataclass
class _Request:
    text: str
    vector: np.ndarray | None = None
    error: BaseException | None = None
    done: bool = False


@dataclass
class BatchStats:
    """How the batcher has been used (for benchmarks and monitoring)."""

    calls: int = 0  # model calls
    questions: int = 0  # questions embedded
    largest: int = 0  # biggest batch so far


class QueryBatcher:
    """Embeds concurrent ``embed_query`` calls in shared model calls. Thread-safe.

    Args:
        embedder: the model; its ``embed(texts)`` must return one row per text.
        max_batch: at most this many questions per model call.
        max_wait: how long (seconds) the leader waits for more questions before calling the
            model when the batch is not full; ``0`` takes only what is already queued.
    """

    def __init__(
        self,
        embedder: Embedder,
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
        max_wait: float = DEFAULT_MAX_WAIT,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        if not 0.0 <= max_wait <= 1.0:
            raise ValueError(f"max_wait must be between 0 and 1 second, got {max_wait}")
        self.embedder = embedder
        self.name = str(getattr(embedder, "name", "?"))
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.stats = BatchStats()
        self._cond = threading.Condition()
        self._queue: list[_Request] = []
        self._busy = False  # a leader is collecting or running a batch

    # ----------------------------------------------------------------- the Embedder surface

    @property
    def dimension(self) -> int:
        """The wrapped model's vector length."""
        return self.embedder.dimension

    def warm_up(self) -> None:
        """Load the wrapped model, if it has a ``warm_up``."""
        warm = getattr(self.embedder, "warm_up", None)
        if callable(warm):
            warm()

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Embed many texts in one model call of their own, between question batches."""
        with self._cond:
            while self._busy:
                self._cond.wait()
            self._busy = True
        try:
            return self.embedder.embed(texts, show_progress=show_progress)
        finally:
            self._release()

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one question, sharing the model call with questions that arrive with it."""
        request = _Request(text)
        with self._cond:
            self._queue.append(request)
            if len(self._queue) >= self.max_batch:
                self._cond.notify_all()  # a collecting leader need not wait any longer
        while True:
            with self._cond:
                while not request.done and self._busy:
                    self._cond.wait()
                if request.done:
                    break
                # The model is idle and this question is still queued: lead the next batch.
                self._busy = True
                if self.max_wait > 0:
                    deadline = time.monotonic() + self.max_wait
                    while len(self._queue) < self.max_batch:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            break
                        self._cond.wait(left)
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
            try:
                self._run(batch)
            finally:
                self._release()
            # Usually done now; if more than max_batch were queued ahead of it, go round again.
        if request.error is not None:
            raise request.error
        assert request.vector is not None
        return request.vector

    # ----------------------------------------------------------------- internals

    def _release(self) -> None:
        with self._cond:
            self._busy = False
            self._cond.notify_all()

    def _run(self, batch: list[_Request]) -> None:
        """One model call for ``batch``; every request gets its row or its own error."""
        try:
            vectors = self._call([r.text for r in batch])
        except Exception as exc:
            if len(batch) == 1:
                batch[0].error, batch[0].done = exc, True
            else:
                # One bad text must not cost the others their answer: each one alone.
                logger.warning(
                    "a model call for %d questions failed (%s: %s); embedding each alone",
                    len(batch),
                    type(exc).__name__,
                    exc,
                )
                for r in batch:
                    self._run([r])
                return
        except BaseException as exc:  # an interrupt: every waiting caller gets it, none hangs
            for r in batch:
                r.error, r.done = exc, True
            raise
        else:
            for r, v in zip(batch, vectors, strict=True):
                r.vector, r.done = v, True
        finally:
            self._count(len(batch))

    def _call(self, texts: list[str]) -> np.ndarray:
        """The model's rows for ``texts`` (a lone text takes the embedder's query path)."""
        if len(texts) == 1:  # the common case when idle: exactly the embedder's query path
            vectors = np.asarray(self.embedder.embed_query(texts[0]), dtype=np.float32)
            vectors = vectors.reshape(1, -1)
        else:
            vectors = np.asarray(self.embedder.embed(texts), dtype=np.float32)
        if vectors.shape[0] != len(texts):
            raise RuntimeError(
                f"the embedder returned {vectors.shape[0]} vectors for {len(texts)} texts"
            )
        return vectors

    def _count(self, size: int) -> None:
        with self._cond:
            s = self.stats
            s.calls += 1
            s.questions += size
            s.largest = max(s.largest, size)
