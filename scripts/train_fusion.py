#!/usr/bin/env python3
"""Fit the fusion of the ranker and the reader: ``python -m scripts.train_fusion``.

``make train-fusion`` runs it on the ten SQuAD training articles the reader never saw
(``data/eval/squad2_train_subset.json``, left out of ``scripts/train_reader.py``'s data):

1. every question's candidates are scored by the production ranker, as the bot scores them
   (:mod:`scripts.pools`; indexes and embeddings cached in ``--cache``);
2. the reader reads the ranker's best ``max(--k)`` candidates of each (its logits cached too);
3. for each ``k`` of ``--k``, a logistic model over :data:`index.rank.fusion.FUSION_FEATURES`
   is fitted listwise (the answer sentence first) and calibrated on the top candidate
   (:func:`scripts.train_ranker.fit`'s method), and checked leaving one article out;
4. on ``--dev`` (never fitted on), every ``k`` and a few skip rules are reported against the
   ranker alone, with a sign test, and the answer threshold (below it: ``partial``) is chosen
   there among a few values: the lowest that sends at least ``--hedge`` of the unanswerable
   questions (SQuAD 2.0 ``is_impossible``, asked of the index with their article) to
   ``partial`` or a refusal. That choice is all dev is used for.

It writes ``--out`` (``fusion.json``, beside the shipped reader) unless ``--dry-run``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from index import QA
from index.rank import (
    FUSION_FEATURES,
    MODELS,
    Fusion,
    Ranker,
    Reader,
    Thresholds,
    fusion_features,
    reader_text,
)
from index.store import make_embedder
from scripts.evaluation import build_temp_index, contains, load_squad, sign_test
from scripts.pools import CachedEmbedder, QuestionSet, data_key, spread, squad_sets
from scripts.train_ranker import Group, Scored, collect, fit_scored

logger = logging.getLogger("scripts.train_fusion")

DEFAULT_TRAIN = Path("data/eval/squad2_train_subset.json")
DEFAULT_DEV = Path("../shared/eval/squad2_dev_open.json")
DEFAULT_CACHE = Path("var/train-cache")
KS = (4, 6, 8, 12)
ANSWER_THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(1, 15))
SKIPS = ((1.0, 1.0), (0.9, 0.5), (0.8, 0.4), (0.7, 0.3))
"""(skip_above, skip_margin) rules compared on dev: (1.0, 1.0) never skips."""


@dataclass
class Read:
    """A group with what the reader said of the ranker's best candidates."""

    group: Group
    order: np.ndarray  # positions in the pool, best ranker score first (at most max k)
    logits: np.ndarray  # the reader's, aligned with ``order``
    impossible: bool = False  # a SQuAD 2.0 unanswerable question, asked with its article


class ReaderCache:
    """The reader's logits by (question, sentence), kept in an ``.npz`` per reader model."""

    def __init__(self, reader: Reader, model: Path, cache: Path) -> None:
        digest = hashlib.sha256(model.read_bytes()).hexdigest()[:12]
        self.reader, self.path = reader, cache / f"reader-{digest}.npz"
        self.logits: dict[str, float] = {}
        if self.path.exists():
            with np.load(self.path, allow_pickle=False) as data:
                self.logits = dict(zip(data["keys"].tolist(), data["logits"].tolist(), strict=True))

    @staticmethod
    def key(question: str, text: str) -> str:
        return hashlib.sha1(f"{question}\x00{text}".encode()).hexdigest()

    def score(self, question: str, texts: Sequence[str]) -> np.ndarray:
        keys = [self.key(question, t) for t in texts]
        missing = [i for i, k in enumerate(keys) if k not in self.logits]
        if missing:
            got = self.reader.score(question, [texts[i] for i in missing])
            self.logits.update({keys[i]: float(v) for i, v in zip(missing, got, strict=True)})
        return np.asarray([self.logits[k] for k in keys], dtype=np.float64)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = list(self.logits)
        np.savez(
            self.path, keys=np.asarray(keys), logits=np.asarray([self.logits[k] for k in keys])
        )


