#!/usr/bin/env python3
"""Ask the index from a terminal: ``python -m scripts.ask "Who led the Chinese delegation?"``.

* ``ask.py "question"`` prints the answer: the quote, its citation, and who else reported it;
* ``--json`` prints the answer as JSON (the shape in DESIGN.md);
* ``--batch FILE`` reads one question per line (or JSONL with a ``question`` field; ``-`` is
  standard input) and writes one JSON answer per line, loading the model once;
* ``--index DIR`` selects the index (default: ``INDEX_DIR``).

Exit status: 0 answered (or honestly declined); 2 no usable index, bad input or settings;
3 the search backend (a Chroma server) is unavailable. Errors are one line, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from index import wording
from index.config import IndexSettings
from index.errors import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    EXIT_UNAVAILABLE,
    Failure,
    describe,
    one_line,
    search_unavailable,
)
from index.types import Answer, NewsQuoteError, QuestionAnswerer, SearchUnavailableError


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
    lines: list[str] = [answer.reason] if answer.kind == "partial" and answer.reason else []
    for n, quote in enumerate(answer.quotes):
        if n:
            lines.append("")
            lines.append(f"{wording.ALSO_IN_COVERAGE}:")
        lines.append(f"“{quote.text}”")
        where = [quote.title, f"paragraph {quote.paragraph + 1}"]
        where += [v for v in (quote.source, quote.published) if v]
        lines.append("  — " + ", ".join(where))
        if quote.link:
            lines.append(f"  {quote.link}")
        if quote.also_in:
            names = "; ".join(ref.title for ref in quote.also_in)
            lines.append(f"  {wording.ALSO_REPORTED_BY} {len(quote.also_in)} more: {names}")
    sources = answer.sources
    lines.append("")
    lines.append(f"{wording.SOURCES} ({len(sources)}):")
    for n, ref in enumerate(sources, 1):
        detail = ", ".join(v for v in (ref.source, ref.published, ref.url) if v)
        lines.append(f"  {n}. {ref.title}" + (f" ({detail})" if detail else ""))
    return "\n".join(lines)


def read_questions(path: str, stdin: TextIO) -> Iterator[str]:
    """Questions from a file: plain lines, or JSONL objects with a ``question`` field."""
    handle = stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
    try:
        for n, line in enumerate(handle, 1):
            text = line.strip()
            if not text:
                continue
            if text.startswith("{"):
                try:
                    row = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{n}: invalid JSON ({exc.msg})") from exc
                if not isinstance(row, dict) or not isinstance(row.get("question"), str):
                    raise ValueError(f"{path}:{n}: a JSON line needs a 'question' string")
                yield row["question"]
            else:
                yield text
    finally:
        if handle is not stdin:
            handle.close()


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
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR,
        format="%(levelname)s %(name)s: %(message)s",
    )
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    try:
        settings = _settings(args)
    except ValidationError as exc:
        return _fail(describe(exc))
    if args.batch and args.batch != "-" and not Path(args.batch).is_file():
        return _fail(Failure(f"error: cannot read {args.batch}: no such file", EXIT_BAD_INPUT))

    from index.answer import open_index

    try:
        qa = open_index(settings)
    except NewsQuoteError as exc:
        return _fail(describe(exc))
    try:
        if args.batch:
            return _batch(qa, args.batch, stdin or sys.stdin)
        answer = qa.answer(" ".join(args.question))
        if answer.kind == "unavailable":
            return _fail(Failure(f"error: {search_unavailable()}", EXIT_UNAVAILABLE))
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=1))
        else:
            print(format_text(answer))
        return EXIT_OK
    except (SearchUnavailableError, ValueError, OSError) as exc:
        return _fail(describe(exc))
    finally:
        qa.close()


def _batch(qa: QuestionAnswerer, path: str, stdin: TextIO) -> int:
    unavailable = 0
    for question in read_questions(path, stdin):
        answer = qa.answer(question)
        if answer.kind == "unavailable":
            unavailable += 1
        print(json.dumps(answer.to_dict(), ensure_ascii=False), flush=True)
    if unavailable:
        message = f"error: search was unavailable for {unavailable} question(s)"
        return _fail(Failure(message, EXIT_UNAVAILABLE))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
