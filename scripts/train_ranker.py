#!/usr/bin/env python3
"""Fit the answer ranker's weights: ``python -m scripts.train_ranker --squad FILE``.

Data: a SQuAD-format training file (``make train`` uses ``data/eval/squad2_train_subset.json``,
ten articles none of which is in the dev subset). Its contexts are indexed (one article per
title); every answerable question gives a pool of candidates scored by the production path,
labelled by whether the sentence contains a gold answer. Off-topic examples come from asking
each article's questions of an index that holds only the *other* articles: every candidate
there is a negative, which teaches the model what "the coverage doesn't say" looks like.

The model is a logistic model over :data:`index.rank.features.FEATURES` (few, general features, so
it transfers to other corpora), fitted listwise (see :func:`fit`). Before writing the weights
the script reports a leave-one-article-out check over the training articles: trained on all
but one, tested on the held-out one. ``--dev FILE`` also reports the figures on a validation
file, which is never fitted on. The answer threshold is chosen on the training data to
maximise the share of answerable questions answered correctly plus the share of off-topic
questions declined.

Temporary indexes and every text's embedding are kept in ``--cache`` (see
:mod:`scripts.pools`), so a second run costs seconds, not the minutes of the first.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from index import QA
from index.rank import FEATURES, WEIGHTS_FILE, FeatureOptions, Pool, Ranker
from index.store import Snapshot, make_embedder
from scripts.evaluation import GoldQuestion, contains
from scripts.pools import CachedEmbedder, QuestionSet, pools, squad_sets

logger = logging.getLogger("scripts.train_ranker")

DEFAULT_CACHE = Path("var/train-cache")
DEFAULT_OUT = Path("var/ranker_weights.json")
"""Where new weights go unless --out says otherwise: never over the shipped ones."""


@dataclass
class Group:
    """The candidates of one question: features, labels, and what each quote would say."""

    article: str
    gold: GoldQuestion
    pool: Pool
    labels: np.ndarray  # the candidate sentence contains a gold answer
    answerable: bool
    texts: list[str]  # the quote each candidate would give
    qa: QA
    snapshot: Snapshot

    @property
    def features(self) -> np.ndarray:
        return self.pool.features

    @property
    def answers(self) -> tuple[str, ...]:
        return self.gold.answers


def collect(qa: QA, questions: Sequence[GoldQuestion], answerable: bool) -> list[Group]:
    """Score every question's candidates with ``qa`` and label them."""
    snap = qa.snapshot()
    groups = []
    for gold, pool in zip(questions, pools(qa, questions, snap), strict=True):
        texts = []
        for row in pool.rows.tolist():
            lo, hi = qa.quote_rows(snap, row, pool.query)
            texts.append(snap.span_text(lo, hi))
        rows = pool.rows.tolist()
        if answerable:
            labels = np.array([contains(snap.text(r), gold.answers) for r in rows], dtype=bool)
        else:
            labels = np.zeros(len(rows), dtype=bool)
        groups.append(Group(gold.article or "", gold, pool, labels, answerable, texts, qa, snap))
    return groups


def collect_sets(
    sets: Sequence[QuestionSet],
    embedder: CachedEmbedder,
    options: FeatureOptions | None = None,
) -> list[Group]:
    """The groups of every question set (answerable on topic, or off topic), scored by the
    ranker alone (no reader) with the features of ``options``."""
    ranker = replace(Ranker.load(), options=options or FeatureOptions())
    groups: list[Group] = []
    for s in sets:
        settings = s.settings.model_copy(update={"reader": False})
        qa = QA(settings, embedder=embedder, ranker=ranker)
        groups += collect(qa, s.questions, s.answerable)
    embedder.save()
    return groups


@dataclass
class Scored:
    """One question's candidates as a fit sees them: a feature row and a label each, and the
    quote each would give (to tell whether the top one is right)."""

    features: np.ndarray
    labels: np.ndarray
    answerable: bool
    texts: list[str]
    answers: tuple[str, ...]


