#!/usr/bin/env python3
"""Load benchmark: the real bot and index behind the fake Bot API, at a fixed arrival rate.

``python -m benchmarks.bench_load`` (run from the project root) builds an index from
``data/articles`` into a temporary folder (or uses ``--index``), starts the real
python-telegram-bot ``Application`` from :func:`bot.app.build_application` in a **separate
process** (as in production, where Telegram is another machine: the fake server and the load
generator must not share the bot's event loop or GIL), long-polls the fake Bot API of
``testkit/fake_bot_api.py`` on 127.0.0.1, and pushes private-chat questions from many chats at a
fixed (open-loop) arrival rate. It prints a Markdown table:

* end-to-end latency p50/p95/p99/max: from the moment an update is available to ``getUpdates``
  (pushed into the fake server) until the matching ``sendMessage`` reaches the fake server
  (matched by chat: with the default 1000 chats no chat asks twice in a run, so a reply can
  only belong to one question; "extra msgs" counts replies beyond one per question);
* "to handler": from the push until the bot's ``sendChatAction`` (typing) arrives, i.e. polling
  plus dispatch plus Bot API rate limiting, before any question answering;
* throughput (answered questions per second over the measured window), the bot process's CPU
  use, and the mean size of the question-embedding batches (``QA.queries``);
* the floor, measured in the bot process of the same run before the load: one query embedding
  plus one chroma query, and ``qa.answer()`` alone.

Knobs (each is one experiment): ``--no-batcher`` (one question embedding at a time under a
plain lock, as ``QA.embed`` did before it used index/store/batcher.py), ``--max-batch``,
``--batch-wait-ms``,
``--rate-limiter app|ptb|off`` (the app's MessageRateLimiter, PTB's AIORateLimiter with
typing indicators left out of the 30 messages/s; PTB's plain AIORateLimiter, which counts them,
as the app had it before; none), ``--concurrent-updates``,
``--poll-timeout``, ``--qa-workers``, ``--torch-threads``. ``--compare`` runs the standard set of
configurations one after another and prints one table.

The goal (issue 5): p95 end-to-end under 150 ms at 30 questions/s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from scripts.evaluation import percentile

DEFAULT_QUESTIONS = Path(__file__).resolve().parents[1] / "data" / "eval" / "seed_questions.jsonl"
FALLBACK_QUESTIONS = (
    "Which Russian official visited Pyongyang?",
    "What weapons did Kim Jong Un show his visitors?",
    "Which foreign delegations attended the parade?",
    "What propellant does the new missile use?",
    "Who is the Russian defence chief?",
    "What is the best lasagna recipe?",
)
FIRST_CHAT = 500_000
GOAL_P95_MS = 150.0


@dataclass(frozen=True)
class BotConfig:
    """How the bot process is set up: one row of the results table."""

    label: str = "as built"
    batcher: bool = True  # False: a plain lock around embed_query instead of QA.queries
    batch_wait_ms: float = 0.0
    max_batch: int = 16
    rate_limiter: str = "app"  # app | ptb | off
    concurrent_updates: int | None = None  # None: the app's own setting
    poll_timeout: float = 10.0  # Application.run_polling's default
    qa_workers: int | None = None  # None: the settings' default
    torch_threads: int | None = None  # QUERY_THREADS; None: the settings' (1), 0: torch's own
    switch_interval_ms: float | None = None  # None: Python's default GIL switch interval (5 ms)
    profile_dir: str | None = None  # cProfile the event loop and the question answering
    fake_qa: bool = False  # testkit.fake_qa.FakeQA instead of the index: the framework's share


@dataclass
class Floor:
    """Single-question costs in the bot process, measured before the load (milliseconds)."""

    embed: list[float] = field(default_factory=list)
    chroma: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)
    answer: list[float] = field(default_factory=list)


@dataclass
class RunResult:
    """What one run measured."""

    config: BotConfig
    rate: float
    duration: float
    sent: int
    answered: int
    lost: int
    extra_messages: int
    latencies_ms: list[float]
    to_handler_ms: list[float]
    throughput: float
    bot_cpu: float | None  # share of one core, over the measured window
    bench_cpu: float | None  # this process: the fake Bot API server and the load generator
    other_cpu: float | None  # other processes on the machine (not the bot, not this process)
    batch_stats: dict[str, Any]
    floor: Floor


# --------------------------------------------------------------------------- statistics


def _ms(value: float) -> str:
    return "–" if value != value else f"{value:.1f}"


# --------------------------------------------------------------------------- the bot process


def _bot_process(
    config: BotConfig, api_url: str, index_dir: str, token: str, conn: Connection
) -> None:
    """Child process: open the index, measure the floor, run the Application until told."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from bot.logging_setup import configure_logging

    configure_logging("WARNING", [token])
    if config.switch_interval_ms:
        sys.setswitchinterval(config.switch_interval_ms / 1000.0)

    qa: Any
    if config.fake_qa:
        # The deterministic fake answerer: what the bot and its framework cost on their own.
        from testkit.fake_qa import FakeQA

        qa = FakeQA()
        asyncio.run(_serve(config, api_url, index_dir, token, qa, conn, Floor(), None))
        return
    from index import open_index
    from index.config import IndexSettings

    index_settings = IndexSettings(index_dir=Path(index_dir))
    if config.torch_threads is not None:
        # QUERY_THREADS: torch's intra-op threads, set when the model loads (0: torch's default).
        index_settings.query_threads = config.torch_threads or None
    qa = open_index(index_settings)
    qa.warm_up()
    batcher = qa.queries
    batcher.max_batch = config.max_batch
    batcher.max_wait = config.batch_wait_ms / 1000.0
    if not config.batcher:
        # The earlier wiring, for comparison: one question embedding at a time under a lock.
        lock = threading.Lock()
        embedder = qa.embedder

        def locked_embed(text: str) -> Any:
            with lock:
                return embedder.embed_query(text)

        setattr(qa, "embed", locked_embed)  # noqa: B010
        batcher = None
    floor = _measure_floor(qa)
    if batcher is not None:
        batcher.stats = type(batcher.stats)()
    if not config.profile_dir:
        asyncio.run(_serve(config, api_url, index_dir, token, qa, conn, floor, batcher))
        return
    import cProfile

    answering = _ProfiledQA(qa)
    loop_profile = cProfile.Profile()
    loop_profile.enable()
    try:
        asyncio.run(_serve(config, api_url, index_dir, token, answering, conn, floor, batcher))
    finally:
        loop_profile.disable()
        folder = Path(config.profile_dir)
        folder.mkdir(parents=True, exist_ok=True)
        loop_profile.dump_stats(folder / "event_loop.prof")
        answering.dump(folder / "answer.prof")


