#!/usr/bin/env python3
"""Benchmark ``answer()`` against its floor: ``python -m benchmarks.bench_answer``.

The floor of a question is one query embedding plus one chroma top-k query, the least any
dense retrieval must do. For each question, in the same run and interleaved (so machine noise
hits both alike), the script times the floor and then ``QA.answer``; it prints p50/p95 of both,
their ratios (goals: p50 <= 4x, p95 <= 6x with the reader) and where ``answer()`` spends its
time.

Questions: the seed gold questions on the seed corpus and the SQuAD dev questions on a
temporary index of their contexts (each asked ``--rounds`` times). ``--curve`` also times the
SQuAD questions with the reader reading k = 0 (the ranker alone), 4, 6, 8, 12 candidates, and
with the shipped k under a few skip rules, each with its top-1: the curve the shipped k and
skip rule were chosen from.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from index import QA
from index.config import IndexSettings
from index.rank import Reranker
from index.store import Embedder, build_index, make_embedder
from scripts.evaluation import (
    GoldQuestion,
    build_temp_index,
    contains,
    load_gold,
    load_squad,
    percentile,
)

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "data" / "eval"


def measure(
    qa: QA, questions: list[str], rounds: int, k: int, gold: Sequence[GoldQuestion] = ()
) -> dict[str, list[float]]:
    """Interleaved timings (ms) of the floor and of answer() for every question."""
    snap = qa.snapshot()
    embedder = qa.embedder
    by_text = {g.question: g for g in gold}
    out: dict[str, list[float]] = {"floor": [], "answer": []}
    stages: dict[str, list[float]] = {}
    for q in questions[:5]:  # warm up caches and the model
        qa.answer(q)
    for _ in range(rounds):
        for q in questions:
            t0 = time.perf_counter()
            vector = embedder.embed_query(q)
            snap.collection.query(query_embeddings=[vector.tolist()], n_results=k)
            t1 = time.perf_counter()
            answer = qa.answer(q)
            t2 = time.perf_counter()
            out["floor"].append((t1 - t0) * 1000)
            out["answer"].append((t2 - t1) * 1000)
            if gold:
                top = answer.quotes[0].text if answer.quotes else ""
                out.setdefault("right", []).append(float(contains(top, by_text[q].answers)))
            for stage, seconds in answer.timings.items():
                stages.setdefault(stage, []).append(seconds * 1000)
    out.update({f"stage:{k}": v for k, v in stages.items()})
    return out


def report(name: str, t: dict[str, list[float]]) -> list[str]:
    p = {key: (percentile(v, 50), percentile(v, 95)) for key, v in t.items()}
    f50, f95 = p["floor"]
    a50, a95 = p["answer"]
    lines = [
        f"| {name} | {len(t['answer'])} | {f50:.1f} / {f95:.1f} | {a50:.1f} / {a95:.1f} "
        f"| {a50 / f50:.2f} | {a95 / f95:.2f} |"
    ]
    stages = ", ".join(
        f"{key.split(':', 1)[1]} {v[0]:.1f}" for key, v in p.items() if key.startswith("stage:")
    )
    lines.append(f"|  | stage p50 (ms): {stages} | | | | |")
    return lines


SKIP_RULES = ((0.9, 0.5), (0.8, 0.4), (0.7, 0.3))


def curve(
    squad: IndexSettings, embedder: Embedder, gold: Sequence[GoldQuestion], rounds: int, k: int
) -> list[str]:
    """Latency and top-1 of the SQuAD questions for each k the reader reads, and for the
    shipped k under each skip rule."""
    rows = ["| reader | p50 / p95 (ms) | ratio p50 / p95 | top-1 |", "|---|---|---|---|"]
    if not Reranker.available():
        return ["(no reader shipped: no curve)"]
    shipped = Reranker.load()
    variants: list[tuple[str, Reranker | None]] = [("none (the ranker alone)", None)]
    for top_k in (4, 6, 8, 12):
        fusion = replace(shipped.fusion, top_k=top_k, skip_above=1.0, skip_margin=1.0)
        variants.append((f"k={top_k}, never skipped", replace(shipped, fusion=fusion)))
    for above, margin in SKIP_RULES:
        fusion = replace(shipped.fusion, skip_above=above, skip_margin=margin)
        name = f"k={fusion.top_k}, skipped above {above} by {margin}"
        variants.append((name, replace(shipped, fusion=fusion)))
    questions = [g.question for g in gold]
    for name, reranker in variants:
        qa = QA(squad.model_copy(update={"reader": reranker is not None}), embedder=embedder)
        qa.reranker = reranker
        t = measure(qa, questions, rounds, k, gold)
        f50, f95 = percentile(t["floor"], 50), percentile(t["floor"], 95)
        a50, a95 = percentile(t["answer"], 50), percentile(t["answer"], 95)
        right = sum(t["right"]) / len(t["right"])
        rows.append(
            f"| {name} | {a50:.1f} / {a95:.1f} | {a50 / f50:.2f} / {a95 / f95:.2f} | {right:.3f} |"
        )
        qa.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="times each question is asked")
    parser.add_argument("--k", type=int, default=5, help="top-k of the floor's chroma query")
    parser.add_argument("--curve", action="store_true", help="also the curve of the reader's k")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    embedder = make_embedder("all-MiniLM-L6-v2", threads=IndexSettings().query_threads)
    rows = [
        "| corpus | answers | floor p50 / p95 (ms) | answer() p50 / p95 (ms) | p50 ratio "
        "| p95 ratio |",
        "|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory(prefix="newsquote-bench-") as tmp:
        seed = IndexSettings(corpus_dir=ROOT / "data" / "articles", index_dir=Path(tmp) / "seed")
        build_index(seed, embedder=embedder)
        seed_questions = [g.question for g in load_gold(EVAL / "seed_questions.jsonl")]
        rows += report(
            "seed articles",
            measure(QA(seed, embedder=embedder), seed_questions, args.rounds * 5, args.k),
        )
        articles, answerable, _ = load_squad(EVAL / "squad2_dev_subset.json")
        squad = build_temp_index(articles, Path(tmp), "squad", embedder)
        rows += report(
            "SQuAD dev subset",
            measure(
                QA(squad, embedder=embedder), [g.question for g in answerable], args.rounds, args.k
            ),
        )
        if args.curve:
            rows += ["", *curve(squad, embedder, answerable, 1, args.k)]
    print("\n".join(rows))
    print(
        "\nGoals: answer() p50 <= 4x and p95 <= 6x the floor (one query embedding + one "
        f"chroma top-{args.k} query), measured interleaved in this run."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
