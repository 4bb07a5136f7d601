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
    for label in ("(a) plain Keras, batch 32", "(c) ours, fast", "CPU: ", "fp32 GEMM", "plain_same_batch",
                  "default_two_at_once", "reference (Keras defaults)", "steps_per_execution 16",
                  "default / plain_same_batch: "):
        assert label in out
    assert "wrote" not in out  # the tiny mode never overwrites metrics/benchmark.json


def test_step_parts_prints_every_part():
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.step_parts", "--repeats", "2", "--rounds", "1"],
        cwd=PROJECT, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    for label in ("CPU: ", "train_step (+ Adam, metrics)", "Dropout", "Keras's way", "8-bit draws"):
        assert label in completed.stdout