def read_groups(
    groups: Sequence[Group], cache: ReaderCache, k: int, context: bool = False
) -> list[Read]:
    """The reader's logits of each group's ``k`` best candidates by the ranker (each read
    alone, or with the sentence it leans on)."""
    out = []
    for n, g in enumerate(groups, 1):
        order = np.argsort(-g.pool.scores, kind="stable")[:k]
        texts = [reader_text(g.snapshot, int(g.pool.rows[i]), context) for i in order]
        out.append(Read(g, order, cache.score(g.pool.query.text, texts)))
        if n % 500 == 0:
            logger.info("read %d of %d questions", n, len(groups))
            cache.save()
    cache.save()
    return out


def fit_fusion(reads: Sequence[Read], k: int, c: float = 1.0) -> Fusion:
    """The fusion of the first ``k`` candidates read, fitted like the ranker (listwise, then
    calibrated on the top candidate)."""
    weights, bias = fit_scored([scored(r, k) for r in reads], c)
    means = np.vstack([fused_x(r, k) for r in reads if len(r.order)]).mean(axis=0)
    by_name = dict(zip(FUSION_FEATURES, means.tolist(), strict=True))
    return Fusion(
        weights,
        bias,
        top_k=k,
        means={"reader": by_name["reader"], "reader_gap": by_name["reader_gap"]},
    )


def scored(r: Read, k: int) -> Scored:
    g, order = r.group, r.order[:k]
    return Scored(
        fused_x(r, k), g.labels[order], g.answerable, [g.texts[i] for i in order], g.answers
    )


def fused_x(r: Read, k: int) -> np.ndarray:
    return fusion_features(r.group.pool.scores[r.order[:k]], r.logits[:k])


def quotes_with(r: Read, fusion: Fusion, thresholds: Thresholds) -> tuple[str, list[str]]:
    """The kind and quotes the bot gives with ``fusion`` (the pool rescored as it would be)."""
    g = r.group
    pool = replace(g.pool)
    k = fusion.top_k
    cached = dict(zip(r.order[:k].tolist(), r.logits[:k].tolist(), strict=True))
    scores, _, _ = fusion.rescore(
        g.pool.scores, lambda positions: np.asarray([cached[p] for p in positions])
    )
    pool.ranker_scores, pool.scores = g.pool.scores, scores
    pool.reader = np.full(len(scores), np.nan)
    pool.reader[r.order[:k]] = r.logits[:k]
    answer = g.qa.compose(g.gold.question, g.snapshot, pool, thresholds=thresholds)
    return answer.kind, [q.text for q in answer.quotes]


def ranker_quotes(r: Read, thresholds: Thresholds) -> tuple[str, list[str]]:
    g = r.group
    answer = g.qa.compose(g.gold.question, g.snapshot, g.pool, thresholds=thresholds)
    return answer.kind, [q.text for q in answer.quotes]


@dataclass
class Outcome:
    """Per question: right at top-1, right in the top 3, and the kind of answer."""

    top1: list[bool]
    top3: list[bool]
    kinds: list[str]


def outcome(reads: Sequence[Read], quote: object) -> Outcome:
    top1, top3, kinds = [], [], []
    for r in reads:
        kind, quotes = quote(r)  # type: ignore[operator]
        kinds.append(kind)
        answers = r.group.gold.answers
        top1.append(bool(quotes) and contains(quotes[0], answers))
        top3.append(any(contains(q, answers) for q in quotes[:3]))
    return Outcome(top1, top3, kinds)


def dev_sets(
    path: Path, cache: Path, embedder: CachedEmbedder, off_topic: int, sample: int | None
) -> list[QuestionSet]:
    """Dev questions: answerable and unanswerable over all the articles (an even spread of
    ``sample`` of each), and ``off_topic`` articles' questions asked without them."""
    articles, answerable, impossible = load_squad(path)
    workdir = cache / data_key(path)
    settings = build_temp_index(articles, workdir, "all", embedder)
    sets = [
        QuestionSet("all", settings, spread(answerable, sample), True),
        QuestionSet("impossible", settings, spread(impossible, sample), False),
    ]
    for article in spread(articles, off_topic):
        others = [a for a in articles if a.id != article.id]
        without = build_temp_index(others, workdir, f"without-{article.id}", embedder)
        own = [g for g in answerable if g.article == article.id]
        sets.append(QuestionSet(f"without-{article.id}", without, own, False))
    return sets


