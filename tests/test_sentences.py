"""Tests for index.corpus.sentences: paragraphs and sentences with exact offsets."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.corpus.sentences import paragraph_spans, split_corpus, split_sentences
from index.types import Article, Sentence


def _article(body: str, article_id: str = "a") -> Article:
    return Article(id=article_id, title="Title", body=body)


def _texts(body: str, max_chars: int = 400) -> list[str]:
    return [s.text for s in split_sentences(_article(body), max_chars=max_chars)]


def _check_invariants(body: str, sentences: list[Sentence], max_chars: int) -> None:
    """Everything split_sentences promises, checked on one result."""
    spans = paragraph_spans(body)
    previous_end = 0
    for number, sentence in enumerate(sentences):
        assert body[sentence.start : sentence.end] == sentence.text
        assert sentence.text
        assert sentence.text == sentence.text.strip()
        assert len(sentence.text) <= max_chars
        assert sentence.index == number
        assert sentence.start >= previous_end
        previous_end = sentence.end
        p_start, p_end = spans[sentence.paragraph]
        assert p_start <= sentence.start < sentence.end <= p_end
    # No text is lost: the sentences of a paragraph hold all of its non-space characters.
    for number, (p_start, p_end) in enumerate(spans):
        inside = "".join(s.text for s in sentences if s.paragraph == number)
        assert "".join(inside.split()) == "".join(body[p_start:p_end].split())
    assert [s.paragraph for s in sentences] == sorted(s.paragraph for s in sentences)


# --------------------------------------------------------------------------- paragraphs


def test_paragraph_spans_split_on_blank_lines_and_exclude_whitespace() -> None:
    body = "  First para\nstill first.  \n\n\n Second.\n \t \nThird\n\n"
    spans = paragraph_spans(body)
    assert [body[a:b] for a, b in spans] == ["First para\nstill first.", "Second.", "Third"]


def test_paragraph_spans_of_blank_text_are_empty() -> None:
    assert paragraph_spans("") == []
    assert paragraph_spans(" \n\t\n  \n") == []


def test_paragraph_spans_single_line() -> None:
    assert paragraph_spans("Just one line.") == [(0, 14)]


# --------------------------------------------------------------------------- explicit cases


def test_abbreviations_do_not_end_sentences() -> None:
    body = (
        "Mr. Shoigu met Dr. Kim in the U.S. capital on Monday. "
        "They later toured St. Petersburg together. It rained."
    )
    assert _texts(body) == [
        "Mr. Shoigu met Dr. Kim in the U.S. capital on Monday.",
        "They later toured St. Petersburg together.",
        "It rained.",
    ]


def test_curly_quotes_stay_with_their_sentence() -> None:
    body = (
        "He described “matters of mutual concern.” Then he left. "
        "“We lost a week of trade,” said one shop owner. ‘Fine.’ She went home."
    )
    assert _texts(body) == [
        "He described “matters of mutual concern.”",
        "Then he left.",
        "“We lost a week of trade,” said one shop owner.",
        "‘Fine.’",
        "She went home.",
    ]


def test_quoted_sentences_are_kept_together() -> None:
    body = "“It is over. We won,” the captain said. The crowd cheered."
    assert _texts(body) == ["“It is over. We won,” the captain said.", "The crowd cheered."]


def test_headline_without_full_stop_is_one_sentence() -> None:
    body = "Kim Jong Un’s Weapons Showcase: A Show of Strength\n\nThe parade began at noon."
    sentences = split_sentences(_article(body))
    assert [(s.paragraph, s.text) for s in sentences] == [
        (0, "Kim Jong Un’s Weapons Showcase: A Show of Strength"),
        (1, "The parade began at noon."),
    ]


def test_single_line_break_inside_a_paragraph_is_a_soft_wrap() -> None:
    body = "The minister said the talks\nwent well. Nobody else spoke."
    assert _texts(body) == ["The minister said the talks\nwent well.", "Nobody else spoke."]


def test_repeated_sentences_get_their_own_offsets() -> None:
    body = "Yes. Yes. Yes.\n\nYes."
    sentences = split_sentences(_article(body))
    assert [(s.start, s.end, s.paragraph) for s in sentences] == [
        (0, 4, 0),
        (5, 9, 0),
        (10, 14, 0),
        (16, 20, 1),
    ]
    _check_invariants(body, sentences, 400)


def test_sentence_fields() -> None:
    body = "One. Two.\n\nThree."
    sentences = split_sentences(_article(body, "art-1"))
    assert sentences == [
        Sentence("art-1", 0, 0, 0, 4, "One."),
        Sentence("art-1", 0, 1, 5, 9, "Two."),
        Sentence("art-1", 1, 2, 11, 17, "Three."),
    ]


def test_long_sentence_is_split_at_clause_boundaries() -> None:
    clause = "the delegation toured the new missile factory in the north of the country"
    body = ", ".join([clause] * 30) + "."  # about 2,200 characters, one sentence
    assert len(body) > 2000
    sentences = split_sentences(_article(body), max_chars=400)
    _check_invariants(body, sentences, 400)
    assert len(sentences) >= 6
    for sentence in sentences[:-1]:
        assert sentence.text.endswith(",")
        assert len(sentence.text) > 100  # no tiny fragments


def test_long_sentence_without_clauses_is_split_between_words() -> None:
    words = [f"word{i}" for i in range(350)]
    body = " ".join(words) + "."  # a 2,000+ character sentence with no punctuation inside
    assert len(body) > 2000
    sentences = split_sentences(_article(body), max_chars=400)
    _check_invariants(body, sentences, 400)
    assert len(sentences) >= 6
    for sentence in sentences:
        assert sentence.start == 0 or body[sentence.start - 1].isspace()
        assert sentence.end == len(body) or body[sentence.end].isspace()
    assert " ".join(s.text for s in sentences) == body


def test_text_without_whitespace_is_cut_at_the_cap() -> None:
    body = "x" * 1000
    assert [len(t) for t in _texts(body, max_chars=400)] == [400, 400, 200]


def test_long_paragraph_of_many_sentences() -> None:
    sentence = "Mr. Kim praised the army, which he called “the most powerful” in the world."
    body = " ".join([sentence] * 300)  # one paragraph of about 23,000 characters
    sentences = split_sentences(_article(body))
    _check_invariants(body, sentences, 400)
    assert [s.text for s in sentences] == [sentence] * 300


def test_max_chars_must_be_positive() -> None:
    with pytest.raises(ValueError):
        split_sentences(_article("Text."), max_chars=0)


def test_split_corpus_concatenates_articles() -> None:
    articles = [_article("One. Two.", "a"), _article("Three.", "b")]
    sentences = split_corpus(articles)
    assert [(s.article_id, s.index, s.text) for s in sentences] == [
        ("a", 0, "One."),
        ("a", 1, "Two."),
        ("b", 0, "Three."),
    ]


def test_throughput_is_reasonable() -> None:
    """A loose guard (the real number is several thousand sentences per second)."""
    sentences = [
        "The Hwasong ICBM, successfully tested in April, is believed to be a new missile.",
        "Mr. Shoigu had a “friendly talk” with Kim Jong Un, the U.S. said on Monday.",
        "Both Pyongyang and Moscow have denied these claims!",
        "Is this a shift in North Korea’s approach?",
        "The event began at 3 p.m. and lasted about 2.5 hours.",
    ]
    paragraphs = [" ".join(sentences[i % 5 :] + sentences[: i % 5]) for i in range(200)]
    article = _article("\n\n".join(paragraphs))
    started = time.perf_counter()
    count = len(split_sentences(article))
    elapsed = time.perf_counter() - started
    assert count == 1000
    assert count / elapsed > 500


# --------------------------------------------------------------------------- properties

_TRICKY = [
    *"aAbZ0 .!?,;:—–-“”‘’\"'()[]…\n\n\t\r\x0b\x0c\u00a0\u2028\u3000∯ȸ♨",
    "Mr.",
    "U.S.",
    "Dr. ",
    "St.",
    "p.m.",
    "3.5",
    "... ",
    " \n \n ",
    "\r\n",
    "The",
    "said",
    "word",
]

_bodies = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from(list(" \n\t.!?ab")), max_size=300),
    st.lists(st.sampled_from(_TRICKY), max_size=150).map("".join),
    st.lists(st.one_of(st.sampled_from(_TRICKY), st.text(min_size=1, max_size=8)), max_size=80).map(
        "".join
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=_bodies, max_chars=st.integers(min_value=1, max_value=500))
def test_offsets_are_exact_for_any_text(body: str, max_chars: int) -> None:
    sentences = split_sentences(_article(body), max_chars=max_chars)
    _check_invariants(body, sentences, max_chars)


@settings(max_examples=100, deadline=None)
@given(
    words=st.lists(
        st.text(alphabet=st.characters(blacklist_categories=("Z", "C")), min_size=1, max_size=30),
        min_size=1,
        max_size=200,
    ),
    separators=st.lists(st.sampled_from([" ", "  ", "\n", ", ", ". ", "; ", " — ", "\n\n"])),
    max_chars=st.integers(min_value=20, max_value=400),
)
def test_long_texts_respect_max_chars(
    words: list[str], separators: list[str], max_chars: int
) -> None:
    parts: list[str] = []
    for i, word in enumerate(words):
        parts.append(word)
        parts.append(separators[i % len(separators)] if separators else " ")
    body = "".join(parts)
    sentences = split_sentences(_article(body), max_chars=max_chars)
    _check_invariants(body, sentences, max_chars)
