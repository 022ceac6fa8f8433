"""A conversation with the bot, end to end: the real python-telegram-bot Application against the
fake Bot API, with the fake question answerer (word overlap) reading follow-ups through the real
``index.dialogue.conversation`` (spaCy, loaded once for the session by ``spacy_english``).

Follow-ups in a private chat and in a group reply chain, /start forgetting, threaded replies,
order under a burst, /compare, /article paging, "More" with the corroborating sentences, and
the small-talk forms.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot import render
from bot.app import build_application
from bot.settings import BotSettings
from index.config import IndexSettings
from testkit.fake_bot_api import BOT_USERNAME, TOKEN, Call, FakeBotAPI
from testkit.fake_qa import FakeQA
from testkit.polling import polling

pytestmark = pytest.mark.usefixtures("spacy_english")

ALICE = 1001
BOB = 2002
CAROL = 3003
GROUP = -1009876
THANKED = "Who thanked the residents?"
FOLLOW_UP = "What did she thank them for?"
RUIZ = "Mayor Ana Ruiz thanked residents for their patience."


def settings(api_url: str, tmp: Path, **overrides: Any) -> BotSettings:
    index = IndexSettings(_env_file=None, index_dir=tmp / "index", corpus_dir=tmp / "corpus")
    values: dict[str, Any] = {
        "telegram_bot_token": TOKEN,
        "telegram_api_url": api_url,
        "index": index,
        "rate_limit_questions": 100,
    }
    return BotSettings(_env_file=None, **{**values, **overrides})


def run(tmp: Path, scenario: Callable[[FakeBotAPI, FakeQA], Awaitable[None]], **kw: Any) -> None:
    """Run ``scenario`` against a bot polling a fresh fake Bot API."""

    async def main() -> None:
        qa = FakeQA(slow_seconds=1.0)
        async with FakeBotAPI() as fake:
            application = build_application(settings(fake.base_url, tmp, **kw), qa=qa)
            async with polling(application):
                await asyncio.wait_for(scenario(fake, qa), timeout=90)

    asyncio.run(main())


def replied_to(call: Call) -> int:
    """The message a sent message replies to."""
    return int(call.result["reply_to_message"]["message_id"])


def message_id(update: dict[str, Any]) -> int:
    return int(update["message"]["message_id"])


def test_a_private_follow_up_is_read_against_the_last_question(tmp_path: Path) -> None:
    async def scenario(fake: FakeBotAPI, qa: FakeQA) -> None:
        first = fake.push_private_text(THANKED, user_id=ALICE)
        [answer] = await fake.wait_for("sendMessage", chat_id=ALICE)
        second = fake.push_private_text(FOLLOW_UP, user_id=ALICE)
        [_, follow] = await fake.wait_for("sendMessage", chat_id=ALICE, count=2)
        fake.push_private_text("/start", user_id=ALICE)
        await fake.wait_for("sendMessage", chat_id=ALICE, count=3)
        fake.push_private_text(FOLLOW_UP, user_id=ALICE)  # the context is gone
        await fake.wait_for("sendMessage", chat_id=ALICE, count=4)
        assert RUIZ in answer.plain() and replied_to(answer) == message_id(first)
        assert replied_to(follow) == message_id(second)  # threaded in private chats too
        assert follow.plain().startswith(
            "Read as: What did Mayor Ana Ruiz thank the residents for?"
        )
        assert RUIZ in follow.plain()

    run(tmp_path, scenario)


def test_group_follow_ups_follow_the_reply_chain(tmp_path: Path) -> None:
    async def scenario(fake: FakeBotAPI, qa: FakeQA) -> None:
        fake.push_group_text(f"/ask {THANKED}", user_id=ALICE, chat_id=GROUP)
        [answer] = await fake.wait_for("sendMessage", chat_id=GROUP)
        fake.push_group_text(FOLLOW_UP, user_id=BOB, chat_id=GROUP, reply_to=answer.result)
        [_, chained] = await fake.wait_for("sendMessage", chat_id=GROUP, count=2)
        # A question of its own (a mention, not a reply) starts a new thread: nothing to lean on.
        fake.push_group_text(f"@{BOT_USERNAME} {FOLLOW_UP}", user_id=CAROL, chat_id=GROUP)
        await fake.wait_for("sendMessage", chat_id=GROUP, count=3)
        # A reply to the bot's second answer continues the first thread.
        fake.push_group_text(
            "Who else was thanked?", user_id=ALICE, chat_id=GROUP, reply_to=chained.result
        )
        await fake.wait_for("sendMessage", chat_id=GROUP, count=4)
        assert chained.plain().startswith(
            "Read as: What did Mayor Ana Ruiz thank the residents for?"
        )
        assert qa.resolved[:3] == [
            THANKED,
            "What did Mayor Ana Ruiz thank the residents for?",
            FOLLOW_UP,
        ]

    run(tmp_path, scenario)


def test_a_burst_is_answered_in_order_and_other_chats_do_not_wait(tmp_path: Path) -> None:
    questions = [
        "slowpoke: when did the Harbour Bridge reopen?",
        "How much did the repairs cost?",
        "How much rainfall was there in Riverside?",
        "When did schools in Riverside close?",
        "What was the vote on the bridge budget?",
    ]

    async def scenario(fake: FakeBotAPI, qa: FakeQA) -> None:
        pushed = [fake.push_private_text(q, user_id=ALICE) for q in questions]
        await asyncio.sleep(0.2)
        fake.push_private_text("How much did the repairs cost?", user_id=BOB)
        [bob] = await fake.wait_for("sendMessage", chat_id=BOB)
        calls = await fake.wait_for("sendMessage", chat_id=ALICE, count=len(questions))
        assert [replied_to(c) for c in calls] == [message_id(u) for u in pushed]
        assert bob.at < calls[0].at  # Bob's chat did not wait behind Alice's slow question

    run(tmp_path, scenario, followup_minutes=0)


def test_compare_groups_by_outlet_and_names_the_articles_that_say_nothing(
    tmp_path: Path,
) -> None:
    async def scenario(fake: FakeBotAPI, qa: FakeQA) -> None:
        fake.push_private_text("/compare the bridge repairs cost", user_id=ALICE)
        [call] = await fake.wait_for("sendMessage", chat_id=ALICE)
        plain = call.plain()
        assert plain.startswith("What each article says about the bridge repairs cost")
        assert "\nCity Herald\n" in plain and "\nTown Crier\n" in plain
        assert "Not mentioned in: " in plain and "Glacier report: the long read" in plain
        herald = next(a for a in qa.articles() if a.source == "City Herald")
        number = render.source_numbers(qa.articles())[herald.id]
        assert f"/article {number}" in plain  # sources link to the article in the chat

    run(tmp_path, scenario)


def test_article_pages_turn_with_buttons(tmp_path: Path) -> None:
    def buttons(result: dict[str, Any]) -> dict[str, str]:
        [row] = result["reply_markup"]["inline_keyboard"]
        return {b["text"]: b["callback_data"] for b in row}

    async def scenario(fake: FakeBotAPI, qa: FakeQA) -> None:
        glacier = next(a for a in qa.articles() if a.title.startswith("Glacier report"))
        n = render.source_numbers(qa.articles())[glacier.id]  # /sources lists newest first
        fake.push_private_text(f"/article {n}", user_id=ALICE)  # the long glacier report
        [first] = await fake.wait_for("sendMessage", chat_id=ALICE)
        assert first.plain().startswith(f"Article {n}, page 1 of ")
        assert "Glacier report: the long read" in first.plain()
        assert buttons(first.result) == {"Next ›": f"article:{n}:2"}
        fake.push_callback(first.result, f"article:{n}:2", user_id=ALICE)
        [second] = await fake.wait_for("editMessageText")
        assert f"Article {n}, page 2 of" in second.plain()
        assert "Part 2" in second.plain() or "Part 3" in second.plain()
        fake.push_private_text("/article 9", user_id=ALICE)
        fake.push_private_text("/article", user_id=ALICE)
        [_, missing, usage] = await fake.wait_for("sendMessage", chat_id=ALICE, count=3)
        assert (
            missing.plain() == "There is no article 9: /sources lists 4 (/article 1 … /article 4)."
        )
        assert usage.plain().startswith("Usage: /article N")

    run(tmp_path, scenario)


def test_more_shows_each_corroborating_articles_own_sentence(tmp_path: Path) -> None:
    async def scenario(fake: FakeBotAPI, qa: FakeQA) -> None:
        fake.push_private_text("How much did the city council say the repairs cost?", user_id=ALICE)
        [answer] = await fake.wait_for("sendMessage", chat_id=ALICE)
        assert "Also reported by Town Crier" in answer.plain()  # each article's label: its outlet
        [[button]] = answer.result["reply_markup"]["inline_keyboard"]
        fake.push_callback(answer.result, button["callback_data"], user_id=ALICE)
        [edit] = await fake.wait_for("editMessageText")
        plain = edit.plain()
        assert "The same in other articles\nCouncil approves bridge budget · Town Crier" in plain
        assert "The city council approved 45 million euros for the bridge repairs." in plain
        assert "<b>The city council approved 45 million euros" in edit.text

    run(tmp_path, scenario)


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("thank you, that's helpful", "You're welcome!"),
        ("great, thanks!", "You're welcome!"),
        ("that's great", "You're welcome!"),
        ("perfect, cheers", "You're welcome!"),
        ("bye for now", "Goodbye!"),
    ],
)
def test_small_talk_gets_a_short_reply_never_a_refusal(
    tmp_path: Path, text: str, reply: str
) -> None:
    async def scenario(fake: FakeBotAPI, qa: FakeQA) -> None:
        fake.push_private_text(text, user_id=ALICE)
        [call] = await fake.wait_for("sendMessage", chat_id=ALICE)
        assert call.plain().startswith(reply) and "Not in the coverage" not in call.plain()

    run(tmp_path, scenario)
