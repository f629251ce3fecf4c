"""Benchmarks, not part of the test suite: ``make bench`` (``python -m bench``) runs them all,
``python -m bench.<name>`` one of them. See the README, "Performance"."""
