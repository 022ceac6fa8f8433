"""Questions in another language: "Wer leitete die chinesische Delegation?" gets a one-line
reply in English naming the language, never "Not in the coverage".

Two signals must agree, so that an English question full of names or typos ("who lead the
chinise delegaton", "Kim Jong Un?") is never turned away:

* fewer than half of the question's words of three letters or more are known, as written:
  neither common English words (the speller's list) nor words of the corpus;
* lingua (``lingua-language-detector``, Apache 2.0, its models bundled in the package; the
  low-accuracy mode, trigrams only) finds a language other than English most likely.

lingua is loaded on the first question that looks foreign by the first signal (about a second
and 95 MB), so a bot that only ever sees English never pays for it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

MIN_WORDS = 2
KNOWN_SHARE = 0.5
_WORD = re.compile(r"[^\W\d_]+")
"""Words as written, accents kept ("délégation" is not the English "delegation"); words of
one or two letters ("a", "la", "de") are left out: too many languages share them."""


class LanguageCheck:
    """Tells whether a question is in a language other than English. Thread-safe."""

    def __init__(self) -> None:
        self._detector: Any = None
        self._lock = threading.Lock()

    def foreign(self, question: str, known: Callable[[str], bool]) -> str | None:
        """The language ``question`` is in ("German"), or None when it is English or it cannot
        tell. ``known(word)`` says whether a lower-case word is English or the corpus's."""
        ws = [w for w in _WORD.findall(question.lower()) if len(w) > 2]
        if len(ws) < MIN_WORDS or sum(map(known, ws)) >= KNOWN_SHARE * len(ws):
            return None
        language = self._detect(question)
        return None if language is None or language == "English" else language

    def _detect(self, question: str) -> str | None:
        detector = self._load()
        found = detector.detect_language_of(question)
        return None if found is None else str(found.name).title()

    def _load(self) -> Any:
        with self._lock:
            if self._detector is None:
                from lingua import LanguageDetectorBuilder

                self._detector = (
                    LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()
                )
            return self._detector
