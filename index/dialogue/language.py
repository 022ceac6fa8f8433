"""Questions in another language: "Wer leitete die chinesische Delegation?" gets a one-line
reply in English naming the language, never "Not in the coverage".

Two signals must agree, so that an English question full of names or typos ("who lead the
chinise delegaton", "Kim Jong Un?") is never turned away:

* no more than half of the question's words of three letters or more are known, as written
  ("Wer leitete die Delegation?": "die" and "delegation" are, "wer" and "leitete" are not):
  neither common English words (the speller's list) nor words of the corpus;
* lingua (``lingua-language-detector``, Apache 2.0, its models bundled in the package; the
  low-accuracy mode, trigrams only) finds a language other than English most likely (at
  least :data:`SURE` when exactly half of the words are known).

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
SURE = 0.9
"""lingua's confidence needed when exactly half of the words are known."""
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
        share = sum(map(known, ws)) / len(ws) if ws else 1.0
        if len(ws) < MIN_WORDS or share > KNOWN_SHARE:
            return None
        language, confidence = self._detect(question)
        if language is None or language == "English":
            return None
        # half the words known: only a sure detection ("wich weapons were shwn" is English
        # with two typos, and lingua is 0.6 sure it is Esperanto)
        return language if share < KNOWN_SHARE or confidence >= SURE else None

    def _detect(self, question: str) -> tuple[str | None, float]:
        detector = self._load()
        values = detector.compute_language_confidence_values(question)
        if not values:
            return None, 0.0
        return str(values[0].language.name).title(), float(values[0].value)

    def _load(self) -> Any:
        with self._lock:
            if self._detector is None:
                from lingua import LanguageDetectorBuilder

                self._detector = (
                    LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()
                )
            return self._detector
