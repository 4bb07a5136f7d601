"""scripts/repro_parallel.py plans the trainings `dvc repro` would run: the chosen ones first, then the most work first."""

import importlib.util
import os
from types import SimpleNamespace

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def repro_parallel(monkeypatch):
    spec = importlib.util.spec_from_file_location("repro_parallel", os.path.join(ROOT, "scripts", "repro_parallel.py"))
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
# (images, spec) per stage as study.flops.study_trainings gives them; the work is images x FLOPs of the spec.
TRAININGS = {
    "train baseline --seed 42": (100, {"flops": 1}),
    "train wide --seed 42": (100, {"flops": 6}),
    "train copies --seed 42": (200, {"flops": 1}),
    "kfold 0": (80, {"flops": 1}),
    "kfold_carried": (400, {"flops": 1}),
}


@pytest.fixture
def planned(monkeypatch, repro_parallel):
    calls = []
    fake_dvc(monkeypatch, PLANNED, calls)
    monkeypatch.setattr(repro_parallel, "study_trainings", lambda all_params: TRAININGS)
    monkeypatch.setattr(repro_parallel, "training_flops", lambda spec: spec["flops"])
    monkeypatch.setattr(repro_parallel.params, "load", lambda: {})
    return calls


def test_trainings_only_the_most_work_first(repro_parallel, planned):
    stages = repro_parallel.changed_trainings()
    assert [name for name, _ in stages] == [
        "train@wide-42", "kfold_carried", "train_augmented@copies-42", "train@baseline-42", "kfold@0",
    ]
    assert dict(stages)["kfold@0"] == "python -m stages.kfold 0"
    assert planned == [{"dry": True, "allow_missing": False}]


def test_chosen_stages_first_and_allow_missing_passed_on(repro_parallel, planned):
    stages = repro_parallel.changed_trainings(allow_missing=True, first=["kfold*", "train@baseline-*"])
    assert [name for name, _ in stages] == [
        "kfold_carried", "train@baseline-42", "kfold@0", "train@wide-42", "train_augmented@copies-42",
    ]
    assert planned == [{"dry": True, "allow_missing": True}]
