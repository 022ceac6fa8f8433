"""Load: 100 private chats send 5 questions each, all at once, through the fake Bot API.

The real python-telegram-bot ``Application`` from ``build_application`` long-polls the fake
server of ``testkit/fake_bot_api.py`` (nothing of python-telegram-bot is mocked, its
``AIORateLimiter`` included). Every question must be answered exactly once: each chat gets one
reply per question, and the reply is the one ``bot.render`` makes for that question's answer
(matched by chat id and content, so a reply sent to the wrong chat, twice, or not at all fails).
Nothing may crash: no error logs, no failed Bot API calls, an event loop that never stalls, and
a bot that still answers a fresh question after the storm.

The fast test uses the deterministic fake question answerer; the slow one a real index built
from ``data/articles`` with the real model.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot import render
from bot.app import build_application
from bot.settings import BotSettings
from index import QuestionAnswerer
from index.config import IndexSettings
from index.dialogue.conversation import Conversation
from index.store.batcher import QueryBatcher
from index.store.embedder import Embedder, HashingEmbedder
from index.types import Answer
from testkit.fake_bot_api import TOKEN, Call, FakeBotAPI
from testkit.fake_qa import FakeQA
from testkit.polling import polling

CHATS = 100
PER_CHAT = 5
FIRST_CHAT = 700_000
PROBE_CHAT = 799_999

# Five questions whose replies differ (four quotes and one refusal, for the fake answerer).
FAKE_QUESTIONS = (
    "When did the Harbour Bridge reopen?",
    "How much rainfall was there in Riverside?",
    "How much did the repairs cost?",
    "Who thanked residents for their patience?",
    "What is the best lasagna recipe?",
)
REAL_QUESTIONS = (
    "Which Russian official visited Pyongyang?",
    "What event were the foreign delegations invited to?",
    "What propellant does the new Hwasong use?",
    "What did the Chinese envoy bring to Kim?",
    "What is the best lasagna recipe?",
)


class RecordingQA:
    """Passes everything to a real question answerer and records the questions it was asked."""

    def __init__(self, qa: QuestionAnswerer) -> None:
        self.qa = qa
        self.questions: list[str] = []
        self._lock = threading.Lock()

    def answer(self, question: str, context: Conversation | None = None) -> Answer:
        """Record, then answer."""
        with self._lock:
            self.questions.append(question)
        return self.qa.answer(question, context)

    def compare(self, topic: str) -> Answer:
        """Compare as the real one does."""
        return self.qa.compare(topic)

    def warm_up(self) -> None:
        """Warm up the real one."""
        self.qa.warm_up()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.qa, name)


def load_settings(api_url: str, tmp: Path, index_dir: Path | None = None) -> BotSettings:
    """Settings for a load test: the per-user rate limit off, so it refuses nothing."""
    index = IndexSettings(
        _env_file=None,
        index_dir=index_dir or tmp / "index",
        corpus_dir=tmp / "corpus",
    )
    return BotSettings(
        _env_file=None,
        telegram_bot_token=TOKEN,
        telegram_api_url=api_url,
        index=index,
        rate_limit_questions=0,
    )


class LoopLag:
    """Measures how late a 10 ms sleep wakes up: blocking work on the event loop shows here."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.01)
            self.worst = max(self.worst, loop.time() - before - 0.01)

    def __enter__(self) -> LoopLag:
        self._task = asyncio.get_running_loop().create_task(self._watch())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def user(fake: FakeBotAPI, chat_id: int, questions: Sequence[str]) -> None:
    """One person in a private chat typing their questions quickly, without waiting."""
    pause = random.Random(chat_id)
    for question in questions:
        fake.push_private_text(question, user_id=chat_id)
        await asyncio.sleep(pause.uniform(0.0, 0.05))


def expected_replies(qa: QuestionAnswerer, questions: Sequence[str]) -> dict[str, str]:
    """The one message each question must get, as ``bot.render`` makes it."""
    examples = qa.example_questions(1)
    replies = {}
    for question in questions:
        answer = qa.answer(question)
        readable = render.source_numbers(qa.articles()) if answer.quotes else {}
        chunks = render.render_answer(answer, [] if answer.answered else examples, readable)
        assert len(chunks) == 1, f"pick questions whose answers fit one message: {question!r}"
        replies[question] = chunks[0]
    assert len(set(replies.values())) == len(questions), "the replies must tell questions apart"
    return replies


