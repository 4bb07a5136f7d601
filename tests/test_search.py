"""scripts/search.py: each recorded search variant rejoins the pipeline through DVC's own `-S` override
and builds the model it recorded (its FLOPs as recorded)."""

import importlib.util
import json
import os
import shutil

import pytest
from dvc.utils.hydra import apply_overrides

from study import config
from study.analysis.cost import training_flops

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN_SIZE = 48_000  # the published split's training images: what the record's runs trained on

with open(os.path.join(ROOT, "reports", "search.json")) as stream:
    RECORD = json.load(stream)


@pytest.fixture(scope="module")
def search():
    spec = importlib.util.spec_from_file_location("search", os.path.join(ROOT, "scripts", "search.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(RECORD["variants"]))
def test_each_recorded_variant_rejoins_the_pipeline_as_recorded(search, name, tmp_path):
    record = RECORD["variants"][name]
    run = search.command(name, record["overrides"])
    assert run[:5] == ["dvc", "exp", "run", "-n", f"search-{name}".replace("_", "-")] and run[5] == "-S"
    shutil.copy(os.path.join(ROOT, "params.yaml"), tmp_path / "params.yaml")
    apply_overrides(str(tmp_path / "params.yaml"), [run[6]])  # as `dvc exp run -S` applies it
    study = config.load(str(tmp_path / "params.yaml"))
    section = "augmented_variants" if "augmentation" in record["overrides"] else "recipes"
    assert study.raw[section][name] == record["overrides"]
    spec = study.spec(name)
    images = spec.epochs * study.training_images(name, TRAIN_SIZE)
    assert training_flops(spec) * images / 1e12 == pytest.approx(record["tflop"], rel=1e-9)
    # Nothing else of params.yaml moved: the experiment retrains only this variant.
    original = config.load(os.path.join(ROOT, "params.yaml"))
    assert all(study.spec(other) == original.spec(other) for other in original.variant_names)


def test_an_unknown_name_is_refused_in_one_line(search, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert search.main(["no_such_variant"]) == 2
    error = capsys.readouterr().err.splitlines()
    assert len(error) == 1 and error[0].startswith("error: reports/search.json: no variant named")
