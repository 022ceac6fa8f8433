"""Misspelt questions: "who lead the chinise delegaton" read as "who lead the chinese
delegation".

A word is corrected only when neither the corpus nor the English word list knows it
(symspellpy's frequency dictionary, 82,765 words from Google Books n-grams, MIT), and only to a
word one edit away (a letter left out, added, changed, or two swapped) that one of them
knows: the corpus's own words first, then the most frequent English word. A word that looks
like a name (a capital inside the question) is corrected only to a word of the corpus, so an
unknown name is never turned into a common word, and a name the corpus uses is never touched.
At the start of a question, a question word wins a tie ("wich" is "which", not "with").

The English list takes about two seconds to load, so :class:`Speller` loads it in a thread of
its own from the moment it is made.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from index.dialogue.asks import WH_WORDS

if TYPE_CHECKING:
    from symspellpy import SymSpell

DICTIONARY = "frequency_dictionary_en_82_765.txt"
MIN_LENGTH = 3
"""Shorter words are never corrected (too many words are one edit from "of")."""
MIN_ENGLISH_COUNT = 100_000
"""An English word counts as known when the n-gram counts saw it at least this often (the list
also holds rare misspellings and foreign words)."""
CORPUS_WEIGHT = 10**9
"""Corpus words outrank English ones: a correction prefers the coverage's own words."""

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")


@dataclass(frozen=True, slots=True)
class Correction:
    """A question with its misspelt words corrected, and the words changed."""

    text: str
    changed: tuple[tuple[str, str], ...]


class Speller:
    """Corrects misspelt words of questions (see the module docstring). Thread-safe."""

    def __init__(self) -> None:
        self._loaded = threading.Event()
        self._lock = threading.Lock()
        self._symspell: SymSpell | None = None
        self._english: dict[str, int] = {}
        self._corpora: set[str] = set()
        threading.Thread(target=self._load, name="speller-load", daemon=True).start()

    def _load(self) -> None:
        from symspellpy import SymSpell

        symspell = SymSpell(max_dictionary_edit_distance=1, prefix_length=7)
        path = resources.files("symspellpy") / DICTIONARY
        symspell.load_dictionary(str(path), term_index=0, count_index=1)
        self._english = dict(symspell.words)
        self._symspell = symspell
        self._loaded.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the English list is loaded (True when it is)."""
        return self._loaded.wait(timeout)

    def english(self, word: str) -> bool:
        """Whether ``word`` (lower case) is a common English word."""
        self.wait()
        return self._english.get(word, 0) >= MIN_ENGLISH_COUNT

    def correct(
        self, question: str, corpus: Mapping[str, int], corpus_key: str
    ) -> Correction | None:
        """``question`` with its misspelt words corrected, or None when none is.

        ``corpus`` counts the corpus's words (lower case), as
        :meth:`index.store.snapshot.Snapshot.words` gives them; ``corpus_key`` names it (the
        index version), so its words are added to the lookup once.
        """
        self.wait()
        self._add_corpus(corpus, corpus_key)
        changed: list[tuple[str, str]] = []
        out, last = [], 0
        for n, match in enumerate(_WORD.finditer(question)):
            word = match.group(0)
            fixed = self._correct_word(word, corpus, first=n == 0)
            if fixed is not None:
                out += [question[last : match.start()], _like(word, fixed)]
                last = match.end()
                changed.append((word, fixed))
        if not changed:
            return None
        out.append(question[last:])
        return Correction("".join(out), tuple(changed))

    def _correct_word(self, word: str, corpus: Mapping[str, int], *, first: bool) -> str | None:
        low = word.lower().replace("’", "'")
        if len(low) < MIN_LENGTH or not low.isalpha() or low in corpus or self.english(low):
            return None
        name = word[:1].isupper() and not first
        from symspellpy import Verbosity

        assert self._symspell is not None
        found = [
            s.term
            for s in self._symspell.lookup(low, Verbosity.CLOSEST, max_edit_distance=1)
            if s.term in corpus or (not name and self.english(s.term))
        ]
        if first:
            found.sort(key=lambda term: term not in WH_WORDS)  # stable: counts stay in order
        return found[0] if found else None

    def _add_corpus(self, corpus: Mapping[str, int], key: str) -> None:
        """Make the corpus's words correction targets (once per corpus). The words of an
        earlier version stay targets too; only a word the current corpus holds is protected."""
        if key in self._corpora:
            return
        with self._lock:
            if key in self._corpora:
                return
            assert self._symspell is not None
            for word, count in corpus.items():
                if len(word) >= MIN_LENGTH and word.isalpha():
                    self._symspell.create_dictionary_entry(word, CORPUS_WEIGHT + count)
            self._corpora.add(key)


def _like(original: str, fixed: str) -> str:
    """``fixed`` with the capitalisation of ``original`` ("Chinise": "Chinese")."""
    if original.isupper() and len(original) > 1:
        return fixed.upper()
    if original[:1].isupper():
        return fixed[:1].upper() + fixed[1:]
    return fixed