def fit(groups: Sequence[Group], c: float, objective: str = "listwise") -> Ranker:
    """Fit weights on ``groups``; the result scores the probability that a quote answers.

    ``listwise``: see :func:`fit_scored` (with the question's ``unknown`` share as a second
    calibration input: a column constant within a question, so the listwise fit gives it no
    weight). ``pointwise``: one logistic regression over all candidates.
    """
    from sklearn.linear_model import LogisticRegression

    if objective == "pointwise":
        x = np.vstack([g.features for g in groups])
        y = np.concatenate([g.labels for g in groups]).astype(int)
        model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
        model.fit(x, y)
        return Ranker(model.coef_[0].astype(np.float64), float(model.intercept_[0]))
    scored = [Scored(g.features, g.labels, g.answerable, g.texts, g.answers) for g in groups]
    weights, bias = fit_scored(scored, c, extra=FEATURES.index("unknown"))
    return Ranker(weights, bias)


def fit_scored(
    items: Sequence[Scored], c: float, extra: int | None = None
) -> tuple[np.ndarray, float]:
    """Weights and bias of a logistic scorer over ``items``' feature columns.

    A softmax over each question's candidates (the answer sentence should come first), then a
    logistic calibration of the top score (and column ``extra`` of the top candidate, when
    given) against whether the top quote is right (off-topic questions: never), so the score
    doubles as a confidence.
    """
    from sklearn.linear_model import LogisticRegression

    weights = _fit_listwise([g for g in items if g.answerable and g.labels.any()], c)
    tops, right = [], []
    for g in items:
        if len(g.features) == 0:
            continue
        z = g.features @ weights
        best = int(np.argmax(z))
        tops.append((z[best], g.features[best, extra]) if extra is not None else (z[best],))
        right.append(bool(g.answerable and contains(g.texts[best], g.answers)))
    calib = LogisticRegression(C=100.0, max_iter=1000)
    calib.fit(np.asarray(tops), np.asarray(right, dtype=int))
    coef = [float(v) for v in calib.coef_[0]]
    weights = weights * coef[0]
    if extra is not None:
        weights[extra] += coef[1]
    return weights, float(calib.intercept_[0])


def _fit_listwise(groups: Sequence[Scored], c: float) -> np.ndarray:
    """Weights maximising the softmax probability of the answer sentences, L2-regularised."""
    from scipy.optimize import minimize

    # Standardise, so the penalty treats a feature with a small spread (cosines differ by
    # hundredths) like one with a large spread; the scale is folded back into the weights.
    x = np.vstack([g.features for g in groups])
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    x = x / scale
    pos = np.concatenate([g.labels for g in groups]).astype(bool)
    sizes = np.array([len(g.labels) for g in groups])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    member = np.repeat(np.arange(len(groups)), sizes)
    penalty = 1.0 / (c * len(groups))

    def log_sum_exp(z: np.ndarray) -> np.ndarray:
        """Per group, log of the sum of exp(z) (-inf where z is -inf throughout)."""
        top = np.maximum.reduceat(z, starts)
        safe = np.where(np.isfinite(top), top, 0.0)
        with np.errstate(divide="ignore"):
            return safe + np.log(np.add.reduceat(np.exp(z - safe[member]), starts))

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ w
        lse_all = log_sum_exp(z)
        lse_pos = log_sum_exp(np.where(pos, z, -np.inf))
        soft_all = np.exp(z - lse_all[member])
        soft_pos = np.where(pos, np.exp(z - lse_pos[member]), 0.0)
        n = len(groups)
        total = float((lse_all - lse_pos).sum()) / n + penalty * float(w @ w)
        return total, x.T @ (soft_all - soft_pos) / n + 2 * penalty * w

    result = minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B")
    return np.asarray(result.x, dtype=np.float64) / scale