class _ProfiledQA:
    """Runs ``answer`` under cProfile on the worker threads (one profile per thread, merged)."""

    def __init__(self, qa: Any) -> None:
        import threading

        self.qa = qa
        self._local = threading.local()
        self._profiles: list[Any] = []
        self._lock = threading.Lock()

    def answer(self, question: str) -> Any:
        import cProfile

        profile = getattr(self._local, "profile", None)
        if profile is None:
            profile = self._local.profile = cProfile.Profile()
            with self._lock:
                self._profiles.append(profile)
        profile.enable()
        try:
            return self.qa.answer(question)
        finally:
            profile.disable()

    def dump(self, path: Path) -> None:
        import pstats

        if not self._profiles:
            return
        stats = pstats.Stats(self._profiles[0])
        for profile in self._profiles[1:]:
            stats.add(profile)
        stats.dump_stats(path)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.qa, name)


def _measure_floor(qa: Any, rounds: int = 100) -> Floor:
    """One query embedding + one chroma query, and a whole ``answer()``, idle, in ms."""
    questions = _load_questions(None)
    snap = qa.snapshot()
    k = min(qa.settings.candidates, len(snap))
    floor = Floor()
    for i in range(rounds):
        question = questions[i % len(questions)]
        t0 = time.perf_counter()
        vector = qa.embed(question)
        t1 = time.perf_counter()
        snap.collection.query(query_embeddings=[vector.tolist()], n_results=k, include=[])
        t2 = time.perf_counter()
        qa.answer(question)
        t3 = time.perf_counter()
        floor.embed.append((t1 - t0) * 1000)
        floor.chroma.append((t2 - t1) * 1000)
        floor.floor.append((t2 - t0) * 1000)
        floor.answer.append((t3 - t2) * 1000)
    return floor


