"""Wiring: one function builds the python-telegram-bot ``Application`` with every handler."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import handlers, wording
from bot.addressing import AddressedToBot, CommandForThisBot
from bot.health import HealthServer
from bot.ordering import ChatOrderedUpdateProcessor
from bot.services import OWNS_QA_KEY, QA_KEY, SERVICES_KEY, BotServices, get_services
from bot.settings import BotSettings
from index import QuestionAnswerer, open_index

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CHANNEL_POST,
    Update.EDITED_CHANNEL_POST,
    Update.INLINE_QUERY,
    Update.CALLBACK_QUERY,
]
"""The update types the bot asks Telegram for (polling and webhook)."""

MENU = [BotCommand(command, description) for command, description in wording.COMMAND_MENU]
CONCURRENT_UPDATES = 256
"""Updates in progress at once, those waiting for their chat's earlier ones included (the
answering itself is bounded by QA_WORKERS threads)."""
RATE_LIMIT_RETRIES = 3
UNTHROTTLED_ENDPOINTS = frozenset({"sendChatAction"})
HEALTH_KEY = "health_server"


class MessageRateLimiter(AIORateLimiter):
    """``AIORateLimiter`` for messages; typing indicators are not counted against the budget.

    Telegram's flood limits (about 30 messages/s per bot, 20 a minute per group) are about
    messages. Counting the typing indicator that precedes every answer as well halved the bot's
    capacity to 15 answers/s and made every answer wait behind other chats' indicators: at
    30 questions/s the queue grew without bound (``benchmarks/bench_load.py``). A failed
    indicator is only logged by the handlers, so it needs no retry either.
    """

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Send typing indicators at once; everything else as ``AIORateLimiter`` does."""
        if endpoint in UNTHROTTLED_ENDPOINTS:
            return await callback(*args, **kwargs)
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )


