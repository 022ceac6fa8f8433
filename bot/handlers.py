"""Thin async handlers: read the update, ask the services, send what ``bot.render`` produced."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from telegram import (
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Message,
    Update,
)
from telegram.constants import ChatAction, ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import addressing, render, wording
from bot.access import RateDecision
from bot.corpus_changes import CoverageReply, refuse_add, refuse_remove
from bot.logging_setup import redact
from bot.services import BotServices, get_qa, get_services
from bot.threads import ThreadKey
from index.corpus.text import clean_text
from index.dialogue.conversation import Conversation
from index.types import Answer, SearchUnavailableError
from ingest.edits import MAX_DOCUMENT_BYTES

logger = logging.getLogger(__name__)

T = TypeVar("T")

MORE_PREFIX = "more:"
MORE_PATTERN = r"^more:"
SOURCES_PREFIX = "sources:"
SOURCES_PATTERN = r"^sources:\d{1,9}$"
ARTICLE_PREFIX = "article:"
ARTICLE_PATTERN = r"^article:\d{1,9}:\d{1,6}$"
INLINE_RESULTS = 5
TYPING_REFRESH_SECONDS = 4.5
INLINE_CACHE_SECONDS = 60


# --------------------------------------------------------------------------- helpers


def _services(context: ContextTypes.DEFAULT_TYPE) -> BotServices:
    return get_services(context.bot_data)


async def _reply(
    update: Update, chunks: Sequence[str], markup: InlineKeyboardMarkup | None = None
) -> list[Message]:
    """Send ``chunks`` as replies to the message, in private chats as in groups: the first one
    is threaded to it, so after a burst every answer shows its question."""
    message = update.effective_message
    if message is None:
        return []
    sent: list[Message] = []
    for number, chunk in enumerate(chunks):
        last = number == len(chunks) - 1
        sent.append(
            await message.reply_text(
                chunk, do_quote=number == 0, reply_markup=markup if last else None
            )
        )
    return sent


@contextlib.asynccontextmanager
async def _typing(chat: Chat | None) -> AsyncIterator[None]:
    """Show "typing…" while the block runs; failures are logged and ignored."""
    if chat is None:
        yield
        return
    first_attempt = asyncio.Event()

    async def keep_typing() -> None:
        while True:
            try:
                await chat.send_action(ChatAction.TYPING)
            except Exception as exc:  # non-essential: never let it stop an answer
                logger.warning("sendChatAction failed (ignored): %s", exc)
            first_attempt.set()
            await asyncio.sleep(TYPING_REFRESH_SECONDS)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(first_attempt.wait(), timeout=1.0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """What a blocking index call gave: its value, or why there is none."""

    value: T | None = None
    failure: render.Failure | None = None


async def call_index(
    update: Update, context: ContextTypes.DEFAULT_TYPE, fn: Callable[..., T], *args: Any
) -> Outcome[T]:
    """Run a blocking index call off the event loop. Failures are logged, never raised."""
    try:
        return Outcome(await _services(context).run(fn, *args))
    except SearchUnavailableError as exc:
        logger.warning("Search unavailable: %s", exc)
        return Outcome(failure="unavailable")
    except Exception:
        logger.exception("The index failed on update %s", update.update_id)
        return Outcome(failure="error")


async def ask_index(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    question: str,
    conversation: Conversation | None = None,
) -> Answer | None:
    """The answer to ``question`` (read against ``conversation`` when there is one), or None
    when the index failed (logged).

    A search outage is an answer of kind ``unavailable``: ``QA`` returns one itself, another
    question answerer may raise ``SearchUnavailableError`` instead.
    """
    qa = get_qa(context.bot_data)
    outcome = await call_index(update, context, qa.answer, question, conversation)
    if outcome.failure == "unavailable":
        return Answer(question, False, reason=wording.UNAVAILABLE, kind="unavailable")
    return outcome.value


async def _examples(update: Update, context: ContextTypes.DEFAULT_TYPE, n: int = 3) -> list[str]:
    """Example questions from the corpus (the QA keeps them per index version)."""
    outcome = await call_index(update, context, get_qa(context.bot_data).example_questions, n)
    return [e for e in outcome.value or [] if e and e.strip()][:n]


def _account(services: BotServices, answer: Answer, seconds: float, where: str) -> None:
    """Count the answer (for the health check) and log one line for monitoring: kind,
    confidence, quotes and time. The question itself only at DEBUG: it may be private.
    """
    services.count_answer(answer.kind)
    top = answer.quotes[0].score if answer.quotes else None
    logger.info(
        "Answer (%s): %s, confidence %s, %d quote(s), %.0f ms",
        where,
        answer.kind,
        "-" if top is None else f"{top:.2f}",
        len(answer.quotes),
        seconds * 1000,
    )
    logger.debug("Question was %r", answer.question)


def _thread(update: Update, context: ContextTypes.DEFAULT_TYPE) -> ThreadKey | None:
    """The conversation thread of a question: the private chat, or the group reply chain;
    None when follow-ups are off."""
    services = _services(context)
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None or services.settings.followup_minutes <= 0:
        return None
    reply = message.reply_to_message
    return services.contexts.thread(
        chat.id,
        message.message_id,
        private=chat.type == ChatType.PRIVATE,
        reply_to=reply.message_id if reply is not None else None,
    )


async def _readable(update: Update, context: ContextTypes.DEFAULT_TYPE) -> dict[str, int]:
    """Article ids by their /sources number, for the ``/article N`` hints: the numbering of
    the version being served, as /sources and /article give it."""
    outcome = await call_index(update, context, get_qa(context.bot_data).articles)
    return render.source_numbers(outcome.value) if outcome.value is not None else {}


def _admit(
    context: ContextTypes.DEFAULT_TYPE, user_id: int | None, inline: bool = False
) -> RateDecision:
    services = _services(context)
    if user_id is None or services.access.is_admin(user_id):
        return RateDecision(True)
    limiter = services.inline_limiter if inline else services.limiter
    return limiter.check(user_id)


async def _answer_question(
    update: Update, context: ContextTypes.DEFAULT_TYPE, question: str
) -> None:
    """The path every question takes: checks, typing, answer off the loop, reply."""
    services = _services(context)
    question = clean_text(question).strip()
    limit = services.settings.max_question_chars
    if len(question) > limit:
        await _reply(update, [render.too_long_notice(len(question), limit)])
        return
    user = update.effective_user
    decision = _admit(context, user.id if user else None)
    if not decision.allowed:
        logger.info(
            "Rate limit: user %s must wait %.0f s", user.id if user else "?", decision.retry_after
        )
        if decision.notify:
            await _reply(update, [render.slow_down_notice(decision.retry_after)])
        return
    thread = _thread(update, context)
    if not question:
        answer = Answer(question="", answered=False, reason=wording.EMPTY, kind="empty")
    else:
        conversation = services.contexts.conversation(thread) if thread else None
        started = time.perf_counter()
        async with _typing(update.effective_chat):
            asked = await ask_index(update, context, question, conversation)
        if asked is None:
            await _reply(update, [render.apology_notice()])
            return
        answer = asked
        chat = update.effective_chat
        _account(services, answer, time.perf_counter() - started, chat.type if chat else "chat")
    # Examples only where the reply shows one: during an outage they would cost another search.
    shows_example = not answer.answered and answer.kind != "unavailable"
    examples = await _examples(update, context, 1) if shows_example else []
    readable = await _readable(update, context) if answer.quotes else {}
    chunks = render.render_answer(answer, examples, readable)
    markup = None
    if answer.answered and answer.kind != "comparison":
        key = services.answers.put(answer, len(chunks))
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(wording.MORE_BUTTON, callback_data=MORE_PREFIX + key)]]
        )
    sent = await _reply(update, chunks, markup)
    message = update.effective_message
    if thread is not None and message is not None:
        services.contexts.link(thread, [message.message_id, *(m.message_id for m in sent)])


# --------------------------------------------------------------------------- access


async def check_access(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop updates from users and chats outside the allowlist, with a polite refusal."""
    services = _services(context)
    user, chat = update.effective_user, update.effective_chat
    if services.access.allows(user.id if user else None, chat.id if chat else None):
        return
    logger.info(
        "Refused update %s from user %s in chat %s",
        update.update_id,
        user.id if user else None,
        chat.id if chat else None,
    )
    if update.inline_query:
        button = InlineQueryResultsButton(text=wording.INLINE_PRIVATE, start_parameter="private")
        await update.inline_query.answer([], cache_time=0, is_personal=True, button=button)
    elif update.callback_query:
        await update.callback_query.answer(wording.PRIVATE_ALERT, show_alert=True)
    elif (
        update.message
        and chat
        and (chat.type == ChatType.PRIVATE or addressing.addressed_to_bot(update.message))
    ):
        await _reply(update, [render.private_notice(user.id if user else None)])
    raise ApplicationHandlerStop


