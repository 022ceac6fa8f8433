"""Malformed questions cost no one else an answer (issue 14, findings 1 and 7).

A question with a lone surrogate or an invalid UTF-8 byte (from argv, stdin, a JSONL batch or a
Telegram update) used to make the tokenizer refuse the model call it shared with other
questions, so every question of that call failed. Now text is cleaned where it enters
(:func:`index.corpus.text.clean_text`), the micro-batcher retries a failed shared call one question
at
a time, and ``scripts.ask --batch`` answers every line, in order, whatever a line holds.

``TokenizerLikeEmbedder`` is the hashing model with the real tokenizer's strictness (one lone
surrogate fails the whole call); the slow test at the end uses the real model.
"""

from __future__ import annotations

import asyncio
import io
import json
import random
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import build_application
from bot.settings import BotSettings
from index.config import IndexSettings
from index.corpus.text import clean_text
from index.dialogue.conversation import Conversation
from index.qa import QA
from index.store.build import build_index
from index.store.embedder import Embedder
from index.types import Answer
from scripts import ask
from testkit.fake_bot_api import TOKEN, FakeBotAPI
from testkit.polling import polling
from tests.cli import clean_env, module_cmd, run_binary
from tests.corpus import FESTIVAL, HARBOUR, write_article
from tests.embedders import TokenizerLikeEmbedder

ROOT = Path(__file__).resolve().parents[1]
GOOD = (
    "Who led the Chinese delegation?",
    "When did the Harbour Bridge reopen?",
    "How many tickets did the summer music festival sell?",
    "How many steel cables did the engineers replace?",
)
POISONED = (
    "Who led the\udce9 delegation?",  # an invalid UTF-8 byte from argv or a file name
    "\ud800",  # a JSON escape of a lone surrogate, alone
    "a\ud800",  # ... with a stop word: no token to embed instead
    "When did the \ud83d Harbour Bridge reopen?",  # half of an emoji
)


@pytest.fixture(scope="module")
def index_settings(tmp_path_factory: pytest.TempPathFactory) -> IndexSettings:
    """The seed articles and two small ones, indexed with the hashing model."""
    base = tmp_path_factory.mktemp("questions")
    corpus = base / "corpus"
    for source in (ROOT / "data" / "articles").glob("*.md"):
        write_to = corpus / source.name
        corpus.mkdir(exist_ok=True)
        write_to.write_bytes(source.read_bytes())
    write_article(corpus, "harbour.md", "Bridge reopens", *HARBOUR)
    write_article(corpus, "festival.md", "Record festival", *FESTIVAL)
    settings_ = IndexSettings(
        _env_file=None,
        corpus_dir=corpus,
        index_dir=base / "index",
        embedding_model="hashing-64",
        chroma_host=None,
        chroma_port=None,
    )
    build_index(settings_)
    return settings_


@pytest.fixture
def strict_qa(index_settings: IndexSettings) -> Iterator[tuple[QA, TokenizerLikeEmbedder]]:
    model = TokenizerLikeEmbedder(delay=0.02)
    qa = QA(index_settings, embedder=model)
    yield qa, model
    qa.close()


def _sendable(answer: Answer) -> None:
    """What the bot and ``ask --json`` send is valid UTF-8."""
    json.dumps(answer.to_dict(), ensure_ascii=False).encode("utf-8")
    for text in (answer.question, answer.reason or ""):
        text.encode("utf-8")


# --------------------------------------------------------------------------- clean_text


def test_clean_text_replaces_only_what_cannot_be_encoded() -> None:
    assert clean_text("Who led the\udce9 delegation?") == "Who led the\ufffd delegation?"
    assert clean_text("\ud800") == "\ufffd"
    assert clean_text("ok \ud83d\ude00 \ud83d") == "ok \U0001f600 \ufffd"  # a pair is kept
    assert clean_text(b"caf\xe9 \xc3\xa9") == "caf\ufffd \u00e9"
    plain = "Wer führte die Delegation? \x00\x07 \u202e 🧨"
    assert clean_text(plain) is plain  # valid text is left alone


# --------------------------------------------------------------------------- QA.answer


def test_a_poisoned_question_costs_no_one_else_their_answer(
    strict_qa: tuple[QA, TokenizerLikeEmbedder],
) -> None:
    qa, model = strict_qa
    alone = {q: qa.answer(q).to_dict() for q in GOOD}
    assert all(a["answered"] for a in alone.values())
    questions = [*GOOD, *POISONED] * 3
    random.Random(14).shuffle(questions)
    model.batches.clear()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(qa.answer, questions))
    assert max(model.batches) > 1, "the questions never shared a model call"
    for question, answer in zip(questions, answers, strict=True):
        _sendable(answer)
        if question in GOOD:
            assert answer.to_dict() == alone[question], question
        else:
            assert answer.question == clean_text(question)
    # A poisoned question is answered like its cleaned text.
    assert qa.answer(POISONED[0]).to_dict() == qa.answer("Who led the\ufffd delegation?").to_dict()
    assert qa.answer("\ud800").kind == "empty"


