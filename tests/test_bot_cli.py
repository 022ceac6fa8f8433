"""``python -m bot`` and the terminal chat: in process with the fake QA, and as subprocesses."""

from __future__ import annotations

import asyncio
import io
import json
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.console import PROMPT, respond, run_console
from bot.settings import BotSettings
from index.config import IndexSettings
from index.store.build import build_index
from index.store.embedder import Embedder
from index.types import Article
from testkit.fake_bot_api import TOKEN, FakeBotAPI
from testkit.fake_qa import ARTICLES, FakeQA
from tests.cli import clean_env, module_cmd, run

BRIDGE_Q = "When did the Harbour Bridge reopen?"
BRIDGE_QUOTE = "The Harbour Bridge reopened to traffic on Monday"


def bot_env(tmp: Path, **extra: str) -> dict[str, str]:
    """A clean environment for ``python -m bot``: configured only by what the test sets."""
    return clean_env(
        **{"INDEX_DIR": str(tmp / "index"), "CORPUS_DIR": str(tmp / "corpus"), **extra}
    )


def settings_for(tmp: Path) -> BotSettings:
    return BotSettings(_env_file=None, index=IndexSettings(_env_file=None, index_dir=tmp / "i"))


class TTYInput(io.StringIO):
    def isatty(self) -> bool:
        return True


# --------------------------------------------------------------------------- terminal chat


def test_console_answers_each_line_and_exits_at_end_of_input(tmp_path: Path) -> None:
    lines = f"{BRIDGE_Q}\n\n/sources\nWhat is the best lasagna recipe?\nexplode\nchroma-down\n"
    stdin, stdout, stderr = io.StringIO(lines), io.StringIO(), io.StringIO()
    qa = FakeQA()
    assert run_console(settings_for(tmp_path), qa, stdin, stdout, stderr) == 0
    out = stdout.getvalue()
    assert out.startswith(f"Q: {BRIDGE_Q}\n> {BRIDGE_QUOTE}")  # each answer under its question
    assert "\n\nQ: /sources\nIndexed articles" in out and "\n\nQ: explode\nSorry" in out
    assert "— Harbour Bridge reopens after repairs <https://news.example.com/" in out
    assert "Indexed articles (4)\n1. Alpine Post, 20 May 2024 — Glacier report" in out
    assert "Not in the coverage." in out
    assert "Sorry, something went wrong" in out
    assert "Search is temporarily unavailable" in out
    assert PROMPT not in out and "<b>" not in out  # no prompt when stdin is not a terminal
    assert "set TELEGRAM_BOT_TOKEN" in stderr.getvalue()
    assert qa.questions[0] == BRIDGE_Q and not qa.closed  # the caller owns a QA passed in


def test_console_sources_take_a_page_number() -> None:
    extra = [Article(id=f"b{n}", title=f"Brief {n}", body="Short.") for n in range(5, 26)]
    qa = FakeQA(articles=[*ARTICLES, *extra])
    assert respond(qa, "/sources").startswith("Indexed articles (25), page 1 of 3\n1. Alpine")
    assert respond(qa, "/sources 2").startswith("Indexed articles (25), page 2 of 3\n11. Brief")
    assert respond(qa, "/sources last").startswith("Indexed articles (25), page 1 of 3")


def test_console_prompts_on_a_terminal_and_stops_on_quit(tmp_path: Path) -> None:
    stdin, stdout = TTYInput(f"hello\n/quit\n{BRIDGE_Q}\n"), io.StringIO()
    qa = FakeQA()
    assert run_console(settings_for(tmp_path), qa, stdin, stdout, io.StringIO()) == 0
    assert stdout.getvalue().startswith(PROMPT + "Hello!")
    assert qa.questions == ["hello"]


def test_console_commands_and_long_questions() -> None:
    qa = FakeQA()
    assert respond(qa, "/about").startswith("About this index\nArticles: 4")
    assert "How to use" in respond(qa, "/help")
    assert BRIDGE_QUOTE in respond(qa, f"/ask {BRIDGE_Q}")
    assert "up to 500 characters" in respond(qa, "x" * 501)


BOT = module_cmd("bot")


def test_python_m_bot_without_index_says_how_to_build_it(tmp_path: Path) -> None:
    result = run(BOT, env=bot_env(tmp_path), cwd=tmp_path, stdin=f"{BRIDGE_Q}\n")
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    error = lines[-1]
    assert any("set TELEGRAM_BOT_TOKEN" in line for line in lines[:-1])
    assert error.startswith("error: ")
    assert "make index" in error or "build_index" in error


