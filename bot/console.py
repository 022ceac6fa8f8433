"""The terminal chat: the bot's answers as plain text, one question per input line.

Started by ``python -m bot`` when no ``TELEGRAM_BOT_TOKEN`` is set. Reads standard input line by
line, shows a prompt only on a terminal, and exits with status 0 at the end of input, so
``printf 'question\\n' | python -m bot`` prints the answer and exits; piped, each answer is
printed under its question (``Q: question``), so a transcript can be followed. Answers come
with what "More" adds (the further quotes and the sources). The terminal is one chat:
follow-up questions lean on the one before (for ``FOLLOWUP_MINUTES``); /start forgets it.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from bot import render, wording
from bot.markup import to_plain
from bot.settings import BotSettings
from bot.wording import PROMPT
from index import QuestionAnswerer, open_index
from index.corpus.text import clean_text
from index.dialogue.conversation import Conversation
from index.errors import EXIT_OK, describe
from index.types import NewsQuoteError, SearchUnavailableError

logger = logging.getLogger(__name__)

QUIT_WORDS = frozenset({"/quit", "/exit", "quit", "exit"})


def respond(
    qa: QuestionAnswerer,
    text: str,
    max_chars: int = 500,
    examples: list[str] | None = None,
    conversation: Conversation | None = None,
) -> str:
    """The plain-text reply to one line: a command (/help, /sources, /article, /compare,
    /about) or a question (read against ``conversation``, the terminal chat's context)."""
    text = clean_text(text).strip()
    parts = text.split(maxsplit=1) if text.startswith("/") else []
    command = parts[0].lower() if parts else ""
    argument = parts[1].strip() if len(parts) > 1 else ""
    try:
        if command in ("/help", "/start"):
            if command == "/start" and conversation is not None:
                conversation.clear()
            return to_plain(render.help_spans(examples or qa.example_questions(1)))
        if command == "/sources":
            return _sources(qa, argument)
        if command == "/article":
            return _article(qa, argument)
        if command == "/about":
            return to_plain(render.about_spans(qa.info()))
        if command == "/compare":
            return _compare(qa, argument)
        if command == "/ask":
            text = argument
        if len(text) > max_chars:
            return wording.too_long(len(text), max_chars)
        answer = qa.answer(text, conversation)
        hints = [] if answer.answered else (examples or qa.example_questions(1))
        readable = render.source_numbers(qa.articles()) if answer.quotes else {}
        return render.render_plain(answer, hints, readable, full=True)
    except SearchUnavailableError as exc:
        logger.warning("Search unavailable: %s", exc)
        return wording.UNAVAILABLE
    except Exception:
        logger.exception("Answering failed")
        return wording.APOLOGY


def _sources(qa: QuestionAnswerer, argument: str) -> str:
    articles = qa.articles()
    page, pages = render.sources_page_arg(argument.split()), render.sources_pages(len(articles))
    if page > pages:
        return wording.sources_no_such_page(page, pages)
    return to_plain(render.sources_list_spans(articles, page))


def _article(qa: QuestionAnswerer, argument: str) -> str:
    """/article N: the whole article (a terminal scrolls; no pages)."""
    if not argument.isdecimal() or len(argument) > 9:
        return wording.ARTICLE_USAGE.format(wording.ARTICLE_USAGE_PLACEHOLDER)
    articles, number = qa.articles(), int(argument)
    if not 1 <= number <= len(articles):
        return wording.no_such_article(number, len(articles))
    chosen = articles[number - 1]
    pages = render.article_pages(chosen.body)
    text = to_plain(render.article_page_spans(number, chosen, 1, pages))
    return "\n\n".join([text, *pages[1:]])


def _compare(qa: QuestionAnswerer, topic: str) -> str:
    if not topic:
        return wording.COMPARE_USAGE.format(wording.COMPARE_USAGE_PLACEHOLDER)
    readable = render.source_numbers(qa.articles())
    return render.render_plain(qa.compare(topic), (), readable, full=True)


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
    try:
        _chat(qa, settings, stdin, stdout)
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


def _chat(qa: QuestionAnswerer, settings: BotSettings, stdin: TextIO, stdout: TextIO) -> None:
    """Answer each line of ``stdin`` until its end or a quit word."""
    interactive = stdin.isatty()
    examples: list[str] = []
    try:
        examples = [e for e in qa.example_questions(1) if e.strip()]
    except Exception as exc:
        logger.warning("Could not get example questions: %s", exc)
    minutes = settings.followup_minutes
    conversation = Conversation(minutes) if minutes > 0 else None
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
        reply = respond(qa, question, settings.max_question_chars, examples, conversation)
        if not interactive:  # a transcript: each answer under its question
            stdout.write(wording.transcript_question(question) + "\n")
        stdout.write(reply + "\n\n")
        stdout.flush()