# --------------------------------------------------------------------------- scripts.ask


def _ask(
    index: Path, *args: str | bytes, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """``python -m scripts.ask --index index args`` (bytes: arguments need not be UTF-8)."""
    return run_binary([*module_cmd("scripts.ask", "--index", str(index)), *args], stdin=stdin)


def test_ask_answers_a_question_with_an_invalid_byte(index_settings: IndexSettings) -> None:
    result = _ask(index_settings.index_dir, "--json", b"Who led the\xe9 delegation?")
    assert result.returncode == 0, result.stderr.decode()
    assert result.stderr == b""
    answer = json.loads(result.stdout)
    assert answer["question"] == "Who led the\ufffd delegation?"
    assert answer["answered"] and "delegation" in answer["quotes"][0]["text"]
    text = _ask(index_settings.index_dir, b"Who led the\xe9 delegation?")
    assert text.returncode == 0 and text.stderr == b"" and b"delegation" in text.stdout


BATCH_LINES = [
    b"Who led the Chinese delegation?",
    b"Who led the\xe9 delegation?",  # invalid UTF-8
    b'{"question": "When did the \\ud800 Harbour Bridge reopen?"}',  # a lone surrogate escape
    b"{not json",
    b"",
    b"\xff\xfe\x00\x07",
    b'{"question": 7}',
    b"How many tickets did the summer music festival sell?\r",
]


@pytest.mark.parametrize("source", ["file", "stdin"])
def test_ask_batch_answers_every_line_in_order(
    index_settings: IndexSettings, tmp_path: Path, source: str
) -> None:
    data = b"\n".join(BATCH_LINES) + b"\n"
    if source == "file":
        path = tmp_path / "questions.txt"
        path.write_bytes(data)
        result = _ask(index_settings.index_dir, "--batch", str(path))
    else:
        result = _ask(index_settings.index_dir, "--batch", "-", stdin=data)
    rows = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
    assert len(rows) == len(BATCH_LINES)  # one answer per input line, in input order
    assert [r["kind"] for r in rows] == [
        "answer",
        "answer",
        "answer",
        "empty",
        "empty",
        "empty",
        "empty",
        "answer",
    ]
    assert rows[1]["question"] == "Who led the\ufffd delegation?"
    assert rows[2]["question"] == "When did the \ufffd Harbour Bridge reopen?"
    assert rows[3]["reason"].startswith("line 4: invalid JSON")
    assert rows[6]["reason"] == "line 7: a JSON line needs a 'question' string"
    assert "80,000" in rows[7]["quotes"][0]["text"]
    # The bad lines are summed up in one line at the end: bad input, status 2.
    assert result.returncode == 2
    [line] = result.stderr.decode().splitlines()
    assert line.startswith("error: 2 line(s) were not questions (line 4: invalid JSON")


def test_ask_batch_goes_on_when_one_question_fails(
    index_settings: IndexSettings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A question that fails even alone gets its own answer; the ones after it are answered."""

    class Failing(QA):
        def answer(self, question: str, context: Conversation | None = None) -> Answer:
            if "explode" in question:
                raise RuntimeError("the model failed on purpose")
            return super().answer(question, context)

    opened: list[QA] = []

    def open_failing(settings_: IndexSettings) -> QA:
        opened.append(Failing(settings_))
        return opened[-1]

    monkeypatch.setattr("index.open_index", open_failing)
    stdin = io.StringIO(f"{GOOD[0]}\nexplode now\n{GOOD[1]}\n")
    status = ask.main(["--index", str(index_settings.index_dir), "--batch", "-"], stdin=stdin)
    out, err = capsys.readouterr()
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["kind"] for r in rows] == ["answer", "empty", "answer"]
    assert rows[1]["reason"] == (
        "could not answer this question (RuntimeError: the model failed on purpose)"
    )
    assert status == 1 and err == "error: 1 question(s) could not be answered\n"


# --------------------------------------------------------------------------- the bot


def test_the_bot_answers_everyone_when_one_question_is_poisoned(
    index_settings: IndexSettings,
) -> None:
    """Private chats and inline mode; the poisoned questions arrive with the good ones."""
    model = TokenizerLikeEmbedder(delay=0.1)
    qa = QA(index_settings, embedder=model)
    chats = {1: POISONED[0], 2: GOOD[0], 3: POISONED[3], 4: GOOD[1], 5: GOOD[2]}

    async def scenario(fake: FakeBotAPI) -> None:
        bot_settings = BotSettings(
            _env_file=None,
            telegram_bot_token=TOKEN,
            telegram_api_url=fake.base_url,
            index=index_settings,
            rate_limit_questions=100,
        )
        async with polling(build_application(bot_settings, qa=qa)):
            for user, question in chats.items():
                fake.push_private_text(question, user_id=user)
            fake.push_inline_query("Who led the\ud800 delegation?", user_id=9)
            for user in chats:
                await fake.wait_for("sendMessage", chat_id=user, timeout=30)
            [inline] = await fake.wait_for("answerInlineQuery", timeout=30)
        for user in chats:
            [reply] = fake.calls_of("sendMessage", chat_id=user)
            assert reply.text.startswith("<blockquote>"), reply.text  # a quote, not "Sorry"
        assert "delegation" in fake.sent_texts(1)[0]
        assert inline.params["results"], inline.params

    async def main() -> None:
        async with FakeBotAPI() as fake:
            await asyncio.wait_for(scenario(fake), timeout=60)

    try:
        asyncio.run(main())
    finally:
        qa.close()
    assert max(model.batches) > 1, "the questions never shared a model call"


def test_the_terminal_chat_reads_invalid_utf8(index_settings: IndexSettings) -> None:
    env = clean_env(
        INDEX_DIR=str(index_settings.index_dir),
        EMBEDDING_MODEL="hashing-64",
        PYTHONIOENCODING="utf-8:strict",  # as in a UTF-8 locale (the C locale is lenient)
    )
    questions = b"Who led the\xe9 delegation?\nWhen did the Harbour Bridge reopen?\n"
    result = run_binary(module_cmd("bot"), env=env, stdin=questions)
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode()
    assert "delegation" in out and "reopened" in out
    assert "Traceback" not in result.stderr.decode()


# --------------------------------------------------------------------------- fuzzing (item 7)

# Random bytes as Python receives them from argv or a file name (undecodable bytes become lone
# surrogates), and random text with surrogates, NUL and control characters.
raw_bytes = st.binary(max_size=40).map(lambda b: b.decode("utf-8", "surrogateescape"))
hostile_chars = st.characters(categories=["Cs", "Cc", "Cf", "Zs", "Lu", "Ll", "Nd", "Po", "So"])
hostile_text = st.text(hostile_chars, max_size=40)
poison = st.one_of(raw_bytes, hostile_text, st.sampled_from(POISONED))
batches = st.lists(
    st.one_of(st.sampled_from(GOOD).map(lambda q: (True, q)), poison.map(lambda q: (False, q))),
    min_size=2,
    max_size=12,
)


def _ask_together(qa: QA, questions: list[str]) -> list[Answer]:
    with ThreadPoolExecutor(len(questions)) as pool:
        return list(pool.map(qa.answer, questions))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=batches)
def test_fuzz_concurrent_batches_answer_every_good_question(
    strict_qa: tuple[QA, TokenizerLikeEmbedder], batch: list[tuple[bool, str]]
) -> None:
    qa, _ = strict_qa
    answers = _ask_together(qa, [q for _, q in batch])
    for (good, question), answer in zip(batch, answers, strict=True):
        _sendable(answer)
        assert answer.question == clean_text(question)
        if good:
            assert answer.answered, question
        for quote in answer.quotes:
            body = next(a.body for a in qa.articles() if a.id == quote.article_id)
            assert body[quote.start : quote.end] == quote.text


@pytest.mark.slow
def test_fuzz_with_the_real_model(seed_index: IndexSettings, real_embedder: Embedder) -> None:
    """The same with all-MiniLM-L6-v2, whose tokenizer really refuses lone surrogates."""
    qa = QA(seed_index, embedder=real_embedder)
    expected = qa.answer(GOOD[0]).quotes[0].text

    @settings(max_examples=15, deadline=None)
    @given(batch=st.lists(poison, min_size=1, max_size=8))
    def check(batch: list[str]) -> None:
        questions = [GOOD[0], *batch, GOOD[0]]
        answers = _ask_together(qa, questions)
        for answer in answers:
            _sendable(answer)
        assert answers[0].quotes[0].text == expected == answers[-1].quotes[0].text

    try:
        check()
        assert qa.queries.stats.largest > 1, "the questions never shared a model call"
    finally:
        qa.close()