def _patch_app(config: BotConfig) -> None:
    """Apply the PTB knobs by swapping what ``build_application`` reads from ``bot.app``."""
    from telegram.ext import AIORateLimiter

    import bot.app

    names = vars(bot.app)
    if config.concurrent_updates is not None:
        names["CONCURRENT_UPDATES"] = config.concurrent_updates
    if config.rate_limiter == "off":
        names["MessageRateLimiter"] = lambda **_: None
    elif config.rate_limiter == "ptb":  # plain AIORateLimiter: typing indicators count too
        names["MessageRateLimiter"] = AIORateLimiter
    elif config.rate_limiter != "app":
        raise ValueError(f"unknown --rate-limiter {config.rate_limiter!r}")


async def _serve(
    config: BotConfig,
    api_url: str,
    index_dir: str,
    token: str,
    qa: Any,
    conn: Connection,
    floor: Floor,
    batcher: Any,
) -> None:
    from bot.app import build_application
    from bot.settings import BotSettings
    from index.config import IndexSettings
    from testkit.polling import polling

    _patch_app(config)
    values: dict[str, Any] = {
        "telegram_bot_token": token,
        "telegram_api_url": api_url,
        "index": IndexSettings(_env_file=None, index_dir=Path(index_dir)),
        "rate_limit_questions": 0,  # the per-user limit would refuse a load test
    }
    if config.qa_workers:
        values["qa_workers"] = config.qa_workers
    settings = BotSettings(_env_file=None, **values)
    application = build_application(settings, qa=qa)
    async with polling(application, timeout=int(config.poll_timeout)):
        conn.send(("ready", asdict(floor)))
        await asyncio.to_thread(conn.recv)  # "stop"
    stats = {}
    if batcher is not None:
        s = batcher.stats
        stats = {"calls": s.calls, "questions": s.questions, "largest": s.largest}
    conn.send(("done", stats))
    qa.close()


# --------------------------------------------------------------------------- the load


def _load_questions(path: Path | None) -> list[str]:
    path = path or (DEFAULT_QUESTIONS if DEFAULT_QUESTIONS.is_file() else None)
    if path is None:
        return list(FALLBACK_QUESTIONS)
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line:
            questions.append(json.loads(line)["question"] if line.startswith("{") else line)
    return questions or list(FALLBACK_QUESTIONS)


