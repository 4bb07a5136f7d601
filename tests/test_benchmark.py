"""The benchmark runs end to end on tiny random data (its figures are not asserted: no timed tests),
and writes where it is told."""

import json
import os
import subprocess
import sys

import pytest


PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow  # the whole benchmark on tiny data: minutes
def test_tiny_benchmark_prints_its_table():
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.benchmark", "--tiny"],
        cwd=PROJECT, capture_output=True, text=True, timeout=900,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    out = completed.stdout
    for label in ("(a) plain Keras, batch 32", "(c) ours, fast", "CPU: ", "fp32 GEMM", "plain_same_batch",
                  "default_two_at_once", "reference (Keras defaults)", "steps_per_execution 16",
                  "default / plain_same_batch: ", "default_bf16_two_at_once", "what-if, the study in bf16: "):
        assert label in out
    assert "wrote" not in out  # the tiny mode never overwrites metrics/benchmark.json


@pytest.mark.slow
def test_step_parts_prints_every_part():
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.step_parts", "--repeats", "2", "--rounds", "1"],
        cwd=PROJECT, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    for label in ("CPU: ", "train_step (+ Adam, metrics)", "Dropout", "Keras's way", "8-bit draws"):
        assert label in completed.stdout


def test_study_section_goes_to_the_named_output(tmp_path, monkeypatch):
    # A run on another CPU family writes its own file (--output) and leaves the committed one alone;
    # its bound is the images times the FLOPs per image over the GEMM rate, here worked by hand.
    from benchmarks import benchmark
    from study import params
    from study.flops import training_flops

    spec = params.model_spec(params.load(os.path.join(PROJECT, "params.yaml")), "baseline", 42)
    monkeypatch.chdir(tmp_path)  # no logs/resources/ here: no stage records
    monkeypatch.setattr(benchmark, "gemm_gflops", lambda: 100.0)
    monkeypatch.setattr(benchmark, "study_trainings", lambda all_params: {"train@baseline-42": (720_000, spec)})
    monkeypatch.setattr(benchmark.params, "load", lambda: {})
    output = tmp_path / "other-machine.json"
    monkeypatch.setattr(sys, "argv", ["benchmark", "--study", "--output", str(output)])
    benchmark.main()
    study = json.loads(output.read_text())["study"]
    assert study["bound_s"] == pytest.approx(720_000 * training_flops(spec) / 100e9)
    assert study["bound_s"] == pytest.approx(720_000 * 15.78624e6 / 100e9)  # the baseline's 15.79 MFLOP per image
    assert study["missing_records"] == ["train@baseline-42"] and study["wall_s"] is None
    assert not os.path.exists(os.path.join("metrics", "benchmark.json"))
