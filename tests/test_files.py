"""study.files, study.data.paths and study.training.runs: the paths every stage shares, and the readers and
writers of what they exchange."""

import os

import numpy as np
import pytest

from study import config, files
from study.data import paths as data_paths
from study.errors import DataError
from study.training import runs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_read_history_and_json(tmp_path):
    (tmp_path / "h.csv").write_text("epoch,loss,val_loss\n1,0.5,0.6\n2,0.25,0.4\n")
    assert files.read_history(str(tmp_path / "h.csv")) == [
        {"epoch": 1.0, "loss": 0.5, "val_loss": 0.6},
        {"epoch": 2.0, "loss": 0.25, "val_loss": 0.4},
    ]
    (tmp_path / "m.json").write_text("{not json")
    with pytest.raises(DataError, match="m.json: not valid JSON"):
        files.read_json(str(tmp_path / "m.json"))
    with pytest.raises(DataError, match="absent.csv: missing"):
        files.read_history(str(tmp_path / "absent.csv"))


def test_predictions_round_trip_and_are_byte_stable(tmp_path):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(50, 10)).astype(np.float32)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    path = str(tmp_path / "p.npz")
    files.write_predictions(path, probabilities)
    predicted, stored = files.read_predictions(path, test_size=50)
    # The class is the argmax of the float32 probabilities, whatever float16 rounds.
    assert predicted.tolist() == probabilities.argmax(axis=1).tolist() and predicted.dtype == np.uint8
    np.testing.assert_allclose(stored, probabilities, atol=1e-3)
    first = (tmp_path / "p.npz").read_bytes()
    files.write_predictions(path, probabilities)
    assert (
        tmp_path / "p.npz"
    ).read_bytes() == first  # a fixed date in the zip: the same bytes, the same DVC hash
    with pytest.raises(DataError, match="p.npz: 50 answers, the test set has 40"):
        files.read_predictions(path, test_size=40)
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="bad.npz: not a predictions file"):
        files.read_predictions(str(tmp_path / "bad.npz"))
    with pytest.raises(DataError, match="absent.npz: missing"):
        files.read_predictions(str(tmp_path / "absent.npz"))


def test_paths_of_a_training_and_a_fold():
    assert runs.seed_run("kernel7", 43) == {
        "model": "models/train/kernel7/seed_43.keras",
        "metrics": "metrics/seeds/kernel7/seed_43.json",
        "history": "plots/seeds/kernel7/seed_43.csv",
        "predictions": "predictions/train/kernel7/seed_43.npz",
    }
    assert runs.fold_run(2) == {
        "model": "models/kfold/fold_2.keras",
        "metrics": "metrics/kfold/fold_2.json",
        "history": "plots/kfold/fold_2.csv",
        "predictions": "predictions/kfold/fold_2.npz",
    }
    spec = config.load(os.path.join(ROOT, "params.yaml")).spec("baseline")
    assert spec.augmentation is None
    assert data_paths.training_set("x", spec) == "data/prepared/train.npz"
    assert data_paths.training_set("x", spec.replace(augmentation="preset")) == "data/augmented/x.npz"
