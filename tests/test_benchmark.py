"""The benchmark runs end to end on tiny random data (its figures are not asserted: no timed tests),
and writes where it is told."""

import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow  # the whole benchmark on tiny data: minutes
def test_tiny_benchmark_prints_its_table():
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.benchmark", "--tiny"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    out = completed.stdout
    for label in (
        "(a) plain Keras, batch 32",
        "(c) ours, fast",
        "CPU: ",
        "fp32 GEMM",
        "plain_same_batch",
        "default_two_at_once",
        "reference (Keras defaults)",
        "steps_per_execution 16",
        "default / plain_same_batch: ",
        "default_bf16_two_at_once",
        "what-if, the study in bf16: ",
    ):
        assert label in out
    assert "wrote" not in out  # the tiny mode never overwrites metrics/benchmark.json


@pytest.mark.slow
def test_step_parts_prints_every_part():
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.step_parts", "--repeats", "2", "--rounds", "1"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    for label in ("CPU: ", "train_step (+ Adam, metrics)", "Dropout", "Keras's way", "8-bit draws"):
        assert label in completed.stdout


def baseline_spec():
    from study import config

    return config.load(os.path.join(PROJECT, "params.yaml")).spec("baseline", 42)


def test_study_section_goes_to_the_named_output(tmp_path, monkeypatch):
    # A run on another CPU family writes its own file (--output) and leaves the committed one alone;
    # its bound is the images times the FLOPs per image over the GEMM rate, here worked by hand.
    from benchmarks import benchmark, study_time
    from study.analysis.cost import training_flops

    spec = baseline_spec()
    monkeypatch.chdir(tmp_path)  # no logs/resources/ here: no stage records
    monkeypatch.setattr(benchmark, "gemm_gflops", lambda: 100.0)
    monkeypatch.setattr(study_time, "study_trainings", lambda study: {"train@baseline-42": (720_000, spec)})
    monkeypatch.setattr(study_time.config, "load", lambda: None)
    output = tmp_path / "other-machine.json"
    monkeypatch.setattr(sys, "argv", ["benchmark", "--study", "--output", str(output)])
    benchmark.main()
    study = json.loads(output.read_text())["study"]
    assert study["bound_s"] == pytest.approx(720_000 * training_flops(spec) / 100e9)
    assert study["bound_s"] == pytest.approx(
        720_000 * 15.78624e6 / 100e9
    )  # the baseline's 15.79 MFLOP per image
    assert study["missing_records"] == ["train@baseline-42"] and study["wall_s"] is None
    assert not os.path.exists(os.path.join("metrics", "benchmark.json"))


def test_each_models_trainings_against_their_bound_on_one_core():
    # Two baseline trainings of 300 and 340 s and one k-fold training; at a 100 GFLOP/s machine
    # a training of 720,000 images has 720,000 x 15.79 MFLOP / 50 GFLOP/s = 227.3 s of one core.
    from benchmarks import study_time

    spec = baseline_spec()
    trainings = {
        "train baseline --seed 42": (720_000, spec),
        "train baseline --seed 43": (720_000, spec),
        "kfold 0": (720_000, spec),
        "train sgd --seed 42": (720_000, spec),  # not recorded: left out
    }
    records = {
        "train baseline --seed 42": {"wall_s": 300.0},
        "train baseline --seed 43": {"wall_s": 340.0},
        "kfold 0": {"wall_s": 250.0},
    }
    models = study_time.model_ratios(records, trainings, 100.0)
    assert sorted(models) == ["baseline", "kfold"]
    one = 720_000 * 15.78624e6 / 50e9
    assert models["baseline"]["trainings"] == 2 and models["baseline"]["wall_s"] == 640.0
    assert models["baseline"]["ratio"] == pytest.approx(640.0 / (2 * one))
    assert models["kfold"]["ratio"] == pytest.approx(250.0 / one)


def test_step_groups_time_each_step_cost_once(monkeypatch):
    # Two trainings that differ only in their learning rate, schedule, epochs or pre-made
    # training set take the same steps: one timing serves both. A batch size does not.
    from benchmarks import variants
    from study.config import StepDecay

    spec = baseline_spec()
    trainings = {
        "train baseline --seed 42": (100, spec),
        "train baseline_lr --seed 42": (
            100,
            spec.replace(
                lr_schedule=StepDecay(drop_every_epochs=5, factor=0.5),
                learning_rate=0.01,
                epochs=3,
                augmentation="rotate",
            ),
        ),
        "train wide --seed 42": (100, spec.replace(batch_size=128)),
        "kfold 0": (80, spec.replace(epochs=30)),
    }
    monkeypatch.setattr(variants, "study_trainings", lambda study: trainings)
    study = SimpleNamespace(kfold=SimpleNamespace(variant="baseline_lr"))
    assert variants.step_groups(study) == {
        "baseline": ["train baseline --seed 42", "train baseline_lr --seed 42", "kfold 0"],
        "wide": ["train wide --seed 42"],
    }


