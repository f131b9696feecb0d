"""Benchmark harness (``vigifeu bench``): accuracy, time to detection, speed and footage replay.

Every benchmark runs the edge's own code (``edge.detect``, ``edge.events``, ``edge.alerts``), so
its figures describe what a camera site runs. See ``benchmarks/RESULTS.md`` for current figures.
"""
