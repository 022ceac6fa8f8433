"""Settings, access control, answer memory and log redaction of the bot (no network)."""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.__main__ import main
from bot.access import AccessPolicy, RateLimiter
from bot.health import HEALTH_PATH, HealthServer
from bot.logging_setup import RedactingFilter, configure_logging, redact
from bot.services import RecentAnswers
from bot.settings import DEFAULT_API_URL, BotSettings, describe_validation_error
from index.types import Answer
from testkit.fake_bot_api import TOKEN
from tests.chroma_server import free_port

SETTING_NAMES = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_URL",
    "INDEX_DIR",
    "CORPUS_DIR",
    "ALLOWED_USER_IDS",
    "ALLOWED_CHAT_IDS",
    "ADMIN_USER_IDS",
    "RATE_LIMIT_QUESTIONS",
    "RATE_LIMIT_WINDOW_SECONDS",
    "BOT_MODE",
    "WEBHOOK_URL",
    "WEBHOOK_PORT",
    "WEBHOOK_SECRET",
    "LOG_LEVEL",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


# --------------------------------------------------------------------------- settings


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": "http://127.0.0.1:8081/bot",
        "INDEX_DIR": str(tmp_path / "idx"),
        "CORPUS_DIR": str(tmp_path / "corpus"),
        "ALLOWED_USER_IDS": "1, 2 3",
        "ALLOWED_CHAT_IDS": "[-100123]",
        "ADMIN_USER_IDS": "7",
        "RATE_LIMIT_QUESTIONS": "5",
        "RATE_LIMIT_WINDOW_SECONDS": "30",
        "BOT_MODE": "webhook",
        "WEBHOOK_URL": "https://bot.example.com/",
        "WEBHOOK_PORT": "8444",
        "WEBHOOK_SECRET": "abc_DEF-1",
        "LOG_LEVEL": "debug",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = BotSettings()
    assert settings.token == TOKEN
    assert TOKEN not in repr(settings) and TOKEN not in str(settings.model_dump())
    assert settings.telegram_api_url == "http://127.0.0.1:8081/bot"
    assert settings.index.index_dir == tmp_path / "idx"  # composed from IndexSettings
    assert settings.index.corpus_dir == tmp_path / "corpus"
    assert settings.allowed_user_ids == [1, 2, 3] and settings.allowed_chat_ids == [-100123]
    assert settings.admin_user_ids == [7]
    assert AccessPolicy(settings.allowed_user_ids, settings.allowed_chat_ids).restricted
    assert (settings.rate_limit_questions, settings.rate_limit_window_seconds) == (5, 30.0)
    assert settings.log_level == "DEBUG"
    assert settings.webhook_options() == {
        "listen": "0.0.0.0",
        "port": 8444,
        "url_path": "",
        "webhook_url": "https://bot.example.com/",
        "secret_token": "abc_DEF-1",
    }
    assert set(settings.secrets()) == {TOKEN, "abc_DEF-1"}


def test_settings_defaults_and_dotenv(tmp_path: Path) -> None:
    settings = BotSettings()
    assert settings.token is None and settings.telegram_api_url == DEFAULT_API_URL
    assert settings.bot_mode == "polling"
    assert not AccessPolicy(settings.allowed_user_ids, settings.allowed_chat_ids).restricted
    (tmp_path / ".env").write_text(f"TELEGRAM_BOT_TOKEN={TOKEN}\nINDEX_DIR=/srv/index\n")
    from_file = BotSettings()
    assert from_file.token == TOKEN and from_file.index.index_dir == Path("/srv/index")


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("TELEGRAM_BOT_TOKEN", "not-a-token", "invalid setting TELEGRAM_BOT_TOKEN:"),
        ("TELEGRAM_API_URL", "127.0.0.1:8081/bot", "invalid setting TELEGRAM_API_URL:"),
        ("WEBHOOK_PORT", "eighty", "invalid setting WEBHOOK_PORT:"),
        ("ALLOWED_USER_IDS", "alice,bob", "invalid setting ALLOWED_USER_IDS:"),
        ("LOG_LEVEL", "LOUD", "invalid setting LOG_LEVEL:"),
        ("BOT_MODE", "webhook", "BOT_MODE=webhook needs WEBHOOK_URL"),
        ("MAX_QUOTES", "99", "invalid setting MAX_QUOTES:"),  # an IndexSettings field
    ],
)
def test_invalid_settings_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as info:
        BotSettings()
    line = describe_validation_error(info.value)
    assert expected in line and "\n" not in line
    if name == "TELEGRAM_BOT_TOKEN":
        assert value not in line


