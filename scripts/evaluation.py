"""Measuring answer quality: gold data, temporary indexes, metrics.

Used by ``scripts/evaluate.py``, ``scripts/train_ranker.py``, the benchmarks and the tests;
nothing in the bot imports it.

Gold data comes in two shapes: a JSONL file of ``{"question", "answers": [substrings]}``
(an empty list means the bot must decline), and a SQuAD-format JSON file whose contexts are
indexed as one article per title, paragraphs separated by blank lines.
"""

from __future__ import annotations

import json
import math
import re
import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index import QA
from index.config import IndexSettings
from index.corpus import normalise_question
from index.dialogue import Conversation
from index.rank import Pool
from index.store import Embedder, Snapshot, build_index
from index.types import SEARCHED, Answer, Article


@dataclass(frozen=True, slots=True)
class GoldQuestion:
    """A question and the substrings a correct quote contains (none: must decline)."""

    question: str
    answers: tuple[str, ...]
    article: str | None = None  # the article (SQuAD title) the question was written for
    conversation: str | None = None  # questions with the same key are asked as one chat

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def load_gold(path: Path) -> list[GoldQuestion]:
    """Read a gold JSONL file."""
    out = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if "question" not in row:
                raise ValueError(f"{path}:{n}: no 'question' field")
            key = row.get("conversation")
            out.append(
                GoldQuestion(
                    str(row["question"]),
                    tuple(row.get("answers") or ()),
                    conversation=None if key is None else str(key),
                )
            )
    return out


def slug(title: str) -> str:
    """An article id from a title."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "article"


def load_squad(path: Path) -> tuple[list[Article], list[GoldQuestion], list[GoldQuestion]]:
    """Articles (one per title), answerable questions, and unanswerable ones."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    articles: list[Article] = []
    answerable: list[GoldQuestion] = []
    impossible: list[GoldQuestion] = []
    for item in data["data"]:
        title = str(item["title"])
        article_id = slug(title)
        contexts = [p["context"].strip() for p in item["paragraphs"]]
        articles.append(
            Article(id=article_id, title=title.replace("_", " "), body="\n\n".join(contexts))
        )
        for paragraph in item["paragraphs"]:
            for qa in paragraph["qas"]:
                answers = tuple(dict.fromkeys(a["text"] for a in qa.get("answers", [])))
                if qa.get("is_impossible") or not answers:
                    impossible.append(GoldQuestion(qa["question"], (), article_id))
                else:
                    answerable.append(GoldQuestion(qa["question"], answers, article_id))
    return articles, answerable, impossible


def write_corpus(articles: Iterable[Article], folder: Path) -> Path:
    """Write articles as one JSONL corpus file in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "articles.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        for a in articles:
            row = {"id": a.id, "title": a.title, "text": a.body}
            row.update({k: v for k in ("url", "published", "source") if (v := getattr(a, k))})
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return folder


def build_temp_index(
    articles: Sequence[Article], workdir: Path, name: str, embedder: Embedder, **overrides: Any
) -> IndexSettings:
    """Index ``articles`` under ``workdir/name`` and return settings that open it."""
    corpus = write_corpus(articles, workdir / name / "corpus")
    settings = IndexSettings(corpus_dir=corpus, index_dir=workdir / name / "index", **overrides)
    build_index(settings, embedder=embedder)
    return settings


def contains(text: str, answers: Sequence[str]) -> bool:
    """Whether ``text`` contains one of ``answers`` (case-insensitive)."""
    low = text.lower()
    return any(a.lower() in low for a in answers if a)


@dataclass
class Record:
    """One question asked: the answer, the scored candidates, and the time it took."""

    gold: GoldQuestion
    answer: Answer
    pool: Pool | None
    seconds: float
    snapshot: Snapshot | None = field(default=None, repr=False)
    top_text: str = ""  # what the top quote is (or would be, had the answer not been declined)

    def quote_texts(self) -> list[str]:
        return [q.text for q in self.answer.quotes]

    def rows_text(self, rows: Sequence[int] | np.ndarray) -> list[str]:
        assert self.snapshot is not None
        return [self.snapshot.text(int(r)) for r in rows]

    def top_score(self) -> float:
        if self.pool is None or len(self.pool.scores) == 0:
            return 0.0
        return float(self.pool.scores.max())


def ask_all(qa: QA, questions: Sequence[GoldQuestion]) -> list[Record]:
    """Ask every question through ``qa.answer`` and keep the candidates for the metrics."""
    records = []
    snapshot = qa.snapshot()
    for gold in questions:
        started = time.perf_counter()
        answer = qa.answer(gold.question)
        seconds = time.perf_counter() - started
        pool = None
        top_text = answer.quotes[0].text if answer.quotes else ""
        if answer.kind in SEARCHED:
            pool = qa.candidates(normalise_question(gold.question), snapshot)
            if not top_text and len(pool.rows):
                lo, hi = qa.quote_rows(snapshot, int(pool.ranked()[0]), pool.query)
                top_text = snapshot.span_text(lo, hi)
        records.append(Record(gold, answer, pool, seconds, snapshot, top_text))
    return records


def percentile(values: Sequence[float] | np.ndarray, q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, interpolating linearly between the two
    nearest ranks (numpy's default); NaN when there are no values.

    The one percentile of the evaluation and the benchmarks. A percentile of nothing is not a
    number: 0 would pass for a real (and flattering) latency, so reports show NaN as such.
    """
    if len(values) == 0:
        return math.nan
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def rrf_order(pool: Pool, k: int = 60) -> np.ndarray:
    """Rows fused by reciprocal rank from the dense and BM25 lists (the standard recipe)."""
    scores: dict[int, float] = {}
    for order in (pool.dense_order, pool.bm25_order):
        for rank, row in enumerate(order.tolist()):
            scores[row] = scores.get(row, 0.0) + 1.0 / (k + rank + 1)
    return np.asarray(sorted(scores, key=lambda r: -scores[r]), dtype=np.int64)


