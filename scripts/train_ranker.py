#!/usr/bin/env python3
"""Fit the answer ranker's weights: ``python -m scripts.train_ranker --squad FILE``.

Data: a SQuAD-format file. Its contexts are indexed (one article per title); every answerable
question gives a pool of scored candidates, labelled by whether the sentence contains a gold
answer. Off-topic examples come from asking each article's questions of an index that holds
only the *other* articles: every candidate there is a negative, which teaches the model what
"the coverage doesn't say" looks like.

The model is a logistic regression over :data:`index.features.FEATURES` (few, general
features, so it transfers to other corpora). Before writing the weights, the script reports a
leave-one-article-out check: trained on all but one article, tested on the held-out one.
The answer threshold is chosen on the training data to maximise the share of answerable
questions answered correctly plus the share of off-topic questions declined.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.answer import QA
from index.embedder import make_embedder
from index.evaluation import GoldQuestion, build_temp_index, contains, load_squad
from index.extract import quote_text
from index.features import FEATURES
from index.ranker import WEIGHTS_FILE, Ranker
from index.text import normalise_question

logger = logging.getLogger("scripts.train_ranker")


@dataclass
class Group:
    """The candidates of one question: features, labels, and what the top quote would say."""

    article: str
    features: np.ndarray
    labels: np.ndarray
    answerable: bool
    texts: list[str]
    answers: tuple[str, ...]


def collect(qa: QA, questions: list[GoldQuestion], answerable: bool) -> list[Group]:
    """Score every question's candidates with ``qa`` and label them."""
    snap = qa.snapshot()
    groups = []
    for gold in questions:
        pool = qa.candidates(normalise_question(gold.question), snap)
        texts = []
        for row in pool.rows.tolist():
            lo, hi = qa.quote_rows(snap, row, pool.query)
            texts.append(quote_text(snap, lo, hi))
        if answerable:
            labels = np.array([contains(snap.text(r), gold.answers) for r in pool.rows.tolist()])
        else:
            labels = np.zeros(len(pool.rows), dtype=bool)
        groups.append(
            Group(gold.article or "", pool.features, labels, answerable, texts, gold.answers)
        )
    return groups


def fit(groups: list[Group], c: float, objective: str = "listwise") -> Ranker:
    """Fit weights on ``groups``; the result scores the probability that a quote answers.

    ``listwise``: a softmax over each question's candidates (the answer sentence should come
    first), then a one-feature logistic calibration of the top score against whether the top
    quote is right (off-topic questions: never), so the score doubles as a confidence.
    ``pointwise``: one logistic regression over all candidates.
    """
    from sklearn.linear_model import LogisticRegression

    if objective == "pointwise":
        x = np.vstack([g.features for g in groups])
        y = np.concatenate([g.labels for g in groups]).astype(int)
        model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
        model.fit(x, y)
        return Ranker(model.coef_[0].astype(np.float64), float(model.intercept_[0]))

    weights = _fit_listwise([g for g in groups if g.answerable and g.labels.any()], c)
    tops, right = [], []
    for g in groups:
        if len(g.features) == 0:
            continue
        z = g.features @ weights
        best = int(np.argmax(z))
        tops.append(z[best])
        right.append(bool(g.answerable and contains(g.texts[best], g.answers)))
    calib = LogisticRegression(C=100.0, max_iter=1000)
    calib.fit(np.asarray(tops).reshape(-1, 1), np.asarray(right, dtype=int))
    a, b = float(calib.coef_[0][0]), float(calib.intercept_[0])
    return Ranker(weights * a, b)


def _fit_listwise(groups: list[Group], c: float) -> np.ndarray:
    """Weights maximising the softmax probability of the answer sentences, L2-regularised."""
    from scipy.optimize import minimize
    from scipy.special import logsumexp

    # Standardise, so the penalty treats a feature with a small spread (cosines differ by
    # hundredths) like one with a large spread; the scale is folded back into the weights.
    stacked = np.vstack([g.features for g in groups])
    scale = stacked.std(axis=0)
    scale[scale < 1e-9] = 1.0
    feats = [g.features / scale for g in groups]
    pos = [g.labels.astype(bool) for g in groups]
    dim = feats[0].shape[1]
    penalty = 1.0 / (c * len(groups))

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total = 0.0
        grad = np.zeros(dim)
        for x, p in zip(feats, pos, strict=True):
            z = x @ w
            lse_all = logsumexp(z)
            lse_pos = logsumexp(z[p])
            total += lse_all - lse_pos
            soft_all = np.exp(z - lse_all)
            soft_pos = np.zeros_like(z)
            soft_pos[p] = np.exp(z[p] - lse_pos)
            grad += x.T @ (soft_all - soft_pos)
        n = len(feats)
        return total / n + penalty * float(w @ w), grad / n + 2 * penalty * w

    result = minimize(loss, np.zeros(dim), jac=True, method="L-BFGS-B")
    return np.asarray(result.x, dtype=np.float64) / scale


