"""Follow-ups, comparisons and corroboration with the real model on the seed articles.

The gold conversations (``data/eval/conversations.jsonl``, written from the articles) are
asked through ``QA.answer(question, context)`` and through ``scripts/ask.py --batch``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.config import IndexSettings
from index.dialogue.conversation import Conversation
from index.qa import QA
from index.store.embedder import Embedder
from index.types import SearchUnavailableError
from scripts.evaluation import ask_conversations, load_gold
from tests.cli import ROOT, clean_env, module_cmd, run
from tests.verbatim import assert_verbatim, bodies

pytestmark = pytest.mark.slow

CONVERSATIONS = ROOT / "data" / "eval" / "conversations.jsonl"
GATE_FOLLOWUP_ACCURACY = 0.8
"""A little below the 34/39 measured when the gold file was written, so noise does not fail."""


@pytest.fixture(scope="module")
def seed(seed_index: IndexSettings, real_embedder: Embedder) -> Iterator[tuple[QA, IndexSettings]]:
    """The seed articles indexed with the real model (the session's ``seed_index``), and the
    settings that open them."""
    qa = QA(seed_index, embedder=real_embedder)
    yield qa, seed_index
    qa.close()


def test_gold_conversations_are_answered_in_context(seed: tuple[QA, IndexSettings]) -> None:
    qa, _ = seed
    turns = ask_conversations(qa, load_gold(CONVERSATIONS))
    for turn in turns:
        assert_verbatim(turn.answer, bodies(qa), answered=False)
    right = sum(t.right for t in turns)
    assert right / len(turns) >= GATE_FOLLOWUP_ACCURACY, [
        (t.gold.question, t.answer.resolved) for t in turns if not t.right
    ]
    by_question = {t.gold.question: t for t in turns}
    envoy = by_question["What did he bring Kim?"]
    assert envoy.answer.resolved == "What did Li Hongzhong bring Kim?"
    assert "Xi Jinping" in envoy.answer.quotes[0].text  # not about Shoigu
    gift = by_question["And what did he give him?"]
    assert "autographed letter" in gift.answer.quotes[0].text
    assert by_question["When was the Hwasong tested?"].answer.resolved is None  # self-contained


def test_the_issues_follow_up_in_one_chat(seed: tuple[QA, IndexSettings]) -> None:
    qa, _ = seed
    chat = Conversation()
    first = qa.answer("Who led the Russian delegation?", chat)
    second = qa.answer("And what did he give him?", chat)
    assert "Shoigu" in first.quotes[0].text
    assert second.answered and second.resolved == "What did Shoigu give Kim Jong Un?"
    assert "Vladimir Putin" in second.quotes[0].text
    assert second.question == "And what did he give him?"


def test_the_other_one_finds_the_other_delegation(seed: tuple[QA, IndexSettings]) -> None:
    """The README's example: after the Russian delegation, "And the other one?" is the Chinese
    delegation, not a garbled rewrite ("Who else was in North Korea?")."""
    qa, _ = seed
    chat = Conversation()
    qa.answer("Who led the Russian delegation?", chat)
    other = qa.answer("And the other one?", chat)
    assert other.resolved == "Who led the delegation from China?"
    assert "Li Hongzhong" in other.quotes[0].text
    chat = Conversation()
    qa.answer("Were any drones shown at the event?", chat)
    drones = qa.answer("How many drones?", chat)
    assert drones.resolved == "How many drones were shown at the event?"
    assert "two new drone designs" in drones.quotes[0].text


def test_comparisons_quote_each_article_or_say_it_is_silent(
    seed: tuple[QA, IndexSettings],
) -> None:
    qa, _ = seed
    covid = qa.answer("How do the two reports differ on Covid easing?")
    assert covid.kind == "comparison" and covid.resolved == "Covid easing"
    assert {q.article_id for q in covid.quotes} == set(bodies(qa)), covid
    assert all("Covid" in q.text or "masks" in q.text for q in covid.quotes)
    drones = qa.compare("the new drone designs")
    assert [q.article_id for q in drones.quotes] == ["kim-weapons-showcase-foreign-allies"]
    assert [ref.article_id for ref in drones.missing] == ["kim-weapons-russian-defence-chief"]
    assert_verbatim(covid, bodies(qa))
    assert_verbatim(drones, bodies(qa))
    assert drones.to_dict()["missing"][0]["article_id"] == "kim-weapons-russian-defence-chief"


def test_also_reported_by_carries_a_sentence_that_says_the_same(
    seed: tuple[QA, IndexSettings],
) -> None:
    qa, _ = seed
    tested = qa.answer("When was the ICBM successfully tested?")
    refs = [ref for q in tested.quotes for ref in q.also_in]
    assert refs and all(ref.text and "April" in ref.text for ref in refs)
    covid = qa.answer("What could the presence of foreign envoys say about Covid rules?")
    credited = [ref.text or "" for ref in covid.quotes[0].also_in]
    assert not any("shift in North Korea" in text for text in credited)  # never says Covid
    letter = qa.answer("Who led the Chinese delegation?")
    [ref] = letter.quotes[0].also_in
    assert ref.text is not None and "Li Hongzhong" in ref.text and ref.paragraph is not None
    assert_verbatim(letter, bodies(qa))
    assert letter.to_dict()["quotes"][0]["also_in"][0]["text"] == ref.text


def test_warm_up_answers_a_question_and_a_follow_up(seed: tuple[QA, IndexSettings]) -> None:
    qa, _ = seed
    qa.warm_up()
    examples = qa.example_questions(3)
    assert examples and not any(e.startswith("What does the coverage say") for e in examples[:2])
    for example in examples:
        assert qa.answer(example).answered


def test_example_questions_are_kept_per_version_through_an_outage(
    seed: tuple[QA, IndexSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    qa, _ = seed
    found = qa.example_questions(3)
    assert found

    def down(*args: object, **kwargs: object) -> None:
        raise SearchUnavailableError("the Chroma server does not answer")

    monkeypatch.setattr(qa, "candidates", down)
    assert qa.answer(found[0]).kind == "unavailable"
    assert qa.example_questions(3) == found  # the version's examples, not a fresh (empty) try


def test_ask_batch_keeps_conversations_and_input_order(
    seed: tuple[QA, IndexSettings], tmp_path: Path
) -> None:
    _, settings = seed
    lines: list[dict[str, str | int]] = [
        {"conversation": "a", "question": "Who led the Chinese delegation?"},
        {"conversation": 7, "question": "Who led the Russian delegation?"},
        {"conversation": "a", "question": "What did he bring Kim?"},
        {"question": "What did he bring Kim?"},  # on its own: nothing to lean on
        {"conversation": 7, "question": "And what did he give him?"},
    ]
    batch = tmp_path / "batch.jsonl"
    batch.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    ask = module_cmd("scripts.ask", "--json", "--batch", str(batch))
    result = run(ask, env=clean_env(INDEX_DIR=str(settings.index_dir)), timeout=300)
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["question"] for a in answers] == [line["question"] for line in lines]
    assert answers[2]["resolved"] == "What did Li Hongzhong bring Kim?"
    assert "resolved" not in answers[3]
    assert answers[4]["resolved"] == "What did Shoigu give Kim Jong Un?"
    assert "Vladimir Putin" in answers[4]["quotes"][0]["text"]
