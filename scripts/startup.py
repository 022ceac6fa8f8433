"""What the command-line scripts do first: log records of one line, and nothing downloaded."""

from __future__ import annotations

import logging
import os


def start(level: int) -> None:
    """Log at ``level`` as ``LEVEL logger: message``; keep the model hub offline and chromadb's
    telemetry off unless the environment says otherwise."""
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