def evaluate(ranker: Ranker, groups: Sequence[Group], threshold: float) -> dict[str, float]:
    """What ``make eval`` reports, from the same composition of quotes as the bot.

    top-1: the first quote of the answer contains a gold answer (a declined answerable
    question counts as wrong); top-3: one of the answer's quotes does; ``ranked_top1``: the
    best candidate's quote does, whatever the threshold; ``off_declined``: off-topic
    questions declined.
    """
    on = [g for g in groups if g.answerable]
    off = [g for g in groups if not g.answerable]
    top1 = top3 = ranked = 0
    for g in on:
        quotes = _quotes(ranker, g, threshold)
        top1 += bool(quotes) and contains(quotes[0], g.answers)
        top3 += any(contains(q, g.answers) for q in quotes[:3])
        scores = ranker.score(g.features)
        ranked += len(scores) > 0 and contains(g.texts[int(np.argmax(scores))], g.answers)
    declined = sum(
        1 for g in off if len(g.features) == 0 or ranker.score(g.features).max() < threshold
    )
    return {
        "top1": top1 / len(on) if on else 0.0,
        "top3": top3 / len(on) if on else 0.0,
        "ranked_top1": ranked / len(on) if on else 0.0,
        "off_declined": declined / len(off) if off else 0.0,
        "answerable": float(len(on)),
        "off_topic": float(len(off)),
    }


def _quotes(ranker: Ranker, g: Group, threshold: float) -> list[str]:
    """The quotes the bot would give with ``ranker`` and ``threshold``."""
    g.pool.scores = ranker.score(g.features)
    qa = g.qa
    saved, qa.threshold = qa.threshold, threshold
    try:
        answer = qa.compose(g.gold.question, g.snapshot, g.pool)
    finally:
        qa.threshold = saved
    return [q.text for q in answer.quotes]


def choose_threshold(ranker: Ranker, groups: Sequence[Group]) -> float:
    """The threshold maximising answered-right + off-topic-declined on ``groups``."""
    on = [g for g in groups if g.answerable and len(g.features)]
    off = [g for g in groups if not g.answerable and len(g.features)]
    right_scores = []
    for g in on:
        scores = ranker.score(g.features)
        best = int(np.argmax(scores))
        if contains(g.texts[best], g.answers):
            right_scores.append(float(scores[best]))
    off_scores = np.array([float(ranker.score(g.features).max()) for g in off])
    right = np.array(right_scores)
    best_value, best_t = -1.0, 0.5
    for t in np.round(np.arange(0.05, 0.96, 0.01), 2):
        value = (right >= t).sum() / max(len(on), 1) + (off_scores < t).sum() / max(len(off), 1)
        if value > best_value + 1e-9:
            best_value, best_t = float(value), float(t)
    return best_t


def leave_one_out(
    groups: Sequence[Group],
    articles: Sequence[str],
    c: float,
    objective: str,
    threshold: float | None = None,
) -> list[tuple[str, dict[str, float], float]]:
    """Per training article: fitted on the others, threshold chosen on them (or the given
    one), tested on it."""
    out = []
    for article in articles:
        train = [g for g in groups if g.article != article]
        test = [g for g in groups if g.article == article]
        if not train or not test:
            continue
        ranker = fit(train, c, objective)
        t = threshold if threshold is not None else choose_threshold(ranker, train)
        out.append((article, evaluate(ranker, test, t), t))
    return out


def pooled(results: Sequence[tuple[str, dict[str, float], float]]) -> dict[str, float]:
    """Leave-one-out figures over all held-out questions (weighted by question count)."""
    out: dict[str, float] = {}
    for key in ("top1", "top3", "ranked_top1"):
        n = sum(m["answerable"] for _, m, _ in results)
        out[key] = sum(m[key] * m["answerable"] for _, m, _ in results) / n if n else 0.0
    n_off = sum(m["off_topic"] for _, m, _ in results)
    out["off_declined"] = (
        sum(m["off_declined"] * m["off_topic"] for _, m, _ in results) / n_off if n_off else 0.0
    )
    return out