def test_python_m_bot_rejects_invalid_settings_in_one_line(tmp_path: Path) -> None:
    result = run(BOT, env=bot_env(tmp_path, WEBHOOK_PORT="eighty"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: invalid setting WEBHOOK_PORT:")


async def _start_bot(tmp: Path, fake: FakeBotAPI, **extra: str) -> asyncio.subprocess.Process:
    """Start ``python -m bot`` in ``tmp``, configured by environment to use ``fake``."""
    env = bot_env(tmp, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=fake.base_url, **extra)
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        env=env,
        cwd=tmp,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _bot_until_exit(
    tmp: Path, prepare: Callable[[FakeBotAPI], None] | None = None, **extra: str
) -> tuple[int, str, list[str]]:
    """Run ``python -m bot`` against a fresh fake Bot API, set up by ``prepare``, until it exits.

    Returns its exit status, its output (stdout and stderr) and the Bot API methods it called.
    """
    async with FakeBotAPI() as fake:
        if prepare is not None:
            prepare(fake)
        proc = await _start_bot(tmp, fake, **extra)
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        return proc.returncode or 0, (out + err).decode(), [c.method for c in fake.calls]


def assert_no_token(output: str) -> None:
    assert TOKEN not in output and TOKEN.split(":")[1] not in output


def test_python_m_bot_with_token_connects_via_env_and_fails_cleanly_without_index(
    tmp_path: Path,
) -> None:
    """Configured only by environment: it reaches the fake Bot API, then stops on the index."""
    code, output, methods = asyncio.run(_bot_until_exit(tmp_path, LOG_LEVEL="DEBUG"))
    assert methods[:1] == ["getMe"]  # TELEGRAM_API_URL was used, with the token appended
    assert code == 2, output
    last = output.strip().splitlines()[-1]
    assert last.startswith("error: ") and "Traceback" not in output
    assert_no_token(output)


def test_python_m_bot_retries_the_bot_api_at_start_up(tmp_path: Path) -> None:
    """A Bot API that fails twice at first (a 500 each time) is retried, and the bot goes on."""

    def flaky(fake: FakeBotAPI) -> None:
        fake.fail_next("getMe", 2, status=500)

    code, output, methods = asyncio.run(
        _bot_until_exit(tmp_path, flaky, TELEGRAM_STARTUP_RETRIES="3")
    )
    assert methods[:3] == ["getMe"] * 3
    assert code == 2, output  # got through to opening the (missing) index
    assert "retried up to 3 times" in output
    assert "index" in output.strip().splitlines()[-1]
    assert_no_token(output)


def test_python_m_bot_gives_up_on_an_unreachable_bot_api_in_one_line(tmp_path: Path) -> None:
    def down(fake: FakeBotAPI) -> None:
        fake.fail_next("getMe", 5, status=500)

    code, output, methods = asyncio.run(
        _bot_until_exit(tmp_path, down, TELEGRAM_STARTUP_RETRIES="1", LOG_LEVEL="DEBUG")
    )
    assert methods == ["getMe", "getMe"]  # the first call and one retry
    assert code == 1, output
    assert output.strip().splitlines()[-1].startswith("error: the Bot API at http://127.0.0.1:")
    assert "Traceback" not in output  # network errors are logged as one line
    assert "Internal Server Error" in output
    assert_no_token(output)


def test_python_m_bot_with_a_rejected_token_says_so_in_one_line(tmp_path: Path) -> None:
    """The Bot API answers 401: one line saying so, no traceback (issue 14)."""

    def reject(fake: FakeBotAPI) -> None:
        fake.fail_next("getMe", 1, status=401, description="Unauthorized")

    code, output, methods = asyncio.run(_bot_until_exit(tmp_path, reject))
    assert methods == ["getMe"]  # a rejected token is not retried
    assert code == 2, output
    errors = [line for line in output.splitlines() if "ERROR" in line or "error:" in line]
    assert errors == ["error: the Bot API rejected TELEGRAM_BOT_TOKEN (check it with @BotFather)"]
    assert "Traceback" not in output
    assert_no_token(output)


def test_python_m_bot_with_its_health_port_taken_stops_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, output, _ = asyncio.run(_bot_until_exit(tmp_path, HEALTH_PORT=str(port)))
    assert code == 2, output
    last = output.strip().splitlines()[-1]
    assert last.startswith(f"error: cannot serve the health check on 127.0.0.1:{port}"), last
    assert "Traceback" not in output
    assert_no_token(output)


# --------------------------------------------------------------------------- with the real index


@pytest.fixture(scope="module")
def real_index(tmp_path_factory: pytest.TempPathFactory, real_embedder: Embedder) -> Path:
    """A folder with the test articles (``corpus/``) and their index with the real model
    (``index/``), built with the session's copy of the model."""
    base = tmp_path_factory.mktemp("real")
    corpus = base / "corpus"
    corpus.mkdir()
    with (corpus / "articles.jsonl").open("w", encoding="utf-8") as fh:
        for article in ARTICLES:
            row = {"id": article.id, "title": article.title, "text": article.body}
            row.update({k: v for k in ("url", "published", "source") if (v := getattr(article, k))})
            fh.write(json.dumps(row) + "\n")
    settings = IndexSettings(
        _env_file=None,
        corpus_dir=corpus,
        index_dir=base / "index",
        embedding_model="all-MiniLM-L6-v2",  # the bot's default: bot_env() names no model
        chroma_host=None,
        chroma_port=None,
    )
    build_index(settings, embedder=real_embedder)
    return base


@pytest.mark.slow
@pytest.mark.timeout(240)  # the bot in a child loads the model: 20-25 s
def test_piped_question_prints_the_answer_with_the_real_index(real_index: Path) -> None:
    result = run(BOT, env=bot_env(real_index), cwd=real_index, stdin=f"{BRIDGE_Q}\n")
    assert result.returncode == 0, result.stderr
    assert BRIDGE_QUOTE in result.stdout


@pytest.mark.slow
@pytest.mark.timeout(240)  # the bot in a child loads the model: 20-25 s
def test_python_m_bot_serves_telegram_configured_only_by_environment(real_index: Path) -> None:
    async def scenario() -> tuple[int, str, str]:
        async with FakeBotAPI() as fake:
            proc = await _start_bot(real_index, fake)
            try:
                await fake.wait_for("setMyCommands", timeout=90)
                fake.push_private_text(BRIDGE_Q, user_id=1001)
                [call] = await fake.wait_for("sendMessage", chat_id=1001, timeout=30)
            finally:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
                out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
            return proc.returncode or 0, call.plain(), (out + err).decode()

    code, reply, output = asyncio.run(scenario())
    assert code == 0, output
    assert BRIDGE_QUOTE in reply
    assert_no_token(output)
