"""Benchmarks: each module compares us with a named baseline in the same run."""