async def _post_init(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Start the health check (when set), open the index (unless one was given), warm it up
    and set the command menu (a failure there is harmless). Updates are taken only after this:
    "ready" means the models are loaded and a question has been answered."""
    services = get_services(application.bot_data)
    settings = services.settings
    if settings.health_port is not None:  # first: it says "loading" (503) until the index is open
        report = _health_report(application)
        server = HealthServer(report, settings.health_listen, settings.health_port)
        server.start()
        application.bot_data[HEALTH_KEY] = server
    if application.bot_data.get(QA_KEY) is None:
        logger.info("Opening the index at %s", settings.index.index_dir)
        try:
            application.bot_data[QA_KEY] = await asyncio.to_thread(open_index, settings.index)
        except BaseException:
            await _stop_health(application)
            raise
        application.bot_data[OWNS_QA_KEY] = True
    await _warm_up(services, application.bot_data[QA_KEY])
    try:
        await application.bot.set_my_commands(MENU)
    except Exception as exc:
        logger.warning("Could not set the command menu (ignored): %s", exc)
    logger.info("Bot @%s is ready", application.bot.username)


async def _warm_up(services: BotServices, qa: QuestionAnswerer) -> None:
    """Load every model and answer a question on the worker threads, and find the example
    questions for /start, so that the first user waits no longer than the hundredth."""
    started = time.perf_counter()
    await services.run(qa.warm_up)
    try:
        await services.run(qa.example_questions, 3)  # found once, kept by the QA per version
    except Exception as exc:  # examples are a nicety: /start finds them later
        logger.warning("Could not find example questions (ignored): %s", exc)
    logger.info("Warmed up in %.1f s", time.perf_counter() - started)


def _health_report(
    application: Application[Any, Any, Any, Any, Any, Any],
) -> Callable[[], Coroutine[Any, Any, dict[str, Any]]]:
    """The health document of a running bot: its index, its search, its answers so far."""

    async def report() -> dict[str, Any]:
        services = get_services(application.bot_data)
        qa = application.bot_data.get(QA_KEY)
        if qa is None:
            raise RuntimeError("the index is still loading")
        info = await services.run(qa.info)
        down = services.search_down_since
        return {
            "status": "ok",
            "bot": application.bot.username,
            "uptime_seconds": round(time.time() - services.started_at),
            "index": {
                "build_id": info.build_id,
                "built_at": info.built_at,
                "articles": info.articles,
                "sentences": info.sentences,
                "backend": info.backend,
                "model": info.model,
            },
            "search": "unavailable" if down is not None else "ok",
            "search_unavailable_since": _iso(down) if down is not None else None,
            "answers": dict(services.answer_kinds),
        }

    return report


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


async def _post_shutdown(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Stop the health check, close the index if this application opened it, stop the threads."""
    await _stop_health(application)
    qa = application.bot_data.get(QA_KEY)
    if qa is not None and application.bot_data.pop(OWNS_QA_KEY, False):
        try:
            await asyncio.to_thread(qa.close)
        except Exception:
            logger.exception("Closing the index failed")
        application.bot_data.pop(QA_KEY, None)
    services = application.bot_data.get(SERVICES_KEY)
    if isinstance(services, BotServices):
        await services.coverage.close()
        services.close()


async def _stop_health(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    health = application.bot_data.pop(HEALTH_KEY, None)
    if isinstance(health, HealthServer):
        await health.stop()


def _file_url(api_url: str) -> str | None:
    """The file download URL matching a Bot API URL (``.../bot`` -> ``.../file/bot``)."""
    if api_url.endswith("/bot"):
        return api_url[: -len("/bot")] + "/file/bot"
    return None


def build_application(
    settings: BotSettings, qa: QuestionAnswerer | None = None
) -> Application[Any, Any, Any, Any, Any, Any]:
    """Build the bot: settings, services, every handler in order, and the error handler.

    ``qa`` is the question answerer to use (tests pass a fake); without it the index is opened
    with ``index.open_index(settings.index)`` in ``post_init`` and closed in ``post_shutdown``.
    """
    token = settings.token
    if not token:
        raise ValueError("build_application needs TELEGRAM_BOT_TOKEN (without it use bot.console)")
    builder = (
        Application.builder()
        .token(token)
        .base_url(settings.telegram_api_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .rate_limiter(MessageRateLimiter(max_retries=RATE_LIMIT_RETRIES))
        .concurrent_updates(ChatOrderedUpdateProcessor(CONCURRENT_UPDATES))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    file_url = _file_url(settings.telegram_api_url)
    if file_url:
        builder = builder.base_file_url(file_url)
    application = builder.build()
    application.bot_data[SERVICES_KEY] = BotServices.from_settings(settings)
    if qa is not None:
        application.bot_data[QA_KEY] = qa
    _add_handlers(application)
    application.add_error_handler(handlers.error_handler)
    _schedule_refresh(application, settings)
    return application


def _add_handlers(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Every handler, in the order they are tried."""
    new = filters.UpdateType.MESSAGE
    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    # 1. The allowlist runs before everything else and stops what it refuses.
    application.add_handler(TypeHandler(Update, handlers.check_access), group=-1)
    # 2. Commands, new messages only; /cmd@otherbot is not ours and falls through. /ask and
    #    /compare work everywhere; in groups the others only when written out for us
    #    (/help@this_bot).
    mine = new & (private | CommandForThisBot())
    for command, answer in HANDLERS:
        where = new if command in ("ask", "compare") else mine
        application.add_handler(CommandHandler(command, answer, filters=where))
    # 3. Buttons and inline mode.
    for button, pattern in BUTTONS:
        application.add_handler(CallbackQueryHandler(button, pattern=pattern))
    application.add_handler(InlineQueryHandler(handlers.inline_query))
    # 4. Questions: any text in private chats (but not quotes shared via inline mode);
    #    in groups only what is addressed to the bot.
    text = filters.TEXT & ~filters.COMMAND
    application.add_handler(
        MessageHandler(new & private & text & ~filters.VIA_BOT, handlers.private_question)
    )
    application.add_handler(
        MessageHandler(new & groups & text & AddressedToBot(), handlers.group_question)
    )
    # 5. Files sent in private: an admin's addition to the coverage (others are refused).
    application.add_handler(MessageHandler(new & private & filters.Document.ALL, handlers.document))
    # 6. Everything else in private chats gets a hint; in groups and channels, silence.
    application.add_handler(
        MessageHandler(new & private & filters.COMMAND, handlers.unknown_command)
    )
    edited = filters.UpdateType.EDITED_MESSAGE
    application.add_handler(
        MessageHandler(private & (new | edited) & ~filters.VIA_BOT, handlers.not_text)
    )


Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]
HANDLERS: tuple[tuple[str, Handler], ...] = (
    ("ask", handlers.ask),
    ("start", handlers.start),
    ("help", handlers.help_command),
    ("compare", handlers.compare),
    ("sources", handlers.sources),
    ("article", handlers.article),
    ("about", handlers.about),
    ("add", handlers.add),
    ("remove", handlers.remove),
)
"""The commands, in the order they are registered (/ask and /compare work in any chat)."""
BUTTONS: tuple[tuple[Handler, str], ...] = (
    (handlers.more, handlers.MORE_PATTERN),
    (handlers.article_page, handlers.ARTICLE_PATTERN),
    (handlers.sources_page, handlers.SOURCES_PATTERN),
)
"""The buttons' handlers and the callback data each answers."""


def _schedule_refresh(
    application: Application[Any, Any, Any, Any, Any, Any], settings: BotSettings
) -> None:
    """With FEEDS_FILE set, fetch it every FETCH_INTERVAL_MINUTES (PTB's JobQueue)."""
    if settings.feeds_file is None:
        return
    if application.job_queue is None:
        logger.warning(
            "FEEDS_FILE is set but python-telegram-bot's job-queue extra is not installed; "
            "no scheduled fetches (use cron with newsquote-fetch instead)"
        )
        return
    seconds = settings.fetch_interval_minutes * 60
    application.job_queue.run_repeating(
        handlers.refresh_job, interval=seconds, first=seconds, name="refresh"
    )
    logger.info(
        "Fetching %s every %g minutes", settings.feeds_file, settings.fetch_interval_minutes
    )
