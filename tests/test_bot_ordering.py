"""One chat's updates are processed in the order they came; other chats do not wait."""

from __future__ import annotations

import asyncio
import datetime as dt

from telegram import Chat, Message, Update

from bot.ordering import ChatOrderedUpdateProcessor, chat_key


def message_update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE)
    message = Message(update_id, dt.datetime.now(dt.UTC), chat, text=f"question {update_id}")
    return Update(update_id, message=message)


def test_a_chat_is_answered_in_order_while_other_chats_go_ahead() -> None:
    finished: list[str] = []

    async def handle(name: str, seconds: float) -> None:
        await asyncio.sleep(seconds)
        finished.append(name)

    async def main() -> None:
        processor = ChatOrderedUpdateProcessor(64)
        async with processor:
            jobs = [
                ("a1", message_update(1, 100), 0.3),  # slow first question in chat 100
                ("a2", message_update(2, 100), 0.0),
                ("b1", message_update(3, 200), 0.05),
                ("a3", message_update(4, 100), 0.1),
                ("inline", Update(5), 0.0),  # no chat: never held back
            ]
            tasks = [
                asyncio.create_task(processor.process_update(update, handle(name, seconds)))
                for name, update, seconds in jobs
            ]
            await asyncio.gather(*tasks)
            assert processor.waiting_chats() == 0

    asyncio.run(main())
    assert [n for n in finished if n.startswith("a")] == ["a1", "a2", "a3"]
    assert finished.index("b1") < finished.index("a1")
    assert finished[0] == "inline"


def test_a_failing_update_does_not_block_the_next_one() -> None:
    finished: list[int] = []

    async def fail() -> None:
        raise RuntimeError("handler failed")

    async def ok() -> None:
        finished.append(2)

    async def main() -> None:
        processor = ChatOrderedUpdateProcessor(8)
        first = asyncio.create_task(processor.process_update(message_update(1, 7), fail()))
        second = asyncio.create_task(processor.process_update(message_update(2, 7), ok()))
        results = await asyncio.gather(first, second, return_exceptions=True)
        assert isinstance(results[0], RuntimeError)

    asyncio.run(main())
    assert finished == [2]


def test_chat_key() -> None:
    assert chat_key(message_update(1, -100123)) == -100123
    assert chat_key(Update(9)) is None
    assert chat_key("not an update") is None
