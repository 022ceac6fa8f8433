#!/usr/bin/env python3
"""Time to the first answer after start: ``python -m benchmarks.bench_first_answer``.

Starts the real bot process (``python -m bot``) against the fake Bot API on 127.0.0.1, with
an index of the seed articles and the real model, ``--starts`` times. In each start:

1. a question is sent while the bot is still starting: it waits, and is the first answered
   once the bot is ready (before the bot warmed up, that answer loaded the models);
2. when the bot is ready (it sets its command menu, the last step before it takes updates),
   one question is sent and its answer timed: the *first answer*;
3. then ``--questions`` more are sent one after another and timed.

It prints the seconds from the process start to ready and to the first answer, and the first
answer's latency against the median of the later ones (the goal: the first answer takes as
long as the hundredth). A latency is from the update being offered to the bot to the answer
arriving at the Bot API. On a shared machine single figures vary; compare ratios within a run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

from index.config import IndexSettings
from index.store import build_index, make_embedder
from scripts.evaluation import load_gold, percentile
from testkit import OFFLINE
from testkit.first_answer import ROOT, Start, one_start


def seed_index(workdir: Path) -> Path:
    """The seed articles indexed with the real model under ``workdir``."""
    settings = IndexSettings(corpus_dir=ROOT / "data" / "articles", index_dir=workdir / "index")
    build_index(settings, embedder=make_embedder(settings.embedding_model))
    return settings.index_dir


def report(starts: list[Start]) -> dict[str, float]:
    """The figures over all starts (seconds, and the first/median ratio)."""
    later = [x for s in starts for x in s.later_latencies]
    firsts = [s.first_latency for s in starts]
    median = statistics.median(later)
    return {
        "starts": len(starts),
        "ready_s_median": statistics.median(s.ready for s in starts),
        "early_question_answered_s_median": statistics.median(s.early_answered for s in starts),
        "early_after_ready_ms_max": max(s.early_answered - s.ready for s in starts) * 1000,
        "first_answer_s_median": statistics.median(s.first_answer for s in starts),
        "first_latency_ms_max": max(firsts) * 1000,
        "first_latency_ms_median": statistics.median(firsts) * 1000,
        "later_latency_ms_p50": median * 1000,
        "later_latency_ms_p95": percentile(later, 95) * 1000,
        "first_over_median_worst": max(firsts) / median,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_first_answer", description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=3, help="bot starts (default 3)")
    parser.add_argument("--questions", type=int, default=30, help="answers timed after the first")
    parser.add_argument("--index", type=Path, help="an index to serve (default: the seed articles)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    os.environ.update(OFFLINE)
    questions = [g.question for g in load_gold(ROOT / "data" / "eval" / "seed_questions.jsonl")]
    with tempfile.TemporaryDirectory(prefix="newsquote-first-") as tmp:
        index_dir = args.index or seed_index(Path(tmp))
        starts = [
            asyncio.run(one_start(index_dir, questions, args.questions)) for _ in range(args.starts)
        ]
    figures = report(starts)
    if args.json:
        print(json.dumps(figures, indent=1))
        return 0
    for n, s in enumerate(starts, 1):
        print(
            f"start {n}: ready {s.ready:.1f} s; the question sent while starting answered "
            f"{(s.early_answered - s.ready) * 1000:.0f} ms after ready; "
            f"first answer after ready {s.first_latency * 1000:.0f} ms; later p50 "
            f"{statistics.median(s.later_latencies) * 1000:.0f} ms"
        )
    print(
        f"over {figures['starts']} starts: first answer {figures['first_latency_ms_median']:.0f}"
        f" ms (worst {figures['first_latency_ms_max']:.0f} ms) against a median of "
        f"{figures['later_latency_ms_p50']:.0f} ms (p95 {figures['later_latency_ms_p95']:.0f} "
        f"ms): worst ratio {figures['first_over_median_worst']:.2f}; ready after "
        f"{figures['ready_s_median']:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
