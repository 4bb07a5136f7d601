"""study.data.splits and stages.prepare: the stratified split, scaling, and the stage run on a tiny data
set."""

import os
import shutil

import numpy as np
import pytest

from stages import prepare
from study.data import splits as data_splits
from study.errors import DataError
from study.files import load_split
from tests.tiny_data import encode_idx, make_arrays, write_dataset

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_stratified_split_keeps_each_class_share():
    labels = np.repeat(np.array([0, 1, 2], dtype=np.uint8), [10, 20, 30])
    np.random.default_rng(1).shuffle(labels)
    train, val = data_splits.stratified_split(labels, 0.2, seed=42)
    assert len(train) == 48 and len(val) == 12
    assert np.bincount(labels[val], minlength=3).tolist() == [2, 4, 6]
    assert np.bincount(labels[train], minlength=3).tolist() == [8, 16, 24]
    assert np.intersect1d(train, val).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train, val])), np.arange(60))
    assert np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0)  # sorted
    again = data_splits.stratified_split(labels, 0.2, seed=42)
    np.testing.assert_array_equal(again[1], val)
    assert not np.array_equal(data_splits.stratified_split(labels, 0.2, seed=7)[1], val)


def test_stratified_split_of_a_class_with_one_image_is_a_data_error():
    labels = np.array([0, 0, 0, 0, 1], dtype=np.uint8)
    with pytest.raises(DataError, match="cannot split 5 training images"):
        data_splits.stratified_split(labels, 0.2, seed=0)


def test_scale():
    images = np.array([[[0, 51], [255, 128]]], dtype=np.uint8)
    scaled = data_splits.scale(images)
    assert scaled.dtype == np.float32 and scaled.shape == (1, 2, 2, 1)
    np.testing.assert_allclose(scaled[0, :, :, 0], [[0.0, 0.2], [1.0, 128 / 255]], rtol=1e-6)
    assert scaled.min() >= 0 and scaled.max() <= 1


@pytest.fixture
def project(tmp_path, monkeypatch):
    shutil.copy(os.path.join(ROOT, "params.yaml"), tmp_path / "params.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_main_writes_the_three_splits(project, capsys):
    arrays = make_arrays(train_per_class=10, test_per_class=3)
    write_dataset(project / "data" / "raw", arrays, compress=False)
    prepare.main()
    assert sorted(os.listdir(project / "data" / "prepared")) == ["test.npz", "train.npz", "val.npz"]
    splits = {name: load_split(f"data/prepared/{name}.npz") for name in ("train", "val", "test")}
    assert [len(splits[n][1]) for n in ("train", "val", "test")] == [80, 20, 30]
    assert np.bincount(splits["val"][1], minlength=10).tolist() == [2] * 10
    assert np.bincount(splits["train"][1], minlength=10).tolist() == [8] * 10
    for x, y in splits.values():
        assert x.dtype == np.float32 and y.dtype == np.uint8 and x.shape[1:] == (28, 28, 1)
    # Test split unshuffled; train + val hold exactly the training images, each with its own label.
    np.testing.assert_allclose(splits["test"][0][..., 0], arrays["t10k-images-idx3-ubyte"] / 255, rtol=1e-6)
    np.testing.assert_array_equal(splits["test"][1], arrays["t10k-labels-idx1-ubyte"])
    pixels = np.concatenate([splits["train"][0], splits["val"][0]])[..., 0]
    labels = np.concatenate([splits["train"][1], splits["val"][1]])
    original = arrays["train-images-idx3-ubyte"].astype(np.float32) / 255
    order = [int(np.flatnonzero((original == image).all(axis=(1, 2)))[0]) for image in pixels]
    assert sorted(order) == list(range(100))
    np.testing.assert_array_equal(labels, arrays["train-labels-idx1-ubyte"][order])
    assert "train 80, validation 20, test 30" in capsys.readouterr().out


def test_image_and_label_counts_must_match(project, capsys):
    arrays = make_arrays(train_per_class=10, test_per_class=3)
    arrays["train-labels-idx1-ubyte"] = arrays["train-labels-idx1-ubyte"][:-1]
    write_dataset(project / "data" / "raw", arrays, compress=False)
    with pytest.raises(SystemExit) as caught:
        prepare.main()
    assert caught.value.code == 2
    assert (
        capsys.readouterr().err == f"error: {os.path.join('data', 'raw')}/train-*: 100 images but 99 labels\n"
    )
    assert sorted(os.listdir(project / "data")) == ["raw"]


def test_corrupt_raw_file_names_it(project, capsys):
    write_dataset(project / "data" / "raw", compress=False)
    path = project / "data" / "raw" / "t10k-labels-idx1-ubyte"
    path.write_bytes(encode_idx(np.array([3, 12], dtype=np.uint8)))
    with pytest.raises(SystemExit):
        prepare.main()
    assert capsys.readouterr().err.startswith("error: data/raw/t10k-labels-idx1-ubyte: label 12 at index 1")
    assert not os.path.exists(project / "data" / "prepared")