def collect_groups(sets: Sequence[QuestionSet], embedder: CachedEmbedder) -> list[Group]:
    """Every question's candidates, scored by the ranker alone (as the bot scores them); a
    SQuAD 2.0 unanswerable question's group is marked ``impossible``."""
    groups: list[Group] = []
    for s in sets:
        settings = s.settings.model_copy(update={"reader": False})
        found = collect(QA(settings, embedder=embedder), s.questions, s.answerable)
        impossible.update(id(g) for g in found if s.name == "impossible")
        groups += found
        embedder.save()
    return groups


impossible: set[int] = set()
"""The groups (by ``id``) of SQuAD 2.0 unanswerable questions."""


def reads_of(groups: Sequence[Group], cache: ReaderCache, k: int, context: bool) -> list[Read]:
    reads = read_groups(groups, cache, k, context)
    for r in reads:
        r.impossible = id(r.group) in impossible
    return reads


def ranked_top1(reads: Sequence[Read], fusion: Fusion) -> float:
    """The share of answerable questions whose best fused candidate's quote holds the answer."""
    right = []
    for r in reads:
        if not r.group.answerable:
            continue
        x = fused_x(r, fusion.top_k)
        if not len(x):
            right.append(False)
            continue
        best = int(r.order[int(np.argmax(x @ fusion.weights))])
        right.append(contains(r.group.texts[best], r.group.answers))
    return float(np.mean(right)) if right else 0.0


def leave_one_out(reads: Sequence[Read], k: int) -> float:
    """Held-out ranked top-1 over the training articles, each fitted on the others."""
    articles = sorted({r.group.article for r in reads})
    right, n = 0.0, 0
    for article in articles:
        train = [r for r in reads if r.group.article != article]
        test = [r for r in reads if r.group.article == article and r.group.answerable]
        if train and test:
            right += ranked_top1(test, fit_fusion(train, k)) * len(test)
            n += len(test)
    return right / n if n else 0.0


def choose_context(groups: Sequence[Group], cache: ReaderCache, k: int) -> bool:
    """Whether the reader should read a sentence with the one it leans on: the better held-out
    ranked top-1 on the training articles (at the largest k)."""
    alone = leave_one_out(reads_of(groups, cache, k, False), k)
    together = leave_one_out(reads_of(groups, cache, k, True), k)
    print(f"Reading a sentence alone: {alone:.3f}; with the one it leans on: {together:.3f}")
    return together > alone


def choose_k(reads: Sequence[Read], ks: Sequence[int]) -> int:
    """The knee: the smallest ``k`` within half a point of the best held-out top-1."""
    held = {k: leave_one_out(reads, k) for k in ks}
    print("Leave one training article out, ranked top-1 (the best fused candidate right):")
    for k, v in held.items():
        print(f"  k={k:2d}: {v:.3f}")
    best = max(held.values())
    return min(k for k, v in held.items() if v >= best - 0.005)


def choose_answer_threshold(
    impossible: Sequence[Read], fusion: Fusion, decline: float, hedge: float
) -> float:
    """The lowest answer threshold that hedges or declines at least ``hedge`` of the
    unanswerable questions."""
    if not impossible:
        return decline  # nothing to calibrate on: hedge only where the ranker declines
    for t in ANSWER_THRESHOLDS:
        kinds = outcome(
            impossible, lambda r, t=t: quotes_with(r, fusion, thresholds(fusion, decline, t))
        )
        share = sum(k in ("partial", "refusal") for k in kinds.kinds) / max(len(impossible), 1)
        if share >= hedge:
            return t
    return ANSWER_THRESHOLDS[-1]


def thresholds(fusion: Fusion, decline: float, answer: float | None = None) -> Thresholds:
    """The thresholds the bot uses with ``fusion`` (``answer``: instead of its own)."""
    answer = fusion.threshold if answer is None else answer
    return Thresholds(
        decline,
        decline if answer is None else answer,
        read=float("inf") if fusion.reader_floor is None else fusion.reader_floor,
    )


