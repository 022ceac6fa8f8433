"""Coverage changed from the chat, end to end: the real python-telegram-bot Application against
the fake Bot API, a real index (hashing model) and a local news site on 127.0.0.1.

Admins add a page with ``/add URL`` or by sending a file, and take one out with ``/remove ID``;
the reply says what was indexed or why not, and the next answer quotes the new article with its
outlet, date and link. Everyone else is refused politely. With ``FEEDS_FILE`` set, the running
bot fetches the feeds on a schedule and answers from them, without a restart. The fetches and
builds run in child processes (``python -m scripts.fetch`` / ``scripts.build_index``).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from werkzeug import Response

from bot.app import build_application
from bot.settings import BotSettings
from index import open_index
from index.config import IndexSettings
from index.qa import QA
from index.store.build import build_index
from ingest.settings import FetchSettings
from ingest.urls import article_id
from testkit.fake_bot_api import BOT_USERNAME, TOKEN, FakeBotAPI
from testkit.fake_qa import FakeQA
from testkit.local_web import ALLOW_LOCAL, FEED_TYPE, LocalSite, local_server
from testkit.news_site import BRIDGE, FESTIVAL, rss2
from testkit.polling import polling
from tests.cli import ROOT
from tests.corpus import write_article

pytestmark = pytest.mark.usefixtures("offline_index_env")

ADMIN = 1001
READER = 2002
GROUP = -1001234567890
CABLES_Q = "How many steel cables did engineers replace on the Harbour Bridge?"


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with local_server() as server:
        yield LocalSite(server)


@pytest.fixture(autouse=True)
def importable(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bot's children run ``python -m scripts...`` from this checkout."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))


def index_settings(tmp: Path) -> IndexSettings:
    return IndexSettings(
        _env_file=None,
        corpus_dir=tmp / "corpus",
        index_dir=tmp / "index",
        embedding_model="hashing-64",
    )


def seeded_index(tmp: Path) -> IndexSettings:
    """A corpus of one hand-written article, indexed."""
    settings = index_settings(tmp)
    write_article(
        settings.corpus_dir,
        "by-hand.md",
        "Festival news",
        "The summer music festival sold a record number of tickets this year.",
        "Organisers added a fourth stage on the old airfield.",
        source="Desk",
    )
    build_index(settings)
    return settings


def bot_settings(fake: FakeBotAPI, index: IndexSettings, **overrides: Any) -> BotSettings:
    values: dict[str, Any] = {
        "telegram_bot_token": TOKEN,
        "telegram_api_url": fake.base_url,
        "index": index,
        "admin_user_ids": [ADMIN],
        "rate_limit_questions": 100,
        "fetch": FetchSettings(_env_file=None, fetch_allow_private=ALLOW_LOCAL),
    }
    values.update(overrides)
    return BotSettings(_env_file=None, **values)


@asynccontextmanager
async def running(fake: FakeBotAPI, settings: BotSettings, qa: QA | FakeQA) -> AsyncIterator[None]:
    async with polling(build_application(settings, qa=qa)):
        yield


def run(scenario: Callable[[FakeBotAPI], Awaitable[None]], timeout: float = 150) -> None:
    async def main() -> None:
        async with FakeBotAPI() as fake:
            await asyncio.wait_for(scenario(fake), timeout=timeout)

    asyncio.run(main())


async def say(fake: FakeBotAPI, text: str, user: int, count: int) -> str:
    """Send ``text`` as ``user``; the plain text of the ``count``-th reply to that chat."""
    fake.push_private_text(text, user_id=user)
    calls = await fake.wait_for("sendMessage", chat_id=user, count=count, timeout=60)
    return calls[count - 1].plain()


def test_everyone_but_admins_is_refused_politely(tmp_path: Path) -> None:
    async def scenario(fake: FakeBotAPI) -> None:
        settings = bot_settings(fake, index_settings(tmp_path))
        async with running(fake, settings, FakeQA()):
            replies = [
                await say(fake, "/add https://example.com/story", READER, 1),
                await say(fake, "/remove abc", READER, 2),
            ]
            fake.push_private_document("story.md", b"---\ntitle: T\n---\n\nText.", READER)
            [*_, document] = await fake.wait_for("sendMessage", chat_id=READER, count=3)
            replies.append(document.plain())
            usage = [await say(fake, "/add", ADMIN, 1), await say(fake, "/remove", ADMIN, 2)]
        assert replies == ["Sorry, only the bot's admins can add or remove articles."] * 3
        assert usage == [
            "Usage: /add URL of an article — or send me a .md, .txt or .html file (up to 5 MB).",
            "Usage: /remove article id (the id /add gave, or the article's URL).",
        ]
        assert not (tmp_path / "corpus").exists()  # nothing was written

    run(scenario, timeout=40)


@pytest.mark.slow  # three child builds: about 15 s
def test_admin_adds_and_removes_a_page_and_the_answers_follow(
    site: LocalSite, tmp_path: Path
) -> None:
    url = site.story(BRIDGE)
    the_id = article_id(url)
    index = seeded_index(tmp_path)
    qa = open_index(index)

    async def scenario(fake: FakeBotAPI) -> None:
        async with running(fake, bot_settings(fake, index), qa):
            fetching = await say(fake, f"/add {url}", ADMIN, 1)
            calls = await fake.wait_for("sendMessage", chat_id=ADMIN, count=2, timeout=60)
            added = calls[1].plain()
            answer = await say(fake, CABLES_Q, ADMIN, 3)
            again = await say(fake, f"/add {url}?utm_source=chat", ADMIN, 5)
            missing = await say(fake, f"/add {site.url('/news/nothing')}", ADMIN, 7)
            removed = await say(fake, f"/remove {the_id}", ADMIN, 9)
            await asyncio.sleep(1.2)  # the QA looks at CURRENT once a second
            after = await say(fake, CABLES_Q, ADMIN, 10)
            unknown = await say(fake, f"/remove {the_id}", ADMIN, 12)
        html = fake.calls_of("sendMessage", chat_id=ADMIN)[2].params["text"]
        assert fetching == f"Fetching {url} … I'll reply here when it is done."
        assert added == (
            f"Added “{BRIDGE.title}” (The Harbour Herald, 4 Mar 2024) as {the_id}. "
            "The index is updated: I answer from it now."
        )
        assert "Engineers replaced 40 steel cables" in answer
        assert "— The Harbour Herald, 4 Mar 2024 · by Maria Lopez · ¶2" in answer
        assert f'<a href="{url}#:~:text=' in html  # the outlet links to the sentence
        assert (
            again == f"Already indexed and unchanged: “{BRIDGE.title}” (The Harbour Herald, "
            f"4 Mar 2024) ({the_id})."
        )
        assert missing == "Not added: HTTP 404 Not Found"
        assert removed == (
            f"Removed “{BRIDGE.title}” ({the_id}). The index is updated: I answer from it now."
        )
        assert "40 steel cables" not in after
        assert unknown == f"Not removed: no article with id '{the_id}' in the corpus"

    try:
        run(scenario)
    finally:
        qa.close()


@pytest.mark.slow  # two child builds: about 10 s
def test_admin_sends_documents(tmp_path: Path) -> None:
    index = seeded_index(tmp_path)
    qa = open_index(index)
    note = (
        b"---\ntitle: 'Ferry timetable changes'\nsource: Harbour Desk\npublished: 2024-03-05\n"
        b"---\n\nThe ferry to the islands will leave every twenty minutes from next Monday, "
        b"the harbour master said.\n"
    )

    async def scenario(fake: FakeBotAPI) -> None:
        async with running(fake, bot_settings(fake, index), qa):
            fake.push_private_document("ferry notes.md", note, ADMIN)
            # The second reply comes after a child build: as long a wait as say() gives one.
            calls = await fake.wait_for("sendMessage", chat_id=ADMIN, count=2, timeout=60)
            reading, added = calls[:2]
            answer = await say(fake, "How often will the ferry to the islands leave?", ADMIN, 3)
            fake.push_private_document("report.pdf", b"%PDF-1.7 ...", ADMIN)
            fake.push_private_document("huge.txt", b"x", ADMIN, size=6 * 1024 * 1024)
            fake.push_private_document("empty.md", b"---\ntitle: T\n---\n", ADMIN)
            calls = await fake.wait_for("sendMessage", chat_id=ADMIN, count=8, timeout=60)
        assert reading.plain() == "Reading ferry notes.md … I'll reply here when it is done."
        assert added.plain() == (
            "Added “Ferry timetable changes” (Harbour Desk, 5 Mar 2024) as ferry-notes. "
            "The index is updated: I answer from it now."
        )
        assert "every twenty minutes" in answer and "— Harbour Desk, 5 Mar 2024 · ¶1" in answer
        refusals = sorted(c.plain() for c in calls[3:] if not c.plain().startswith("Reading"))
        assert refusals == [
            "Not added: cannot read empty.md: empty body",
            "Not added: only .htm, .html, .markdown, .md, .txt files can be added, not .pdf",
            "Not added: the file is larger than 5 MB",
        ]
        assert fake.calls_of("getFile", file_id="doc-3") == []  # never downloaded

    try:
        run(scenario)
    finally:
        qa.close()


@pytest.mark.slow  # a scheduled fetch and build in a child: about 10 s
def test_scheduled_fetch_brings_new_coverage_without_a_restart(
    site: LocalSite, tmp_path: Path
) -> None:
    urls = [site.story(BRIDGE), site.story(FESTIVAL)]
    site.put(
        "/rss.xml",
        rss2("Harbour News", site.url("/"), list(zip((BRIDGE, FESTIVAL), urls, strict=True))),
        FEED_TYPE,
    )
    feeds = tmp_path / "feeds.txt"
    feeds.write_text(
        site.url("/rss.xml") + "\n" + site.url("/missing-feed.xml") + "\n", encoding="utf-8"
    )
    index = seeded_index(tmp_path)
    qa = open_index(index)

    async def scenario(fake: FakeBotAPI) -> None:
        settings = bot_settings(fake, index, feeds_file=feeds, fetch_interval_minutes=0.02)
        async with running(fake, settings, qa):
            deadline = time.monotonic() + 90
            while len(qa.articles()) < 3:  # the scheduled fetch adds two articles
                assert time.monotonic() < deadline, "the scheduled fetch never landed"
                await asyncio.sleep(0.5)
            answer = await say(fake, CABLES_Q, READER, 1)
            sources = {a.source for a in qa.articles()}
        assert sources == {"Desk", "The Harbour Herald", "City Culture Daily"}
        assert "Engineers replaced 40 steel cables" in answer
        assert "— The Harbour Herald, 4 Mar 2024 · by Maria Lopez · ¶2" in answer
        assert site.count("/rss.xml") >= 1 and site.count("/missing-feed.xml") >= 1

    try:
        run(scenario)
    finally:
        qa.close()


def test_remove_refuses_paths_and_long_ids_in_one_line(tmp_path: Path) -> None:
    """``/remove ../x``, ``/remove /abs/path`` or a 300-character id: a one-line refusal naming
    the id, at once; never the generic apology, never a server path."""
    victim = tmp_path / "victim.md"
    victim.write_text("---\ntitle: Victim\n---\n\nKeep me.\n", encoding="utf-8")
    long_id = "x" * 300

    async def scenario(fake: FakeBotAPI) -> None:
        settings = bot_settings(fake, index_settings(tmp_path))
        async with running(fake, settings, FakeQA()):
            replies = [
                await say(fake, "/remove ../victim", ADMIN, 1),
                await say(fake, f"/remove {tmp_path / 'victim'}", ADMIN, 2),
                await say(fake, f"/remove {long_id}", ADMIN, 3),
            ]
            await fake.settle()
            assert len(fake.calls_of("sendMessage", chat_id=ADMIN)) == 3
        why = "(an id is a name, not a path: no '/' or '\\')"
        assert replies[0] == f"Not removed: not a valid article id: '../victim' {why}"
        assert (
            replies[1].startswith("Not removed: not a valid article id: '/") and why in replies[1]
        )
        shown = "x" * 59 + "…"
        too_long = f"'{shown}' (it is 300 bytes long; at most 200)"
        assert replies[2] == f"Not removed: not a valid article id: {too_long}"
        assert all("\n" not in r and "Sorry" not in r for r in replies)
        assert victim.exists() and not (tmp_path / "corpus").exists()

    run(scenario, timeout=40)


def test_an_add_in_a_group_does_not_hold_up_the_groups_questions(
    site: LocalSite, tmp_path: Path
) -> None:
    """The page of an admin's /add is slow; a reader's question asked after it in the same
    group is answered first, and the /add reports when it is done."""
    answered = threading.Event()

    def slow_page(request: Any) -> Any:
        answered.wait(30)  # held until the question was answered
        return Response("Gone", status=410)

    url = site.route("/news/slow", slow_page)

    async def scenario(fake: FakeBotAPI) -> None:
        settings = bot_settings(fake, index_settings(tmp_path))
        async with running(fake, settings, FakeQA()):
            fake.push_group_text(f"/add@{BOT_USERNAME} {url}", user_id=ADMIN, chat_id=GROUP)
            started = await fake.wait_for("sendMessage", chat_id=GROUP, count=1)
            fake.push_group_text("/ask When did the Harbour Bridge reopen?", READER, GROUP)
            answer = (await fake.wait_for("sendMessage", chat_id=GROUP, count=2))[1]
            answered.set()
            report = (await fake.wait_for("sendMessage", chat_id=GROUP, count=3, timeout=60))[2]
        assert started[0].plain() == f"Fetching {url} … I'll reply here when it is done."
        assert "bridge" in answer.plain().lower() and "Not added" not in answer.plain()
        assert report.plain() == "Not added: HTTP 410 Gone"

    run(scenario, timeout=90)


def test_an_add_of_a_feed_reports_what_was_added_and_skipped(
    site: LocalSite, tmp_path: Path
) -> None:
    """A feed with two good entries and two bad ones: both articles are added and listed, both
    skips are listed with their reasons, and the index is rebuilt."""
    urls = [site.story(BRIDGE), site.story(FESTIVAL)]
    items = [*zip((BRIDGE, FESTIVAL), urls, strict=True), (BRIDGE, site.url("/news/gone"))]
    items.append((FESTIVAL, "http://10.0.0.5/admin"))
    site.put("/rss.xml", rss2("Harbour News", site.url("/"), items), FEED_TYPE)
    index = seeded_index(tmp_path)
    qa = open_index(index)

    async def scenario(fake: FakeBotAPI) -> None:
        async with running(fake, bot_settings(fake, index), qa):
            report = await say(fake, f"/add {site.url('/rss.xml')}", ADMIN, 2)
            await asyncio.sleep(1.2)  # the QA looks at CURRENT once a second
            answer = await say(fake, CABLES_Q, ADMIN, 3)
        lines = report.splitlines()
        assert (
            lines[0] == f"From {site.url('/rss.xml')}: 2 added, 0 updated, 0 unchanged, 2 skipped."
        )
        assert lines[1] == (
            f"• Added “{BRIDGE.title}” (The Harbour Herald, 4 Mar 2024) as {article_id(urls[0])}"
        )
        assert lines[2].startswith(f"• Added “{FESTIVAL.title}” (")
        assert lines[3] == f"• Skipped {site.url('/news/gone')}: HTTP 404 Not Found"
        assert lines[4].startswith("• Skipped http://10.0.0.5/admin: refused: 10.0.0.5: ")
        assert lines[5] == "The index is updated: I answer from it now."
        assert "Engineers replaced 40 steel cables" in answer

    try:
        run(scenario)
    finally:
        qa.close()
