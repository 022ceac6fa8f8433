"""The reader: a cross-encoder that reads a question and a sentence together and scores how
well the sentence answers it (a logit; higher is better).

It is all-MiniLM-L6-v2 fine-tuned on SQuAD v1.0 (``scripts/train_reader.py``), shipped as an
int8 ONNX model with its tokenizer and run with onnxruntime: no torch on the answer path.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from tokenizers import Encoding

MAX_TOKENS = 96
"""Question and sentence together are cut to this many word pieces (as in training)."""


class Reader:
    """Scores (question, sentence) pairs with the ONNX cross-encoder. Thread-safe."""

    def __init__(self, model: Path, tokenizer: Path, *, threads: int = 1) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(model), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = Tokenizer.from_file(str(tokenizer))
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS, strategy="longest_first")
        self._lock = threading.Lock()  # HF fast tokenizers are not thread-safe

    @classmethod
    def load(cls, folder: Path, *, threads: int = 1) -> Reader:
        """The reader in ``folder`` (``reader.onnx`` and ``reader-tokenizer.json``)."""
        return cls(folder / "reader.onnx", folder / "reader-tokenizer.json", threads=threads)

    def score(self, question: str, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One logit per text: how well it answers ``question``.

        Each pair runs on its own, unpadded: the int8 model quantises its activations per run,
        so a pair batched with longer ones would score differently (by up to 0.7 in a test),
        and a pair's score must not depend on its neighbours. On two cores eight single runs
        cost about what one batch of eight does.
        """
        if not texts:
            return np.zeros(0, dtype=np.float32)
        question = as_asked(question)
        with self._lock:
            encodings = self._tokenizer.encode_batch([(question, t) for t in texts])
        return np.asarray([self._logit(e) for e in encodings], dtype=np.float32)

    def _logit(self, encoding: Encoding) -> float:
        feed = {
            "input_ids": np.asarray([encoding.ids], dtype=np.int64),
            "attention_mask": np.asarray([encoding.attention_mask], dtype=np.int64),
            "token_type_ids": np.asarray([encoding.type_ids], dtype=np.int64),
        }
        feed = {k: v for k, v in feed.items() if k in self._inputs}
        (logits,) = self._session.run(["logits"], feed)
        return float(np.asarray(logits).reshape(-1)[0])


def as_asked(question: str) -> str:
    """``question`` ending in a question mark, as every question the reader was trained on
    does ("how many people died" read 1.1 for the sentence that answers it, 2.8 with "?")."""
    stripped = question.rstrip()
    return stripped if stripped.endswith(("?", "？")) else stripped.rstrip(".!") + "?"
