"""The bot's store of conversations: one per private chat, one per group reply chain."""

from __future__ import annotations

from bot.threads import ChatContexts

ALICE = 1001
GROUP = -100555


def test_a_private_chat_is_one_conversation() -> None:
    contexts = ChatContexts()
    first = contexts.thread(ALICE, 10, private=True)
    later = contexts.thread(ALICE, 14, private=True, reply_to=None)
    assert first == later == (ALICE, 0)
    assert contexts.conversation(first) is contexts.conversation(later)


def test_group_threads_follow_reply_chains() -> None:
    contexts = ChatContexts()
    question = contexts.thread(GROUP, 20, private=False)
    assert question == (GROUP, 20)
    contexts.link(question, [20, 21])  # the question and the bot's answer to it
    assert contexts.thread(GROUP, 25, private=False, reply_to=21) == question
    assert contexts.thread(GROUP, 26, private=False, reply_to=20) == question
    other = contexts.thread(GROUP, 30, private=False)  # a new question, not a reply
    assert other == (GROUP, 30) and contexts.conversation(other) is not (
        contexts.conversation(question)
    )
    assert contexts.thread(GROUP, 31, private=False, reply_to=999) == (GROUP, 31)


def test_clear_chat_and_bounds() -> None:
    contexts = ChatContexts(max_conversations=2, max_links=3)
    a, b, c = ((GROUP, n) for n in (1, 2, 3))
    for key in (a, b, c):
        contexts.conversation(key)
        contexts.link(key, [key[1] + 100])
    assert len(contexts) == 2  # the least recently used one went
    assert contexts.thread(GROUP, 9, private=False, reply_to=101) == a
    contexts.conversation((ALICE, 0))
    contexts.clear_chat(GROUP)
    assert len(contexts) == 1
    assert contexts.thread(GROUP, 10, private=False, reply_to=103) == (GROUP, 10)