def choose_reader_floor(reads: Sequence[Read], k: int, decline: float, share: float) -> float:
    """The reader logit above which a question counts as about the coverage though the ranker
    would decline it: the best logit (of the ``k`` read) that only ``share`` of the off-topic
    training questions the ranker declines reach. Prints what it costs and saves."""

    def best(r: Read) -> float:
        return float(r.logits[:k].max()) if len(r.logits) else float("-inf")

    low = [r for r in reads if len(r.group.pool.scores) and r.group.pool.scores.max() < decline]
    off = [best(r) for r in low if not r.group.answerable]
    on = [best(r) for r in low if r.group.answerable]
    floor = float(np.quantile(off, 1 - share)) if off else float("inf")
    kept = sum(v >= floor for v in on)
    print(
        f"reader floor {floor:.2f}: of the questions the ranker declines, {kept} of {len(on)} "
        f"answerable ones kept, {sum(v >= floor for v in off)} of {len(off)} off-topic ones"
    )
    return round(floor, 3)


FURTHER_RATIOS = (0.25, 0.15, 0.1, 0.05)


def report_further(reads: Sequence[Read], fusion: Fusion, decline: float) -> None:
    """Top-3 on ``reads`` (the training articles) if further quotes needed each of
    :data:`FURTHER_RATIOS` of the best score (``FURTHER_QUOTE_RATIO``): fused scores are more
    peaked than the ranker's, so fewer candidates clear a share of the best."""
    on = [r for r in reads if r.group.answerable]
    t = thresholds(fusion, decline)
    print("Top-3 on the training articles by FURTHER_QUOTE_RATIO:")
    for ratio in FURTHER_RATIOS:
        saved = [r.group.qa.settings for r in on]
        for r in on:
            r.group.qa.settings = r.group.qa.settings.model_copy(
                update={"further_quote_ratio": ratio}
            )
        got = outcome(on, lambda r: quotes_with(r, fusion, t))
        for r, settings in zip(on, saved, strict=True):
            r.group.qa.settings = settings
        print(
            f"  {ratio:.2f}: top-1 {sum(got.top1) / len(on):.3f}, "
            f"top-3 {sum(got.top3) / len(on):.3f}"
        )


CURVE = (0.3, 0.4, 0.5, 0.6, 0.7)


def report_thresholds(dev: Sequence[Read], fusion: Fusion, decline: float) -> None:
    """For a few answer thresholds: dev's unanswerable and answerable questions hedged."""
    on = [r for r in dev if r.group.answerable]
    impossible = [r for r in dev if r.impossible]
    print("\n| answer threshold | top-1 | unanswerable hedged or declined | answerable hedged |")
    print("|---:|---:|---:|---:|")
    for t in CURVE:
        limits = thresholds(fusion, decline, t)
        got = outcome(on, lambda r, lim=limits: quotes_with(r, fusion, lim))
        no = outcome(impossible, lambda r, lim=limits: quotes_with(r, fusion, lim))
        hedged = sum(k in ("partial", "refusal") for k in no.kinds) / max(len(impossible), 1)
        wrongly = sum(k == "partial" for k in got.kinds) / max(len(on), 1)
        print(f"| {t} | {sum(got.top1) / max(len(on), 1):.3f} | {hedged:.3f} | {wrongly:.3f} |")


def report_dev(dev: Sequence[Read], fusions: dict[str, Fusion], decline: float) -> None:
    """Dev figures of the ranker alone and of each fusion, with a sign test against it."""
    on = [r for r in dev if r.group.answerable]
    impossible = [r for r in dev if r.impossible]
    off = [r for r in dev if not r.group.answerable and not r.impossible]
    alone = Thresholds(decline, decline)
    base = outcome(on, lambda r: ranker_quotes(r, alone))
    print(f"\nDev: {len(on)} answerable, {len(impossible)} unanswerable, {len(off)} off-topic")
    print(
        "| system | top-1 | top-3 | unanswerable hedged or declined | off-topic declined |"
        " answerable hedged | sign test vs ranker (wins/losses, p) |"
    )
    print("|---|---:|---:|---:|---:|---:|---|")
    _row(
        "ranker alone",
        base,
        outcome(impossible, lambda r: ranker_quotes(r, alone)),
        outcome(off, lambda r: ranker_quotes(r, alone)),
        None,
    )
    for name, fusion in fusions.items():
        t = thresholds(fusion, decline)
        got = outcome(on, lambda r, f=fusion, t=t: quotes_with(r, f, t))
        _row(
            name,
            got,
            outcome(impossible, lambda r, f=fusion, t=t: quotes_with(r, f, t)),
            outcome(off, lambda r, f=fusion, t=t: quotes_with(r, f, t)),
            sign_test(got.top1, base.top1),
        )