# --------------------------------------------------------------------------- commands


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say what the bot does, with three example questions; forget the chat's conversation."""
    if update.effective_chat is not None:
        _services(context).contexts.clear_chat(update.effective_chat.id)
    examples = await _examples(update, context, 3)
    await _reply(update, render.render_start(examples, context.bot.username))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explain how to ask, the commands, groups and inline mode."""
    examples = await _examples(update, context, 1)
    minutes = _services(context).settings.followup_minutes
    await _reply(update, render.render_help(examples, context.bot.username, minutes))


async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer ``/ask question`` in any chat."""
    message = update.effective_message
    if message is None:
        return
    question = addressing.command_argument(message, context.args or [])
    if not question:
        await _reply(update, [render.ask_usage_notice(await _examples(update, context, 1))])
        return
    await _answer_question(update, context, question)


async def sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the indexed articles with dates and links, a page at a time (``/sources 3``)."""
    page = render.sources_page_arg(context.args or [])
    outcome = await call_index(update, context, get_qa(context.bot_data).articles)
    if outcome.value is None:
        await _reply(update, [render.failure_notice(outcome.failure)])
        return
    pages = render.sources_pages(len(outcome.value))
    if page > pages:
        await _reply(update, [render.sources_past_end_notice(page, pages)])
        return
    chunks = render.render_sources(outcome.value, page)
    await _reply(update, chunks, _sources_keyboard(page, pages))


def _pages_keyboard(prefix: str, page: int, pages: int) -> InlineKeyboardMarkup | None:
    """ "Previous" and "Next" buttons under one page of several (none for a single page);
    each button's data is ``prefix`` and the page it turns to."""
    buttons = []
    if page > 1:
        data = f"{prefix}{page - 1}"
        buttons.append(InlineKeyboardButton(wording.PREVIOUS_PAGE_BUTTON, callback_data=data))
    if page < pages:
        data = f"{prefix}{page + 1}"
        buttons.append(InlineKeyboardButton(wording.NEXT_PAGE_BUTTON, callback_data=data))
    return InlineKeyboardMarkup([buttons]) if buttons else None


