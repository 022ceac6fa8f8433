"""Building and storing index versions: embeddings, entities, copies, chromadb and BM25,
written into a new version and switched atomically; a loaded version is a ``Snapshot``.
Imports the corpus room, never the rank or dialogue rooms."""

# ruff: noqa: F401  (the names under TYPE_CHECKING are for type checkers: at run time
# __getattr__ imports each one from its module on first use)
from typing import TYPE_CHECKING

from index.lazy import lazy_exports

_EXPORTS = {
    "BuildReport": "index.store.build",
    "build_index": "index.store.build",
    "embed_order": "index.store.build",
    "Embedder": "index.store.embedder",
    "SentenceTransformerEmbedder": "index.store.embedder",
    "default_embed_workers": "index.store.embedder",
    "make_embedder": "index.store.embedder",
    "resolve_model_path": "index.store.embedder",
    "Snapshot": "index.store.snapshot",
    "IndexDir": "index.store.versions",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from index.store.build import BuildReport, build_index, embed_order
    from index.store.embedder import (
        Embedder,
        SentenceTransformerEmbedder,
        default_embed_workers,
        make_embedder,
        resolve_model_path,
    )
    from index.store.snapshot import Snapshot
    from index.store.versions import IndexDir
