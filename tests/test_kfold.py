"""study.data.splits and stages.kfold: disjoint, covering, stratified folds, and the seed of each fold's
training."""

import os

import numpy as np
import pytest
import yaml

from stages import kfold
from study import files
from study.config import StepDecay
from study.data.splits import fold_indices
from study.training import fitting

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_folds_are_disjoint_covering_and_stratified():
    labels = np.repeat(np.arange(10, dtype=np.uint8), 15)  # 15 per class: 3 per class in each of 5 folds
    np.random.default_rng(0).shuffle(labels)
    folds = fold_indices(labels, 5, seed=42)
    assert len(folds) == 5
    validation = np.concatenate([val for _, val in folds])
    np.testing.assert_array_equal(np.sort(validation), np.arange(150))  # each index validated exactly once
    for train, val in folds:
        assert len(val) == 30 and len(train) == 120
        assert np.intersect1d(train, val).size == 0
        np.testing.assert_array_equal(np.sort(np.concatenate([train, val])), np.arange(150))
        assert np.bincount(labels[val], minlength=10).tolist() == [3] * 10


def test_folds_depend_on_the_seed_only():
    labels = np.repeat(np.arange(10), 10)
    first, again, other = (fold_indices(labels, 5, seed) for seed in (42, 42, 1))
    for (_, a), (_, b) in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for (_, a), (_, b) in zip(first, other))
    # Shuffled: the first fold is not simply the first images of each class.
    assert not np.array_equal(
        first[0][1], np.sort(np.concatenate([np.arange(c * 10, c * 10 + 2) for c in range(10)]))
    )


def test_each_fold_trains_with_the_kfold_seed(tmp_path, monkeypatch):
    """kfold.seed draws the folds and seeds each fold's training (not the `seeds` of the variants)."""
    with open(os.path.join(ROOT, "params.yaml")) as stream:
        values = yaml.safe_load(stream)
    values["kfold"].update(seed=7, n_splits=2, folds=[0, 1])
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(values))
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    for name, count in (("train", 30), ("val", 10), ("test", 10)):
        labels = (np.arange(count) % 10).astype(np.uint8)
        files.save_split(
            f"data/prepared/{name}.npz", rng.random((count, 28, 28, 1), dtype=np.float32), labels
        )

    calls = []

    class Stop(Exception):
        pass

    def fake_train(name, spec, train_data, val_data, **_):
        calls.append((name, spec, len(train_data[0]), len(val_data[0])))
        raise Stop

    monkeypatch.setattr(fitting, "train", fake_train)
    with pytest.raises(Stop):
        kfold.main(["1"])
    ((name, spec, train_count, val_count),) = calls
    assert name == "kfold_fold_1"
    assert spec.seed == 7
    assert spec.lr_schedule == StepDecay(**values["variants"]["baseline_lr"]["lr_schedule"])
    assert (train_count, val_count) == (20, 20)
    assert not os.path.exists("models") and not os.path.exists("metrics")


def test_every_later_folds_validation_images_were_trained_on_before():
    """The carried-over k-fold's leak, counted by hand: fold 0's training set is every other fold, so from
    fold 1 on each fold's validation images were all trained on by an earlier fold."""
    from study.data.splits import seen_before

    labels = np.repeat(np.arange(10), 10)
    splits = fold_indices(labels, 5, seed=0)
    assert seen_before(splits, 0) == 0.0
    assert [seen_before(splits, fold) for fold in range(1, 5)] == [1.0, 1.0, 1.0, 1.0]
    two_folds = fold_indices(labels, 2, seed=0)
    assert seen_before(two_folds, 1) == 1.0
