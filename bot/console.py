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
from bot.app import open_qa
from bot.settings import BotSettings
from index.text import clean_text
from index.types import IndexNotFoundError, NewsQuoteError, QuestionAnswerer, SearchUnavailableError

EXIT_UNAVAILABLE = 3  # as scripts/ask.py: the search backend (a Chroma server) is down

logger = logging.getLogger(__name__)

TELEGRAM_NOTE = (
    "NewsQuote terminal chat. To connect Telegram, set TELEGRAM_BOT_TOKEN "
    "(from @BotFather) and run `python -m bot` again."
)
BUILD_HINT = "build it with `make index` or `python -m scripts.build_index`"
PROMPT = "ask> "
QUIT_WORDS = frozenset({"/quit", "/exit", "quit", "exit"})


def one_line(text: str) -> str:
    """``text`` with all whitespace (newlines too) collapsed, for one-line error messages."""
    return " ".join(text.split())


def index_error_line(exc: IndexNotFoundError) -> str:
    """The single line shown when there is no index."""
    message = one_line(str(exc)) or "no index found"
    if "build_index" in message or "make index" in message:
        return f"error: {message}"
    return f"error: {message} — {BUILD_HINT}"


def respond(
    qa: QuestionAnswerer, text: str, max_chars: int = 500, examples: list[str] | None = None
) -> str:
    """The plain-text reply to one line: a command (/help, /sources, /about) or a question."""
    text = clean_text(text).strip()
    command = text.split(maxsplit=1)[0].lower() if text.startswith("/") else ""
    try:
        if command in ("/help", "/start"):
            return render.to_plain(render.help_spans(examples or qa.example_questions(1)))
        if command == "/sources":
            page = render.sources_page_arg(text.split()[1:])
            return render.to_plain(render.sources_list_spans(qa.articles(), page))
        if command == "/about":
            return render.to_plain(render.about_spans(qa.info()))
        if command == "/ask":
            text = text[len("/ask") :].strip()
        if len(text) > max_chars:
            return (
                f"That question is {len(text):,} characters long; "
                f"please ask a shorter one (up to {max_chars} characters)."
            )
        answer = qa.answer(text)
        hints = [] if answer.answered else (examples or qa.example_questions(1))
        return render.render_plain(answer, hints)
    except SearchUnavailableError as exc:
        logger.warning("Search unavailable: %s", exc)
        return render.to_plain(render.unavailable_spans())
    except Exception:
        logger.exception("Answering failed")
        return "Sorry, something went wrong while answering. Please try again."


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
    print(TELEGRAM_NOTE, file=stderr, flush=True)
    owns_qa = qa is None
    if qa is None:
        if interactive:
            print("Loading the index…", file=stderr, flush=True)
        try:
            qa = open_qa(settings)
        except IndexNotFoundError as exc:
            print(index_error_line(exc), file=stderr)
            return 2
        except SearchUnavailableError as exc:
            print(f"error: search is temporarily unavailable: {one_line(str(exc))}", file=stderr)
            return EXIT_UNAVAILABLE
        except NewsQuoteError as exc:
            print(f"error: {one_line(str(exc))}", file=stderr)
            return 2
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
    return 0
