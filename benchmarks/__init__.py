"""Benchmarks that print the figures the README quotes (``make bench`` runs them).

Run each from the project root as ``python -m benchmarks.bench_index``, ``bench_answer``,
``bench_load``, ``bench_scale``, ``bench_fetch`` or ``bench_first_answer``; ``--help`` lists
the knobs. Speed and memory targets live here, not in timed unit tests. Benchmarks import
``index``, ``bot`` and ``testkit``, never ``tests``.
"""
