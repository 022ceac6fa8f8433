"""Running the project's commands in child processes: a clean environment and build commands."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from bot.settings import BotSettings
from index.config import IndexSettings
from ingest.settings import FetchSettings
from testkit import OFFLINE

ROOT = Path(__file__).resolve().parents[1]


def setting_names() -> frozenset[str]:
    """Every environment variable the project's settings read (``IndexSettings``,
    ``FetchSettings`` and ``BotSettings``: the field names in upper case)."""
    fields = {*IndexSettings.model_fields, *FetchSettings.model_fields, *BotSettings.model_fields}
    fields -= {"index", "fetch"}
    return frozenset(name.upper() for name in fields)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a child process: this one's without any of the project's settings
    or pytest's own variables, offline, the project importable (``PYTHONPATH``), then
    ``extra``. A child is configured only by what a test sets.
    """
    unset = setting_names()
    env = {k: v for k, v in os.environ.items() if k not in unset and not k.startswith("PYTEST_")}
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
