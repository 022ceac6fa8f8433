"""The terminal chat: the bot's answers as plain text, one question per input line.

Started by ``python -m bot`` when no ``TELEGRAM_BOT_TOKEN`` is set. Reads standard input line by
line, shows a prompt only on a terminal, and exits with status 0 at the end of input, so
``printf 'question\\n' | python -m bot`` prints the answer and exits.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from bot import render
from bot.markup import to_plain
from bot.settings import BotSettings
from index import open_index, wording
from index.errors import EXIT_OK, describe
from index.text import clean_text
from index.types import NewsQuoteError, QuestionAnswerer, SearchUnavailableError
from index.wording import PROMPT

logger = logging.getLogger(__name__)

QUIT_WORDS = frozenset({"/quit", "/exit", "quit", "exit"})


def respond(
    qa: QuestionAnswerer, text: str, max_chars: int = 500, examples: list[str] | None = None
) -> str:
    """The plain-text reply to one line: a command (/help, /sources, /about) or a question."""
    text = clean_text(text).strip()
    command = text.split(maxsplit=1)[0].lower() if text.startswith("/") else ""
    try:
        if command in ("/help", "/start"):
            return to_plain(render.help_spans(examples or qa.example_questions(1)))
        if command == "/sources":
            page = render.sources_page_arg(text.split()[1:])
            return to_plain(render.sources_list_spans(qa.articles(), page))
        if command == "/about":
            return to_plain(render.about_spans(qa.info()))
        if command == "/ask":
            text = text[len("/ask") :].strip()
        if len(text) > max_chars:
            return wording.too_long(len(text), max_chars)
        answer = qa.answer(text)
        hints = [] if answer.answered else (examples or qa.example_questions(1))
        return render.render_plain(answer, hints)
    except SearchUnavailableError as exc:
        logger.warning("Search unavailable: %s", exc)
        return wording.UNAVAILABLE
    except Exception:
        logger.exception("Answering failed")
        return wording.APOLOGY


def run_console(
    settings: BotSettings,
    qa: QuestionAnswerer | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Chat in the terminal until the end of input; returns the exit status."""
    stdin = stdin or sys.stdin
    if callable(reconfigure := getattr(stdin, "reconfigure", None)):
        reconfigure(errors="replace")  # an invalid UTF-8 byte is one odd character, not a crash
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    interactive = stdin.isatty()
    print(wording.TELEGRAM_NOTE, file=stderr, flush=True)
    owns_qa = qa is None
    if qa is None:
        if interactive:
            print(wording.LOADING_INDEX, file=stderr, flush=True)
        try:
            qa = open_index(settings.index)
        except NewsQuoteError as exc:
            failure = describe(exc)
            print(failure.message, file=stderr)
            return failure.status
    examples: list[str] = []
    try:
        examples = [e for e in qa.example_questions(1) if e.strip()]
    except Exception as exc:
        logger.warning("Could not get example questions: %s", exc)
    try:
        while True:
            if interactive:
                stdout.write(PROMPT)
                stdout.flush()
            line = stdin.readline()
            if not line:
                break
            question = line.strip()
            if not question:
                continue
            if question.lower() in QUIT_WORDS:
                break
            reply = respond(qa, question, settings.max_question_chars, examples)
            stdout.write(reply + "\n\n")
            stdout.flush()
    except KeyboardInterrupt:
        stdout.write("\n")
    finally:
        if owns_qa:
            try:
                qa.close()
            except Exception:
                logger.exception("Closing the index failed")
    if interactive:
        stdout.write("\n")
    return EXIT_OK
