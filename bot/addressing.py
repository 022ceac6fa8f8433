"""Which messages are for this bot, and the question in them: mentions, replies, commands.

In a group the bot answers only what is addressed to it: ``/ask``, a command written out for
it (``/help@newsquote_bot``), a message that mentions it, or a reply to one of its messages.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Message, MessageEntity
from telegram.ext import filters


def command_target(message: Message) -> str | None:
    """The ``@bot`` a leading command is addressed to (lower case), or None."""
    for entity in message.entities:
        if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
            return message.parse_entity(entity).partition("@")[2].lower() or None
    return None


def addressed_to_bot(message: Message) -> bool:
    """True when a group message is for this bot: a mention, a reply, /ask or /cmd@this_bot."""
    bot = message.get_bot()
    username = (bot.username or "").lower()
    reply = message.reply_to_message
    if reply and reply.from_user and reply.from_user.id == bot.id:
        return True
    for entity, text in message.parse_entities(
        [MessageEntity.MENTION, MessageEntity.TEXT_MENTION, MessageEntity.BOT_COMMAND]
    ).items():
        if entity.type == MessageEntity.MENTION and text[1:].lower() == username:
            return True
        if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot.id:
            return True
        if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
            command, _, target = text.lower().partition("@")
            if target == username or (not target and command == "/ask"):
                return True
    return False


class AddressedToBot(filters.MessageFilter):
    """Messages that mention this bot or reply to one of its messages."""

    def filter(self, message: Message) -> bool:
        return addressed_to_bot(message)


class CommandForThisBot(filters.MessageFilter):
    """Commands written out for this bot, like ``/help@newsquote_bot``."""

    def filter(self, message: Message) -> bool:
        username = (message.get_bot().username or "").lower()
        return bool(username) and command_target(message) == username


def strip_mentions(message: Message) -> str:
    """The message text without the bot's @mentions, whitespace collapsed."""
    text = message.text or ""
    username = (message.get_bot().username or "").lower()
    mentions = message.parse_entities([MessageEntity.MENTION])
    pieces: list[str] = []
    last = 0
    for entity in sorted(mentions, key=lambda e: e.offset):
        value = mentions[entity]
        at = text.find(value, last)
        if value[1:].lower() != username or at < 0:
            continue
        pieces.append(text[last:at])
        last = at + len(value)
    pieces.append(text[last:])
    return " ".join("".join(pieces).split())


def command_argument(message: Message, args: Sequence[str] = ()) -> str:
    """The text after a leading command (``/ask@bot  who …`` -> ``who …``), line breaks kept.

    ``args`` (python-telegram-bot's ``context.args``) is the fallback when the message does not
    start with the command entity.
    """
    text = message.text or ""
    command = next(
        (e for e in message.entities if e.type == MessageEntity.BOT_COMMAND and e.offset == 0),
        None,
    )
    prefix = message.parse_entity(command) if command else None
    if prefix and text.startswith(prefix):
        return text[len(prefix) :].strip()
    return " ".join(args)
