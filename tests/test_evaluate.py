"""``scripts/evaluate.py`` end to end on the seed corpus: metrics, report, plot and misses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.store.embedder import Embedder
from scripts import evaluate

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # the real embedding model
def test_evaluate_writes_a_report_with_baselines_and_the_misses(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    real_embedder: Embedder,
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("EMBEDDING_MODEL", raising=False)  # the default: the real model
    asked: list[str] = []

    def loaded(name: str, **kwargs: object) -> Embedder:
        """The session's copy of the model the script asks for (not loaded a second time)."""
        asked.append(name)
        return real_embedder

    monkeypatch.setattr(evaluate, "make_embedder", loaded)
    gold = tmp_path / "gold.jsonl"
    questions = [
        {"question": "Who led the Chinese delegation?", "answers": ["Li Hongzhong"]},
        # Answerable, but no quote can contain this "gold" answer: a guaranteed miss.
        {"question": "Who led the Chinese delegation?", "answers": ["zebra crossing"]},
        {"question": "What is the boiling point of mercury?", "answers": []},
    ]
    gold.write_text("\n".join(json.dumps(q) for q in questions) + "\n", encoding="utf-8")
    reports = tmp_path / "reports"

    corpus = ROOT / "data" / "articles"
    args = ["--gold", str(gold), "--corpus", str(corpus), "--reports", str(reports)]
    status = evaluate.main(args)

    assert status == 0
    assert asked == [real_embedder.name]
    m = json.loads((reports / "gold.json").read_text(encoding="utf-8"))
    assert m["answerable"] == 2 and m["declinable"] == 1
    assert m["top1"] == pytest.approx(0.5)
    assert m["refusal_recall"] == pytest.approx(1.0)
    for key in ("bm25_top1", "dense_top1", "rrf_top1", "latency_p50_ms", "recall@1"):
        assert key in m
    report = (reports / "gold.md").read_text(encoding="utf-8")
    assert "| BM25 + dense, RRF k=60 |" in report and "Threshold sweep" in report
    assert "Misses (1):" in report and "zebra crossing" in report
    assert (reports / "gold.png").read_bytes().startswith(b"\x89PNG")
    assert "report:" in capsys.readouterr().out


def test_evaluate_without_a_corpus_is_one_line_and_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"question": "Who?", "answers": ["x"]}\n', encoding="utf-8")
    missing = tmp_path / "no-such-corpus"
    status = evaluate.main(["--gold", str(gold), "--corpus", str(missing)])
    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