def _sources_keyboard(page: int, pages: int) -> InlineKeyboardMarkup | None:
    """The buttons under a /sources page."""
    return _pages_keyboard(SOURCES_PREFIX, page, pages)


async def _turn_page(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None, what: str
) -> None:
    """Show ``text`` in the message of ``query`` (a page turned); the same page again is not
    an error (Telegram's "message is not modified")."""
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as exc:
        if not _not_modified(exc):
            logger.warning("Could not turn the %s page: %s", what, exc)


def _not_modified(exc: BadRequest) -> bool:
    """Whether Telegram refused an edit only because nothing would change."""
    return "not modified" in str(exc).lower()


async def sources_page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Turn a /sources message to another page (the "Previous" and "Next" buttons)."""
    query = update.callback_query
    if query is None or query.data is None or not isinstance(query.message, Message):
        return
    page = int(query.data.removeprefix(SOURCES_PREFIX))
    outcome = await call_index(update, context, get_qa(context.bot_data).articles)
    if outcome.value is None:
        await query.answer(render.sources_failed_notice(outcome.failure), show_alert=True)
        return
    await query.answer()
    pages = render.sources_pages(len(outcome.value))
    page = min(max(page, 1), pages)
    [text, *_] = render.render_sources(outcome.value, page)
    await _turn_page(query, text, _sources_keyboard(page, pages), "sources")


async def compare(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/compare topic``: the best quote of each article about it, grouped by outlet, and the
    articles that do not mention it."""
    message = update.effective_message
    if message is None:
        return
    topic = addressing.command_argument(message, context.args or [])
    if not topic:
        await _reply(update, [render.compare_usage_notice()])
        return
    started = time.perf_counter()
    async with _typing(update.effective_chat):
        outcome = await call_index(update, context, get_qa(context.bot_data).compare, topic)
    if outcome.value is None:
        await _reply(update, [render.failure_notice(outcome.failure)])
        return
    answer = outcome.value
    chat = update.effective_chat
    where = chat.type if chat else "chat"
    _account(_services(context), answer, time.perf_counter() - started, where)
    readable = await _readable(update, context) if answer.quotes else {}
    await _reply(update, render.render_answer(answer, (), readable))


