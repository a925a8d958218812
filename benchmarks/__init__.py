"""Benchmarks run by `make bench`; each prints its figures (see BENCHMARKS.md)."""
