"""Building and storing index versions: embeddings, entities, copies, chromadb and BM25,
written into a new version and switched atomically; a loaded version is a ``Snapshot``.
Imports the corpus room, never the rank or dialogue rooms."""