def _row(
    name: str, on: Outcome, impossible: Outcome, off: Outcome, sign: tuple[int, int, float] | None
) -> None:
    def share(flags: Sequence[bool]) -> float:
        return sum(flags) / len(flags) if flags else 0.0

    hedged = share([k in ("partial", "refusal") for k in impossible.kinds])
    declined = share([k == "refusal" for k in off.kinds])
    answerable_hedged = share([k == "partial" for k in on.kinds])
    test = f"{sign[0]}/{sign[1]}, p={sign[2]:.2g}" if sign else ""
    print(
        f"| {name} | {share(on.top1):.3f} | {share(on.top3):.3f} | {hedged:.3f} | "
        f"{declined:.3f} | {answerable_hedged:.3f} | {test} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=DEFAULT_TRAIN)
    parser.add_argument("--dev", type=Path, default=DEFAULT_DEV)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--reader", type=Path, default=MODELS, help="folder of reader.onnx")
    parser.add_argument("--out", type=Path, default=MODELS / "fusion.json")
    parser.add_argument("--k", type=int, nargs="+", default=list(KS))
    parser.add_argument("--off-topic", type=int, default=6, help="dev articles asked without")
    parser.add_argument(
        "--dev-sample", type=int, default=2000, help="dev questions of each kind (0: all)"
    )
    parser.add_argument(
        "--train-off-topic",
        type=int,
        default=150,
        help="off-topic questions per training article (0: all)",
    )
    parser.add_argument(
        "--hedge",
        type=float,
        default=0.5,
        help="share of unanswerable dev questions to hedge or decline",
    )
    parser.add_argument(
        "--floor-share",
        type=float,
        default=0.02,
        help="share of the off-topic training questions the ranker declines that the reader "
        "may keep (it chooses the reader floor)",
    )
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("index").setLevel(logging.WARNING)

    embedder = CachedEmbedder(make_embedder("all-MiniLM-L6-v2"), args.cache / "embeddings.npz")
    reader = Reader.load(args.reader, threads=2)
    cache = ReaderCache(reader, args.reader / "reader.onnx", args.cache)
    top = max(args.k)
    sets = squad_sets(
        args.train, args.cache, embedder, off_topic_per_article=args.train_off_topic or None
    )
    groups = collect_groups(sets, embedder)
    context = choose_context(groups, cache, top)
    train = reads_of(groups, cache, top, context)
    k = choose_k(train, args.k)
    fusion = replace(fit_fusion(train, k), context=context)
    print(
        f"chosen k={k}; weights "
        + ", ".join(f"{n} {w:+.3f}" for n, w in zip(FUSION_FEATURES, fusion.weights, strict=True))
        + f", bias {fusion.bias:+.3f}"
    )
    decline = Ranker.load().threshold or 0.05
    floor = choose_reader_floor(train, k, decline, args.floor_share)
    fusion = replace(fusion, reader_floor=floor)
    sets = dev_sets(args.dev, args.cache, embedder, args.off_topic, args.dev_sample or None)
    dev = reads_of(collect_groups(sets, embedder), cache, top, context)
    unanswerable = [r for r in dev if r.impossible]
    fusion = replace(
        fusion, threshold=choose_answer_threshold(unanswerable, fusion, decline, args.hedge)
    )
    print(
        f"answer threshold {fusion.threshold} (the lowest hedging {args.hedge:.0%} of dev's "
        "unanswerable questions)"
    )
    others = {
        f"fused, k={kk}": replace(
            fit_fusion(train, kk), threshold=fusion.threshold, context=context, reader_floor=floor
        )
        for kk in args.k
        if kk != k
    }
    skips = {
        f"fused, k={k}, skip above {a} by {m}": replace(fusion, skip_above=a, skip_margin=m)
        for a, m in SKIPS[1:]
    }
    report_thresholds(dev, fusion, decline)
    report_further(train, fusion, decline)
    report_dev(dev, {f"fused, k={k} (chosen)": fusion, **others, **skips}, decline)
    if not args.dry_run:
        args.out.write_text(json.dumps(fusion.to_dict(), indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
