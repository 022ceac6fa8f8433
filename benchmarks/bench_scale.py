#!/usr/bin/env python3
"""Cost against corpus size: ``python -m benchmarks.bench_scale [--sizes 1e3,1e4,1e5,1e6]``.

For each size N (sentences) this benchmark

1. writes a synthetic, news-like JSONL corpus of about N sentences (:func:`write_corpus`:
   Zipf-distributed words from a real English vocabulary plus made-up rare words, named
   people, places and organisations, numbers and dates, topics per article, several paragraphs
   per article, ~25 words per sentence) and ~200 varied questions about it;
2. builds the index with the real :func:`index.store.build.build_index` in a fresh subprocess
   (build throughput, a per-phase breakdown, peak RSS);
3. opens it with the real :class:`index.qa.QA` in another fresh subprocess (RSS after
   opening and after the questions) and answers every question ``--rounds`` times, warm, with
   ``QA.answer``: p50/p95 of the total and of each stage of ``answer.timings``;
4. records the index size on disk, per part.

Embeddings: up to ``--real-max`` sentences the bundled all-MiniLM-L6-v2 embeds the corpus.
Above it, :class:`SyntheticEmbedder` stands in for bulk encoding: each word gets a fixed
random unit vector and a sentence is the normalised sum of its words' vectors plus noise, so
sentences that share words are neighbours and the HNSW graph has realistic structure. Its
``embed_query`` runs the real model on the question first (and throws that vector away), so the
``embed`` stage costs what it costs in production; the vector used for the search is the
synthetic one, from the same space as the documents. Everything after the question's vector
(chroma, bm25s, features, ranking, quotes) is the production code path.

Generated data lives in a temporary folder (``--workdir``, default under /tmp) that is deleted
at the end unless ``--keep``. Results are written as JSON (``--out``) and printed as a Markdown
table; ``--plot`` writes the PNG. ``--measure-only INDEX`` re-measures an existing index.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.config import DEFAULT_MODEL

REPO = Path(__file__).resolve().parents[1]
SYNTHETIC_MODEL = "synthetic-bow-384"
DIMENSION = 384
STAGES = ("embed", "bm25", "chroma", "score", "compose", "total")

# --------------------------------------------------------------------------- vocabulary


def _split(text: str) -> list[str]:
    return text.split()


_FUNCTION_WORDS = _split(
    "the the the the of of of to to to and and a a in in that for on is was with said as at by "
    "it from he his be has have are not but an its after were had who they this their will "
    "would been also which we more one about over than when she her there up out new into "
    "last could two all other some year years can what people"
)
_FIRST_NAMES = _split(
    "James Mary John Patricia Robert Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Lisa Matthew Nancy Anthony "
    "Betty Mark Sandra Paul Ashley Steven Emily Andrew Donna Kenneth Michelle Joshua Carol Kevin "
    "Amanda Brian Melissa George Deborah Timothy Stephanie Ronald Rebecca Jason Laura Edward "
    "Helen Jeffrey Sharon Ryan Cynthia Jacob Kathleen Gary Amy Nicholas Angela Eric Shirley "
    "Jonathan Anna Stephen Ruth Larry Brenda Justin Pamela Scott Nicole Brandon Katherine "
    "Benjamin Samantha Samuel Christine Gregory Emma Alexander Catherine Frank Debra Patrick "
    "Rachel Raymond Carolyn Jack Janet Dennis Maria Jerry Olivia Tyler Heather Aaron Helena "
    "Olga Ivan Sergei Fatima Ahmed Yuki Hiroshi Wei Chen Priya Ravi Kwame Amara Lucia Mateo"
)
_ORG_HEADS = (
    "Ministry of {w}", "{W} Council", "{W} Party", "{W} Bank", "{W} Union", "{W} Institute",
    "{W} Agency", "{W} Commission", "{W} Group", "{W} Foundation", "{W} University",
    "Department of {w}", "{W} Authority", "{W} Association",
)  # fmt: skip
_MONTHS = _split(
    "January February March April May June July August September October November December"
)
_DAYS = _split("Monday Tuesday Wednesday Thursday Friday Saturday Sunday")
_SYLLABLES = _split(
    "ka ri to mu sen dar vel lo mi an tor bel ga ne sho ru fen dal mor ik us ta lev pra zo "
    "nik ber hol vis tan mar que dor ell wyn rho sta gri fal bru ost em ol ny cha pel sko"
)


def _pseudo_word(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(syllables))


def _model_words() -> list[str]:
    """Whole English words from the bundled model's WordPiece vocabulary (rough frequency order)."""
    from index.corpus import STOPWORDS
    from index.store import resolve_model_path

    vocab = Path(resolve_model_path(DEFAULT_MODEL)) / "vocab.txt"
    out = []
    for line in vocab.read_text(encoding="utf-8").splitlines():
        word = line.strip()
        ok = len(word) >= 3 and word.isascii() and word.isalpha() and word.islower()
        if ok and word not in STOPWORDS:
            out.append(word)
    return out


