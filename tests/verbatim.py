"""The one check that an answer quotes its articles word for word, used by every test."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from index.types import Answer

if TYPE_CHECKING:
    from index.qa import QA


def bodies(qa: QA) -> dict[str, str]:
    """Every article's body by id, for :func:`assert_verbatim`."""
    return {a.id: a.body for a in qa.articles()}


def ask(qa: QA, question: str, *, answered: bool = True) -> Answer:
    """``qa.answer(question)``, checked with :func:`assert_verbatim` (see ``answered`` there)."""
    answer = qa.answer(question)
    assert_verbatim(answer, bodies(qa), answered=answered)
    return answer


def assert_verbatim(answer: Answer, bodies: Mapping[str, str], *, answered: bool = True) -> None:
    """Every quote of ``answer`` is an exact slice of its article's body (``bodies``: article id
    to body): ``text == body[start:end]``, not empty, no surrounding whitespace; and every
    "also reported by" names another article of ``bodies``, its sentence an exact slice too.

    With ``answered`` (the default) the answer must also be answered, with at least one quote;
    ``answered=False`` accepts a declined answer too (it has no quotes to check).
    """
    if answered:
        assert answer.answered and answer.quotes, (answer.kind, answer.reason)
    for quote in answer.quotes:
        assert quote.article_id in bodies, quote.article_id
        assert bodies[quote.article_id][quote.start : quote.end] == quote.text, quote
        assert quote.text and quote.text == quote.text.strip(), repr(quote.text)
        for ref in (*quote.also_in, *quote.also_published):
            assert ref.article_id in bodies and ref.article_id != quote.article_id, ref
            if ref.text is not None:  # the corroborating sentence, verbatim too
                assert ref.start is not None and ref.end is not None, ref
                assert bodies[ref.article_id][ref.start : ref.end] == ref.text, ref
        copies = {ref.article_id for ref in quote.also_published}
        assert copies.isdisjoint(ref.article_id for ref in quote.also_in), quote
