"""The FLOP count of the models: the baseline by hand, every variant against the built Keras model."""

import os

import pytest

from study import flops, params

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALL_PARAMS = params.load(os.path.join(PROJECT, "params.yaml"))


def test_baseline_by_hand():
    conv1 = 2 * 3 * 3 * 1 * 32 * 26 * 26        # 28 -> 26, then pooled to 13
    conv2 = 2 * 3 * 3 * 32 * 64 * 11 * 11       # 13 -> 11, then pooled to 5
    dense1 = 2 * (5 * 5 * 64) * 128
    dense2 = 2 * 128 * 10
    assert conv1 + conv2 + dense1 + dense2 == 5_262_080
    spec = params.model_spec(ALL_PARAMS, "baseline", 42)
    assert flops.forward_flops(spec) == 5_262_080
    assert flops.training_flops(spec) == 3 * 5_262_080  # about 15.8 MFLOP per trained image


def test_same_padding_by_hand():
    """Zero-padded convs keep their input's size, so the pools alone shrink the image: 28 -> 14 -> 7."""
    conv1 = 2 * 3 * 3 * 1 * 32 * 28 * 28
    conv2 = 2 * 3 * 3 * 32 * 64 * 14 * 14
    dense1 = 2 * (7 * 7 * 64) * 128
    dense2 = 2 * 128 * 10
    spec = {**params.model_spec(ALL_PARAMS, "baseline", 42), "padding": "same"}
    assert flops.forward_flops(spec) == conv1 + conv2 + dense1 + dense2 == 8_482_304


@pytest.mark.parametrize("name", params.variant_names(ALL_PARAMS))
def test_every_variant_matches_its_keras_layers(name):
    """The count from the spec equals the count from the built model's layer shapes."""
    from study.models import build_model

    spec = params.model_spec(ALL_PARAMS, name, 42)
    model = build_model(spec, steps_per_epoch=10)
    counted = 0
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Conv2D":
            kernel_height, kernel_width, channels_in, channels_out = layer.kernel.shape
            _, height, width, _ = layer.output.shape
            counted += 2 * kernel_height * kernel_width * channels_in * channels_out * height * width
        elif kind == "Dense":
            counted += 2 * layer.kernel.shape[0] * layer.kernel.shape[1]
    assert flops.forward_flops(spec) == counted


def test_study_trainings_counts_each_stages_images(tmp_path, monkeypatch):
    """Images per training stage (the benchmark's bound, repro_parallel's order), by hand on a small split."""
    import numpy as np

    from study import artifacts, files

    monkeypatch.chdir(tmp_path)
    os.makedirs(os.path.dirname(artifacts.prepared("train")))
    for split, size in (("train", 400), ("val", 100)):
        files.save_split(artifacts.prepared(split), np.zeros((size, 28, 28, 1), np.float32), np.zeros(size, np.uint8))
    trainings = flops.study_trainings({**ALL_PARAMS, "seeds": [7]})

    epochs = params.model_spec(ALL_PARAMS, "baseline")["epochs"]
    assert trainings["train baseline --seed 7"][0] == epochs * 400
    assert trainings["train baseline_aug --seed 7"][0] == epochs * 400 * 2  # the split plus one augmented copy
    kfold = ALL_PARAMS["kfold"]
    fold_epochs = params.model_spec(ALL_PARAMS, kfold["variant"])["epochs"]
    assert trainings["kfold 0"][0] == fold_epochs * 500 * (kfold["n_splits"] - 1) // kfold["n_splits"]
    assert trainings["kfold_carried"][0] == kfold["n_splits"] * trainings["kfold 0"][0]
    assert len(trainings) == len(params.variant_names(ALL_PARAMS)) + len(kfold["folds"]) + 1
    assert trainings["train best --seed 7"][1]["filters"] == [64, 128]
