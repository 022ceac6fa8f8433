"""Reading the corpus: articles from files, their paragraphs and sentences with exact offsets,
and the words and language (spaCy) of a text. Imports nothing from the other rooms."""

# ruff: noqa: F401  (the names under TYPE_CHECKING are for type checkers: at run time
# __getattr__ imports each one from its module on first use)
from typing import TYPE_CHECKING

from index.lazy import lazy_exports

_EXPORTS = {
    "load_corpus": "index.corpus.articles",
    "split_sentences": "index.corpus.sentences",
    "STOPWORDS": "index.corpus.text",
    "clean_text": "index.corpus.text",
    "normalise_question": "index.corpus.text",
    "tokenize": "index.corpus.text",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from index.corpus.articles import load_corpus
    from index.corpus.sentences import split_sentences
    from index.corpus.text import STOPWORDS, clean_text, normalise_question, tokenize
