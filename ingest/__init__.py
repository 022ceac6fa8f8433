"""Bring news coverage into the corpus folder: feeds and pages in, Markdown articles out.

One module per job: :mod:`ingest.urls` (canonical URLs and article ids), :mod:`ingest.feeds`
(the feed list and feed parsing), :mod:`ingest.http` (the polite HTTP client),
:mod:`ingest.addresses` and :mod:`ingest.transport` (which addresses may be fetched, and the
deadline of a request), :mod:`ingest.decoding` (Content-Encoding with a size cap),
:mod:`ingest.settings` (``FETCH_ALLOW_PRIVATE``), :mod:`ingest.names` (article ids as file
names), :mod:`ingest.state` (remembered ETag / Last-Modified), :mod:`ingest.extract` (main
text and metadata of a page), :mod:`ingest.writer` (atomic Markdown files) and
:mod:`ingest.run` (the orchestration behind ``python -m scripts.fetch``). ``ingest`` depends on
``index``, never the reverse.
"""