ABLATIONS = ("entities", "places", "followers", "unknown")


def feature_options(names: Sequence[str]) -> FeatureOptions:
    """The features to compute when ``names`` are switched off (places, leaning followers)."""
    return FeatureOptions(places="places" not in names, followers="followers" not in names)


def without_features(groups: list[Group], names: Sequence[str]) -> list[Group]:
    """Switched-off features (``entities``: the entity-kind ones) are zero everywhere."""
    cols = []
    if "entities" in names:
        cols += [FEATURES.index("kind_match"), FEATURES.index("kind_miss")]
    if "unknown" in names:
        cols.append(FEATURES.index("unknown"))
    for g in groups:
        g.pool.features[:, cols] = 0.0
    return groups


def compare_without(
    name: str,
    groups: list[Group],
    dev: list[Group],
    articles: Sequence[str],
    args: argparse.Namespace,
    threshold: float | None,
) -> None:
    """Refit and report (held out, dev) with ``name``'s features zeroed, then restore them;
    at ``threshold``, or one chosen on the training data when None."""
    saved = [g.pool.features.copy() for g in [*groups, *dev]]
    try:
        without_features([*groups, *dev], [name])
        p = pooled(leave_one_out(groups, articles, args.c, args.objective, threshold))
        print(
            f"\nWithout {name}: held out top-1 {p['top1']:.3f}, top-3 {p['top3']:.3f}, ranked "
            f"top-1 {p['ranked_top1']:.3f}, off-topic declined {p['off_declined']:.3f}"
        )
        ranker = fit(groups, args.c, args.objective)
        if dev:
            t = threshold if threshold is not None else choose_threshold(ranker, groups)
            report(f"dev without {name}", ranker, dev, t)
    finally:
        for g, f in zip([*groups, *dev], saved, strict=True):
            g.pool.features = f


