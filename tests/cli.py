"""Running the project's commands in child processes: a clean environment, build commands, and
:func:`run`, the one way the tests run a command to its end.

A child is configured only by what a test sets (:func:`clean_env`), reads nothing from the
terminal (no ``stdin``: ``/dev/null``), and has its output captured; a hung child fails the test
after ``timeout`` seconds instead of holding the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from bot.settings import BotSettings
from index.config import IndexSettings
from ingest.settings import FetchSettings
from testkit import OFFLINE

ROOT = Path(__file__).resolve().parents[1]

TIMEOUT = 120.0
"""Seconds a child may take unless a test says otherwise (a child that loads the real model on
a busy 2-core machine takes 10-20 s)."""


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


def module_cmd(module: str, *args: str) -> list[str]:
    """``python -m module args`` with this interpreter."""
    return [sys.executable, "-m", module, *args]


def run(
    cmd: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path = ROOT,
    stdin: str | None = None,
    timeout: float = TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` to its end and capture its output as text.

    ``env`` defaults to :func:`clean_env`; ``cwd`` to the repository (pass ``tmp_path`` where no
    ``.env`` may be read); ``stdin`` is what the child reads (none: end of input at once).
    """
    return subprocess.run(
        list(cmd),
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        env=dict(clean_env() if env is None else env),
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def run_binary(
    cmd: Sequence[str | bytes],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path = ROOT,
    stdin: bytes | None = None,
    timeout: float = TIMEOUT,
) -> subprocess.CompletedProcess[bytes]:
    """:func:`run` with bytes in and out: for arguments and input that are not valid UTF-8."""
    return subprocess.run(
        list(cmd),
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        env=dict(clean_env() if env is None else env),
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