async def storm(
    fake: FakeBotAPI,
    settings: BotSettings,
    qa: RecordingQA | FakeQA,
    questions: Sequence[str],
    replies: dict[str, str],
    timeout: float,
) -> tuple[list[Call], float, float]:
    """Send CHATS x PER_CHAT questions at once; return the replies, the time and the worst lag."""
    threads_before = threading.active_count()
    application = build_application(settings, qa=qa)
    async with polling(application):
        with LoopLag() as lag:
            started = time.monotonic()
            chats = [FIRST_CHAT + n for n in range(CHATS)]
            await asyncio.gather(*(user(fake, chat, questions) for chat in chats))
            calls = await fake.wait_for("sendMessage", count=CHATS * PER_CHAT, timeout=timeout)
            elapsed = time.monotonic() - started
            await fake.settle(1.0)  # a late duplicate would arrive now
        # Still healthy: running, and a new question is answered promptly.
        assert application.running and application.updater is not None
        assert application.updater.running
        fake.push_private_text(questions[0], user_id=PROBE_CHAT)
        [probe] = await fake.wait_for("sendMessage", chat_id=PROBE_CHAT, timeout=10)
        assert probe.text == replies[questions[0]]
    # Worker threads are pooled, not one per question.
    assert threading.active_count() <= threads_before + settings.qa_workers + 4
    return calls, elapsed, lag.worst


def check_every_question_answered_once(
    fake: FakeBotAPI, questions: Sequence[str], replies: dict[str, str], asked: list[str]
) -> None:
    """One reply per question per chat, with the right content; nothing else sent."""
    failed = [(c.method, c.status, c.error) for c in fake.calls if not c.ok]
    assert not failed, f"Bot API calls failed: {failed[:5]}"
    sent = [c for c in fake.calls_of("sendMessage") if c.params["chat_id"] != PROBE_CHAT]
    assert len(sent) == CHATS * PER_CHAT, f"{len(sent)} replies for {CHATS * PER_CHAT} questions"
    by_chat: dict[int, list[str]] = defaultdict(list)
    for call in sent:
        by_chat[int(call.params["chat_id"])].append(call.text)
    want = Counter(replies[q] for q in questions)
    wrong = {
        chat: sorted(by_chat.get(chat, []))
        for chat in range(FIRST_CHAT, FIRST_CHAT + CHATS)
        if Counter(by_chat.get(chat, [])) != want
    }
    assert not wrong, f"{len(wrong)} chats without exactly one reply per question: {wrong}"[:2000]
    # ... while keeping to Telegram's 30 messages/s (a leaky bucket: a burst of 30, then 30/s).
    span = sent[-1].at - sent[0].at
    assert len(sent) <= 30 + 31 * span, f"{len(sent)} messages in {span:.1f} s"
    # Each update reached the question answerer exactly once (the probe once more).
    assert Counter(asked) == {q: CHATS + (q == questions[0]) for q in questions}
    # The typing indicator, too, went only to chats that asked.
    typing = {int(c.params["chat_id"]) for c in fake.calls_of("sendChatAction")}
    assert typing <= {*range(FIRST_CHAT, FIRST_CHAT + CHATS), PROBE_CHAT}


def no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    """Nothing at ERROR or above, and no warning from the bot or python-telegram-bot."""
    bad = [
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR
        or (r.levelno >= logging.WARNING and r.name.startswith(("bot", "telegram")))
    ]
    assert not bad, [f"{r.name}: {r.getMessage()}" for r in bad[:5]]


@pytest.mark.slow  # 500 replies at Telegram's 30 messages/s take 16 s or more
def test_100_chats_5_questions_each_every_one_answered_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    qa = FakeQA()
    replies = expected_replies(FakeQA(), FAKE_QUESTIONS)

    async def main() -> tuple[float, float]:
        async with FakeBotAPI() as fake:
            settings = load_settings(fake.base_url, tmp_path)
            _, elapsed, lag = await storm(fake, settings, qa, FAKE_QUESTIONS, replies, 50)
            check_every_question_answered_once(fake, FAKE_QUESTIONS, replies, qa.questions)
            return elapsed, lag

    elapsed, lag = asyncio.run(main())
    no_errors_logged(caplog)
    # Answering runs off the event loop: had it run on the loop, 500 answers would stall it for
    # 10 s or more. The bound is loose because a busy shared machine alone delays it by ~1.5 s.
    assert lag < 3.0, f"the event loop stalled for {lag:.2f} s"
    # python-telegram-bot's AIORateLimiter keeps to Telegram's 30 messages/s: 500 replies need
    # about 16 s; much more means requests queue behind something else.
    assert elapsed < 45, f"500 answers took {elapsed:.1f} s"


# --------------------------------------------------------------------------- with a real index