def report(name: str, ranker: Ranker, groups: Sequence[Group], threshold: float) -> None:
    """One line of :func:`evaluate`'s figures."""
    m = evaluate(ranker, groups, threshold)
    print(
        f"  {name}, threshold {threshold:.2f}: top-1 {m['top1']:.3f}, top-3 {m['top3']:.3f}, "
        f"ranked top-1 {m['ranked_top1']:.3f}, off-topic declined {m['off_declined']:.3f}"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, required=True, help="SQuAD-format training file")
    parser.add_argument("--dev", type=Path, help="SQuAD-format file to report on (not fitted)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="indexes, embeddings")
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"weights file to write (default {DEFAULT_OUT}; the shipped weights are "
        f"{WEIGHTS_FILE}, written only when named here)",
    )
    parser.add_argument("--c", type=float, default=0.1, help="inverse regularisation strength")
    parser.add_argument(
        "--objective", choices=("listwise", "pointwise"), default="listwise", help="training loss"
    )
    parser.add_argument("--no-loo", action="store_true", help="skip the leave-one-out check")
    parser.add_argument(
        "--threshold",
        type=float,
        help="the answer threshold (default: the shipped weights' own, chosen on dev)",
    )
    parser.add_argument(
        "--fit-threshold",
        action="store_true",
        help="choose the threshold that maximises answered-right plus declined on the "
        "training data instead",
    )
    parser.add_argument(
        "--also-without",
        action="append",
        default=[],
        choices=("entities", "unknown"),
        help="also report a fit with these features zeroed (same pools)",
    )
    parser.add_argument(
        "--without",
        action="append",
        default=[],
        choices=ABLATIONS,
        help="train without an addition (its features zeroed, or computed as before it)",
    )
    parser.add_argument("--dry-run", action="store_true", help="report, do not write weights")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    shipped = Ranker.load()
    embedder = CachedEmbedder(make_embedder("all-MiniLM-L6-v2"), args.cache / "embeddings.npz")
    options = feature_options(args.without)
    sets = squad_sets(args.squad, args.cache, embedder)
    groups = without_features(collect_sets(sets, embedder, options), args.without)
    articles = list(dict.fromkeys(g.article for g in groups))
    print(
        f"{sum(g.answerable for g in groups)} answerable and "
        f"{sum(not g.answerable for g in groups)} off-topic questions over {len(articles)} "
        f"articles; {sum(len(g.labels) for g in groups)} candidates"
    )
    fixed = None if args.fit_threshold else (args.threshold or shipped.threshold or 0.5)
    if not args.no_loo:
        print_leave_one_out(leave_one_out(groups, articles, args.c, args.objective, fixed))
    ranker = replace(fit(groups, args.c, args.objective), options=options)
    threshold = fixed if fixed is not None else choose_threshold(ranker, groups)
    ranker = replace(ranker, threshold=threshold)
    print_fit(ranker, groups)
    dev: list[Group] = []
    if args.dev is not None:
        dev = without_features(
            collect_sets(squad_sets(args.dev, args.cache, embedder), embedder, options),
            args.without,
        )
        print_against_shipped(ranker, shipped, groups, dev)
    for name in args.also_without:
        compare_without(name, groups, dev, articles, args, fixed)
    if args.dry_run:
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        ranker.to_json(
            trained_on=args.squad.name,
            note="written by scripts/train_ranker.py; see its docstring",
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {args.out}")
    return 0


def print_leave_one_out(results: list[tuple[str, dict[str, float], float]]) -> None:
    print("\nLeave one article out (fitted on the others, tested on it):")
    print("| held out | questions | top-1 | top-3 | off-topic declined | threshold |")
    print("|---|---:|---:|---:|---:|---:|")
    for article, m, t in results:
        print(
            f"| {article} | {m['answerable']:.0f} | {m['top1']:.3f} | {m['top3']:.3f} "
            f"| {m['off_declined']:.3f} | {t:.2f} |"
        )
    p = pooled(results)
    print(
        f"| all held out | {sum(m['answerable'] for _, m, _ in results):.0f} | "
        f"{p['top1']:.3f} | {p['top3']:.3f} | {p['off_declined']:.3f} | |"
    )
    print(f"(held out, ranked top-1 whatever the threshold: {p['ranked_top1']:.3f})")


def print_fit(ranker: Ranker, groups: Sequence[Group]) -> None:
    t = ranker.threshold or 0.5
    m = evaluate(ranker, groups, t)
    print(
        f"\nAll training data: top-1 {m['top1']:.3f}, top-3 {m['top3']:.3f}, off-topic declined "
        f"{m['off_declined']:.3f}, threshold {t:.2f}"
    )
    for name, w in zip(FEATURES, ranker.weights, strict=True):
        print(f"  {name:14s} {w:+.3f}")
    print(f"  {'bias':14s} {ranker.bias:+.3f}")


def print_against_shipped(
    ranker: Ranker, shipped: Ranker, groups: Sequence[Group], dev: Sequence[Group]
) -> None:
    """The new weights beside the shipped ones, on the training articles and on dev, each at
    its own threshold; and whether the new ones beat the shipped ones on dev."""
    print("\nNew weights against the shipped ones (same pools, each at its own threshold):")
    got = {}
    for name, r in (("new", ranker), ("shipped", shipped)):
        t = r.threshold or 0.5
        report(f"{name}, training articles", r, groups, t)
        report(f"{name}, dev", r, dev, t)
        got[name] = evaluate(r, dev, t)
    new, old = got["new"], got["shipped"]
    verdict = "beat" if (new["top1"], new["top3"]) > (old["top1"], old["top3"]) else "do not beat"
    print(
        f"The new weights {verdict} the shipped ones on dev: top-1 {new['top1']:.3f} against "
        f"{old['top1']:.3f}, top-3 {new['top3']:.3f} against {old['top3']:.3f}."
    )


if __name__ == "__main__":
    sys.exit(main())