def test_variants_section_sums_the_study_over_the_measured_rates(monkeypatch):
    # Each group's images over its measured rate, summed; the bound at the GEMM rate; worked by hand.
    from benchmarks import rounds, variants

    spec = baseline_spec().replace(seed=None)
    narrow, wide = (
        spec.replace(batch_size=32, batch_norm=True),
        spec.replace(batch_size=128, batch_norm=False),
    )
    trainings = {
        "train a --seed 1": (1_000, narrow),
        "train a --seed 2": (3_000, narrow),
        "train b --seed 1": (500, wide),
    }
    monkeypatch.setattr(variants.config, "load", lambda: None)
    monkeypatch.setattr(variants, "study_trainings", lambda study: trainings)
    monkeypatch.setattr(variants, "training_flops", lambda spec: 10e6 if spec is narrow else 40e6)
    rates = {
        "variant:a_two_at_once": 200.0,
        "variant:b_two_at_once": 50.0,
        "variant:a@batch_norm_kernel=fused_two_at_once": 400.0,
    }
    timed = []

    def interleaved(setups, data, scratch, repeats, flops, gemm):
        timed.append(setups)
        return {
            setup: {"images_per_s": rates[setup], "gemm_fraction": 0.5, "batch_size": 32} for setup in setups
        }

    monkeypatch.setattr(rounds, "interleaved", interleaved)
    section = variants.section("data", "scratch", 1, gemm=4.0)
    assert section["groups"]["a"]["steps_s"] == pytest.approx(4_000 / 200)
    assert section["groups"]["b"]["steps_s"] == pytest.approx(500 / 50)
    assert section["bound_s"] == pytest.approx((4_000 * 10e6 + 500 * 40e6) / 4e9)  # 10 + 5 s
    assert section["steps_vs_bound"] == pytest.approx(30 / 15)
    # A what-if re-times only the groups that match --where, and sums the study again with their new rates.
    section = variants.section("data", "scratch", 1, 4.0, "batch_norm_kernel=fused", "batch_norm=true")
    assert sorted(timed[-1]) == sorted(rates)
    assert section["groups"]["a"]["what_if"]["steps_s"] == pytest.approx(4_000 / 400)
    assert "what_if" not in section["groups"]["b"]
    assert section["what_if_steps_vs_bound"] == pytest.approx((10 + 10) / 15)


def test_benchmark_refuses_a_bad_what_if_before_timing(monkeypatch, capsys):
    from benchmarks import benchmark

    monkeypatch.setattr(benchmark, "gemm_gflops", lambda: pytest.fail("timed despite a bad option"))
    for arguments, named in (
        (
            ["--variants", "--what-if", "batch_norm_kernel=cudnn"],
            "--what-if.batch_norm_kernel: expected keras or fused, got 'cudnn'",
        ),
        (["--variants", "--what-if", "batch_norm_kernel"], "expected KEY=VALUE"),
        (["--what-if", "batch_norm_kernel=fused"], "only with --variants"),
        (["--variants", "--where", "batch_norm=true"], "--where: only with --what-if"),
        # A value each key allows, but not together with the variants' other keys.
        (
            ["--variants", "--what-if", "kernel_sizes=[3]"],
            "kernel_sizes: expected one kernel size per conv layer",
        ),
    ):
        monkeypatch.setattr(sys, "argv", ["benchmark", *arguments])
        with pytest.raises(SystemExit) as exit_info:
            benchmark.main()
        assert exit_info.value.code == 2 and named in capsys.readouterr().err


def test_where_matches_a_value_as_params_yaml_writes_it():
    # The spec holds tuples and dataclasses; --where is written as YAML reads it, lists and mappings.
    from benchmarks.changes import holds
    from study.config import StepDecay

    spec = baseline_spec()
    assert holds(spec, "filters", list(spec.filters)) and not holds(spec, "filters", [1, 2])
    assert holds(spec, "batch_norm", spec.batch_norm) and not holds(spec, "batch_norm", not spec.batch_norm)
    stepped = spec.replace(lr_schedule=StepDecay(drop_every_epochs=5, factor=0.5))
    assert holds(stepped, "lr_schedule", {"drop_every_epochs": 5, "factor": 0.5})
    assert not holds(stepped, "lr_schedule", None)


def test_contender_refuses_an_unknown_setup_in_one_line():
    for arguments, named in (
        (["--setup", "variant:no_such_variant"], "no variant named 'no_such_variant'"),
        (["--setup", "fastest"], "expected one of"),
        (
            ["--setup", "variant:batchnorm", "--set", "batch_norm_kernel=cudnn"],
            "--set.batch_norm_kernel: expected keras or fused, got 'cudnn'",
        ),
        (["--setup", "default", "--set", "batch_size=64"], "--set: only with --setup variant:"),
    ):
        completed = subprocess.run(
            [sys.executable, "-m", "benchmarks.contender", "steps", *arguments, "--out", "unused.json"],
            cwd=PROJECT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert completed.returncode == 2 and named in completed.stderr
        assert "Traceback" not in completed.stderr
