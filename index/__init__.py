"""The search side of NewsQuote: load articles, index sentences, answer with verbatim quotes.

``from index import open_index``; ``qa = open_index("var/index")``; ``qa.answer("Who ...?")``.
This package never imports ``telegram`` or ``bot``.
"""

from index.answer import QA, open_index
from index.config import IndexSettings
from index.types import Answer, Article, Quote, SourceRef

__all__ = ["QA", "Answer", "Article", "IndexSettings", "Quote", "SourceRef", "open_index"]
