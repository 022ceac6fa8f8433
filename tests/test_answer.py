"""Answers from real indexes: verbatim quotes, corroboration, refusal, small talk, and a gate.

The seed corpus (data/articles) and the SQuAD dev subset are indexed with the real model, as a
user would; the evaluation gate fails CI when accuracy drops a little below the targets.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index import open_index
from index.config import IndexSettings
from index.corpus.text import normalise_question
from index.dialogue.smalltalk import classify
from index.qa import QA
from index.store.embedder import Embedder
from index.types import SEARCHED, IndexNotFoundError
from scripts.evaluation import (
    GoldQuestion,
    ask_all,
    build_temp_index,
    load_gold,
    load_squad,
    metrics,
)
from tests.cli import module_cmd, run
from tests.verbatim import assert_verbatim

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "data" / "eval"
SEED_GOLD = EVAL / "seed_questions.jsonl"
SQUAD = EVAL / "squad2_dev_subset.json"
PARAPHRASED = EVAL / "seed_questions_paraphrased.jsonl"
UNANSWERABLE = EVAL / "seed_unanswerable.jsonl"

# The evaluation gate: a little below the figures measured with the shipped ranker and reader
# (SQuAD dev subset with the ranker alone 0.829 / 0.935, off-topic declined 1.000; seed 13/14;
# paraphrased 23/28, 17/28 answered as partial, with the right quote first in most: the
# fusion's answer threshold hedges whenever the ranker and the reader together are less than
# 70% sure; 11/14 unanswerable declined or partial), so a real regression fails CI but
# run-to-run noise does not.
GATE_SQUAD_TOP1 = 0.80
GATE_SQUAD_TOP3 = 0.91
GATE_SEED_TOP1 = 0.85
GATE_OFF_TOPIC_DECLINED = 0.98
GATE_PARAPHRASED_TOP1 = 0.75
GATE_WRONGLY_PARTIAL = 0.65
GATE_UNANSWERABLE_CAUGHT = 0.70

needs_eval_data = pytest.mark.skipif(
    not SEED_GOLD.exists() or not SQUAD.exists(),
    reason="data/eval (the gold questions and the SQuAD subset) is not available",
)


@pytest.fixture(scope="module")
def seed_qa(seed_index: IndexSettings, real_embedder: Embedder) -> Iterator[QA]:
    """The seed articles indexed with the real model (the session's ``seed_index``)."""
    qa = QA(seed_index, embedder=real_embedder)
    yield qa
    qa.close()


@pytest.fixture(scope="module")
def squad_records(
    tmp_path_factory: pytest.TempPathFactory, real_embedder: Embedder
) -> dict[str, object]:
    """Every answerable SQuAD question, asked on topic and off topic (other article only)."""
    base = tmp_path_factory.mktemp("squad")
    articles, answerable, _ = load_squad(SQUAD)
    settings = build_temp_index(articles, base, "all", real_embedder)
    qa = QA(settings, embedder=real_embedder)
    on_topic = ask_all(qa, answerable)
    off_topic = []
    for article in articles:
        others = [a for a in articles if a.id != article.id]
        without = build_temp_index(others, base, f"without-{article.id}", real_embedder)
        questions = [
            GoldQuestion(g.question, (), g.article) for g in answerable if g.article == article.id
        ]
        off_topic += ask_all(QA(without, embedder=real_embedder), questions)
    return {"qa": qa, "on": on_topic, "off": off_topic, "articles": articles}


# --------------------------------------------------------------------------- seed corpus


@pytest.mark.slow
@needs_eval_data
def test_seed_answers_are_verbatim_and_off_topic_is_declined(seed_qa: QA) -> None:
    bodies = {a.id: a.body for a in seed_qa.articles()}
    records = ask_all(seed_qa, load_gold(SEED_GOLD))
    for record in records:
        assert_verbatim(record.answer, bodies, answered=record.gold.answerable)
        if not record.gold.answerable:
            assert not record.answer.answered, record.gold.question
            assert record.answer.quotes == ()
            assert record.answer.reason and "/sources" in record.answer.reason
    m = metrics(records)
    assert m["refusal_recall"] == 1.0
    assert m["answered"] == 1.0
    assert m["top1"] >= GATE_SEED_TOP1, m
    assert m["top3"] == 1.0, m


@pytest.mark.slow
@needs_eval_data
def test_off_topic_questions_sharing_an_ordinary_word_are_declined(seed_qa: QA) -> None:
    """ "Which drone should I buy ...?", "What time does the Thanksgiving parade start?": one
    word in common with the coverage is no reason to quote it."""
    rows = [json.loads(line) for line in PARAPHRASED.read_text(encoding="utf-8").splitlines()]
    off_topic = [r["question"] for r in rows if r.get("off_topic")]
    assert len(off_topic) >= 10
    answered = [q for q in off_topic if seed_qa.answer(q).answered]
    assert answered == []


@pytest.mark.slow
@needs_eval_data
def test_paraphrased_and_unanswerable_seed_questions_gate(seed_qa: QA) -> None:
    """Questions phrased as people ask: a gate a little below the measured figures; on-topic
    questions the articles cannot answer are declined or answered as ``partial``."""
    bodies = {a.id: a.body for a in seed_qa.articles()}
    records = ask_all(seed_qa, load_gold(PARAPHRASED))
    for record in records:
        assert_verbatim(record.answer, bodies, answered=False)
    m = metrics(records)
    assert m["top1"] >= GATE_PARAPHRASED_TOP1, m
    assert m["partial_answerable"] <= GATE_WRONGLY_PARTIAL, m
    unanswerable = metrics(ask_all(seed_qa, load_gold(UNANSWERABLE)))
    assert unanswerable["partial_or_refused"] >= GATE_UNANSWERABLE_CAUGHT, unanswerable


@pytest.mark.slow
def test_a_fact_in_both_seed_articles_cites_both(seed_qa: QA) -> None:
    answer = seed_qa.answer("Which politburo member went to North Korea?")
    assert answer.answered
    top = answer.quotes[0]
    assert "Li Hongzhong" in top.text
    cited = {top.article_id, *(ref.article_id for ref in top.also_in)}
    assert cited == {a.id for a in seed_qa.articles()}


@pytest.mark.slow
def test_most_seed_answers_are_corroborated(seed_qa: QA) -> None:
    """The two seed articles report one event, so many top quotes name the other article, each
    with a sentence of its own that gives the quote's answer (6 of 14 when this was written:
    an article is credited only where it states the fact itself)."""
    answerable = [g for g in load_gold(SEED_GOLD) if g.answerable]
    answers = [seed_qa.answer(g.question) for g in answerable]
    corroborated = [a for a in answers if a.quotes and a.quotes[0].also_in]
    assert len(corroborated) >= len(answers) // 3
    for answer in corroborated:
        for ref in answer.quotes[0].also_in:
            assert ref.text and ref.article_id != answer.quotes[0].article_id, ref


@pytest.mark.slow
@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("hello", "greeting"),
        ("Hi there!", "greeting"),
        ("thanks!", "thanks"),
        ("help", "help"),
        ("🤔", "empty"),
        ("???", "empty"),
    ],
)
def test_small_talk_gets_a_reply_never_a_quote(seed_qa: QA, message: str, kind: str) -> None:
    answer = seed_qa.answer(message)
    assert answer.kind == kind
    assert not answer.answered and answer.quotes == () and answer.reason


