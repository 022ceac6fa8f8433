"""Finding and composing the answer: candidates (dense + BM25), features, the ranker, the
reader, and verbatim quotes with corroboration, copies, recency, partial answers or refusals."""
