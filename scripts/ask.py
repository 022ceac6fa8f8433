#!/usr/bin/env python3
"""Ask the index from a terminal: ``python -m scripts.ask "Who led the Chinese delegation?"``.

* ``ask.py "question"`` prints the answer: the quote, its citation, and who else reported it;
* ``--json`` prints the answer as JSON (the shape in the README's "The answer format");
* ``--batch FILE`` reads one question per line (or JSONL with a ``question`` field; ``-`` is
  standard input) and writes one JSON answer per line, in input order, loading the model once.
  JSONL lines may carry a ``conversation`` key: lines with the same key are one conversation,
  asked in order, each a possible follow-up of the one before ("And what did he give him?");
* ``--index DIR`` selects the index (default: ``INDEX_DIR``).

Exit status: 0 answered (or honestly declined); 1 a question of a batch could not be answered;
2 no usable index, bad input or settings; 3 the search backend (a Chroma server) is
unavailable. Errors are one line, never a traceback. A batch always answers every line, in
order, one JSON line each (a line that is not a question gets an answer saying why), and
reports what went wrong in one line at the end.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from bot import render, wording
from index import QuestionAnswerer
from index.config import IndexSettings
from index.corpus import clean_text
from index.dialogue import Conversation
from index.errors import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    EXIT_UNAVAILABLE,
    EXIT_UNEXPECTED,
    Failure,
    describe,
    one_line,
    search_unavailable,
)
from index.types import Answer, NewsQuoteError, SearchUnavailableError
from scripts.startup import start

logger = logging.getLogger("scripts.ask")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ask", description="Answer questions from the index.")
    parser.add_argument("question", nargs="*", help="the question (several words are joined)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument(
        "--batch", metavar="FILE", help="questions, one per line or JSONL; - for stdin"
    )
    parser.add_argument("--index", type=Path, help="index folder (default: INDEX_DIR)")
    parser.add_argument("--verbose", "-v", action="store_true", help="log what happens")
    args = parser.parse_args(argv)
    if not args.question and not args.batch:
        parser.error("give a question or --batch FILE")
    if args.question and args.batch:
        parser.error("give either a question or --batch FILE, not both")
    return args


def format_text(answer: Answer) -> str:
    """A readable plain-text answer: quotes with citations, then the sources."""
    if not answer.answered:
        return answer.reason or wording.NOT_IN_COVERAGE
    lines: list[str] = []
    comparing = answer.kind == "comparison"
    if comparing:
        lines += [wording.COMPARE_TITLE.format(f"“{answer.resolved or answer.question}”"), ""]
    elif answer.resolved:
        lines += [wording.READ_AS.format(answer.resolved), ""]
    if answer.kind == "partial" and answer.reason:
        lines += [answer.reason, ""]
    for n, quote in enumerate(answer.quotes):
        if n and not comparing:
            lines.append("")
            lines.append(f"{wording.ALSO_IN_COVERAGE}:")
        elif n:
            lines.append("")
        lines.append(f"“{quote.text}”")
        where = [quote.title, f"paragraph {quote.paragraph + 1}"]
        where += [v for v in (quote.source, quote.published) if v]
        where += [wording.byline(quote.author)] if quote.author else []
        where += [wording.attributed(quote.speaker, quote.said)] if quote.speaker else []
        lines.append("  — " + ", ".join(where))
        if quote.link:
            lines.append(f"  {quote.link}")
        if quote.also_published:
            names = "; ".join(ref.source or ref.title for ref in quote.also_published)
            lines.append(f"  {wording.ALSO_PUBLISHED_BY}: {names}")
        if quote.published_without:
            names = "; ".join(ref.source or ref.title for ref in quote.published_without)
            lines.append(f"  {names} {wording.RAN_WITHOUT}")
        if quote.also_in:
            names = "; ".join(ref.source or ref.title for ref in quote.also_in)
            lines.append(f"  {wording.ALSO_REPORTED_BY} {len(quote.also_in)} more: {names}")
    if answer.figures:
        lines += ["", wording.figures_differ(render.figures_line(answer))]
    if answer.missing:
        titles = "; ".join(ref.title for ref in answer.missing)
        lines += ["", f"{wording.COMPARE_NOT_MENTIONED}: {titles}"]
    sources = answer.sources
    lines.append("")
    lines.append(f"{wording.SOURCES} ({len(sources)}):")
    for n, ref in enumerate(sources, 1):
        detail = ", ".join(v for v in (ref.source, ref.published, ref.url) if v)
        lines.append(f"  {n}. {ref.title}" + (f" ({detail})" if detail else ""))
    return "\n".join(lines)


@dataclass(frozen=True)
class BatchLine:
    """One line of a batch file: its question and conversation key (None: it stands alone),
    or why it is not a question."""

    number: int
    question: str
    problem: str | None = None
    conversation: str | None = None


def read_questions(path: str, stdin: TextIO) -> Iterator[BatchLine]:
    """One item per input line: plain text, or JSONL with a ``question`` field and an optional
    ``conversation`` key.

    Never fails on a line's content: text that is not valid UTF-8 (or a JSON escape of a lone
    surrogate) is cleaned by :func:`index.corpus.text.clean_text`, and a line that is not a question
    (invalid JSON, no ``question`` string, a ``conversation`` that is not a string or number)
    comes with its ``problem``.
    """
    for number, raw in enumerate(_raw_lines(path, stdin), 1):
        text = clean_text(raw).strip()
        if number == 1:
            text = text.removeprefix("\ufeff").strip()  # a UTF-8 byte order mark
        if not text.startswith("{"):
            yield BatchLine(number, text)
            continue
        try:
            row = json.loads(text)
        except json.JSONDecodeError as exc:
            problem = wording.BATCH_INVALID_JSON.format(number, f"{exc.msg} at column {exc.colno}")
            yield BatchLine(number, text, problem)
            continue
        yield _json_line(number, text, row)


def _json_line(number: int, text: str, row: object) -> BatchLine:
    """The question and conversation key of one parsed JSONL line, or its problem."""
    question = row.get("question") if isinstance(row, dict) else None
    if not isinstance(row, dict) or not isinstance(question, str):
        return BatchLine(number, text, wording.BATCH_NO_QUESTION.format(number))
    key = row.get("conversation")
    if isinstance(key, bool | dict | list):
        return BatchLine(number, text, wording.BATCH_BAD_CONVERSATION.format(number))
    conversation = None if key is None else json.dumps(key)
    return BatchLine(number, clean_text(question).strip(), conversation=conversation)


def _raw_lines(path: str, stdin: TextIO) -> Iterator[str | bytes]:
    """The lines of ``path`` (``-``: standard input) as bytes where the stream has them."""
    if path != "-":
        with open(path, "rb") as handle:
            yield from handle
        return
    buffer = getattr(stdin, "buffer", None)
    yield from (buffer if buffer is not None else stdin)


def _settings(args: argparse.Namespace) -> IndexSettings:
    overrides: dict[str, Any] = {}
    if args.index is not None:
        overrides["index_dir"] = args.index
    return IndexSettings(**overrides)


def _fail(failure: Failure) -> int:
    print(one_line(failure.message), file=sys.stderr)
    return failure.status


def main(argv: list[str] | None = None, stdin: TextIO | None = None) -> int:
    """Answer the question(s); print text or JSON; return the exit status."""
    args = parse_args(argv)
    start(logging.INFO if args.verbose else logging.ERROR)
    try:
        settings = _settings(args)
    except ValidationError as exc:
        return _fail(describe(exc))
    if args.batch and args.batch != "-" and not Path(args.batch).is_file():
        return _fail(Failure(f"error: cannot read {args.batch}: no such file", EXIT_BAD_INPUT))

    from index import open_index

    try:
        qa = open_index(settings)
    except NewsQuoteError as exc:
        return _fail(describe(exc))
    try:
        if args.batch:
            return _batch(qa, args.batch, stdin or sys.stdin)
        answer = qa.answer(clean_text(" ".join(args.question)))
        if answer.kind == "unavailable":
            return _fail(Failure(f"error: {search_unavailable()}", EXIT_UNAVAILABLE))
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=1))
        else:
            print(format_text(answer))
        return EXIT_OK
    except Exception as exc:  # still one line (the traceback with --verbose)
        logger.info("the question failed", exc_info=True)
        return _fail(describe(exc))
    finally:
        qa.close()


def _batch(qa: QuestionAnswerer, path: str, stdin: TextIO) -> int:
    """One JSON answer per input line, in input order; lines of one conversation share its
    context; a bad line or question never stops it."""
    unavailable = failed = 0
    problems: list[str] = []
    conversations: dict[str, Conversation] = {}
    for line in read_questions(path, stdin):
        if line.problem is not None:
            problems.append(line.problem)
            answer = Answer(line.question, answered=False, reason=line.problem, kind="empty")
        else:
            key = line.conversation
            context = None if key is None else conversations.setdefault(key, Conversation())
            answer, ok = _answer_one(qa, line.question, context)
            failed += not ok
        unavailable += answer.kind == "unavailable"
        print(json.dumps(answer.to_dict(), ensure_ascii=False), flush=True)
    messages = []
    if unavailable:
        messages.append(f"search was unavailable for {unavailable} question(s)")
    if failed:
        messages.append(f"{failed} question(s) could not be answered")
    if problems:
        messages.append(f"{len(problems)} line(s) were not questions ({problems[0]})")
    if not messages:
        return EXIT_OK
    status = EXIT_UNAVAILABLE if unavailable else EXIT_UNEXPECTED if failed else EXIT_BAD_INPUT
    return _fail(Failure("error: " + "; ".join(messages), status))


def _answer_one(
    qa: QuestionAnswerer, question: str, context: Conversation | None = None
) -> tuple[Answer, bool]:
    """``qa.answer(question)`` and True; a failure is this question's answer (kind ``empty``
    with the reason) and False, not the end of the batch."""
    try:
        return qa.answer(question, context), True
    except SearchUnavailableError as exc:
        logger.warning("search unavailable: %s", exc)
        unavailable = Answer(question, False, reason=wording.UNAVAILABLE, kind="unavailable")
        return unavailable, True
    except Exception as exc:
        logger.info("could not answer a question", exc_info=True)
        reason = one_line(wording.QUESTION_FAILED.format(f"{type(exc).__name__}: {exc}"))
        return Answer(question, answered=False, reason=reason, kind="empty"), False


if __name__ == "__main__":
    sys.exit(main())