@pytest.mark.slow
def test_filler_around_a_question_does_not_change_the_answer(seed_qa: QA) -> None:
    plain = seed_qa.answer("Who led the Chinese delegation?")
    padded = seed_qa.answer("hi, please tell me who led the Chinese delegation? thanks")
    assert plain.answered and padded.answered
    assert padded.quotes[0].text == plain.quotes[0].text


@pytest.mark.slow
def test_answers_are_thread_safe(seed_qa: QA) -> None:
    questions = [g.question for g in load_gold(SEED_GOLD)]
    expected = {q: seed_qa.answer(q).to_dict() for q in questions}
    failures: list[str] = []

    def worker() -> None:
        for q in questions:
            if seed_qa.answer(q).to_dict() != expected[q]:
                failures.append(q)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


@pytest.mark.slow
def test_to_dict_has_the_documented_shape(seed_qa: QA) -> None:
    data = seed_qa.answer("When was the ICBM successfully tested?").to_dict()
    assert json.loads(json.dumps(data)) == data
    assert {"question", "answered", "reason", "quotes"} <= set(data)
    quote = data["quotes"][0]
    assert set(quote) == {
        "text",
        "article_id",
        "title",
        "url",
        "published",
        "source",
        "author",
        "paragraph",
        "start",
        "end",
        "score",
        "speaker",
        "also_in",
        "also_published",
        "published_without",
    }
    article = {"article_id", "title", "source", "published", "url", "author"}
    assert all(set(ref) == article for ref in quote["also_published"])
    sentence = {"text", "paragraph", "start", "end"}
    assert all(set(ref) == article | sentence for ref in quote["also_in"])