def metrics(records: Sequence[Record], ks: Sequence[int] = (1, 3, 5, 10)) -> dict[str, Any]:
    """Accuracy, refusal, recall@k and latency for the bot and for the baselines."""
    answerable = [r for r in records if r.gold.answerable]
    declinable = [r for r in records if not r.gold.answerable]
    out: dict[str, Any] = {"questions": len(records), "answerable": len(answerable)}

    def share(flags: Iterable[bool], n: int) -> float:
        return sum(flags) / n if n else 0.0

    n = len(answerable)
    out["top1"] = share(
        (contains(" ".join(r.quote_texts()[:1]), r.gold.answers) for r in answerable), n
    )
    out["top3"] = share(
        (any(contains(t, r.gold.answers) for t in r.quote_texts()[:3]) for r in answerable), n
    )
    out["answered"] = share((r.answer.answered for r in answerable), n)
    declined = [r for r in records if not r.answer.answered]
    out["refusal_precision"] = (
        share((not r.gold.answerable for r in declined), len(declined)) if declined else 1.0
    )
    out["refusal_recall"] = share((not r.answer.answered for r in declinable), len(declinable))
    out["declinable"] = len(declinable)
    # partial: the asked kind of fact is missing from every quote (right for a question the
    # coverage cannot answer, wrong for one it can)
    out["partial_answerable"] = share((r.answer.kind == "partial" for r in answerable), n)
    out["partial_declinable"] = share(
        (r.answer.kind == "partial" for r in declinable), len(declinable)
    )
    out["partial_or_refused"] = share(
        (r.answer.kind in ("partial", "refusal") for r in declinable), len(declinable)
    )
    ranked = [(r, r.pool.ranked()) for r in answerable if r.pool is not None]
    for k in ks:
        out[f"recall@{k}"] = share(
            (any(contains(t, r.gold.answers) for t in r.rows_text(rows[:k])) for r, rows in ranked),
            n,
        )
    for name, pick in (
        ("bm25", lambda p: p.bm25_order),
        ("dense", lambda p: p.dense_order),
        ("rrf", rrf_order),
    ):
        orders = [(r, pick(r.pool)) for r in answerable if r.pool is not None]
        out[f"{name}_top1"] = share(
            (any(contains(t, r.gold.answers) for t in r.rows_text(o[:1])) for r, o in orders), n
        )
        out[f"{name}_top3"] = share(
            (any(contains(t, r.gold.answers) for t in r.rows_text(o[:3])) for r, o in orders), n
        )
    latencies = [r.seconds * 1000 for r in records if r.answer.kind in SEARCHED]
    out["latency_p50_ms"] = percentile(latencies, 50)
    out["latency_p95_ms"] = percentile(latencies, 95)
    out["latency_mean_ms"] = statistics.fmean(latencies) if latencies else math.nan
    return out