def _busy_seconds() -> float | None:
    """CPU seconds all processes on this machine have used since boot (Linux /proc), or None."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    ticks = [int(f) for f in fields]
    busy = sum(ticks[:8]) - ticks[3] - ticks[4]  # all but idle and iowait (guest is in user)
    return busy / os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process (Linux /proc), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _push_at_rate(
    fake: Any, questions: Sequence[str], rate: float, seconds: float, chats: int, first: int
) -> list[tuple[int, float]]:
    """Push ``rate * seconds`` questions at fixed intervals; (chat id, push time) of each."""
    loop = asyncio.get_running_loop()
    count = max(1, round(rate * seconds))
    start = loop.time()
    pushed: list[tuple[int, float]] = []
    for i in range(count):
        delay = start + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        chat = FIRST_CHAT + (first + i) % chats
        fake.push_private_text(questions[(first + i) % len(questions)], user_id=chat)
        pushed.append((chat, time.monotonic()))
    return pushed


def _match(
    fake: Any, pushed: list[tuple[int, float]], since: int
) -> tuple[list[float], list[float], int, float]:
    """Latencies (ms) push -> first sendMessage and push -> sendChatAction; extra messages."""
    replies: dict[int, list[float]] = defaultdict(list)
    typing: dict[int, list[float]] = defaultdict(list)
    for call in fake.calls[since:]:
        if not call.ok:
            continue
        if call.method == "sendMessage":
            replies[int(call.params["chat_id"])].append(call.at)
        elif call.method == "sendChatAction":
            typing[int(call.params["chat_id"])].append(call.at)
    by_chat: dict[int, list[float]] = defaultdict(list)
    for chat, at in pushed:
        by_chat[chat].append(at)
    latencies: list[float] = []
    to_handler: list[float] = []
    extra = 0
    last = 0.0
    for chat, pushes in by_chat.items():
        pushes.sort()
        for n, at in enumerate(pushes):
            until = pushes[n + 1] if n + 1 < len(pushes) else float("inf")
            mine = [t for t in replies[chat] if at <= t < until]
            if mine:
                latencies.append((mine[0] - at) * 1000)
                extra += len(mine) - 1
                last = max(last, mine[-1])
            acts = [t for t in typing[chat] if at <= t < until]
            if acts:
                to_handler.append((acts[0] - at) * 1000)
    return latencies, to_handler, extra, last


def _quiet_server_logs() -> None:
    """The fake server logs a traceback per request cut off when a stopped bot hangs up."""
    import logging

    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)


def wait_until_idle(threshold: float, limit: float) -> float | None:
    """Wait (up to ``limit`` s) until the machine's CPU use over 3 s is below ``threshold``
    cores; return the last reading (None where /proc/stat is missing)."""
    deadline = time.monotonic() + limit
    while True:
        before = _busy_seconds()
        time.sleep(3.0)
        after = _busy_seconds()
        if before is None or after is None:
            return None
        busy = (after - before) / 3.0
        if busy < threshold or time.monotonic() > deadline:
            return busy
        print(f"  the machine is busy ({busy:.2f} cores in use); waiting …", file=sys.stderr)


async def run_once(
    config: BotConfig,
    index_dir: Path,
    *,
    rate: float,
    duration: float,
    warmup: float,
    chats: int,
    questions: Sequence[str],
    drain: float = 15.0,
) -> RunResult:
    """Start a bot process with ``config``, drive it, and measure."""
    from testkit.fake_bot_api import TOKEN, FakeBotAPI

    _quiet_server_logs()
    ctx = mp.get_context("spawn")
    async with FakeBotAPI() as fake:
        parent, child = ctx.Pipe()
        proc = ctx.Process(
            target=_bot_process,
            args=(config, fake.base_url, str(index_dir), TOKEN, child),
            daemon=True,
        )
        proc.start()
        try:
            if not await asyncio.to_thread(parent.poll, 180):
                raise RuntimeError("the bot process did not start within 180 s")
            kind, floor_data = parent.recv()
            assert kind == "ready"
            floor = Floor(**floor_data)
            await fake.wait_for("getUpdates", timeout=30, ok=None)
            if warmup > 0:
                warm = await _push_at_rate(fake, questions, rate, warmup, chats, 0)
                await _drain(fake, warm, 0, drain)
            since = len(fake.calls)
            first = round(rate * warmup)
            cpu0, t0 = _cpu_seconds(proc.pid or 0), time.monotonic()
            me0, all0 = _cpu_seconds(os.getpid()), _busy_seconds()
            pushed = await _push_at_rate(fake, questions, rate, duration, chats, first)
            await _drain(fake, pushed, since, drain)
            cpu1, t1 = _cpu_seconds(proc.pid or 0), time.monotonic()
            me1, all1 = _cpu_seconds(os.getpid()), _busy_seconds()
            parent.send("stop")
            stats: dict[str, Any] = {}
            if await asyncio.to_thread(parent.poll, 30):
                _, stats = parent.recv()
        finally:
            await asyncio.to_thread(proc.join, 30)
            if proc.is_alive():
                proc.terminate()
    latencies, to_handler, extra, last = _match(fake, pushed, since)
    window = (last - pushed[0][1]) if latencies else float("nan")
    wall = max(t1 - t0, 1e-9)
    bot_cpu = other_cpu = bench_cpu = None
    if me0 is not None and me1 is not None:
        bench_cpu = (me1 - me0) / wall
    if cpu0 is not None and cpu1 is not None:
        bot_cpu = (cpu1 - cpu0) / wall
        if None not in (me0, me1, all0, all1):
            assert me0 is not None and me1 is not None and all0 is not None and all1 is not None
            other_cpu = max(0.0, (all1 - all0) - (cpu1 - cpu0) - (me1 - me0)) / wall
    return RunResult(
        config=config,
        rate=rate,
        duration=duration,
        sent=len(pushed),
        answered=len(latencies),
        lost=len(pushed) - len(latencies),
        extra_messages=extra,
        latencies_ms=latencies,
        to_handler_ms=to_handler,
        throughput=len(latencies) / window if window and window == window else 0.0,
        bot_cpu=bot_cpu,
        bench_cpu=bench_cpu,
        other_cpu=other_cpu,
        batch_stats=stats,
        floor=floor,
    )


async def _drain(fake: Any, pushed: list[tuple[int, float]], since: int, limit: float) -> None:
    """Wait until every pushed question has a reply (or ``limit`` seconds passed)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        latencies, _, _, _ = _match(fake, pushed, since)
        if len(latencies) >= len(pushed):
            break
        await asyncio.sleep(0.2)
    await asyncio.sleep(0.3)  # late duplicates would show up as extra messages


