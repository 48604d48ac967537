"""Evaluation and benchmarks for claimmatch, run as ``python -m benchmarks.<name>`` from the repo root.

One home for measuring: :mod:`benchmarks.metrics` (scikit-learn based scores and threshold sweeps),
:mod:`benchmarks.data` (one reader per data set under ``../shared/data``), :mod:`benchmarks.results`
(machine facts, peak memory, the JSON writer). Each other module is one evaluation or benchmark.
"""