def evaluate(ranker: Ranker, groups: list[Group], threshold: float) -> dict[str, float]:
    """Top-1/top-3 accuracy on answerable groups, refusal recall on off-topic ones."""
    on = [g for g in groups if g.answerable]
    off = [g for g in groups if not g.answerable]
    top1 = top3 = answered_right = 0
    for g in on:
        scores = ranker.score(g.features)
        order = np.argsort(-scores, kind="stable")
        if len(order) and contains(g.texts[order[0]], g.answers):
            top1 += 1
            if scores[order[0]] >= threshold:
                answered_right += 1
        if any(contains(g.texts[i], g.answers) for i in order[:3]):
            top3 += 1
    declined = sum(
        1 for g in off if len(g.features) == 0 or ranker.score(g.features).max() < threshold
    )
    return {
        "top1": top1 / len(on) if on else 0.0,
        "top3": top3 / len(on) if on else 0.0,
        "answered_right": answered_right / len(on) if on else 0.0,
        "off_declined": declined / len(off) if off else 0.0,
    }


def choose_threshold(ranker: Ranker, groups: list[Group]) -> float:
    """The threshold maximising answered-right + off-topic-declined on ``groups``."""
    best, best_t = -1.0, 0.5
    for t in np.round(np.arange(0.05, 0.96, 0.01), 2):
        m = evaluate(ranker, groups, float(t))
        value = m["answered_right"] + m["off_declined"]
        if value > best + 1e-9:
            best, best_t = value, float(t)
    return best_t


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, required=True, help="SQuAD-format JSON file")
    parser.add_argument("--workdir", type=Path, help="keep the temporary indexes here")
    parser.add_argument("--out", type=Path, default=WEIGHTS_FILE, help="weights file to write")
    parser.add_argument("--c", type=float, default=0.1, help="inverse regularisation strength")
    parser.add_argument(
        "--objective", choices=("listwise", "pointwise"), default="listwise", help="training loss"
    )
    parser.add_argument("--dry-run", action="store_true", help="report, do not write weights")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    articles, answerable, _ = load_squad(args.squad)
    embedder = make_embedder("all-MiniLM-L6-v2")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        everything = build_temp_index(articles, workdir, "all", embedder)
        groups = collect(QA(everything, embedder=embedder), answerable, True)
        for article in articles:
            others = [a for a in articles if a.id != article.id]
            if not others:
                continue
            settings = build_temp_index(others, workdir, f"without-{article.id}", embedder)
            off_topic = [g for g in answerable if g.article == article.id]
            groups += collect(QA(settings, embedder=embedder), off_topic, False)

    print(
        f"{sum(g.answerable for g in groups)} answerable and "
        f"{sum(not g.answerable for g in groups)} off-topic questions; "
        f"{sum(len(g.labels) for g in groups)} candidates"
    )
    print("\nLeave one article out (train on the others, test on it):")
    print("| held out | top-1 | top-3 | answered right | off-topic declined | threshold |")
    print("|---|---|---|---|---|---|")
    for article in articles:
        train = [g for g in groups if g.article != article.id]
        test = [g for g in groups if g.article == article.id]
        if not train or not test:
            continue
        ranker = fit(train, args.c, args.objective)
        t = choose_threshold(ranker, train)
        m = evaluate(ranker, test, t)
        print(
            f"| {article.id} | {m['top1']:.3f} | {m['top3']:.3f} | {m['answered_right']:.3f} "
            f"| {m['off_declined']:.3f} | {t:.2f} |"
        )

    ranker = fit(groups, args.c, args.objective)
    threshold = choose_threshold(ranker, groups)
    m = evaluate(ranker, groups, threshold)
    print(
        f"\nAll data: top-1 {m['top1']:.3f}, top-3 {m['top3']:.3f}, answered right "
        f"{m['answered_right']:.3f}, off-topic declined {m['off_declined']:.3f}, "
        f"threshold {threshold:.2f}"
    )
    for name, w in zip(FEATURES, ranker.weights, strict=True):
        print(f"  {name:12s} {w:+.3f}")
    print(f"  {'bias':12s} {ranker.bias:+.3f}")
    if args.dry_run:
        return 0
    final = Ranker(ranker.weights, ranker.bias, threshold)
    args.out.write_text(
        final.to_json(
            trained_on=args.squad.name,
            note="written by scripts/train_ranker.py; see its docstring",
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
