"""Public names of a room (``index.store``, ``index.rank`` ...) imported on first use.

A room's ``__init__`` lists what it offers to the scripts and benchmarks; the module behind a
name is imported only when the name is, so ``import index.corpus.text`` does not load
trafilatura and a no-op rebuild does not load the answer side.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``package`` that imports ``exports[name]`` on first use."""

    def __getattr__(name: str) -> object:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(module), name)

    return __getattr__
