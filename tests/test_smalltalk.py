"""Small talk: thanks, praise and goodbyes in their usual forms get a short reply, never a
refusal; questions that merely start or end with such words are still questions. (Through the
bot: ``tests/test_bot_e2e.py``.)"""

from __future__ import annotations

import pytest

from index.dialogue.smalltalk import REPLIES, classify

THANKS = [
    "thank you, that's helpful",
    "Thank you, that's very helpful!",
    "great, thanks!",
    "that's great",
    "That was really helpful, thanks",
    "perfect, cheers",
    "thanks for the help",
    "Thanks a lot 🙏",
    "much appreciated",
    "you have been very helpful",
    "got it, thanks",
    "nice one!",
    "Great job bot",
    "love it ❤️",
    "cool",
    "Perfect.",
    "thx",
]
GOODBYES = [
    "bye for now",
    "ok bye",
    "Good bye and thanks",
    "see you later!",
    "That's it for now, thanks!",
    "have a nice day",
    "great, bye",
]
QUESTIONS = [
    "Thanks, who led the delegation?",
    "great, who led it?",
    "Who thanked the residents?",
    "Is that good?",
    "Why is that great?",
    "What is good about it?",
    "That is great news for Kim?",
    "and the Russian one?",
    "What did he say before leaving?",
    "Who said goodbye to the delegation?",
]


@pytest.mark.parametrize("text", THANKS)
def test_thanks_and_praise_are_small_talk(text: str) -> None:
    assert classify(text) == "thanks"


@pytest.mark.parametrize("text", GOODBYES)
def test_goodbyes_are_small_talk(text: str) -> None:
    assert classify(text) == "goodbye"


@pytest.mark.parametrize("text", QUESTIONS)
def test_questions_with_such_words_stay_questions(text: str) -> None:
    assert classify(text) is None


@pytest.mark.parametrize("kind", ["thanks", "goodbye"])
def test_the_reply_is_short_and_no_refusal(kind: str) -> None:
    reply = REPLIES[kind]  # type: ignore[index]
    assert len(reply) < 120 and "doesn't say" not in reply and "Not in the coverage" not in reply
