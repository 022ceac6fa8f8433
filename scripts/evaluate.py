#!/usr/bin/env python3
"""Measure answer quality: ``python -m scripts.evaluate --gold FILE`` or ``--squad FILE``.

* ``--gold FILE`` (JSONL ``{"question", "answers": [substrings]}``; empty answers: must
  decline), answered from ``--index DIR`` or from a temporary index of ``--corpus DIR``. Lines
  with a ``conversation`` key are also asked as conversations (each turn a possible follow-up
  of the one before, as ``scripts/ask.py --batch`` does): follow-up accuracy is the share of
  turns whose top quote holds the fact, reported beside the same questions asked alone.
* ``--squad FILE`` (SQuAD JSON): its contexts are indexed into a temporary index, one article
  per title, paragraphs separated by blank lines, and every answerable question is asked.
  Off-topic questions are made by asking each article's questions of an index without that
  article; they measure refusal.

Reported for the bot and, from the same run, for BM25-only, dense-only and the standard
recipe (both fused by reciprocal rank, k=60): top-1 answer-in-quote accuracy, any-of-top-3,
refusal precision and recall, recall@k of the answering sentence, latency p50/p95. A Markdown
report and a PNG plot (accuracy and refusal against the threshold) go to ``--reports``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from index import QA
from index.config import IndexSettings
from index.errors import describe
from index.store import Embedder, make_embedder
from index.types import NewsQuoteError
from scripts.evaluation import (
    GoldQuestion,
    Record,
    Turn,
    ask_all,
    ask_conversations,
    build_temp_index,
    contains,
    followup_metrics,
    load_gold,
    load_squad,
    metrics,
    sign_test,
    threshold_curve,
    top1_flags,
)
from scripts.pools import spread

logger = logging.getLogger("scripts.evaluate")

THRESHOLDS = [round(0.02 * i, 2) for i in range(0, 51)]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="evaluate", description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--gold", type=Path, help="gold questions (JSONL)")
    source.add_argument("--squad", type=Path, help="a SQuAD-format JSON file")
    parser.add_argument("--index", type=Path, help="answer --gold from this index")
    parser.add_argument("--corpus", type=Path, help="answer --gold from a temporary index of this")
    parser.add_argument("--reports", type=Path, default=Path("reports"), help="report folder")
    parser.add_argument("--name", help="report name (default: from the input file)")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.add_argument(
        "--off-topic",
        type=int,
        default=6,
        help="SQuAD: ask this many articles' questions of an index without them (each needs an "
        "index of its own)",
    )
    parser.add_argument(
        "--no-baseline",
        action="store_true",
        help="do not also ask the ranker alone (the system before the reader)",
    )
    return parser.parse_args(argv)


def run_gold(
    args: argparse.Namespace, workdir: Path, embedder: Embedder, reader: bool = True
) -> tuple[list[Record], list[Turn]]:
    """Records of the gold questions asked alone, and turns of those asked in conversation
    (``reader``: the system as shipped; else the ranker alone)."""
    questions = load_gold(args.gold)
    if args.corpus is not None:
        from index.corpus import load_corpus

        articles = load_corpus(args.corpus).articles
        settings = build_temp_index(articles, workdir, "gold", embedder)  # kept for a rerun
    else:
        overrides: dict[str, Any] = {"index_dir": args.index} if args.index else {}
        settings = IndexSettings(**overrides)
    qa = QA(settings.model_copy(update={"reader": reader}), embedder=embedder)
    records = ask_all(qa, questions)
    talked = [q for q in questions if q.conversation is not None]
    return records, ask_conversations(qa, talked) if talked else []


def run_squad(
    args: argparse.Namespace, workdir: Path, embedder: Embedder, reader: bool = True
) -> tuple[list[Record], list[Record], list[Record]]:
    """Records of the answerable questions, of the same questions asked off-topic (``--off-topic``
    articles, spread over the file, each asked of an index without it), and of the
    unanswerable ("impossible") questions asked of the index with their article."""
    articles, answerable, impossible = load_squad(args.squad)
    settings = build_temp_index(articles, workdir, "all", embedder)

    def qa(settings: IndexSettings) -> QA:
        return QA(settings.model_copy(update={"reader": reader}), embedder=embedder)

    on_topic = ask_all(qa(settings), answerable)
    unanswerable = ask_all(qa(settings), impossible)
    off_topic: list[Record] = []
    for article in spread(articles, args.off_topic) if len(articles) > 1 else []:
        others = [a for a in articles if a.id != article.id]
        without = build_temp_index(others, workdir, f"without-{article.id}", embedder)
        questions = [
            GoldQuestion(g.question, (), g.article) for g in answerable if g.article == article.id
        ]
        off_topic += ask_all(qa(without), questions)
    return on_topic, off_topic, unanswerable


def impossible_metrics(records: Sequence[Record]) -> dict[str, float]:
    """How SQuAD's unanswerable questions were met, asked of the index with their article:
    partial (the asked kind of fact is missing, said so), declined, or answered plainly."""
    n = len(records)
    kinds = [r.answer.kind for r in records]
    return {
        "impossible": float(n),
        "impossible_partial": kinds.count("partial") / n if n else 0.0,
        "impossible_refused": kinds.count("refusal") / n if n else 0.0,
    }


def report_markdown(
    name: str, m: dict[str, Any], curve: list[dict[str, float]], threshold: float
) -> str:
    rows = [
        ("NewsQuote (hybrid, context, learned)", m["top1"], m["top3"]),
        ("BM25 only", m["bm25_top1"], m["bm25_top3"]),
        ("dense only (MiniLM + chroma)", m["dense_top1"], m["dense_top3"]),
        ("BM25 + dense, RRF k=60", m["rrf_top1"], m["rrf_top3"]),
    ]
    lines = [
        f"# Evaluation: {name}",
        "",
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; threshold {threshold:.2f}; "
        f"{m['answerable']} answerable and {m['declinable']} must-decline questions.",
        "",
        "| system | top-1 | any of top-3 |",
        "|---|---|---|",
        *[f"| {n} | {a:.3f} | {b:.3f} |" for n, a, b in rows],
        "",
        "| measure | value |",
        "|---|---|",
        f"| answered (answerable questions) | {m['answered']:.3f} |",
        f"| refusal precision | {m['refusal_precision']:.3f} |",
        f"| refusal recall | {m['refusal_recall']:.3f} |",
        f"| partial (answerable questions: wrongly) | {m['partial_answerable']:.3f} |",
        f"| partial or declined (must-decline questions) | {m['partial_or_refused']:.3f} |",
        *_impossible_rows(m),
        *[f"| {k} of the answering sentence | {m[k]:.3f} |" for k in m if k.startswith("recall@")],
        f"| latency p50 | {m['latency_p50_ms']:.1f} ms |",
        f"| latency p95 | {m['latency_p95_ms']:.1f} ms |",
        "",
        *baseline_markdown(m),
        "Threshold sweep (accuracy: top quote right and shown; refusal: must-decline declined):",
        "",
        "| threshold | accuracy | answered | refusal recall |",
        "|---|---|---|---|",
        *[
            f"| {c['threshold']:.2f} | {c['accuracy']:.3f} | {c['answered']:.3f} | "
            f"{c['refusal_recall']:.3f} |"
            for c in curve
            if round(c["threshold"] * 100) % 10 == 0
        ],
        "",
    ]
    return "\n".join(lines)


def baseline_markdown(m: dict[str, Any]) -> list[str]:
    """The system as shipped beside the ranker alone (the bot before the reader)."""
    base = m.get("baseline")
    if not base:
        return []
    names = {
        "top1": "top-1",
        "top3": "any of top-3",
        "answered": "answered (answerable)",
        "refusal_recall": "declined (must decline)",
        "partial_answerable": "partial (answerable: wrongly)",
        "partial_or_refused": "partial or declined (must decline)",
        "impossible_partial": "unanswerable: partial",
        "impossible_refused": "unanswerable: declined",
        "followup_accuracy": "follow-up turns right",
        "latency_p50_ms": "latency p50 (ms)",
        "latency_p95_ms": "latency p95 (ms)",
    }
    rows = [
        f"| {label} | {m[key]:.3f} | {base[key]:.3f} |"
        for key, label in names.items()
        if key in base and key in m
    ]
    test = m["sign_test"]
    return [
        "The ranker alone (`READER=false`, the bot before the reader) on the same questions:",
        "",
        "| measure | as shipped | ranker alone |",
        "|---|---:|---:|",
        *rows,
        "",
        f"Sign test on top-1: {test['wins']} questions right only as shipped, "
        f"{test['losses']} only with the ranker alone; two-sided p = {test['p']:.2g}.",
        "",
    ]


def _impossible_rows(m: dict[str, Any]) -> list[str]:
    if not m.get("impossible"):
        return []
    return [
        f"| on-topic unanswerable (SQuAD impossible, {m['impossible']:.0f}): partial | "
        f"{m['impossible_partial']:.3f} |",
        f"| ... declined | {m['impossible_refused']:.3f} |",
    ]


def misses_markdown(records: Sequence[Record], limit: int = 40) -> list[str]:
    """The questions the bot got wrong: what it quoted first, or what it should have declined."""
    wrong = []
    for r in records:
        shown = [q.text for q in r.answer.quotes]
        if r.gold.answerable:
            if shown and contains(shown[0], r.gold.answers):
                continue
            later = next((i for i, t in enumerate(shown) if contains(t, r.gold.answers)), None)
            if not shown:
                got = "declined"
            elif later is not None:
                got = f"right quote is quote {later + 1} of {len(shown)}; first: {_cell(shown[0])}"
            else:
                got = f"first: {_cell(shown[0])}"
            wrong.append(f"| {_cell(r.gold.question)} | {_cell(r.gold.answers[0])} | {got} |")
        elif r.answer.answered:
            how = "partial (said so)" if r.answer.kind == "partial" else "answered"
            wrong.append(
                f"| {_cell(r.gold.question)} | (must decline) | {how}: {_cell(shown[0])} |"
            )
    if not wrong:
        return ["No misses.", ""]
    lines = [
        f"Misses ({len(wrong)}):",
        "",
        "| question | a gold answer | what the bot did |",
        "|---|---|---|",
        *wrong[:limit],
    ]
    if len(wrong) > limit:
        lines.append(f"| … and {len(wrong) - limit} more | | |")
    return [*lines, ""]


def _cell(text: str, width: int = 140) -> str:
    """Text for one Markdown table cell: one line, pipes escaped, shortened."""
    flat = " ".join(text.split()).replace("|", "\\|")
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def plot(curve: list[dict[str, float]], threshold: float, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [c["threshold"] for c in curve]
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=110)
    ax.plot(xs, [c["accuracy"] for c in curve], label="answered correctly")
    ax.plot(xs, [c["answered"] for c in curve], label="answered", linestyle=":")
    ax.plot(xs, [c["refusal_recall"] for c in curve], label="off-topic declined")
    ax.axvline(threshold, color="grey", linestyle="--", label=f"default {threshold:.2f}")
    ax.set_xlabel("answer threshold (ranker confidence)")
    ax.set_ylabel("share of questions")
    ax.set_ylim(0, 1.02)
    ax.set_title(title)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def followup_markdown(m: dict[str, Any], turns: Sequence[Turn]) -> list[str]:
    """The conversations section: follow-up accuracy and the turns that went wrong."""
    lines = [
        "## Conversations",
        "",
        f"Follow-up accuracy: {m['followup_right']}/{m['followup_turns']} turns "
        f"({m['followup_accuracy']:.3f}) asked in their conversations, against "
        f"{m['followup_alone_accuracy']:.3f} for the same questions asked alone; "
        f"{m['followup_reworded']} turns were read as follow-ups "
        f"({m['followup_reworded_right']} right). Latency p50/p95 "
        f"{m['followup_latency_p50_ms']:.1f}/{m['followup_latency_p95_ms']:.1f} ms.",
        "",
    ]
    wrong = [t for t in turns if t.gold.conversation is not None and not t.right]
    if wrong:
        lines += ["| conversation | question | read as | top quote |", "|---|---|---|---|"]
        for t in wrong:
            top = t.answer.quotes[0].text if t.answer.quotes else f"({t.answer.kind})"
            read = t.answer.resolved or ""
            lines.append(
                f"| {_cell(t.gold.conversation or '')} | {_cell(t.gold.question)} | "
                f"{_cell(read)} | {_cell(top)} |"
            )
        lines.append("")
    return lines


def print_summary(name: str, m: dict[str, Any]) -> None:
    print(f"{name}:")
    print(
        f"  top-1 {m['top1']:.3f}  top-3 {m['top3']:.3f}  answered {m['answered']:.3f}  "
        f"refusal P {m['refusal_precision']:.3f} R {m['refusal_recall']:.3f}"
    )
    recalls = "  ".join(f"{k} {m[k]:.3f}" for k in m if k.startswith("recall@"))
    print(f"  {recalls}")
    print(
        f"  baselines top-1/top-3: BM25 {m['bm25_top1']:.3f}/{m['bm25_top3']:.3f}  dense "
        f"{m['dense_top1']:.3f}/{m['dense_top3']:.3f}  RRF {m['rrf_top1']:.3f}/{m['rrf_top3']:.3f}"
    )
    print(
        f"  partial: answerable {m['partial_answerable']:.3f}; must-decline partial or declined "
        f"{m['partial_or_refused']:.3f}"
    )
    if m.get("impossible"):
        print(
            f"  SQuAD impossible ({m['impossible']:.0f}, own article indexed): partial "
            f"{m['impossible_partial']:.3f}, declined {m['impossible_refused']:.3f}"
        )
    print(f"  latency p50 {m['latency_p50_ms']:.1f} ms  p95 {m['latency_p95_ms']:.1f} ms")
    if "baseline" in m:
        base, test = m["baseline"], m["sign_test"]
        print(
            f"  ranker alone: top-1 {base['top1']:.3f}  top-3 {base['top3']:.3f}; sign test on "
            f"top-1: {test['wins']} wins, {test['losses']} losses, p={test['p']:.2g}"
        )
    if "followup_accuracy" in m:
        print(
            f"  follow-ups: {m['followup_right']}/{m['followup_turns']} turns right "
            f"({m['followup_accuracy']:.3f}); asked alone {m['followup_alone_accuracy']:.3f}; "
            f"{m['followup_reworded']} read as follow-ups"
        )


COMPARED = (
    "top1",
    "top3",
    "answered",
    "refusal_recall",
    "partial_answerable",
    "partial_or_refused",
    "impossible_partial",
    "impossible_refused",
    "followup_accuracy",
    "latency_p50_ms",
    "latency_p95_ms",
)
"""What the report shows for the ranker alone beside the system as shipped."""


def run(
    args: argparse.Namespace, workdir: Path, embedder: Embedder, *, reader: bool
) -> tuple[list[Record], dict[str, Any], list[Turn]]:
    """Ask every question of ``args`` (with the reader, or the ranker alone): the records of
    the questions asked alone, their metrics, and the conversation turns."""
    turns: list[Turn] = []
    if args.gold:
        records, turns = run_gold(args, workdir, embedder, reader)
        m = metrics(records)
    else:
        on_topic, off_topic, unanswerable = run_squad(args, workdir, embedder, reader)
        records = on_topic + off_topic
        m = metrics(records) | impossible_metrics(unanswerable)
    if turns:
        m |= followup_metrics(turns, records)
    return records, m, turns


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    source = args.gold or args.squad
    name = args.name or Path(source).stem
    try:
        embedder = make_embedder(IndexSettings().embedding_model)
        with tempfile.TemporaryDirectory(prefix="newsquote-eval-") as tmp:
            records, m, turns = run(args, Path(tmp), embedder, reader=True)
            if not args.no_baseline:
                base_records, base, _ = run(args, Path(tmp), embedder, reader=False)
                m["baseline"] = {k: base[k] for k in COMPARED if k in base}
                wins, losses, p = sign_test(top1_flags(records), top1_flags(base_records))
                m["sign_test"] = {"wins": wins, "losses": losses, "p": p}
            curve = threshold_curve(records, THRESHOLDS)
    except (ValidationError, NewsQuoteError, OSError, ValueError) as exc:
        failure = describe(exc)
        print(failure.message, file=sys.stderr)
        return failure.status
    args.reports.mkdir(parents=True, exist_ok=True)
    threshold = default_threshold()
    markdown = report_markdown(name, m, curve, threshold)
    if turns:
        markdown += "\n" + "\n".join(followup_markdown(m, turns))
    markdown += "\n" + "\n".join(misses_markdown(records))
    (args.reports / f"{name}.md").write_text(markdown, encoding="utf-8")
    plot(curve, threshold, args.reports / f"{name}.png", f"Threshold sweep: {name}")
    (args.reports / f"{name}.json").write_text(json.dumps(m, indent=1), encoding="utf-8")
    if args.json:
        print(json.dumps(m, indent=1))
    else:
        print_summary(name, m)
        print(f"  report: {args.reports / (name + '.md')}, plot: {args.reports / (name + '.png')}")
    return 0


def default_threshold() -> float:
    """The answer threshold the bot uses (ANSWER_MIN_CONFIDENCE, else the trained one)."""
    from index.rank import Ranker

    value = IndexSettings().answer_min_confidence
    return value if value is not None else (Ranker.load().threshold or 0.5)


if __name__ == "__main__":
    sys.exit(main())
