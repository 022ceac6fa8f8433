"""The search side of NewsQuote: load articles, index sentences, answer with verbatim quotes.

``from index import open_index``; ``qa = open_index("var/index")``; ``qa.answer("Who ...?")``.
This package never imports ``telegram`` or ``bot``.
"""

from index.config import IndexSettings
from index.qa import QA, QuestionAnswerer, open_index
from index.types import Answer, Article, Quote, SourceRef

__all__ = [
    "QA",
    "Answer",
    "Article",
    "IndexSettings",
    "QuestionAnswerer",
    "Quote",
    "SourceRef",
    "open_index",
]
