#!/usr/bin/env python3
"""Benchmark the indexer (a Markdown table): ``python -m benchmarks.bench_index [--sentences N]``.

Figures, all from one run on one synthetic corpus of N distinct sentences:

(a) raw model throughput: ``SentenceTransformer.encode`` of exactly the sentences the build
    embeds, in one call, with the embedder's batch size (model load not counted);
(a') the same sentences through the embedder's parallel path (``embed_chunks``: one-thread
    model copies side by side, as the build embeds), so the build's own overhead shows too;
(b) build throughput: ``build_index`` from scratch with the same, already loaded model (every
    step counted: loading and splitting the corpus, embedding, chroma, BM25, files), and the
    ratios (b)/(a) (goal >= 0.9) and (b)/(a');
(c) the wall time of a no-op rebuild, ``python -m scripts.build_index`` in a subprocess
    (goal < 2 s), and of the first full build through the same command;
(d) peak memory (max RSS, from ``wait4``) of each of those processes.

Each of ``--repeat`` rounds is a fresh worker subprocess (this script with ``--worker``, so
every build pays for importing chromadb as a real one does) that loads the model, then runs (a),
(a') and (b) back to back, in alternating order from round to round: on a shared machine other
processes change the speed from minute to minute, and only neighbouring measurements are
comparable. The ratio is reported per round (median) and from CPU time, which other processes
hardly affect.
The corpus comes from :mod:`testkit.synthetic`. This module imports neither torch nor chromadb.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.config import DEFAULT_MODEL
from testkit.synthetic import write_synthetic_corpus

REPO = Path(__file__).resolve().parents[1]

# --------------------------------------------------------------------------- the worker


def _maxrss_mib(usage: resource.struct_rusage) -> float:
    return usage.ru_maxrss / 1024  # KiB on Linux


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(run: Any) -> dict[str, float]:
    cpu, wall = _cpu_seconds(), time.perf_counter()
    run()
    return {"seconds": time.perf_counter() - wall, "cpu": _cpu_seconds() - cpu}


def _worker(args: argparse.Namespace) -> dict[str, Any]:
    """One round: load the model, then (a) one ``encode`` call and (b) ``build_index``."""
    from index.config import IndexSettings
    from index.store import SentenceTransformerEmbedder, build_index

    texts: list[str] = json.loads(Path(args.texts).read_text(encoding="utf-8"))
    started = time.perf_counter()
    embedder = SentenceTransformerEmbedder(args.model, batch_size=args.batch_size)
    model = embedder.model()  # the very SentenceTransformer the build uses
    model.encode(texts[: args.batch_size], batch_size=args.batch_size)  # first-call set-up
    load = time.perf_counter() - started

    def encode() -> None:
        model.encode(
            texts,
            batch_size=args.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )

    from index.store import default_embed_workers, embed_order

    workers = default_embed_workers()

    def encode_parallel() -> None:
        for _ in embedder.embed_chunks(embed_order(texts, len), workers):
            pass

    reports = []

    def build(index: Path) -> None:
        settings = IndexSettings(
            _env_file=None,
            corpus_dir=Path(args.corpus),
            index_dir=index,
            embedding_model=args.model,
        )
        reports.append(build_index(settings, full=True, embedder=embedder))

    index = Path(args.work) / "index-worker"
    shutil.rmtree(index, ignore_errors=True)
    if args.build_first:
        b, p, a = _timed(lambda: build(index)), _timed(encode_parallel), _timed(encode)
    else:
        a, p, b = _timed(encode), _timed(encode_parallel), _timed(lambda: build(index))
    shutil.rmtree(index, ignore_errors=True)
    [report] = reports
    if report.embedded != len(texts):
        raise SystemExit(f"the build embedded {report.embedded} sentences, not {len(texts)}")
    b["embed_seconds"] = report.embed_seconds
    print(
        f"encode {a['seconds']:.2f} s ({a['cpu']:.2f} s CPU), parallel encode "
        f"{p['seconds']:.2f} s ({p['cpu']:.2f} s CPU), build {b['seconds']:.2f} s "
        f"({b['cpu']:.2f} s CPU; embedding {report.embed_seconds:.2f} s)"
        + (", build first" if args.build_first else ""),
        file=sys.stderr,
    )
    return {"encode": a, "parallel": p, "workers": workers, "build": b, "load_s": load}


def _run_worker(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_index --worker")
    parser.add_argument("--worker", action="store_true", required=True)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--batch-size", type=int, required=True)
    parser.add_argument("--build-first", action="store_true")
    parser.add_argument("--texts", required=True)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--work", required=True)
    print(json.dumps(_worker(parser.parse_args(argv))))
    return 0


# --------------------------------------------------------------------------- the driver


@dataclass
class Process:
    """What one measured subprocess did."""

    seconds: float
    maxrss_mib: float
    stdout: str


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CHROMA_HOST", "CHROMA_PORT")}
    env.update(
        PYTHONPATH=str(REPO),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
        TOKENIZERS_PARALLELISM="false",
    )
    return env


def _measure(cmd: list[str], cwd: Path) -> Process:
    """Run ``cmd``; its wall time and its own peak RSS (``wait4``), failing loudly.

    The worker's progress lines (stderr) pass through; stdout is captured.
    """
    started = time.perf_counter()
    with subprocess.Popen(cmd, cwd=cwd, env=_env(), stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        out = proc.stdout.read()  # until the child closes it (it exits)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed with status {proc.returncode}")
    return Process(seconds, _maxrss_mib(usage), out)


def _cli(cwd: Path, corpus: Path, index: Path, model: str) -> Process:
    cmd = [sys.executable, "-m", "scripts.build_index", "--corpus", str(corpus)]
    cmd += ["--index", str(index), "--model", model, "--quiet"]
    return _measure(cmd, cwd)


def _sentence_texts(corpus: Path, max_chars: int) -> list[str]:
    """Exactly the sentences a build of ``corpus`` embeds, in corpus order."""
    from index.corpus import load_corpus, split_sentences

    load = load_corpus(corpus)
    return [s.text for a in load.articles for s in split_sentences(a, max_chars=max_chars)]


def _goal(met: bool) -> str:
    return "met" if met else "NOT met"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--worker" in argv:
        return _run_worker(argv)
    parser = argparse.ArgumentParser(prog="bench_index", description=__doc__.split("\n")[0])
    parser.add_argument("--sentences", type=int, default=2000, help="corpus size (default 2000)")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="embedding model")
    parser.add_argument("--batch-size", type=int, default=None, help="default: the embedder's")
    parser.add_argument("--repeat", type=int, default=3, help="encode/build rounds (default 3)")
    parser.add_argument("--workdir", type=Path, help="keep the corpus and indexes here")
    args = parser.parse_args(argv)
    if args.sentences < 10 or args.repeat < 1:
        parser.error("--sentences must be at least 10 and --repeat at least 1")

    from index.config import IndexSettings
    from index.store import SentenceTransformerEmbedder

    batch = args.batch_size or SentenceTransformerEmbedder(args.model).batch_size
    max_chars = IndexSettings(_env_file=None).max_sentence_chars
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_index-"))
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "corpus"
    shutil.rmtree(corpus, ignore_errors=True)
    write_synthetic_corpus(corpus, args.sentences)
    texts = _sentence_texts(corpus, max_chars)
    texts_file = work / "sentences.json"
    texts_file.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    print(
        f"corpus: {len(texts)} sentences in {corpus}; model {args.model}, batch size {batch}, "
        f"{os.cpu_count()} CPUs, {args.repeat} rounds",
        file=sys.stderr,
    )

    cmd = [sys.executable, "-m", "benchmarks.bench_index", "--worker", "--model", args.model]
    cmd += ["--batch-size", str(batch), "--texts", str(texts_file)]
    cmd += ["--corpus", str(corpus), "--work", str(work)]
    rounds: list[dict[str, Any]] = []
    workers: list[Process] = []
    for number in range(args.repeat):
        print(f"round {number + 1}: ", end="", file=sys.stderr, flush=True)
        workers.append(_measure(cmd + (["--build-first"] if number % 2 else []), work))
        rounds.append(json.loads(workers[-1].stdout.strip().splitlines()[-1]))
    n = len(texts)

    cli_index = work / "index-cli"
    shutil.rmtree(cli_index, ignore_errors=True)
    full = _cli(work, corpus, cli_index, args.model)
    noops = [_cli(work, corpus, cli_index, args.model) for _ in range(3)]
    if any("up to date" not in p.stdout for p in noops):
        raise SystemExit("the second build was not a no-op:\n" + noops[0].stdout)
    noop = statistics.median_low([p.seconds for p in noops])
    noop_rss = max(p.maxrss_mib for p in noops)

    ratios = [r["encode"]["seconds"] / r["build"]["seconds"] for r in rounds]
    ratio = statistics.median(ratios)
    own = [r["parallel"]["seconds"] / r["build"]["seconds"] for r in rounds]
    cpu_ratio = sum(r["encode"]["cpu"] for r in rounds) / sum(r["build"]["cpu"] for r in rounds)
    best_a = min(r["encode"]["seconds"] for r in rounds)
    best_b = min(r["build"]["seconds"] for r in rounds)
    middle = sorted(rounds, key=lambda r: r["encode"]["seconds"] / r["build"]["seconds"])[
        (len(rounds) - 1) // 2
    ]
    rows = [
        ("Sentences (all distinct)", f"{n:,}", f"{args.repeat} rounds; batch size {batch}"),
        (
            "(a) raw `encode` throughput",
            f"{n / middle['encode']['seconds']:,.1f} sentences/s",
            f"median round {middle['encode']['seconds']:.2f} s; best {n / best_a:,.1f}/s",
        ),
        (
            "(a') parallel `embed_chunks` throughput",
            f"{n / middle['parallel']['seconds']:,.1f} sentences/s",
            f"{middle['workers']} one-thread model copies; median round "
            f"{middle['parallel']['seconds']:.2f} s",
        ),
        (
            "(b) `build_index` throughput",
            f"{n / middle['build']['seconds']:,.1f} sentences/s",
            f"median round {middle['build']['seconds']:.2f} s (embedding "
            f"{middle['build']['embed_seconds']:.2f} s); best {n / best_b:,.1f}/s",
        ),
        (
            "(b)/(a), wall time",
            f"{ratio:.3f}",
            "median of rounds " + ", ".join(f"{r:.3f}" for r in ratios) + "; goal >= 0.9: "
            f"{_goal(ratio >= 0.9)}",
        ),
        ("(b)/(a), CPU time", f"{cpu_ratio:.3f}", "all rounds; less sensitive to other load"),
        (
            "(b)/(a'), wall time",
            f"{statistics.median(own):.3f}",
            "median of rounds " + ", ".join(f"{r:.3f}" for r in own) + "; the build's overhead",
        ),
        (
            "(c) no-op rebuild, CLI wall time",
            f"{noop:.2f} s",
            f"median of 3; goal < 2 s: {_goal(noop < 2)}",
        ),
        ("First full build, CLI wall time", f"{full.seconds:.2f} s", "start-up, model load"),
        ("(d) peak RSS, full build (CLI)", f"{full.maxrss_mib:,.0f} MiB", ""),
        ("(d) peak RSS, no-op rebuild (CLI)", f"{noop_rss:,.0f} MiB", ""),
        (
            "(d) peak RSS, (a)+(b) worker",
            f"{max(w.maxrss_mib for w in workers):,.0f} MiB",
            f"model load {statistics.median(r['load_s'] for r in rounds):.1f} s (not counted)",
        ),
    ]
    print("| Measure | Value | Notes |")
    print("|---|---|---|")
    for name, value, note in rows:
        print(f"| {name} | {value} | {note} |")
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