def test_the_health_check_cannot_share_the_webhook_port(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in [("BOT_MODE", "webhook"), ("WEBHOOK_URL", "https://bot.example.com")]:
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HEALTH_PORT", "8443")  # WEBHOOK_PORT's default
    with pytest.raises(ValidationError) as info:
        BotSettings(_env_file=None)
    assert "HEALTH_PORT must differ from WEBHOOK_PORT" in describe_validation_error(info.value)
    monkeypatch.setenv("HEALTH_PORT", "8080")
    assert BotSettings(_env_file=None).health_port == 8080


def test_main_exits_2_with_one_line_on_invalid_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "123456:short"  # malformed: must not be echoed
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", secret)
    assert main([]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: invalid setting TELEGRAM_BOT_TOKEN")
    assert secret not in err


# --------------------------------------------------------------------------- access


def test_access_policy() -> None:
    assert AccessPolicy().allows(1, 1) and not AccessPolicy().restricted
    policy = AccessPolicy(allowed_users=[1], allowed_chats=[-5], admins=[9])
    assert policy.allows(1, 1) and policy.allows(1, -7)  # a listed user, anywhere
    assert policy.allows(2, -5)  # anyone in a listed chat
    assert policy.allows(9, 9) and policy.is_admin(9)  # admins always
    assert not policy.allows(2, 2) and not policy.allows(None, None)


def test_rate_limiter_sliding_window_and_single_notice() -> None:
    now = [1000.0]
    limiter = RateLimiter(2, 10.0, clock=lambda: now[0])
    assert limiter.check(1).allowed and limiter.check(1).allowed
    refused = limiter.check(1)
    assert not refused.allowed and refused.notify and refused.retry_after == 10
    assert limiter.check(2).allowed  # other users are not affected
    now[0] += 4
    again = limiter.check(1)
    assert not again.allowed and not again.notify and again.retry_after == 6
    now[0] += 6
    assert limiter.check(1).allowed
    assert limiter.check(1).allowed
    assert limiter.check(1).notify  # a new run of refusals is announced again
    assert all(RateLimiter(0, 1).check(1).allowed for _ in range(100))
    with pytest.raises(ValueError, match="window"):
        RateLimiter(1, 0)


def test_recent_answers_forget_the_oldest() -> None:
    answers = RecentAnswers(capacity=2)
    keys = [answers.put(Answer(str(n), False, reason="r"), 1) for n in range(3)]
    assert answers.get(keys[0]) is None
    stored = answers.get(keys[2])
    assert stored is not None and stored.answer.question == "2" and len(answers) == 2
    assert all(len(("more:" + key).encode()) <= 64 for key in keys)


# --------------------------------------------------------------------------- redaction


def test_redact_replaces_tokens_and_token_shaped_strings() -> None:
    url = f"https://api.telegram.org/bot{TOKEN}/getMe"
    assert redact(url) == "https://api.telegram.org/bot<redacted>/getMe"
    assert redact(f"token {TOKEN}!", [TOKEN]) == "token <redacted>!"
    # Token-shaped but plainly fake (assembled here, so no token-like literal is committed).
    other = "bot987654321:" + "NOT-A-REAL-TOKEN-" + "x" * 18
    assert "NOT-A-REAL" not in redact(f"GET {other}/x")
    assert redact("plain text 12:30") == "plain text 12:30"


def test_redacting_filter_covers_arguments_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter([TOKEN]))
    log = logging.getLogger("tests.redaction")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("calling %s", f"http://127.0.0.1/bot{TOKEN}/getMe")
        try:
            raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
        except RuntimeError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
    text = stream.getvalue()
    assert "calling http://127.0.0.1/bot<redacted>/getMe" in text
    assert "RuntimeError: The token `<redacted>` was rejected" in text
    assert TOKEN not in text


def test_configure_logging_quietens_http_libraries(capfd: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        configure_logging("INFO", [TOKEN])
        assert logging.getLogger("httpx").level == logging.WARNING
        assert logging.getLogger("httpcore").level == logging.WARNING
        assert all(any(isinstance(f, RedactingFilter) for f in h.filters) for h in root.handlers)
        logging.getLogger("httpx").info("HTTP Request: POST %s", f"/bot{TOKEN}/getMe")
        logging.getLogger("bot.test").info("token is %s", TOKEN)
        err = capfd.readouterr().err
        assert "token is <redacted>" in err and "HTTP Request" not in err
        assert TOKEN not in err
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)


def test_health_server_says_503_while_the_report_fails() -> None:
    """Before the index is open (or when reading it fails) the check fails, with the reason."""
    import aiohttp

    async def loading() -> dict[str, object]:
        raise RuntimeError("the index is still loading")

    async def scenario() -> tuple[int, dict[str, object]]:
        port = free_port()
        server = HealthServer(loading, "127.0.0.1", port)
        server.start()
        try:
            async with (
                aiohttp.ClientSession() as http,
                http.get(f"http://127.0.0.1:{port}{HEALTH_PATH}") as response,
            ):
                return response.status, await response.json()
        finally:
            await server.stop()

    status, body = asyncio.run(scenario())
    assert status == 503
    assert body == {"status": "error", "error": "RuntimeError: the index is still loading"}
