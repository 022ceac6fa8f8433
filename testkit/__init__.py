"""Stand-ins that the tests and the benchmarks share (neither imports the other).

- ``fake_bot_api``: a fake Telegram Bot API server on loopback that checks messages as
  Telegram does, and the fake bot ``TOKEN``;
- ``fake_qa``: ``FakeQA``, a deterministic answerer honouring the ``QuestionAnswerer``
  contract, with its small articles;
- ``polling``: run the real python-telegram-bot ``Application`` by long polling inside an
  event loop;
- ``synthetic``: write a synthetic news corpus of distinct sentences;
- ``news_site``: realistic article pages (navigation, ads, comments, JSON-LD) and their feeds
  in every RSS and Atom flavour;
- ``local_web``: a local web site on 127.0.0.1 (pytest-httpserver) serving them with ETag and
  Last-Modified, for the fetch tests and ``benchmarks.bench_fetch``.
"""

OFFLINE = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
    "PYTHONUNBUFFERED": "1",
}
"""The environment of a child process (the bot, a script) run by a test or a benchmark: no
download, no telemetry, output as it comes."""