class Vocabulary:
    """Content words ranked for a Zipf–Mandelbrot draw, and the named entities to mention."""

    def __init__(self, seed: int, rare_words: int = 100_000) -> None:
        rng = random.Random(seed)
        real = _model_words()
        seen = set(real)
        rare: list[str] = []
        while len(rare) < rare_words:
            word = _pseudo_word(rng, rng.choice((2, 3, 3, 4)))
            if word not in seen:
                seen.add(word)
                rare.append(word)
        self.words = real + rare  # rank = position: real words first, made-up ones in the tail
        ranks = np.arange(1, len(self.words) + 1, dtype=np.float64)
        weights = 1.0 / (ranks + 2.7) ** 1.05
        self.cdf = np.cumsum(weights / weights.sum())
        surnames = [w.capitalize() for w in rare[:30_000:3]] + [
            w.capitalize() for w in real[2000:6000:4]
        ]
        self.people = [f"{rng.choice(_FIRST_NAMES)} {rng.choice(surnames)}" for _ in range(40_000)]
        self.places = [_pseudo_word(rng, rng.choice((2, 3))).capitalize() for _ in range(3_000)]
        self.orgs = [
            rng.choice(_ORG_HEADS).format(w=w, W=w.capitalize())
            for w in (rng.choice(real[:8000]) for _ in range(5_000))
        ]

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` word ranks from the Zipf–Mandelbrot distribution."""
        idx = np.searchsorted(self.cdf, rng.random(n))
        return np.minimum(idx, len(self.words) - 1)


# --------------------------------------------------------------------------- corpus


class _Article:
    """One synthetic article's topic words and cast, and a sentence generator."""

    def __init__(self, vocab: Vocabulary, rng: random.Random, nrng: np.random.Generator) -> None:
        self.vocab, self.rng, self.nrng = vocab, rng, nrng
        self.topic = [vocab.words[i] for i in vocab.draw(nrng, 30)] + [
            rng.choice(vocab.words[200:20_000]) for _ in range(10)
        ]
        self.people = rng.sample(vocab.people, 3)
        self.places = rng.sample(vocab.places, 2)
        self.orgs = rng.sample(vocab.orgs, 2)

    def entity(self) -> tuple[str, str]:
        kind = self.rng.random()
        if kind < 0.45:
            return "person", self.rng.choice(self.people)
        if kind < 0.75:
            return "place", self.rng.choice(self.places)
        return "org", "the " + self.rng.choice(self.orgs)

    def number(self) -> str:
        r = self.rng.random()
        if r < 0.3:
            return str(self.rng.randint(2, 99))
        if r < 0.5:
            return f"{self.rng.randint(2, 900)} million"
        if r < 0.7:
            return f"{self.rng.choice(_MONTHS)} {self.rng.randint(1, 28)}"
        if r < 0.85:
            return "on " + self.rng.choice(_DAYS)
        return f"in {self.rng.randint(1990, 2024)}"

    def sentence(self) -> tuple[str, list[str], list[str]]:
        """A sentence, its content words and its entities."""
        rng = self.rng
        length = max(8, min(48, int(rng.gauss(25, 7))))
        ranks = self.vocab.draw(self.nrng, length)
        out: list[str] = []
        content: list[str] = []
        entities: list[str] = []
        i = 0
        while len(out) < length:
            r = rng.random()
            if r < 0.40:
                out.append(rng.choice(_FUNCTION_WORDS))
            elif r < 0.58:
                word = rng.choice(self.topic)
                out.append(word)
                content.append(word)
            elif r < 0.64:
                _, name = self.entity()
                out.append(name)
                entities.append(name)
            elif r < 0.67:
                out.append(self.number())
            else:
                word = self.vocab.words[int(ranks[i % len(ranks)])]
                i += 1
                out.append(word)
                content.append(word)
        last = rng.choice(self.topic)  # end on a lower-case word: an unambiguous sentence end
        content.append(last)
        text = " ".join(out) + " " + last
        if rng.random() < 0.12:
            speaker = rng.choice(self.people)
            entities.append(speaker)
            text = f"“{text[0].upper()}{text[1:]},” said {speaker}, {rng.choice(self.topic)}."
        else:
            text = text[0].upper() + text[1:] + "."
        return text, content, entities


def _question(
    rng: random.Random, content: list[str], entities: list[str], vocab: Vocabulary
) -> str:
    """A question about a sentence, in one of several shapes."""
    words = list(dict.fromkeys(content))
    rng.shuffle(words)
    ent = rng.choice(entities) if entities else rng.choice(vocab.places)
    w = [*words, "news", "report", "plan", "talks"]
    shape = rng.randrange(10)
    if shape == 0:
        return f"What did {ent} say about the {w[0]} {w[1]}?"
    if shape == 1:
        return f"When did the {w[0]} {w[1]} {w[2]} happen?"
    if shape == 2:
        return f"How many {w[0]} {w[1]} were there in {ent}?"
    if shape == 3:
        return f"Who {w[0]} the {w[1]} {w[2]}?"
    if shape == 4:
        return f"Why did {ent} {w[0]} the {w[1]}?"
    if shape == 5:
        return f"What happened to the {w[0]} {w[1]} and {w[2]} in {ent}?"
    if shape == 6:
        return " ".join(w[:4])  # keywords only
    if shape == 7:  # a long question
        return "Is it true that " + " ".join(w[: rng.randint(7, 12)]) + f" according to {ent}?"
    if shape == 8:  # frequent words: long posting lists, the worst case for BM25
        common = [vocab.words[i] for i in rng.sample(range(40), 3)]
        return f"What is the latest on {common[0]} {common[1]} and {common[2]}?"
    # About something the corpus does not cover (rare or unknown words).
    made_up = _pseudo_word(rng, 5)
    return f"What did the {made_up} committee decide about {rng.choice(vocab.words[-5000:])}?"


def write_corpus(
    folder: Path, sentences: int, *, seed: int = 11, questions: int = 200
) -> tuple[Path, Path]:
    """Write ``corpus/synthetic.jsonl`` (about ``sentences`` sentences) and ``questions.txt``."""
    vocab = Vocabulary(seed)
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    corpus = folder / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    path = corpus / "synthetic.jsonl"
    # Which sentences get a question: spread over the whole corpus.
    picks = set(rng.sample(range(sentences), min(questions, sentences)))
    asked: list[str] = []
    written = 0
    number = 0
    with open(path, "w", encoding="utf-8") as fh:
        while written < sentences:
            article = _Article(vocab, rng, nrng)
            count = min(sentences - written, rng.randint(12, 40))
            paragraphs: list[str] = []
            made = 0
            while made < count:
                size = min(count - made, rng.randint(1, 4))
                texts = []
                for _ in range(size):
                    text, content, entities = article.sentence()
                    if written + made in picks:
                        asked.append(_question(rng, content, entities, vocab))
                    texts.append(text)
                    made += 1
                paragraphs.append(" ".join(texts))
            _, subject = article.entity()
            title = f"{subject.removeprefix('the ')} {' '.join(article.topic[:3])}"
            record = {
                "id": f"syn-{number:07d}",
                "title": title[0].upper() + title[1:],
                "text": "\n\n".join(paragraphs),
                "url": f"https://news.example.com/{number}",
                "published": f"20{rng.randint(10, 24)}-{rng.randint(1, 12):02d}-"
                f"{rng.randint(1, 28):02d}",
                "source": rng.choice(("Synthetic Gazette", "The Daily Example", "Wire")),
            }
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            written += count
            number += 1
    rng.shuffle(asked)
    qpath = folder / "questions.txt"
    qpath.write_text("\n".join(asked) + "\n", encoding="utf-8")
    return path, qpath


# --------------------------------------------------------------------------- embedders


class SyntheticEmbedder:
    """Bag-of-random-words vectors for bulk encoding; queries still pay for the real model.

    Each stemmed word gets a fixed random unit vector (seeded by its CRC32); a text's vector is
    the normalised sum of its words' vectors plus a little noise. ``embed_query`` first runs the
    real model on the question when one is given (its cost is the production cost; its vector
    is discarded), then returns the synthetic vector, in the same space as the documents.
    """

    def __init__(
        self, *, real: Any | None = None, dimension: int = DIMENSION, noise: float = 0.15
    ) -> None:
        self.name = SYNTHETIC_MODEL
        self._dimension = dimension
        self._noise = noise
        self._real = real
        self._ids: dict[str, int] = {}
        self._table = np.zeros((0, dimension), dtype=np.float32)

    @property
    def dimension(self) -> int:
        return self._dimension

    def warm_up(self) -> None:
        warm = getattr(self._real, "warm_up", None)
        if callable(warm):
            warm()

    def _word_ids(self, tokens: list[str]) -> list[int]:
        new = [t for t in dict.fromkeys(tokens) if t not in self._ids]
        if new:
            rows = np.empty((len(new), self._dimension), dtype=np.float32)
            for i, token in enumerate(new):
                seed = zlib.crc32(token.encode("utf-8"))
                rows[i] = np.random.default_rng(seed).standard_normal(self._dimension)
            rows /= np.linalg.norm(rows, axis=1, keepdims=True)
            base = len(self._ids)
            for i, token in enumerate(new):
                self._ids[token] = base + i
            self._table = np.concatenate([self._table, rows])
        return [self._ids[t] for t in tokens]

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        from scipy import sparse

        from index.corpus import tokenize

        tokens = [tokenize(t) or ["<empty>"] for t in texts]
        flat = [t for ts in tokens for t in ts]
        ids = self._word_ids(flat)
        indptr = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum([len(ts) for ts in tokens], out=indptr[1:])
        bag = sparse.csr_matrix(
            (np.ones(len(ids), dtype=np.float32), np.asarray(ids), indptr),
            shape=(len(texts), len(self._table)),
        )
        vectors = np.asarray(bag @ self._table, dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
        seed = zlib.crc32("\n".join(texts[:3]).encode("utf-8")) + len(texts)
        noise = np.random.default_rng(seed).standard_normal(vectors.shape).astype(np.float32)
        vectors += noise * (self._noise / np.sqrt(self._dimension))
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors

    def embed_query(self, text: str) -> np.ndarray:
        if self._real is not None:
            self._real.embed_query(text)  # the production cost of the question's vector
        return self.embed([text])[0]


# --------------------------------------------------------------------------- measuring


def _rss_mib() -> dict[str, float]:
    """Resident memory of this process (MiB): total, anonymous and file-backed (mmap)."""
    out = {}
    with open("/proc/self/status", encoding="utf-8") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024
    return {
        "rss": out.get("VmRSS", 0.0),
        "anon": out.get("RssAnon", 0.0),
        "file": out.get("RssFile", 0.0),
        "hwm": out.get("VmHWM", 0.0),
    }


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _disk_mib(path: Path) -> float:
    """Allocated size of a file or folder tree (MiB)."""
    if path.is_file():
        return path.stat().st_blocks * 512 / 2**20
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            total += os.stat(os.path.join(root, name)).st_blocks * 512
    return total / 2**20


def disk_parts(version: Path) -> dict[str, float]:
    """Size on disk of one index version, per part (MiB)."""
    parts = {
        "chroma": _disk_mib(version / "chroma"),
        "bm25": _disk_mib(version / "bm25"),
        "embeddings": _disk_mib(version / "embeddings.npy"),
        "tokens": _disk_mib(version / "tokens.npz"),
        "sentences": _disk_mib(version / "sentences.npz"),
        "articles": _disk_mib(version / "articles.jsonl"),
    }
    parts["total"] = _disk_mib(version)
    return parts


def _make_embedder(kind: str, threads: int, query_model: bool = True) -> Any:
    """The real model, or the synthetic stand-in (with the real model for questions)."""
    from index.store import make_embedder

    real = make_embedder(DEFAULT_MODEL) if kind == "real" or query_model else None
    embedder = real if kind == "real" else SyntheticEmbedder(real=real)
    warm = getattr(embedder, "warm_up", None)
    if callable(warm):
        warm()
    if threads > 0 and real is not None:
        import torch

        torch.set_num_threads(threads)
    return embedder


def _settings(corpus: Path | None, index: Path, model: str) -> Any:
    from index.config import IndexSettings

    return IndexSettings(
        _env_file=None,
        corpus_dir=corpus or Path("/nonexistent"),
        index_dir=index,
        embedding_model=model,
    )


def _build_phases(phases: dict[str, float], total: float) -> dict[str, float]:
    """The build's own phase timings in the benchmark's four steps and the rest."""
    out = {
        "load_split": phases.get("load", 0.0) + phases.get("split", 0.0),
        "embed": phases.get("embed", 0.0),
        "bm25": phases.get("table", 0.0),
        "chroma": phases.get("chroma", 0.0),
    }
    return {**out, "other": total - sum(out.values())}


def worker_build(args: argparse.Namespace) -> dict[str, Any]:
    """Build the index from scratch; throughput, phases and peak memory of this process."""
    from index.store import IndexDir, build_index

    model = DEFAULT_MODEL if args.embedder == "real" else SYNTHETIC_MODEL
    embedder = _make_embedder(args.embedder, args.torch_threads, query_model=False)
    base = _rss_mib()
    settings = _settings(Path(args.corpus), Path(args.index), model)
    cpu0 = time.process_time()
    report = build_index(settings, full=True, embedder=embedder)
    cpu = time.process_time() - cpu0
    version = IndexDir(settings.index_dir).version_dir(str(report.build_id))
    return {
        "sentences": report.sentences,
        "articles": report.articles,
        "embedder": args.embedder,
        "build_seconds": report.seconds,
        "build_cpu_seconds": cpu,
        "build_rate": report.sentences / report.seconds,
        "phases": _build_phases(report.phases, report.seconds),
        "build_rss_base_mib": base["rss"],
        "build_peak_mib": _peak_mib(),
        "disk_mib": disk_parts(version),
    }


def worker_measure(args: argparse.Namespace) -> dict[str, Any]:
    """Open the index, answer every question ``rounds`` times; latency and memory."""
    before_import = _rss_mib()
    from index import QA
    from index.store import IndexDir
    from scripts.evaluation import percentile

    manifest = IndexDir(Path(args.index)).current_manifest()
    assert manifest is not None
    kind = "real" if manifest.model == DEFAULT_MODEL else "synthetic"
    embedder = _make_embedder(kind, args.torch_threads)
    questions = [q for q in Path(args.question_file).read_text("utf-8").splitlines() if q.strip()]
    base = _rss_mib()
    opened_at = time.perf_counter()
    qa = QA(_settings(None, Path(args.index), manifest.model), embedder=embedder)
    open_seconds = time.perf_counter() - opened_at
    opened = _rss_mib()
    first_at = time.perf_counter()
    qa.answer(questions[0])  # first question: chroma loads its HNSW index, caches fill
    first_seconds = time.perf_counter() - first_at
    for q in questions[: args.warmup]:
        qa.answer(q)
    warm_rss = _rss_mib()

    rounds: list[dict[str, Any]] = []
    answered = 0
    # Per question and stage, the fastest of the rounds: what is left when the scheduler's
    # interruptions by other processes are taken out.
    fastest = np.full((len(questions), len(STAGES)), np.inf)
    for r in range(args.rounds):
        order = list(range(len(questions)))
        random.Random(r).shuffle(order)
        stages: dict[str, list[float]] = {s: [] for s in STAGES}
        cpu: list[float] = []
        for i in order:
            c0 = time.process_time()
            answer = qa.answer(questions[i])
            cpu.append(time.process_time() - c0)
            t = answer.timings
            if "total" not in t:
                continue  # small talk: no retrieval (none of the generated questions are)
            answered += int(answer.answered)
            parts = sum(t.get(s, 0.0) for s in ("embed", "bm25", "chroma", "score"))
            t = {**t, "compose": t["total"] - parts}
            for j, s in enumerate(STAGES):
                stages[s].append(t.get(s, 0.0) * 1000)
                fastest[i, j] = min(fastest[i, j], t.get(s, 0.0) * 1000)
        rounds.append(
            {
                "p50": {s: percentile(v, 50) for s, v in stages.items()},
                "p95": {s: percentile(v, 95) for s, v in stages.items()},
                "mean": {s: float(np.mean(v)) if v else 0.0 for s, v in stages.items()},
                "cpu_ms_mean": 1000 * float(np.mean(cpu)),
                "n": len(stages["total"]),
            }
        )
    after = _rss_mib()
    qa.close()
    done = fastest[np.isfinite(fastest).all(axis=1)]

    def median_of(key: str) -> dict[str, float]:
        return {s: statistics.median(r[key][s] for r in rounds) for s in STAGES}

    return {
        "questions": len(questions),
        "sentences": manifest.sentences,
        "torch_threads": args.torch_threads,
        "rounds": rounds,
        "p50": median_of("p50"),
        "p95": median_of("p95"),
        "mean": median_of("mean"),
        "cpu_ms_mean": statistics.median(r["cpu_ms_mean"] for r in rounds),
        "best_p50": {s: percentile(done[:, j], 50) for j, s in enumerate(STAGES)},
        "best_p95": {s: percentile(done[:, j], 95) for j, s in enumerate(STAGES)},
        "answered_share": answered / max(1, sum(r["n"] for r in rounds)),
        "open_seconds": open_seconds,
        "first_answer_seconds": first_seconds,
        "rss_before_import_mib": before_import["rss"],
        "rss_model_mib": base,
        "rss_open_mib": opened,
        "rss_warm_mib": warm_rss,
        "rss_after_mib": after,
        "index_delta_mib": after["rss"] - base["rss"],
    }


def worker_profile(args: argparse.Namespace) -> dict[str, Any]:
    """cProfile of ``QA.answer`` over the questions (warm); the top functions by own time."""
    import cProfile
    import io
    import pstats

    from index import QA
    from index.store import IndexDir

    manifest = IndexDir(Path(args.index)).current_manifest()
    assert manifest is not None
    kind = "real" if manifest.model == DEFAULT_MODEL else "synthetic"
    qa = QA(
        _settings(None, Path(args.index), manifest.model),
        embedder=_make_embedder(kind, args.torch_threads),
    )
    questions = [q for q in Path(args.question_file).read_text("utf-8").splitlines() if q.strip()]
    for q in questions[: args.warmup]:
        qa.answer(q)
    profile = cProfile.Profile()
    profile.enable()
    for q in questions:
        qa.answer(q)
    profile.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profile, stream=stream)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    return {"profile": stream.getvalue()}


# --------------------------------------------------------------------------- the driver


def _run_worker(kind: str, extra: list[str], log: Path) -> dict[str, Any]:
    """Run this script as a worker subprocess; its JSON result (last stdout line)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    cmd = [sys.executable, "-m", "benchmarks.bench_scale", "--worker", kind, *extra]
    with open(log, "a", encoding="utf-8") as err:
        proc = subprocess.run(
            cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=err, text=True, check=False
        )
    if proc.returncode != 0:
        raise RuntimeError(f"worker {kind} failed ({proc.returncode}); see {log}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def parse_sizes(text: str) -> list[int]:
    return [int(float(part)) for part in text.split(",") if part.strip()]


def run_size(n: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Generate, build and measure one size; each step in a fresh process."""
    folder = work / f"n{n}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    log = work / "workers.log"
    started = time.perf_counter()
    corpus, questions = write_corpus(folder, n, seed=args.seed, questions=args.questions)
    generate = time.perf_counter() - started
    embedder = "real" if n <= args.real_max else "synthetic"
    _say(f"[{n:,}] corpus written in {generate:.0f} s; building ({embedder} embeddings)")
    index = folder / "index"
    build = _run_worker(
        "build",
        ["--corpus", str(corpus.parent), "--index", str(index), "--embedder", embedder,
         "--torch-threads", str(args.torch_threads)],
        log,
    )  # fmt: skip
    _say(
        f"[{n:,}] built {build['sentences']:,} sentences in {build['build_seconds']:.0f} s "
        f"({build['build_rate']:,.0f}/s; phases "
        + ", ".join(f"{k} {v:.0f} s" for k, v in build["phases"].items())
        + f"); peak {build['build_peak_mib']:,.0f} MiB"
    )
    flags = ["--index", str(index), "--question-file", str(questions), *_measure_flags(args)]
    measure = _run_worker("measure", flags, log)
    _say(f"[{n:,}] p50 {measure['p50']['total']:.1f} ms, p95 {measure['p95']['total']:.1f} ms")
    result = {"size": n, "embedder": embedder, **build, **measure}
    if args.profile:
        prof = _run_worker("profile", flags, log)
        (work / f"profile-{n}.txt").write_text(prof["profile"], encoding="utf-8")
        _say(f"[{n:,}] profile in {work / f'profile-{n}.txt'}")
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return result


def _measure_flags(args: argparse.Namespace) -> list[str]:
    return [
        "--rounds", str(args.rounds), "--warmup", str(args.warmup),
        "--torch-threads", str(args.torch_threads),
    ]  # fmt: skip


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- reporting


def _fmt_size(n: int) -> str:
    exp = round(float(np.log10(n))) if n > 0 else 0
    return f"10^{exp}" if 10**exp == n else f"{n:,}"


def markdown_table(results: list[dict[str, Any]]) -> str:
    """The benchmark's results as Markdown tables: latency, then memory/disk/build."""
    head = (
        "| sentences | vectors | p50 ms | p95 ms | p95 round 1 | p95 best-of-rounds | "
        "embed p50/p95 | bm25 p50/p95 | chroma p50/p95 | score p50/p95 | compose p50/p95 | "
        "CPU ms/answer |\n"
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    rows = []
    for r in results:
        cells = [
            f"{_fmt_size(r['size'])} ({r['sentences']:,})",
            r["embedder"],
            f"{r['p50']['total']:.1f}",
            f"{r['p95']['total']:.1f}",
            f"{r['rounds'][0]['p95']['total']:.1f}",
            f"{r['best_p95']['total']:.1f}" if "best_p95" in r else "",
        ]
        cells += [f"{r['p50'][s]:.1f} / {r['p95'][s]:.1f}" for s in STAGES[:-1]]
        cells.append(f"{r['cpu_ms_mean']:.1f}")
        rows.append("| " + " | ".join(cells) + " |")
    latency = head + "\n".join(rows)

    head2 = (
        "| sentences | RSS open MiB | RSS warm MiB | index RSS MiB | build peak MiB | "
        "disk MiB | chroma | bm25 | embeddings | tokens+sentences+articles | "
        "build s | build sent/s |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    rows = []
    for r in results:
        d = r["disk_mib"]
        rest = d["tokens"] + d["sentences"] + d["articles"]
        cells = [
            _fmt_size(r["size"]),
            f"{r['rss_open_mib']['rss']:,.0f}",
            f"{r['rss_after_mib']['rss']:,.0f}",
            f"{r['index_delta_mib']:,.0f}",
            f"{r['build_peak_mib']:,.0f}",
            f"{d['total']:,.1f}",
            f"{d['chroma']:,.1f}",
            f"{d['bm25']:,.1f}",
            f"{d['embeddings']:,.1f}",
            f"{rest:,.1f}",
            f"{r['build_seconds']:,.0f}",
            f"{r['build_rate']:,.0f}",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return latency + "\n\n" + head2 + "\n".join(rows)


def plot(results: list[dict[str, Any]], path: Path) -> None:
    """Latency per stage, memory and disk against corpus size (log-log), as one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["sentences"] for r in results]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    ax = axes[0]
    ax.plot(sizes, [r["p95"]["total"] for r in results], "o-", color="black", lw=2,
            label="answer() p95")  # fmt: skip
    ax.plot(sizes, [r["rounds"][0]["p95"]["total"] for r in results], "^-", color="grey",
            label="p95, round 1 (new questions)")  # fmt: skip
    ax.plot(sizes, [r["p50"]["total"] for r in results], "o--", color="black", label="p50")
    for stage, colour in zip(
        ("embed", "bm25", "chroma", "score", "compose"),
        ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"),
        strict=True,
    ):
        ax.plot(sizes, [r["p95"][stage] for r in results], "s:", color=colour,
                label=f"{stage} p95")  # fmt: skip
    ax.axhline(60, color="grey", lw=1, ls="--")
    ax.text(sizes[-1], 64, "goal: p95 ≤ 60 ms", color="grey", fontsize=8, ha="right")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("sentences")
    ax.set_ylabel("ms")
    ax.set_title("answer() latency (warm)")
    ax.set_ylim(0.2, 600)
    ax.legend(fontsize=6.5, loc="upper left", ncol=2)

    before = [(r["sentences"], r["before"]) for r in results if "before" in r]
    for n, b in before:
        ax.plot([n], [b["p95"]["total"]], "o", mfc="none", color="black", ms=9)
        ax.plot([n], [b["p95"]["bm25"]], "s", mfc="none", color="tab:orange", ms=9)
        ax.annotate("before the\nBM25 fix", (n, b["p95"]["bm25"]), fontsize=7,
                    xytext=(-60, -4), textcoords="offset points")  # fmt: skip

    ax = axes[1]
    index_rss = [max(r["rss_after_mib"]["rss"] - r["rss_model_mib"]["rss"], 1.0) for r in results]
    ax.plot(sizes, index_rss, "o-", label="serving RSS minus model (index)")
    ax.plot(sizes, [r["rss_after_mib"]["rss"] for r in results], "o:", label="serving RSS, all")
    ax.plot(sizes, [r["build_peak_mib"] for r in results], "s-", label="build peak RSS")
    ax.plot(sizes, [r["disk_mib"]["total"] for r in results], "^--", label="index on disk")
    ref = index_rss[-1] / sizes[-1]
    ax.plot(sizes, [ref * n for n in sizes], color="grey", lw=1, ls="--", label="∝ sentences")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("sentences")
    ax.set_ylabel("MiB")
    ax.set_title("memory")
    ax.legend(fontsize=7)

    ax = axes[2]
    for part in ("total", "chroma", "embeddings", "bm25", "tokens", "articles"):
        ax.plot(sizes, [max(r["disk_mib"][part], 1e-3) for r in results], "o-", label=part)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("sentences")
    ax.set_ylabel("MiB on disk")
    ax.set_title("index size")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _merge(path: Path, new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Results already in ``path`` with ``new`` replacing those of the same size."""
    old: list[dict[str, Any]] = []
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
    sizes = {r["size"] for r in new}
    merged = [r for r in old if r["size"] not in sizes] + new
    return sorted(merged, key=lambda r: r["size"])


def _iter_results(args: argparse.Namespace, work: Path) -> Iterator[dict[str, Any]]:
    for n in parse_sizes(args.sizes):
        yield run_size(n, args, work)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1e3,1e4,1e5,1e6", help="comma-separated sizes")
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="torch threads for the model (0: torch's default)")  # fmt: skip
    parser.add_argument("--real-max", type=float, default=1e4,
                        help="largest size embedded with the real model")  # fmt: skip
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--workdir", type=Path, default=None, help="default: a new /tmp folder")
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    parser.add_argument("--out", type=Path, default=None, help="merge results into this JSON")
    parser.add_argument("--plot", type=Path, default=None, help="write the PNG here")
    parser.add_argument("--profile", action="store_true", help="also cProfile answer()")
    parser.add_argument("--report-only", action="store_true",
                        help="only print the table (and plot) from --out")  # fmt: skip
    parser.add_argument("--measure-only", type=Path, default=None, metavar="INDEX",
                        help="measure an existing index (with --question-file)")  # fmt: skip
    parser.add_argument("--question-file", type=Path, default=None)
    # Worker mode (internal).
    parser.add_argument("--worker", choices=("build", "measure", "profile"), help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    parser.add_argument("--index", help=argparse.SUPPRESS)
    parser.add_argument("--embedder", choices=("real", "synthetic"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.real_max = int(args.real_max)

    if args.worker:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
        workers: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
            "build": worker_build,
            "measure": worker_measure,
            "profile": worker_profile,
        }
        print(json.dumps(workers[args.worker](args)))
        return 0

    if args.measure_only:
        if args.question_file is None:
            parser.error("--measure-only needs --question-file")
        log = Path(tempfile.gettempdir()) / "bench_scale_workers.log"
        extra = ["--index", str(args.measure_only), "--question-file", str(args.question_file)]
        kind = "profile" if args.profile else "measure"
        result = _run_worker(kind, extra + _measure_flags(args), log)
        if args.profile:
            print(result["profile"])
            return 0
        print(json.dumps(result, indent=1))
        if args.out is not None and args.out.exists():
            # Replace the query-side figures of the entry with the same number of sentences.
            old = json.loads(args.out.read_text(encoding="utf-8"))
            for entry in old:
                if entry["sentences"] == result["sentences"]:
                    entry.update(result)
            args.out.write_text(json.dumps(old, indent=1), encoding="utf-8")
        return 0

    results: list[dict[str, Any]]
    if args.report_only:
        if args.out is None or not args.out.exists():
            parser.error("--report-only needs an existing --out file")
        results = json.loads(args.out.read_text(encoding="utf-8"))
    else:
        work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_scale_"))
        work.mkdir(parents=True, exist_ok=True)
        _say(f"working in {work}")
        results = []
        try:
            for result in _iter_results(args, work):
                results.append(result)
                if args.out is not None:  # saved as we go: 10^6 takes long
                    args.out.write_text(
                        json.dumps(_merge(args.out, [result]), indent=1), encoding="utf-8"
                    )
        finally:
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
        if args.out is not None:
            results = _merge(args.out, [])
    print(markdown_table(results))
    if args.plot is not None:
        plot(results, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
