"""Running the project's commands in child processes: a clean environment and build commands."""

from __future__ import annotations

import os
import sys
from collections.abc import Collection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

OFFLINE = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
    "PYTHONUNBUFFERED": "1",
}


def clean_env(
    *, drop: Collection[str] = (), drop_prefixes: tuple[str, ...] = (), **extra: str
) -> dict[str, str]:
    """This process's environment less ``drop`` and ``drop_prefixes``, offline, the project
    importable (``PYTHONPATH``), then ``extra``: a child is configured only by what a test sets.
    """
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith(drop_prefixes)}
    env.update(PYTHONPATH=str(ROOT), **OFFLINE)
    env.update(extra)
    return env


def build_cmd(
    corpus: Path, index: Path, *extra: str, model: str | None = "hashing-64"
) -> list[str]:
    """``python -m scripts.build_index`` for ``corpus`` into ``index`` (``model`` None: the
    environment's model)."""
    cmd = [sys.executable, "-m", "scripts.build_index", "--corpus", str(corpus)]
    cmd += ["--index", str(index)]
    if model is not None:
        cmd += ["--model", model]
    return [*cmd, *extra]