# --------------------------------------------------------------------------- reporting


def results_table(results: Sequence[RunResult]) -> str:
    """The Markdown table of the runs."""
    head = (
        "| configuration | rate q/s | sent | answered (+extra msgs) | throughput q/s | p50 ms | "
        "p95 ms | p99 ms | max ms | to handler p50/p95 ms | CPU bot/fake/other | batch mean/max | "
        "p95 < 150 |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:-:|\n"
    )
    rows = []
    for r in results:
        lat = r.latencies_ms
        p95 = percentile(lat, 95)
        stats = r.batch_stats
        batch = (
            f"{stats['questions'] / stats['calls']:.2f}/{stats['largest']}"
            if stats.get("calls")
            else "–"
        )
        cpu = "/".join(
            f"{v * 100:.0f}%" if v is not None else "–"
            for v in (r.bot_cpu, r.bench_cpu, r.other_cpu)
        )
        ok = "yes" if r.lost == 0 and p95 < GOAL_P95_MS else "no"
        rows.append(
            f"| {r.config.label} | {r.rate:g} | {r.sent} | {r.answered} (+{r.extra_messages}) | "
            f"{r.throughput:.1f} | "
            f"{_ms(percentile(lat, 50))} | {_ms(p95)} | {_ms(percentile(lat, 99))} | "
            f"{_ms(max(lat) if lat else float('nan'))} | "
            f"{_ms(percentile(r.to_handler_ms, 50))}/{_ms(percentile(r.to_handler_ms, 95))} | "
            f"{cpu} | {batch} | {ok} |"
        )
    return head + "\n".join(rows)


def floor_table(results: Sequence[RunResult]) -> str:
    """The Markdown table of the single-question floor measured in each run."""
    head = (
        "| configuration | embed p50/p95 ms | chroma p50/p95 ms | "
        "floor (embed + chroma) p50/p95 ms | answer() p50/p95 ms |\n|---|---:|---:|---:|---:|\n"
    )
    rows = []
    for r in results:
        f = r.floor
        cells = [
            f"{_ms(percentile(v, 50))}/{_ms(percentile(v, 95))}"
            for v in (f.embed, f.chroma, f.floor, f.answer)
        ]
        rows.append(f"| {r.config.label} | " + " | ".join(cells) + " |")
    return head + "\n".join(rows)


