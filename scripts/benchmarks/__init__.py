"""Benchmarks: bench_*.py measure speed, memory and retrieval quality; docs/benchmarks.md records each figure
with the command that produced it. common.py holds the benchmark corpora and measurement helpers."""
