"""Benchmarks: the floor, each step of superoffice-webhooks, and its peers, in one process.

Run ``python -m benchmarks`` (or ``make bench``) from the repository root; see
``docs/performance.md``.
"""