def _print_profiles(folder: Path, top: int = 15) -> None:
    import pstats

    for name in ("event_loop.prof", "answer.prof"):
        path = folder / name
        if path.is_file():
            print(f"\n{name}: top {top} by own time\n")
            pstats.Stats(str(path), stream=sys.stdout).sort_stats("tottime").print_stats(top)


def standard_configs(base: BotConfig) -> dict[str, BotConfig]:
    """The configurations ``--compare`` can run, by short name."""
    two = replace(base, torch_threads=2)
    return {
        "before": replace(
            base, label="before: plain AIORateLimiter (typing counted)", rate_limiter="ptb"
        ),
        "built": replace(base, label="as built"),
        "nolimit": replace(base, label="as built, no rate limiter", rate_limiter="off"),
        "t2": replace(two, label="torch 2 threads (QUERY_THREADS=2)"),
        "lock": replace(base, label="no batcher: embed under a lock (before)", batcher=False),
        "w16": replace(base, label="16 QA workers", qa_workers=16),
        "batch2ms": replace(base, label="batcher waits 2 ms", batch_wait_ms=2.0),
        "gil1ms": replace(base, label="GIL switch interval 1 ms", switch_interval_ms=1.0),
        "fake-qa": replace(base, label="fake QA (bot + PTB + HTTP only)", fake_qa=True),
    }


