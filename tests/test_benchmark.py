"""The benchmark runs end to end on tiny random data (its figures are not asserted: no timed tests)."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # whole trainings or benchmarks: minutes

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_tiny_benchmark_prints_its_table():
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.benchmark", "--tiny"],
        cwd=PROJECT, capture_output=True, text=True, timeout=900,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    out = completed.stdout
    for label in ("(a) plain Keras, batch 32", "(b) ours, published protocol", "plain Keras, protocol's batch", "CPU: ", "(c) ours, fast", "fp32 GEMM"):
        assert label in out
    assert "lever bf16 mixed precision" in out and "lever XLA jit_compile" in out
    assert "wrote" not in out  # the tiny mode never overwrites metrics/benchmark.json