def top1_flags(records: Sequence[Record]) -> list[bool]:
    """Per answerable question: whether the first quote holds a gold answer."""
    return [
        contains(" ".join(r.quote_texts()[:1]), r.gold.answers)
        for r in records
        if r.gold.answerable
    ]


def sign_test(a: Sequence[bool], b: Sequence[bool]) -> tuple[int, int, float]:
    """The questions only ``a`` gets right, those only ``b`` gets right, and the two-sided
    p-value of the exact sign test on them (the ties tell nothing)."""
    wins = sum(x and not y for x, y in zip(a, b, strict=True))
    losses = sum(y and not x for x, y in zip(a, b, strict=True))
    n = wins + losses
    if n == 0:
        return 0, 0, 1.0
    tail = sum(math.comb(n, i) for i in range(min(wins, losses) + 1)) / 2**n
    return wins, losses, min(1.0, 2 * tail)


def threshold_curve(
    records: Sequence[Record], thresholds: Sequence[float]
) -> list[dict[str, float]]:
    """Answer accuracy and refusal recall if the threshold were each of ``thresholds``.

    The top quote does not depend on the threshold, only whether it is shown, so the curve is
    computed from the recorded scores without asking again.
    """
    answerable = [r for r in records if r.gold.answerable and r.pool is not None]
    declinable = [r for r in records if not r.gold.answerable and r.pool is not None]
    curve = []
    for t in thresholds:
        correct = sum(
            1 for r in answerable if r.top_score() >= t and contains(r.top_text, r.gold.answers)
        )
        answered = sum(1 for r in answerable if r.top_score() >= t)
        refused = sum(1 for r in declinable if r.top_score() < t)
        curve.append(
            {
                "threshold": t,
                "accuracy": correct / len(answerable) if answerable else 0.0,
                "answered": answered / len(answerable) if answerable else 0.0,
                "refusal_recall": refused / len(declinable) if declinable else 0.0,
            }
        )
    return curve


@dataclass(frozen=True, slots=True)
class Turn:
    """One question of a gold conversation, answered in its conversation."""

    gold: GoldQuestion
    answer: Answer
    seconds: float

    @property
    def right(self) -> bool:
        """The top quote holds the fact (an empty gold list: the answer declines)."""
        if not self.gold.answerable:
            return not self.answer.answered
        return bool(self.answer.quotes) and contains(self.answer.quotes[0].text, self.gold.answers)


def ask_conversations(qa: QA, questions: Sequence[GoldQuestion]) -> list[Turn]:
    """Ask every question in order, those with the same ``conversation`` key as one chat
    (each a possible follow-up of the one before), the others on their own."""
    chats: dict[str, Conversation] = {}
    turns = []
    for gold in questions:
        chat = (
            None
            if gold.conversation is None
            else chats.setdefault(gold.conversation, Conversation())
        )
        started = time.perf_counter()
        answer = qa.answer(gold.question, chat)
        turns.append(Turn(gold, answer, time.perf_counter() - started))
    return turns


def followup_metrics(turns: Sequence[Turn], alone: Sequence[Record]) -> dict[str, Any]:
    """Follow-up accuracy: the share of conversation turns whose top quote holds the fact,
    beside the same questions asked on their own (``alone``, from :func:`ask_all`), and the
    turns that were read as follow-ups (reworded)."""
    asked = [t for t in turns if t.gold.conversation is not None]
    by_question = {id(r.gold): r for r in alone}
    alone_right = [r for t in asked if (r := by_question.get(id(t.gold))) is not None and _right(r)]
    reworded = [t for t in asked if t.answer.resolved is not None]
    seconds = [t.seconds * 1000 for t in asked]
    return {
        "followup_turns": len(asked),
        "followup_right": sum(t.right for t in asked),
        "followup_accuracy": sum(t.right for t in asked) / len(asked) if asked else float("nan"),
        "followup_alone_accuracy": len(alone_right) / len(asked) if asked else float("nan"),
        "followup_reworded": len(reworded),
        "followup_reworded_right": sum(t.right for t in reworded),
        "followup_latency_p50_ms": percentile(seconds, 50),
        "followup_latency_p95_ms": percentile(seconds, 95),
    }


def _right(record: Record) -> bool:
    if not record.gold.answerable:
        return not record.answer.answered
    texts = record.quote_texts()
    return bool(texts) and contains(texts[0], record.gold.answers)
