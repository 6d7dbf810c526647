"""Benchmarks (`make bench`): figures for the README and issue notes, never run by the tests."""
