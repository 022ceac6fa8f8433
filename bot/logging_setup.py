"""Logging for the bot: one handler on the root logger, quiet HTTP libraries, no secrets.

The bot token is part of every Bot API URL (``.../bot<token>/sendMessage``), so anything that
logs a URL or an exception message can leak it. :class:`RedactingFilter` sits on every root
handler and replaces the configured secrets and anything shaped like ``bot<digits>:<secret>``.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

from telegram.error import InvalidToken, NetworkError

logger = logging.getLogger(__name__)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "<redacted>"
# A bot token inside a URL, or a bare token (digits, a colon, a long secret).
_TOKEN_PATTERNS = (
    re.compile(r"bot\d{3,20}:[A-Za-z0-9_-]+"),
    re.compile(r"\b\d{6,20}:[A-Za-z0-9_-]{30,}"),
)
_QUIET_LOGGERS = ("httpx", "httpcore", "hpack", "apscheduler")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace every given secret and every token-shaped string in ``text``."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = _TOKEN_PATTERNS[0].sub("bot" + REDACTED, text)
    return _TOKEN_PATTERNS[1].sub(REDACTED, text)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message and traceback so no secret reaches the output."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record
            message = str(record.msg)
        record.msg = redact(message, self.secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


class NetworkErrorFilter(logging.Filter):
    """Logs a Bot API network error (a timeout, a refused connection) as one line.

    Their tracebacks show only library internals: python-telegram-bot logs one when it gives up
    on a start-up call, and the message already says what failed. Its record of a rejected token
    is dropped: ``python -m bot`` says that in its own one line.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, InvalidToken):
            return False
        if isinstance(error, NetworkError):
            record.msg = f"{record.getMessage()} ({type(error).__name__}: {error})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


_OUR_FILTERS = (RedactingFilter, NetworkErrorFilter)


def configure_logging(level: str | int = "INFO", secrets: Iterable[str] = ()) -> RedactingFilter:
    """Set up the root logger once: a stderr handler, levels, and redaction on every handler."""
    root = logging.getLogger()
    root.setLevel(level)
    if not any(getattr(h, "_newsquote", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler._newsquote = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    redactor = RedactingFilter(secrets)
    for existing in root.handlers:
        for old in [f for f in existing.filters if isinstance(f, _OUR_FILTERS)]:
            existing.removeFilter(old)
        existing.addFilter(NetworkErrorFilter())  # before the redactor, which formats tracebacks
        existing.addFilter(redactor)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.captureWarnings(True)
    return redactor
