"""Trail's benchmark suite: `python -m bench.run` (or `make bench` / `make bench-quick`).

See docs/benchmarks.md for what is measured, the targets and the latest figures.
"""
