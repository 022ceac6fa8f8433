"""``python -m bot``: the Telegram bot with a token, a terminal chat without one."""

from __future__ import annotations

import argparse
import logging
import sys

from pydantic import ValidationError
from telegram.error import InvalidToken, TelegramError

from bot.app import ALLOWED_UPDATES, build_application
from bot.console import run_console
from bot.health import HealthPortError
from bot.logging_setup import configure_logging, redact
from bot.settings import BotSettings
from index.config import check_embedding_model
from index.errors import EXIT_BAD_INPUT, EXIT_OK, EXIT_UNEXPECTED, Failure, describe, one_line
from index.types import NewsQuoteError

logger = logging.getLogger(__name__)


def _fail(failure: Failure, secrets: list[str]) -> int:
    """Print the one line of ``failure`` without secrets; its exit status."""
    print(redact(one_line(failure.message), secrets), file=sys.stderr)
    return failure.status


def run_telegram(settings: BotSettings) -> int:
    """Serve Telegram by long polling or webhook until stopped; returns the exit status."""
    secrets = settings.secrets()
    application = build_application(settings)
    retries = settings.telegram_startup_retries
    logger.info(
        "Start-up calls to the Bot API are retried %s after network errors",
        "until they succeed" if retries < 0 else f"up to {retries} times",
    )
    try:
        if settings.bot_mode == "webhook":
            logger.info(
                "Serving a webhook on %s:%s", settings.webhook_listen, settings.webhook_port
            )
            application.run_webhook(
                **settings.webhook_options(),
                allowed_updates=ALLOWED_UPDATES,
                bootstrap_retries=settings.telegram_startup_retries,
            )
        else:
            logger.info("Long polling %s…", settings.telegram_api_url)
            application.run_polling(
                allowed_updates=ALLOWED_UPDATES,
                bootstrap_retries=settings.telegram_startup_retries,
            )
    except InvalidToken:
        message = "error: the Bot API rejected TELEGRAM_BOT_TOKEN (check it with @BotFather)"
        return _fail(Failure(message, EXIT_BAD_INPUT), [])
    except NewsQuoteError as exc:
        return _fail(describe(exc), secrets)
    except HealthPortError as exc:
        return _fail(Failure(f"error: {exc}", EXIT_BAD_INPUT), secrets)
    except TelegramError as exc:
        message = f"error: the Bot API at {settings.telegram_api_url} failed: {exc}"
        return _fail(Failure(message, EXIT_UNEXPECTED), secrets)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Read the settings, set up logging, and run the Telegram bot or the terminal chat."""
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Answer questions about the news corpus with verbatim, cited quotes: on "
        "Telegram when TELEGRAM_BOT_TOKEN is set, otherwise in this terminal.",
    )
    parser.add_argument(
        "--console", action="store_true", help="chat in the terminal even if a token is set"
    )
    args = parser.parse_args(argv)
    try:
        settings = BotSettings()
    except ValidationError as exc:
        return _fail(describe(exc), [])
    if problem := check_embedding_model(settings.index.embedding_model):
        message = f"error: invalid setting EMBEDDING_MODEL: {problem}"
        return _fail(Failure(message, EXIT_BAD_INPUT), settings.secrets())
    if args.console or settings.token is None:
        level = "WARNING" if settings.log_level == "INFO" else settings.log_level
        configure_logging(level, settings.secrets())
        return run_console(settings)
    configure_logging(settings.log_level, settings.secrets())
    return run_telegram(settings)


if __name__ == "__main__":
    sys.exit(main())