@pytest.mark.slow
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=300))
def test_any_text_gets_an_answer_without_error(seed_qa: QA, text: str) -> None:
    bodies = {a.id: a.body for a in seed_qa.articles()}
    answer = seed_qa.answer(text)
    small_talk = classify(text)
    if small_talk is not None:
        assert answer.kind == small_talk
    else:  # searched (or not English); never "unavailable" while the index is up
        assert answer.kind in (*SEARCHED, "language", "comparison"), (answer.kind, answer.reason)
    if answer.kind in ("answer", "partial"):
        assert answer.answered
    elif answer.kind != "comparison":
        assert not answer.answered and answer.reason
    assert answer.question == text
    assert_verbatim(answer, bodies, answered=False)


# --------------------------------------------------------------------------- SQuAD gate


@pytest.mark.slow
@pytest.mark.timeout(300)  # the SQuAD indexes and ~600 questions: 95 s on the loaded machine
@needs_eval_data
def test_every_squad_quote_is_verbatim(squad_records: dict[str, object]) -> None:
    bodies = {a.id: a.body for a in squad_records["articles"]}  # type: ignore[attr-defined]
    for record in [*squad_records["on"], *squad_records["off"]]:  # type: ignore[misc]
        assert_verbatim(record.answer, bodies, answered=False)


@pytest.mark.slow
@pytest.mark.timeout(300)  # pays for the SQuAD records when it runs alone
@needs_eval_data
def test_squad_evaluation_gate(squad_records: dict[str, object]) -> None:
    records = [*squad_records["on"], *squad_records["off"]]  # type: ignore[misc]
    m = metrics(records)
    assert m["top1"] >= GATE_SQUAD_TOP1, m
    assert m["top3"] >= GATE_SQUAD_TOP3, m
    assert m["refusal_recall"] >= GATE_OFF_TOPIC_DECLINED, m
    # The learned system must beat both single retrievers and the standard recipe.
    assert m["top1"] > max(m["bm25_top1"], m["dense_top1"], m["rrf_top1"]), m


# --------------------------------------------------------------------------- missing index


def test_open_index_without_an_index_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="build_index"):
        open_index(tmp_path / "nothing-here")


def test_ask_without_an_index_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run(module_cmd("scripts.ask", "--index", str(tmp_path / "none"), "Who?"))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr and "build_index" in result.stderr


# --------------------------------------------------------------------------- pure helpers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("please tell me who led the delegation?", "Who led the delegation?"),
        ("Hi, who led the delegation", "Who led the delegation"),
        ("Could you tell me, please, when was it tested?", "When was it tested?"),
        ("who led it? thanks", "Who led it?"),
        ("  What   happened?  ", "What happened?"),
        ("please", "please"),
    ],
)
def test_normalise_question_drops_filler(raw: str, expected: str) -> None:
    assert normalise_question(raw) == expected


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Good morning!", "greeting"),
        ("hey bot", "greeting"),
        ("Thank you so much", "thanks"),
        ("what can you do?", "help"),
        ("", "empty"),
        ("Hi, who led the delegation?", None),
        ("Who thanked the residents?", None),
        ("Help me understand who led the Chinese delegation", None),
    ],
)
def test_small_talk_classifier(text: str, kind: str | None) -> None:
    assert classify(text) == kind