@pytest.mark.slow
@pytest.mark.timeout(240)  # 500 real answers at 30 messages/s: 30-40 s on the loaded machine
@pytest.mark.usefixtures("offline_index_env")
def test_100_chats_with_a_real_index(
    seed_index: IndexSettings,
    real_embedder: Embedder,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from index import open_index

    real_index = seed_index.index_dir  # data/articles with the real model, read only
    inner = open_index(seed_index, embedder=real_embedder)
    try:
        inner.warm_up()
        replies = expected_replies(inner, REAL_QUESTIONS)
        assert sum(r.startswith("<blockquote>") for r in replies.values()) >= 3
        qa = RecordingQA(inner)
        caplog.set_level(logging.WARNING)

        async def main() -> tuple[float, float]:
            async with FakeBotAPI() as fake:
                settings = load_settings(fake.base_url, tmp_path, real_index)
                _, elapsed, lag = await storm(fake, settings, qa, REAL_QUESTIONS, replies, 100)
                check_every_question_answered_once(fake, REAL_QUESTIONS, replies, qa.questions)
                return elapsed, lag

        elapsed, lag = asyncio.run(main())
        # Every question's embedding went through QA's micro-batcher, one model call at a time.
        assert inner.queries.stats.questions >= 5 * 100
        assert inner.queries.stats.calls <= inner.queries.stats.questions
    finally:
        inner.close()
    no_errors_logged(caplog)
    # Answering runs off the event loop: had it run on the loop, 500 answers would stall it for
    # 10 s or more. The bound is loose because a busy shared machine alone delays it by ~1.5 s.
    assert lag < 3.0, f"the event loop stalled for {lag:.2f} s"
    # About 20 s on an otherwise idle machine: the 30 messages/s limit, not the model, sets it.
    assert elapsed < 100, f"500 answers took {elapsed:.1f} s"


# --------------------------------------------------------------------------- the micro-batcher


class SlowEmbedder:
    """The hashing embedder, with each model call taking ``delay`` seconds and recorded."""

    def __init__(self, delay: float = 0.01, fail_on: str | None = None) -> None:
        self.inner = HashingEmbedder(32)
        self.name = self.inner.name
        self.delay = delay
        self.fail_on = fail_on
        self.batches: list[int] = []
        self.active = 0
        self.most_active = 0
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        with self._lock:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
            self.batches.append(len(texts))
        try:
            time.sleep(self.delay)
            if self.fail_on is not None and self.fail_on in texts:
                raise RuntimeError("the model failed on purpose")
            return self.inner.embed(texts)
        finally:
            with self._lock:
                self.active -= 1

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


def run_threads(target: Any, n: int) -> list[BaseException]:
    """Run ``target(i)`` on ``n`` threads at once; the exceptions they raised."""
    errors: list[BaseException] = []
    start = threading.Barrier(n)

    def work(i: int) -> None:
        start.wait()
        try:
            target(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not any(t.is_alive() for t in threads), "a caller hangs"
    return errors


def test_batcher_embeds_concurrent_questions_together_with_the_same_vectors() -> None:
    model = SlowEmbedder()
    batcher = QueryBatcher(model, max_batch=8)
    reference = HashingEmbedder(32)
    got: dict[str, np.ndarray] = {}

    def ask(i: int) -> None:
        for j in range(10):
            text = f"question {i} number {j} about the bridge"
            got[text] = batcher.embed_query(text)

    assert not run_threads(ask, 16)
    assert len(got) == 160
    for text, vector in got.items():
        np.testing.assert_allclose(vector, reference.embed_query(text), rtol=0, atol=1e-6)
    assert model.most_active == 1  # one model call at a time: the tokenizer is not thread-safe
    assert sum(model.batches) == 160 and max(model.batches) <= 8
    assert len(model.batches) < 160 / 2  # questions did share calls
    assert batcher.stats.questions == 160 and batcher.stats.calls == len(model.batches)


def test_batcher_alone_costs_one_model_call_and_waits_at_most_max_wait() -> None:
    model = SlowEmbedder(delay=0.0)
    batcher = QueryBatcher(model, max_wait=0.02)
    started = time.perf_counter()
    vector = batcher.embed_query("a lone question")
    assert time.perf_counter() - started < 0.5
    assert vector.shape == (32,) and model.batches == [1]
    assert batcher.dimension == 32 and batcher.name == model.name
    assert batcher.embed(["one", "two"]).shape == (2, 32)
    with pytest.raises(ValueError, match="max_batch"):
        QueryBatcher(model, max_batch=0)
    with pytest.raises(ValueError, match="max_wait"):
        QueryBatcher(model, max_wait=-1)


def test_batcher_failure_reaches_only_the_question_that_fails_alone() -> None:
    """A shared call that fails is retried one question at a time: only the bad one fails."""
    model = SlowEmbedder(delay=0.05, fail_on="poison")
    batcher = QueryBatcher(model, max_batch=16, max_wait=0.03)
    reference = HashingEmbedder(32)
    got: dict[int, np.ndarray] = {}

    def ask(i: int) -> None:
        got[i] = batcher.embed_query("poison" if i == 0 else f"q {i}")

    errors = run_threads(ask, 6)
    assert len(errors) == 1 and isinstance(errors[0], RuntimeError)
    assert max(model.batches) > 1  # they did share a call, which failed
    assert sorted(got) == [1, 2, 3, 4, 5]
    for i, vector in got.items():
        np.testing.assert_allclose(vector, reference.embed_query(f"q {i}"), rtol=0, atol=1e-6)
    assert batcher.embed_query("fine again").shape == (32,)