async def article(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/article N``: article N of /sources, a page at a time (Previous and Next buttons)."""
    args = context.args or []
    if len(args) != 1 or not args[0].isdecimal() or len(args[0]) > 9:
        await _reply(update, [render.article_usage_notice()])
        return
    number = int(args[0])
    outcome = await call_index(update, context, get_qa(context.bot_data).articles)
    if outcome.value is None:
        await _reply(update, [render.failure_notice(outcome.failure)])
        return
    if not 1 <= number <= len(outcome.value):
        await _reply(update, [render.no_such_article_notice(number, len(outcome.value))])
        return
    chosen = outcome.value[number - 1]
    pages = render.article_pages(chosen.body)
    text = render.render_article_page(number, chosen, 1, pages)
    await _reply(update, [text], _article_keyboard(number, 1, len(pages)))


def _article_keyboard(number: int, page: int, pages: int) -> InlineKeyboardMarkup | None:
    """The buttons under a page of /article N."""
    return _pages_keyboard(f"{ARTICLE_PREFIX}{number}:", page, pages)


async def article_page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Turn an /article message to another page (the "Previous" and "Next" buttons)."""
    query = update.callback_query
    if query is None or query.data is None or not isinstance(query.message, Message):
        return
    number, page = (int(part) for part in query.data.removeprefix(ARTICLE_PREFIX).split(":"))
    outcome = await call_index(update, context, get_qa(context.bot_data).articles)
    if outcome.value is None or not 1 <= number <= len(outcome.value):
        await query.answer(render.expired_notice(), show_alert=True)
        return
    await query.answer()
    chosen = outcome.value[number - 1]
    pages = render.article_pages(chosen.body)
    page = min(max(page, 1), len(pages))
    text = render.render_article_page(number, chosen, page, pages)
    await _turn_page(query, text, _article_keyboard(number, page, len(pages)), "article")


async def about(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the size, build time and model of the index."""
    outcome = await call_index(update, context, get_qa(context.bot_data).info)
    if outcome.value is None:
        await _reply(update, [render.failure_notice(outcome.failure)])
        return
    await _reply(update, render.render_about(outcome.value))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Point to /help for unknown commands; ignore commands meant for other bots."""
    message = update.effective_message
    if message is None:
        return
    target = addressing.command_target(message)
    if target and target != (context.bot.username or "").lower():
        return
    await _reply(update, [render.unknown_command_notice()])


# --------------------------------------------------------------------------- admins: coverage


def _is_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    user = update.effective_user
    return user is not None and _services(context).access.is_admin(user.id)


async def add(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Fetch and index the page or feed at ``/add URL`` (admins only)."""
    url = await _admin_argument(update, context, render.add_usage_notice)
    if url is None:
        return
    refused = refuse_add(url)
    if refused is not None:
        await _reply(update, [render.coverage_notice(refused)])
        return
    services = _services(context)
    started = render.coverage_started_notice("add", url.strip())
    await _coverage_change(update, context, started, lambda: services.coverage.add_url(url))


async def remove(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Delete the article ``/remove ID`` (or URL) from the coverage (admins only)."""
    target = await _admin_argument(update, context, render.remove_usage_notice)
    if target is None:
        return
    refused = refuse_remove(target)
    if refused is not None:  # a path, a control character, 300 characters: one line, at once
        await _reply(update, [render.coverage_notice(refused)])
        return
    services = _services(context)
    started = render.coverage_started_notice("remove", target.strip())
    await _coverage_change(
        update, context, started, lambda: services.coverage.remove(target, services.run)
    )


async def document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Add a .md, .txt or .html file sent in a private chat to the coverage (admins only)."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    if not _is_admin(update, context):
        await _reply(update, [render.admin_only_notice()])
        return
    sent = message.document
    if sent.file_size is not None and sent.file_size > MAX_DOCUMENT_BYTES:
        too_large = CoverageReply("not_added", reason=wording.DOCUMENT_TOO_LARGE)
        await _reply(update, [render.coverage_notice(too_large)])
        return
    services = _services(context)

    async def add_sent() -> CoverageReply:
        data = bytes(await (await sent.get_file()).download_as_bytearray())
        return await services.coverage.add_document(sent.file_name, data, services.run)

    started = render.coverage_started_notice("document", sent.file_name or "the file")
    await _coverage_change(update, context, started, add_sent)


async def _admin_argument(
    update: Update, context: ContextTypes.DEFAULT_TYPE, usage: Callable[[], str]
) -> str | None:
    """The argument of an admin's command; None, after saying why, when the sender is no
    admin or gave none."""
    message = update.effective_message
    if message is None:
        return None
    if not _is_admin(update, context):
        await _reply(update, [render.admin_only_notice()])
        return None
    argument = addressing.command_argument(message, context.args or [])
    if not argument:
        await _reply(update, [usage()])
        return None
    return argument


async def _coverage_change(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    started: str,
    change: Callable[[], Awaitable[CoverageReply]],
) -> None:
    """Say at once that an admin's change has started, make it in the background and say how
    it went: the chat's next updates (a reader's question) are not held up meanwhile."""
    await _reply(update, [started])
    context.application.create_task(_report_change(update, change), update=update)


async def _report_change(update: Update, change: Callable[[], Awaitable[CoverageReply]]) -> None:
    """Wait for a coverage change and reply with what it did (an error goes to the error
    handler, with the update)."""
    reply = await change()
    await _reply(update, [render.coverage_notice(reply)])


async def refresh_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Fetch FEEDS_FILE and update the index in a child process (scheduled; never raises)."""
    try:
        await _services(context).coverage.refresh()
    except Exception:
        logger.exception("The scheduled fetch failed; the next one runs as planned")


# --------------------------------------------------------------------------- messages


async def private_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Treat any text in a private chat as a question."""
    message = update.effective_message
    if message and message.text is not None:
        await _answer_question(update, context, message.text)


async def group_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a group message that mentions the bot or replies to it."""
    message = update.effective_message
    if message and message.text is not None:
        await _answer_question(update, context, addressing.strip_mentions(message))


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ask for a text question (photos, stickers, voice, edits ... in private chats)."""
    if update.edited_message is not None:
        await _reply(update, [render.edited_notice()])
    else:
        await _reply(update, [render.not_text_notice()])


# --------------------------------------------------------------------------- buttons and inline


async def more(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the paragraph around the top quote and the quotes not shown yet."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    stored = _services(context).answers.get(query.data.removeprefix(MORE_PREFIX))
    if stored is None or not stored.answer.quotes:
        await query.answer(render.expired_notice(), show_alert=True)
        return
    await query.answer()
    top = stored.answer.quotes[0]
    qa = get_qa(context.bot_data)
    outcome = await call_index(update, context, qa.paragraph, top.article_id, top.paragraph)
    paragraph = outcome.value or ""  # without it, "More" still shows the further quotes
    others = await _corroborating_paragraphs(update, context, stored.answer)
    readable = await _readable(update, context)
    message = query.message
    if isinstance(message, Message) and stored.chunks == 1:
        expanded = render.render_expanded(stored.answer, paragraph, others, readable)
        if len(expanded) == 1:
            try:
                await query.edit_message_text(expanded[0], reply_markup=None)
                return
            except BadRequest as exc:
                if _not_modified(exc):
                    return
                logger.warning("Could not expand the answer in place: %s", exc)
    if isinstance(message, Message):
        for chunk in render.render_more(stored.answer, paragraph, others, readable):
            await message.reply_text(chunk, do_quote=True)
        try:
            await query.edit_message_reply_markup(reply_markup=None)
        except TelegramError as exc:
            logger.warning("Could not remove the More button: %s", exc)


async def _corroborating_paragraphs(
    update: Update, context: ContextTypes.DEFAULT_TYPE, answer: Answer
) -> dict[tuple[str, int], str]:
    """The paragraphs of the corroborating sentences of the quotes shown (for "More")."""
    qa = get_qa(context.bot_data)
    wanted = {
        (ref.article_id, ref.paragraph)
        for ref in render.corroborating_refs(answer)
        if ref.paragraph is not None
    }
    found: dict[tuple[str, int], str] = {}
    for article_id, paragraph in sorted(wanted):
        outcome = await call_index(update, context, qa.paragraph, article_id, paragraph)
        if outcome.value:
            found[(article_id, paragraph)] = outcome.value
    return found


def _result_id(question: str, number: int, article_id: str, start: int, end: int) -> str:
    digest = hashlib.sha256(f"{question}\0{article_id}\0{start}\0{end}".encode()).hexdigest()
    return f"{number}-{digest[:40]}"


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer up to five quotes for ``@bot question`` in any chat."""
    query = update.inline_query
    if query is None:
        return
    limit = _services(context).settings.max_question_chars
    question = " ".join(clean_text(query.query).split())[:limit]
    if not question:
        button = InlineQueryResultsButton(text=wording.INLINE_EMPTY, start_parameter="inline")
        await query.answer([], cache_time=5, button=button)
        return
    decision = _admit(context, query.from_user.id, inline=True)
    if not decision.allowed:
        wait = max(1, round(decision.retry_after))
        button = InlineQueryResultsButton(
            text=wording.inline_slow_down(wait), start_parameter="slow"
        )
        await query.answer([], cache_time=0, is_personal=True, button=button)
        return
    started = time.perf_counter()
    answer = await ask_index(update, context, question)
    if answer is None:
        button = InlineQueryResultsButton(text=wording.INLINE_ERROR, start_parameter="error")
        await query.answer([], cache_time=0, button=button)
        return
    _account(_services(context), answer, time.perf_counter() - started, "inline")
    if not answer.answered:
        text = (
            wording.INLINE_UNAVAILABLE if answer.kind == "unavailable" else wording.INLINE_NOT_FOUND
        )
        button = InlineQueryResultsButton(text=text, start_parameter="inline")
        await query.answer(
            [],
            cache_time=0 if answer.kind == "unavailable" else INLINE_CACHE_SECONDS,
            button=button,
        )
        return
    results = [
        InlineQueryResultArticle(
            id=_result_id(question, n, q.article_id, q.start, q.end),
            title=render.inline_title(q),
            description=render.inline_description(q),
            input_message_content=InputTextMessageContent(render.inline_result_html(question, q)),
        )
        for n, q in enumerate(answer.quotes[:INLINE_RESULTS])
    ]
    await query.answer(results, cache_time=INLINE_CACHE_SECONDS)


# --------------------------------------------------------------------------- errors


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log any error; apologise in private chats; tell the admins. Never raises."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(error, TelegramError):
        # A failed Bot API call (network, 400, 403 ...): the message says it all.
        logger.error("Update %s caused an error: %s: %s", update_id, type(error).__name__, error)
    else:
        logger.error("Update %s caused an error", update_id, exc_info=error)
    try:
        services = _services(context)
    except RuntimeError:
        return
    if (
        isinstance(update, Update)
        and update.effective_message is not None
        and update.effective_chat is not None
        and update.effective_chat.type == ChatType.PRIVATE
        and not isinstance(error, TelegramError)
    ):
        with contextlib.suppress(Exception):
            await update.effective_message.reply_text(render.apology_notice())
    if not services.access.admins or error is None:
        return
    summary = redact(f"{type(error).__name__}: {error}", services.settings.secrets())[:300]
    text = render.admin_error_notice(update_id, summary)
    for admin in sorted(services.access.admins):
        try:
            await context.bot.send_message(admin, text)
        except Exception as exc:
            logger.warning("Could not notify admin %s: %s", admin, exc)
