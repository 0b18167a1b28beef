"""Benchmarks that run the operator against a local control plane and print what they measured.

They report figures and never fail on a stopwatch: timings on a shared machine are too noisy to
be a pass-or-fail criterion.
"""