def summary_table(results: Sequence[RunResult]) -> str:
    """Medians over repeated runs of each configuration."""
    groups: dict[str, list[RunResult]] = defaultdict(list)
    for r in results:
        groups[r.config.label].append(r)
    head = (
        "| configuration | runs | p50 ms | p95 ms (min–max) | p99 ms | throughput q/s | lost | "
        "other CPU |\n|---|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    rows = []
    for label, runs in groups.items():
        p95s = [percentile(r.latencies_ms, 95) for r in runs]
        others = [r.other_cpu for r in runs if r.other_cpu is not None]
        rows.append(
            f"| {label} | {len(runs)} | "
            f"{_ms(statistics.median(percentile(r.latencies_ms, 50) for r in runs))} | "
            f"{_ms(statistics.median(p95s))} ({_ms(min(p95s))}–{_ms(max(p95s))}) | "
            f"{_ms(statistics.median(percentile(r.latencies_ms, 99) for r in runs))} | "
            f"{statistics.median(r.throughput for r in runs):.1f} | "
            f"{sum(r.lost for r in runs)} | "
            + (f"{statistics.median(others) * 100:.0f}% |" if others else "– |")
        )
    return head + "\n".join(rows)


# --------------------------------------------------------------------------- command line


def _build_index(corpus: Path, into: Path) -> None:
    command = [sys.executable, "-m", "scripts.build_index", "--corpus", str(corpus)]
    command += ["--index", str(into), "--quiet"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_load",
        description="End-to-end load benchmark of the bot against the fake Bot API.",
    )
    parser.add_argument("--rate", type=float, default=30.0, help="questions per second (30)")
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds (20)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first (2)")
    parser.add_argument(
        "--chats", type=int, default=1000, help="distinct private chats, used in turn (1000)"
    )
    parser.add_argument("--index", type=Path, help="an index folder (default: build one)")
    parser.add_argument("--corpus", type=Path, default=Path("data/articles"))
    parser.add_argument("--questions", type=Path, help="questions, one a line or JSONL")
    parser.add_argument("--label", help="the row's name in the table")
    parser.add_argument(
        "--no-batcher",
        dest="batcher",
        action="store_false",
        help="embed questions one at a time under a lock instead of QA.queries",
    )
    parser.add_argument("--batch-wait-ms", type=float, default=0.0)
    parser.add_argument("--max-batch", type=int, default=16)
    parser.add_argument("--rate-limiter", choices=["app", "ptb", "off"], default="app")
    parser.add_argument("--concurrent-updates", type=int)
    parser.add_argument("--poll-timeout", type=float, default=10.0)
    parser.add_argument("--qa-workers", type=int)
    parser.add_argument(
        "--torch-threads", type=int, help="QUERY_THREADS for the bot (0: torch's default)"
    )
    parser.add_argument("--switch-interval-ms", type=float, help="the bot's GIL switch interval")
    parser.add_argument(
        "--compare",
        nargs="?",
        const="fake-qa,before,built,lock,nolimit,t2",
        metavar="NAMES",
        help="run standard configurations (comma-separated names; default: "
        "fake-qa,before,built,lock,nolimit,t2; also w16, batch2ms, gil1ms)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="run the configurations this many times, in turn"
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each run, wait up to this long for other processes to use < 0.3 cores",
    )
    parser.add_argument("--profile", type=Path, help="write cProfile files of the bot here")
    parser.add_argument("--json", type=Path, help="also write every latency to this file")
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.duration <= 0 or args.chats < 1:
        parser.error("--rate and --duration must be positive and --chats at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its tables."""
    args = parse_args(argv)
    base = BotConfig(
        label=args.label or "this run",
        batcher=args.batcher,
        batch_wait_ms=args.batch_wait_ms,
        max_batch=args.max_batch,
        rate_limiter=args.rate_limiter,
        concurrent_updates=args.concurrent_updates,
        poll_timeout=args.poll_timeout,
        qa_workers=args.qa_workers,
        torch_threads=args.torch_threads,
        switch_interval_ms=args.switch_interval_ms,
        profile_dir=str(args.profile) if args.profile else None,
    )
    configs = [base]
    if args.compare:
        known = standard_configs(base)
        names = [n.strip() for n in args.compare.split(",") if n.strip()]
        unknown = [n for n in names if n not in known]
        if unknown:
            print(
                f"error: unknown configuration {unknown[0]!r}; known: {', '.join(known)}",
                file=sys.stderr,
            )
            return 2
        configs = [known[n] for n in names]
    configs = configs * max(1, args.repeat)
    questions = _load_questions(args.questions)
    results: list[RunResult] = []
    with contextlib.ExitStack() as stack:
        index_dir = args.index
        if index_dir is None:
            index_dir = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "index"
            print(f"Building an index of {args.corpus} in {index_dir} …", file=sys.stderr)
            _build_index(args.corpus, index_dir)
        for config in configs:
            if args.wait_idle > 0:
                wait_until_idle(0.3, args.wait_idle)
            print(f"Running: {config.label} …", file=sys.stderr)
            result = asyncio.run(
                run_once(
                    config,
                    index_dir,
                    rate=args.rate,
                    duration=args.duration,
                    warmup=args.warmup,
                    chats=args.chats,
                    questions=questions,
                )
            )
            results.append(result)
            print(results_table([result]).splitlines()[-1], file=sys.stderr)
    print(
        f"\nLoad: {args.rate:g} questions/s for {args.duration:g} s from {args.chats} private "
        f"chats ({len(questions)} distinct questions), after {args.warmup:g} s of warm-up; "
        f"{os.cpu_count()} CPU cores. End-to-end = update available to getUpdates -> matching "
        "sendMessage at the fake server.\n"
    )
    print(results_table(results))
    if args.repeat > 1:
        print("\nMedians over the repeated runs:\n")
        print(summary_table(results))
    print("\nFloor, measured in the bot process of each run before the load:\n")
    print(floor_table(results))
    if args.json:
        payload = [
            {
                **asdict(r),
                "p50": percentile(r.latencies_ms, 50),
                "p95": percentile(r.latencies_ms, 95),
            }
            for r in results
        ]
        args.json.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    if args.profile:
        _print_profiles(args.profile)
    lost = sum(r.lost for r in results)
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
