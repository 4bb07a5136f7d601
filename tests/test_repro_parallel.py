"""scripts/repro_parallel.py plans the trainings `dvc repro` would run: the chosen ones first,
then the most work first."""

import importlib.util
import os
from types import SimpleNamespace

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def repro_parallel(monkeypatch):
    spec = importlib.util.spec_from_file_location(
        "repro_parallel", os.path.join(ROOT, "scripts", "repro_parallel.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_dvc(monkeypatch, planned, calls):
    """dvc.repo.Repo replaced by one whose dry reproduce returns `planned` stages (name, command)."""
    import dvc.repo

    class Repo:
        def __init__(self, root):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exception):
            return False

        index = SimpleNamespace(stages=[SimpleNamespace(addressing=name) for name, _ in planned + LATER])

        def reproduce(self, **options):
            calls.append(options)
            return [SimpleNamespace(addressing=name, cmd=command) for name, command in planned]

    monkeypatch.setattr(dvc.repo, "Repo", Repo)


PLANNED = [
    ("prepare", "python -m stages.prepare"),
    ("train@baseline-42", "python -m stages.train baseline --seed 42"),
    ("train@wide-42", "python -m stages.train wide --seed 42"),
    ("train_augmented@copies-42", "python -m stages.train copies --seed 42"),
    ("kfold@0", "python -m stages.kfold 0"),
    ("kfold_carried", "python -m stages.kfold_carried"),
    ("evaluate", "python -m stages.evaluate"),
]
# Stages of the pipeline that are not trainings: never planned for the dry run.
LATER = [("mirror@wide-42", "python -m stages.mirror wide --seed 42")]
# (images, spec) per stage as study.analysis.cost.study_trainings gives them; the work is
# images x FLOPs of the spec.
TRAININGS = {
    "train baseline --seed 42": (100, {"flops": 1}),
    "train wide --seed 42": (100, {"flops": 6}),
    "train copies --seed 42": (200, {"flops": 1}),
    "kfold 0": (80, {"flops": 1}),
    "kfold_carried": (400, {"flops": 1}),
}

TRAINING_NAMES = [
    "train@baseline-42",
    "train@wide-42",
    "train_augmented@copies-42",
    "kfold@0",
    "kfold_carried",
]


@pytest.fixture
def planned(monkeypatch, repro_parallel):
    calls = []
    fake_dvc(monkeypatch, PLANNED, calls)
    monkeypatch.setattr(repro_parallel, "study_trainings", lambda all_params: TRAININGS)
    monkeypatch.setattr(repro_parallel, "training_flops", lambda spec: spec["flops"])
    monkeypatch.setattr(repro_parallel.config, "load", lambda: None)
    return calls


def test_trainings_only_the_most_work_first(repro_parallel, planned):
    stages = repro_parallel.changed_trainings()
    assert [name for name, _ in stages] == [
        "train@wide-42",
        "kfold_carried",
        "train_augmented@copies-42",
        "train@baseline-42",
        "kfold@0",
    ]
    assert dict(stages)["kfold@0"] == "python -m stages.kfold 0"
    assert planned == [{"targets": TRAINING_NAMES, "dry": True, "allow_missing": False}]


def test_chosen_stages_first_and_allow_missing_passed_on(repro_parallel, planned):
    stages = repro_parallel.changed_trainings(allow_missing=True, first=["kfold*", "train@baseline-*"])
    assert [name for name, _ in stages] == [
        "kfold_carried",
        "train@baseline-42",
        "kfold@0",
        "train@wide-42",
        "train_augmented@copies-42",
    ]
    assert planned == [{"targets": TRAINING_NAMES, "dry": True, "allow_missing": True}]


def test_a_new_variants_later_stage_does_not_stop_the_plan(repro_parallel, tmp_path, monkeypatch):
    """Real DVC: a stage reading a model not trained yet (a new variant's mirror@) is left out
    of the dry run."""
    import subprocess
    import sys

    import yaml

    pipeline = {
        "stages": {
            "train": {
                "foreach": ["new"],
                "do": {"cmd": "echo model > ${item}.keras", "outs": ["${item}.keras"]},
            },
            "mirror": {
                "foreach": ["new"],
                "do": {
                    "cmd": "cp ${item}.keras ${item}.npz",
                    "deps": ["${item}.keras"],
                    "outs": ["${item}.npz"],
                },
            },
        }
    }
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump(pipeline))
    subprocess.run([sys.executable, "-m", "dvc", "init", "--no-scm", "-q"], cwd=tmp_path, check=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(repro_parallel, "study_trainings", lambda all_params: {})
    monkeypatch.setattr(repro_parallel.config, "load", lambda: None)
    assert repro_parallel.changed_trainings() == [("train@new", "echo model > new.keras")]


def test_a_training_prints_its_start_epochs_and_end(repro_parallel, capsys):
    command = "echo Epoch 1/2 - 1.0s; echo noise; echo Epoch 2/2 - 1.0s; echo last line"
    name, returncode, output, seconds = repro_parallel.run_stage("train@x-1", command)
    assert (name, returncode) == ("train@x-1", 0) and output.splitlines()[-1] == "last line"
    assert capsys.readouterr().out.splitlines() == [
        "repro_parallel: train@x-1 started",
        "repro_parallel: train@x-1: Epoch 1/2 - 1.0s",
        "repro_parallel: train@x-1: Epoch 2/2 - 1.0s",
    ]
    assert repro_parallel.run_stage("train@x-1", "exit 3")[1] == 3


def test_time_left_is_the_work_left_at_the_rate_so_far(repro_parallel, monkeypatch):
    monkeypatch.setattr(repro_parallel.time, "time", lambda: 1000.0)
    # 300 units of work done in 600 s: 150 left take 300 s more.
    assert repro_parallel.time_left(400.0, 300, 150) == pytest.approx(300.0)
    assert repro_parallel.time_left(400.0, 0, 150) is None


def test_targets_limit_the_plan_and_the_later_dvc_repro(repro_parallel, planned):
    stages = repro_parallel.changed_trainings(targets=["train@*-42", "kfold@*"])
    assert [name for name, _ in stages] == ["train@wide-42", "train@baseline-42", "kfold@0"]
    assert planned[0]["targets"] == ["train@baseline-42", "train@wide-42", "kfold@0"]
    assert repro_parallel.later_stages(False, ["train@*-42"]) == ["--glob", "train@*-42"]
    assert repro_parallel.later_stages(True, []) == ["--allow-missing"]


def test_progress_counts_the_work_done_and_estimates_the_rest(repro_parallel, planned, monkeypatch, capsys):
    now = [0.0]
    monkeypatch.setattr(repro_parallel.time, "time", lambda: now[0])
    progress = repro_parallel.Progress(repro_parallel.changed_trainings(targets=["train@*"]))
    now[0] = 60.0
    # wide (600 units of work) done in a minute: baseline's 100 take 10 s more.
    progress.training_ended("train@wide-42")
    assert (
        capsys.readouterr().out.splitlines()[-1]
        == "repro_parallel: 1/2 trainings done in 1 min, about 0 min left"
    )
    assert (progress.done_work, progress.left_work) == (600, 100)
