"""End to end: the real python-telegram-bot Application against the fake Bot API server.

Each test starts a fake server on 127.0.0.1, builds the bot with ``build_application`` pointed
at it through ``TELEGRAM_API_URL`` (``telegram_api_url``), long-polls it, pushes updates and
checks what the bot sent. Nothing of python-telegram-bot is mocked.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from telegram import Bot
from telegram.error import BadRequest, NetworkError

from bot.app import ALLOWED_UPDATES, build_application
from bot.logging_setup import configure_logging
from bot.settings import BotSettings
from index.config import IndexSettings
from index.types import Article
from testkit.fake_bot_api import BOT_USERNAME, TOKEN, FakeBotAPI
from testkit.fake_qa import ARTICLES, FakeQA
from testkit.polling import polling

pytestmark = pytest.mark.timeout(60)

ALICE = 1001
BOB = 2002
GROUP = -1001234567890
BRIDGE_Q = "When did the Harbour Bridge reopen?"
BRIDGE_QUOTE = "The Harbour Bridge reopened to traffic on Monday after eight months of repairs."


def make_settings(api_url: str, tmp: Path, **overrides: Any) -> BotSettings:
    """Settings as the environment would give them, without reading the real environment."""
    values: dict[str, Any] = {
        "telegram_bot_token": TOKEN,
        "telegram_api_url": api_url,
        "index": IndexSettings(_env_file=None, index_dir=tmp / "index", corpus_dir=tmp / "corpus"),
        "rate_limit_questions": 100,
    }
    values.update(overrides)
    return BotSettings(_env_file=None, **values)


@asynccontextmanager
async def running_bot(
    fake: FakeBotAPI, tmp: Path, qa: FakeQA | None = None, **overrides: Any
) -> AsyncIterator[FakeQA]:
    """Run the bot by long polling against ``fake`` for the duration of the block."""
    qa = qa or FakeQA()
    application = build_application(make_settings(fake.base_url, tmp, **overrides), qa=qa)
    async with polling(application):
        yield qa


def run(scenario: Callable[[FakeBotAPI], Awaitable[None]]) -> None:
    """Run an async scenario with a fresh fake server."""

    async def main() -> None:
        async with FakeBotAPI() as fake:
            await asyncio.wait_for(scenario(fake), timeout=45)

    asyncio.run(main())


def button_data(call_result: dict[str, Any]) -> str:
    """The callback data of the (single) inline button under a sent message."""
    [[button]] = call_result["reply_markup"]["inline_keyboard"]
    return str(button["callback_data"])


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL", "ALLOWED_USER_IDS", "BOT_MODE"):
        monkeypatch.delenv(name, raising=False)


# --------------------------------------------------------------------------- private chats


def test_private_question_gets_a_quoted_cited_answer(tmp_path: Path) -> None:
    async def scenario(fake: FakeBotAPI) -> None:
        async with running_bot(fake, tmp_path) as qa:
            fake.push_private_text(BRIDGE_Q, user_id=ALICE)
            [call] = await fake.wait_for("sendMessage", chat_id=ALICE)
        assert qa.questions == [BRIDGE_Q]
        assert call.params["parse_mode"] == "HTML"
        assert call.params["link_preview_options"] == {"is_disabled": True}
        assert call.text.startswith(f"<blockquote>{BRIDGE_QUOTE}</blockquote>\n— <a href=")
        assert "#:~:text=The%20Harbour%20Bridge%20reopened" in call.text
        plain = call.plain()
        assert plain == f"{BRIDGE_QUOTE}\n— City Herald, 1 Mar 2024 · ¶1"  # fits a phone's screen
        assert button_data(call.result).startswith("more:")
        typing = fake.calls_of("sendChatAction", chat_id=ALICE)
        assert typing and typing[0].params["action"] == "typing" and typing[0].at <= call.at
        assert fake.calls_of("deleteWebhook")
        assert [c["command"] for c in fake.commands] == [
            "ask",
            "compare",
            "sources",
            "article",
            "about",
            "help",
            "start",
        ]
        assert qa.closed is False  # a QA passed in is the caller's to close

    run(scenario)


def test_off_topic_is_declined_and_small_talk_gets_a_short_reply(tmp_path: Path) -> None:
    async def scenario(fake: FakeBotAPI) -> None:
        async with running_bot(fake, tmp_path):
            fake.push_private_text("What is the best lasagna recipe?", user_id=ALICE)
            await fake.wait_for("sendMessage", chat_id=ALICE)
            fake.push_private_text("hello", user_id=ALICE)
            await fake.wait_for("sendMessage", chat_id=ALICE, count=2)
            fake.push_private_text("thanks!", user_id=ALICE)
            await fake.wait_for("sendMessage", chat_id=ALICE, count=3)
        refusal, greeting, thanks = fake.sent_texts(ALICE)
        assert refusal.startswith("Not in the coverage. I couldn't find an answer to “What is")
        assert "/sources" in refusal and "When did the Harbour Bridge reopen?" in refusal
        assert greeting.startswith("Hello!") and len(greeting) < 300
        assert thanks.startswith("You're welcome!")
        assert not any(c.result.get("reply_markup") for c in fake.calls_of("sendMessage"))

    run(scenario)


def test_each_answer_is_logged_in_one_line_without_the_question(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.handlers")
    off_topic = "What is the best lasagna recipe?"

    async def scenario(fake: FakeBotAPI) -> None:
        async with running_bot(fake, tmp_path):
            fake.push_private_text(BRIDGE_Q, user_id=ALICE)
            await fake.wait_for("sendMessage", chat_id=ALICE)
            fake.push_private_text(off_topic, user_id=ALICE)
            await fake.wait_for("sendMessage", chat_id=ALICE, count=2)
            fake.push_inline_query(BRIDGE_Q, user_id=ALICE)
            await fake.wait_for("answerInlineQuery")

    run(scenario)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Answer (")]
    assert len(lines) == 3, lines
    assert re.fullmatch(
        r"Answer \(private\): answer, confidence \d\.\d\d, 1 quote\(s\), \d+ ms", lines[0]
    )
    assert re.fullmatch(
        r"Answer \(private\): refusal, confidence -, 0 quote\(s\), \d+ ms", lines[1]
    )
    assert lines[2].startswith("Answer (inline): answer, confidence ")
    info = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert not any(BRIDGE_Q in m or off_topic in m for m in info)


def test_commands(tmp_path: Path) -> None:
    async def scenario(fake: FakeBotAPI) -> None:
        async with running_bot(fake, tmp_path) as qa:
            for n, text in enumerate(
                [
                    "/start",
                    "/help",
                    "/sources",
                    "/about",
                    "/ask How much did the repairs cost?",
                    "/ask",
                    "/frobnicate",
                    "/ask@otherbot When did the bridge reopen?",
                    f"/about@{BOT_USERNAME}",
                ],
                start=1,
            ):
                fake.push_private_text(text, user_id=ALICE)
                if "otherbot" not in text:
                    await fake.wait_for("sendMessage", chat_id=ALICE, count=n - (n > 8))
            await fake.settle()
        start, help_, sources, about, ask, usage, unknown, about2 = fake.sent_texts(ALICE)
        assert "verbatim quotes" in start
        assert all(example in start for example in qa.example_questions(3))
        assert "/ask question" in help_ and "In groups" in help_ and f"@{BOT_USERNAME}" in help_
        assert sources.startswith("Indexed articles (4)\n1. Alpine Post, 20 May 2024 — Glacier")
        assert "4. Town Crier, 10 Feb 2024 — Council approves bridge budget" in sources
        source_call = fake.calls_of("sendMessage", chat_id=ALICE)[2]
        assert '<a href="https://news.example.com/2024/03/bridge-reopens">' in source_call.text
        assert "Articles: 4" in about and "Index built: 2024-06-01T12:00:00Z" in about
        assert "Model: fake-word-overlap" in about and about2 == about
        assert ask.startswith("The city council said the repairs cost 45 million euros.")
        assert usage.startswith("Usage: /ask your question")
        assert unknown == "I don't know that command. Try /help."
        assert "When did the bridge reopen?" not in qa.questions  # /ask@otherbot is not ours

    run(scenario)


# --------------------------------------------------------------------------- groups


def test_group_answers_only_ask_mentions_and_replies(tmp_path: Path) -> None:
    async def scenario(fake: FakeBotAPI) -> None:
        async with running_bot(fake, tmp_path) as qa:
            fake.push_group_text("When did the Harbour Bridge reopen? anyone?", chat_id=GROUP)
            fake.push_group_text("/ask@otherbot When did the bridge reopen?", chat_id=GROUP)
            fake.push_group_text("/help@otherbot", chat_id=GROUP)
            fake.push_group_text("/help", chat_id=GROUP)  # could be for any bot: silence
            sticker = fake.make_message(fake.group_chat(GROUP), None, ALICE, sticker=_STICKER)
            fake.push_update({"message": sticker})
            asked = fake.push_group_text("/ask How much did the repairs cost?", chat_id=GROUP)
            [first] = await fake.wait_for("sendMessage", chat_id=GROUP)
            mention = fake.push_group_text(f"@{BOT_USERNAME} {BRIDGE_Q}", chat_id=GROUP)
            await fake.wait_for("sendMessage", chat_id=GROUP, count=2)
            bot_message = first.result
            reply = fake.push_group_text(
                "and how much rainfall was there in Riverside?", chat_id=GROUP, reply_to=bot_message
            )
            await fake.wait_for("sendMessage", chat_id=GROUP, count=3)
            about = fake.push_group_text(f"/about@{BOT_USERNAME}", chat_id=GROUP)
            await fake.wait_for("sendMessage", chat_id=GROUP, count=4)
            await fake.settle()
        calls = fake.calls_of("sendMessage", chat_id=GROUP)
        assert len(calls) == 4
        assert calls.pop().plain().startswith("About this index")
        assert about["message"]["entities"][0]["type"] == "bot_command"
        replied_to = [c.params["reply_parameters"]["message_id"] for c in calls]
        assert replied_to == [u["message"]["message_id"] for u in (asked, mention, reply)]
        assert BRIDGE_QUOTE in calls[1].plain()
        assert "Rainfall reached 80 mm in Riverside" in calls[2].plain()
        assert qa.questions == [
            "How much did the repairs cost?",
            BRIDGE_Q,
            "and how much rainfall was there in Riverside?",
        ]

    run(scenario)


_STICKER = {
    "file_id": "CAAC",
    "file_unique_id": "AgAD",
    "type": "regular",
    "width": 512,
    "height": 512,
    "is_animated": False,
    "is_video": False,
}


# --------------------------------------------------------------------------- inline and buttons


def test_inline_query_offers_up_to_five_cited_quotes(tmp_path: Path) -> None:
    async def scenario(fake: FakeBotAPI) -> None:
        qa = FakeQA(max_quotes=5)
        async with running_bot(fake, tmp_path, qa=qa):
            fake.push_inline_query("glacier retreating bridge council repairs cost", user_id=ALICE)
            [call] = await fake.wait_for("answerInlineQuery")
            fake.push_inline_query("lasagna recipe", user_id=ALICE)
            await fake.wait_for("answerInlineQuery", count=2)
        results = call.params["results"]
        assert 1 <= len(results) <= 5
        for result in results:
            assert result["type"] == "article" and result["title"] and result["description"]
            content = result["input_message_content"]
            assert content["parse_mode"] == "HTML"
            assert content["message_text"].startswith("<b>Q: </b>glacier retreating")
            assert "<blockquote>" in content["message_text"] and "\n— " in content["message_text"]
        assert len({r["id"] for r in results}) == len(results)
        refused = fake.calls_of("answerInlineQuery")[1].params
        assert refused["results"] == [] and "Not in the coverage" in refused["button"]["text"]

    run(scenario)


def test_more_button_expands_the_answer_in_place(tmp_path: Path) -> None:
    async def scenario(fake: FakeBotAPI) -> None:
        async with running_bot(fake, tmp_path):
            fake.push_private_text(BRIDGE_Q, user_id=ALICE)
            [answer] = await fake.wait_for("sendMessage", chat_id=ALICE)
            fake.push_callback(answer.result, button_data(answer.result), user_id=ALICE)
            [edit] = await fake.wait_for("editMessageText")
            await fake.wait_for("answerCallbackQuery")
            fake.push_callback(answer.result, "more:forgotten", user_id=ALICE)
            await fake.wait_for("answerCallbackQuery", count=2)
        assert edit.params["message_id"] == answer.result["message_id"]
        plain = edit.plain()
        assert plain.startswith(BRIDGE_QUOTE)
        assert "Context — Harbour Bridge reopens after repairs, ¶1" in plain
        assert "Engineers replaced 120 steel cables and resurfaced the deck." in plain
        assert "<blockquote expandable>" in edit.text and f"<b>{BRIDGE_QUOTE}</b>" in edit.text
        assert "reply_markup" not in fake.messages[(ALICE, answer.result["message_id"])]
        expired = fake.calls_of("answerCallbackQuery")[1].params
        assert "no longer available" in expired["text"]

    run(scenario)


def test_sources_turn_pages_with_buttons(tmp_path: Path) -> None:
    extra = [
        Article(id=f"brief-{n}", title=f"Brief {n}", body=f"Brief number {n} is short.")
        for n in range(5, 26)
    ]
    qa = FakeQA(articles=[*ARTICLES, *extra])  # 25 articles: three pages

    def buttons(result: dict[str, Any]) -> dict[str, str]:
        [row] = result["reply_markup"]["inline_keyboard"]
        return {b["text"]: b["callback_data"] for b in row}

    async def scenario(fake: FakeBotAPI) -> None:
        async with running_bot(fake, tmp_path, qa):
            fake.push_private_text("/sources", user_id=ALICE)
            [first] = await fake.wait_for("sendMessage", chat_id=ALICE)
            assert buttons(first.result) == {"Next ›": "sources:2"}
            fake.push_callback(first.result, "sources:2", user_id=ALICE)
            [second] = await fake.wait_for("editMessageText")
            await fake.wait_for("answerCallbackQuery")
            fake.push_private_text("/sources 7", user_id=ALICE)  # past the end: how many there are
            [_, last] = await fake.wait_for("sendMessage", chat_id=ALICE, count=2)
        assert first.plain().startswith("Indexed articles (25), page 1 of 3\n1. Alpine Post")
        assert "10. Brief 10" in first.plain() and "11." not in first.plain()
        assert second.params["message_id"] == first.result["message_id"]
        assert second.plain().startswith("Indexed articles (25), page 2 of 3\n11. Brief 11")
        assert buttons(second.result) == {"‹ Previous": "sources:1", "Next ›": "sources:3"}
        assert last.plain() == "There is no page 7: the list of sources has 3 pages."
        assert "reply_markup" not in last.result

    run(scenario)


def test_long_answer_is_short_and_more_follows_up_in_parts(tmp_path: Path) -> None:
    async def scenario(fake: FakeBotAPI) -> None:
        async with running_bot(fake, tmp_path):
            fake.push_private_text("How fast is the glacier retreating?", user_id=ALICE)
            await fake.wait_for("sendMessage", chat_id=ALICE)
            await fake.settle()
            parts = fake.calls_of("sendMessage", chat_id=ALICE)
            last = parts[-1].result
            fake.push_callback(last, button_data(last), user_id=ALICE)
            await fake.wait_for("editMessageReplyMarkup")
            more = fake.calls_of("sendMessage", chat_id=ALICE)[len(parts) :]
        assert len(parts) == 1  # the best quote alone: the rest is under "More"
        assert all(c.ok for c in fake.calls_of("sendMessage"))  # none rejected as too long
        assert parts[0].plain().endswith("— Alpine Post, 20 May 2024 · ¶1")
        # "More" is too long to expand in place: it follows in parts, split between paragraphs
        assert len(more) >= 2
        assert more[0].plain().startswith("Context — Glacier report: the long read")
        assert any(m.plain().startswith("Also in the coverage\nPart 2: the glacier") for m in more)

    run(scenario)


# --------------------------------------------------------------------------- hostile input


def test_html_hostile_input_and_articles_are_escaped(tmp_path: Path) -> None:
    hostile = '</blockquote><b>bold & <script>alert("x")</script> &amp; <a href="javascript:x">'

    async def scenario(fake: FakeBotAPI) -> None:
        async with running_bot(fake, tmp_path):
            fake.push_private_text(hostile, user_id=ALICE)
            await fake.wait_for("sendMessage", chat_id=ALICE)
            fake.push_private_text("red warning Riverside storm", user_id=ALICE)
            await fake.wait_for("sendMessage", chat_id=ALICE, count=2)
            fake.push_inline_query("red warning Riverside", user_id=ALICE)
            await fake.wait_for("answerInlineQuery")
        assert not fake.calls_of("sendMessage", ok=False)
        refusal, storm = fake.sent_texts(ALICE)
        assert f"“{hostile}”" in refusal
        assert "Forecasters issued a <red> warning & urged residents" in storm
        assert 'Storm <warning> & "floods" hit Riverside' in storm

    run(scenario)


def test_non_text_updates(tmp_path: Path) -> None:
    async def scenario(fake: FakeBotAPI) -> None:
        async with running_bot(fake, tmp_path) as qa:
            chat = fake.private_chat(ALICE)
            photo = [{"file_id": "p", "file_unique_id": "u", "width": 9, "height": 9}]
            fake.push_update({"message": fake.make_message(chat, None, ALICE, photo=photo)})
            await fake.wait_for("sendMessage", chat_id=ALICE)
            location = {"latitude": 46.0, "longitude": 8.0}
            fake.push_update({"message": fake.make_message(chat, None, ALICE, location=location)})
            await fake.wait_for("sendMessage", chat_id=ALICE, count=2)
            edited = fake.make_message(chat, BRIDGE_Q, ALICE, edit_date=1)
            fake.push_update({"edited_message": edited})
            await fake.wait_for("sendMessage", chat_id=ALICE, count=3)
            shared = fake.make_message(chat, "Q: x", ALICE, via_bot=fake.bot_user)
            fake.push_update({"message": shared})  # a quote shared via inline mode: no reply
            channel = {"id": -100777, "type": "channel", "title": "News"}
            fake.push_update({"channel_post": fake.make_message(channel, BRIDGE_Q)})
            group_photo = fake.make_message(fake.group_chat(GROUP), None, ALICE, photo=photo)
            fake.push_update({"message": group_photo})
            fake.push_update(
                {"edited_message": fake.make_message(fake.group_chat(GROUP), "x", ALICE)}
            )
            await fake.settle(0.5)
        photo_reply, location_reply, edit_reply = fake.sent_texts(ALICE)
        assert photo_reply == location_reply
        assert "send me a text question" in photo_reply
        assert "only read new messages" in edit_reply
        assert len(fake.calls_of("sendMessage")) == 3  # silence in the channel and the group
        assert qa.questions == []

    run(scenario)


def test_over_long_question_is_declined(tmp_path: Path) -> None:
    async def scenario(fake: FakeBotAPI) -> None:
        async with running_bot(fake, tmp_path) as qa:
            fake.push_private_text("bridge " * 100, user_id=ALICE)
            await fake.wait_for("sendMessage", chat_id=ALICE)
        [reply] = fake.sent_texts(ALICE)
        assert "699 characters" in reply and "up to 500 characters" in reply
        assert qa.questions == []

    run(scenario)


# --------------------------------------------------------------------------- protection


def test_allowlist_refuses_others_politely(tmp_path: Path) -> None:
    async def scenario(fake: FakeBotAPI) -> None:
        allowed: dict[str, Any] = {"allowed_user_ids": [ALICE], "allowed_chat_ids": [GROUP]}
        async with running_bot(fake, tmp_path, **allowed) as qa:
            fake.push_private_text(BRIDGE_Q, user_id=BOB)
            [refusal] = await fake.wait_for("sendMessage", chat_id=BOB)
            fake.push_inline_query(BRIDGE_Q, user_id=BOB)
            [inline] = await fake.wait_for("answerInlineQuery")
            fake.push_group_text(f"/ask {BRIDGE_Q}", user_id=BOB, chat_id=GROUP)
            await fake.wait_for("sendMessage", chat_id=GROUP)
            fake.push_group_text(f"/ask {BRIDGE_Q}", user_id=BOB, chat_id=-100999)
            await fake.wait_for("sendMessage", chat_id=-100999)
            fake.push_group_text("just chatting", user_id=BOB, chat_id=-100999)
            fake.push_private_text(BRIDGE_Q, user_id=ALICE)
            await fake.wait_for("sendMessage", chat_id=ALICE)
            await fake.settle()
        assert "this bot is private" in refusal.plain() and str(BOB) in refusal.plain()
        assert inline.params["results"] == [] and "private" in inline.params["button"]["text"]
        assert BRIDGE_QUOTE in fake.sent_texts(GROUP)[0]  # an allowed group: anyone may ask
        assert "this bot is private" in fake.sent_texts(-100999)[0]
        assert len(fake.sent_texts(-100999)) == 1
        assert BRIDGE_QUOTE in fake.sent_texts(ALICE)[0]
        assert qa.questions == [BRIDGE_Q, BRIDGE_Q]  # the group one and Alice's: nothing for Bob

    run(scenario)


def test_rate_limit_says_slow_down_once(tmp_path: Path) -> None:
    async def scenario(fake: FakeBotAPI) -> None:
        limits: dict[str, Any] = {"rate_limit_questions": 2, "admin_user_ids": [BOB]}
        async with running_bot(fake, tmp_path, **limits) as qa:
            for _ in range(4):
                fake.push_private_text(BRIDGE_Q, user_id=ALICE)
                fake.push_private_text(BRIDGE_Q, user_id=BOB)
            await fake.wait_for("sendMessage", chat_id=ALICE, count=3)
            await fake.wait_for("sendMessage", chat_id=BOB, count=4)
            for _ in range(7):  # inline queries come as the user types: 3 x the limit
                fake.push_inline_query(BRIDGE_Q, user_id=ALICE)
            inline = await fake.wait_for("answerInlineQuery", count=7)
            await fake.settle()
        assert sum(bool(c.params["results"]) for c in inline) == 6
        [throttled] = [c for c in inline if not c.params["results"]]
        assert throttled.params["button"]["text"].startswith("Slow down")
        texts = fake.sent_texts(ALICE)
        assert len(texts) == 3
        assert sum(BRIDGE_QUOTE in t for t in texts) == 2
        [slow] = [t for t in texts if "slow down" in t]
        assert "try again in" in slow
        assert len(qa.questions) == 12  # Alice 2 + 6 inline, Bob (an admin) 4 times

    run(scenario)


def test_429_retry_after_is_retried_and_the_reply_arrives(tmp_path: Path) -> None:
    async def scenario(fake: FakeBotAPI) -> None:
        async with running_bot(fake, tmp_path):
            fake.fail_next("sendMessage", status=429, retry_after=1)
            fake.push_private_text(BRIDGE_Q, user_id=ALICE)
            [ok] = await fake.wait_for("sendMessage", chat_id=ALICE)
        [limited] = fake.calls_of("sendMessage", ok=False)
        assert limited.status == 429
        assert ok.at - limited.at >= 1.0
        assert BRIDGE_QUOTE in ok.plain()

    run(scenario)


def test_failures_are_survived_and_the_token_never_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    configure_logging("DEBUG", [TOKEN])
    texts: list[str] = []

    async def scenario(fake: FakeBotAPI) -> None:
        fake.fail_next("setMyCommands", status=500)
        fake.fail_next("sendChatAction", times=3, status=500)
        async with running_bot(fake, tmp_path):
            fake.push_private_text("explode the bridge", user_id=ALICE)
            await fake.wait_for("sendMessage", chat_id=ALICE)
            fake.push_private_text("chroma-down bridge", user_id=ALICE)
            await fake.wait_for("sendMessage", chat_id=ALICE, count=2)
            # A reply that fails makes the handler raise: the error handler logs it ...
            fake.fail_next("sendMessage", status=400, description="Bad Request: chat not found")
            fake.push_private_text(BRIDGE_Q, user_id=ALICE)
            await fake.wait_for("sendMessage", ok=False)
            # ... and the next update is answered.
            fake.push_private_text(BRIDGE_Q, user_id=ALICE)
            await fake.wait_for("sendMessage", chat_id=ALICE, count=3)
            # A failing getUpdates is retried by the updater.
            fake.fail_next("getUpdates", status=502)
            fake.push_private_text(BRIDGE_Q, user_id=ALICE)
            await fake.wait_for("sendMessage", chat_id=ALICE, count=4, timeout=15)
        texts.extend(fake.sent_texts(ALICE))

    try:
        run(scenario)
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if getattr(h, "_newsquote", False)]:
            root.removeHandler(handler)
    apology, unavailable, answer, again = texts
    assert apology.startswith("Sorry, something went wrong")
    assert unavailable.startswith("Search is temporarily unavailable")
    assert BRIDGE_QUOTE in answer and BRIDGE_QUOTE in again

    out, err = capfd.readouterr()
    logs = caplog.text + out + err
    assert "Could not set the command menu" in logs
    assert "sendChatAction failed (ignored)" in logs
    assert "RuntimeError: boom" in logs  # logged with its traceback
    assert "caused an error" in logs
    assert "bot<redacted>" in logs  # python-telegram-bot logs its API URL at DEBUG
    assert TOKEN not in logs
    assert TOKEN.split(":")[1] not in logs


# --------------------------------------------------------------------------- concurrency, webhook


def test_a_slow_question_does_not_block_others(tmp_path: Path) -> None:
    async def scenario(fake: FakeBotAPI) -> None:
        async with running_bot(fake, tmp_path, qa=FakeQA(slow_seconds=2.0)):
            fake.push_private_text("slowpoke: when did the Harbour Bridge reopen?", user_id=ALICE)
            await fake.settle(0.2)
            fake.push_private_text(BRIDGE_Q, user_id=BOB)
            [fast] = await fake.wait_for("sendMessage", chat_id=BOB)
            assert not fake.calls_of("sendMessage", chat_id=ALICE)
            [slow] = await fake.wait_for("sendMessage", chat_id=ALICE)
        assert fast.at < slow.at
        assert BRIDGE_QUOTE in slow.plain()

    run(scenario)


def test_webhook_mode(tmp_path: Path, free_port: int) -> None:
    async def scenario(fake: FakeBotAPI) -> None:
        settings = make_settings(
            fake.base_url,
            tmp_path,
            bot_mode="webhook",
            webhook_url=f"http://127.0.0.1:{free_port}",
            webhook_listen="127.0.0.1",
            webhook_port=free_port,
            webhook_path="telegram",
            webhook_secret="s3cret-token_x",
        )
        application = build_application(settings, qa=FakeQA())
        assert application.post_init is not None and application.updater is not None
        async with application:
            await application.post_init(application)
            await application.start()
            await application.updater.start_webhook(
                **settings.webhook_options(), allowed_updates=ALLOWED_UPDATES
            )
            try:
                [hook] = await fake.wait_for("setWebhook")
                url = hook.params["url"]
                update = {
                    "update_id": 77,
                    "message": fake.make_message(fake.private_chat(ALICE), BRIDGE_Q, ALICE),
                }
                async with aiohttp.ClientSession() as http:
                    bad = await http.post(
                        url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}
                    )
                    good = await http.post(
                        url,
                        json=update,
                        headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token_x"},
                    )
                [answer] = await fake.wait_for("sendMessage", chat_id=ALICE)
            finally:
                await application.updater.stop()
                await application.stop()
        assert url == f"http://127.0.0.1:{free_port}/telegram"
        assert hook.params["secret_token"] == "s3cret-token_x"
        assert set(hook.params["allowed_updates"]) == set(ALLOWED_UPDATES)
        assert bad.status == 403 and good.status == 200
        assert BRIDGE_QUOTE in answer.plain()
        assert not fake.calls_of("getUpdates")

    run(scenario)


@pytest.fixture
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_health_check_reports_the_index_search_and_answers(tmp_path: Path, free_port: int) -> None:
    url = f"http://127.0.0.1:{free_port}"

    async def get(http: aiohttp.ClientSession, path: str) -> tuple[int, Any]:
        async with http.get(url + path) as response:
            body = await response.json() if response.status == 200 else None
            return response.status, body

    async def scenario(fake: FakeBotAPI) -> None:
        async with (
            running_bot(fake, tmp_path, health_port=free_port),
            aiohttp.ClientSession() as http,
        ):
            status, first = await get(http, "/healthz")
            fake.push_private_text(BRIDGE_Q, user_id=ALICE)
            fake.push_private_text("What is the best lasagna recipe?", user_id=BOB)
            await fake.wait_for("sendMessage", count=2)
            fake.push_private_text("chroma-down: is search up?", user_id=ALICE)
            await fake.wait_for("sendMessage", chat_id=ALICE, count=2)
            _, down = await get(http, "/healthz")
            fake.push_private_text(BRIDGE_Q, user_id=BOB)
            await fake.wait_for("sendMessage", chat_id=BOB, count=2)
            _, back = await get(http, "/healthz")
            missing, _ = await get(http, "/admin")
        assert status == 200 and first["status"] == "ok" and first["bot"] == BOT_USERNAME
        assert first["index"]["build_id"] == "fake-build-1" and first["index"]["articles"] == 4
        assert first["search"] == "ok" and first["answers"] == {}
        assert down["search"] == "unavailable" and down["search_unavailable_since"]
        assert down["answers"] == {"answer": 1, "refusal": 1, "unavailable": 1}
        assert back["search"] == "ok" and back["search_unavailable_since"] is None
        assert back["answers"]["answer"] == 2
        assert missing == 404

    run(scenario)
    with socket.socket() as sock:  # the port is free again once the bot has stopped
        sock.bind(("127.0.0.1", free_port))


def test_the_fake_server_rejects_what_telegram_rejects() -> None:
    """The fake is only useful if it says no where Telegram does (checked with a plain Bot)."""

    async def scenario(fake: FakeBotAPI) -> None:
        async with Bot(TOKEN, base_url=fake.base_url) as bot:
            for text in ("<b>unclosed", "a < b", "<blink>x</blink>", "fish & chips"):
                with pytest.raises(BadRequest, match="parse entities"):
                    await bot.send_message(ALICE, text, parse_mode="HTML")
            with pytest.raises(BadRequest, match="too long"):
                await bot.send_message(ALICE, "&amp;" * 4097, parse_mode="HTML")
            fits = await bot.send_message(ALICE, "&amp;" * 4096, parse_mode="HTML")
            assert fits.text == "&" * 4096
            with pytest.raises(BadRequest, match="not modified"):
                await bot.edit_message_text(
                    "&amp;" * 4096, ALICE, fits.message_id, parse_mode="HTML"
                )
            fake.fail_next("getMe", status=500)
            with pytest.raises(NetworkError):
                await bot.get_me()

    run(scenario)
