"""Stand-ins that the tests and the benchmarks share (neither imports the other).

- ``fake_bot_api``: a fake Telegram Bot API server on loopback that checks messages as
  Telegram does, and the fake bot ``TOKEN``;
- ``fake_qa``: ``FakeQA``, a deterministic answerer honouring the ``QuestionAnswerer``
  contract, with its small articles;
- ``polling``: run the real python-telegram-bot ``Application`` by long polling inside an
  event loop;
- ``synthetic``: write a synthetic news corpus of distinct sentences.
"""
