"""The FLOP count of the models: the baseline by hand, every variant against the built Keras model."""

import os

import pytest

from study import config
from study.analysis import cost

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STUDY = config.load(os.path.join(PROJECT, "params.yaml"))


def test_baseline_by_hand():
    conv1 = 2 * 3 * 3 * 1 * 32 * 26 * 26  # 28 -> 26, then pooled to 13
    conv2 = 2 * 3 * 3 * 32 * 64 * 11 * 11  # 13 -> 11, then pooled to 5
    dense1 = 2 * (5 * 5 * 64) * 128
    dense2 = 2 * 128 * 10
    assert conv1 + conv2 + dense1 + dense2 == 5_262_080
    spec = STUDY.spec("baseline", 42)
    assert cost.forward_flops(spec) == 5_262_080
    assert cost.training_flops(spec) == 3 * 5_262_080  # about 15.8 MFLOP per trained image


def test_same_padding_by_hand():
    """Zero-padded convs keep their input's size, so the pools alone shrink the image: 28 -> 14 -> 7."""
    conv1 = 2 * 3 * 3 * 1 * 32 * 28 * 28
    conv2 = 2 * 3 * 3 * 32 * 64 * 14 * 14
    dense1 = 2 * (7 * 7 * 64) * 128
    dense2 = 2 * 128 * 10
    spec = STUDY.spec("baseline", 42).replace(padding="same")
    assert cost.forward_flops(spec) == conv1 + conv2 + dense1 + dense2 == 8_482_304


@pytest.mark.parametrize("name", STUDY.variant_names)
def test_every_variant_matches_its_keras_layers(name):
    """The count from the spec equals the count from the built model's layer shapes."""
    from study.training.models import build_model

    spec = STUDY.spec(name, 42)
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
    assert cost.forward_flops(spec) == counted


def test_study_trainings_counts_each_stages_images(tmp_path, monkeypatch):
    """Images per training stage (the benchmark's bound, repro_parallel's order), by hand on a small split."""
    import numpy as np

    from study import files
    from study.data import paths as data_paths

    monkeypatch.chdir(tmp_path)
    os.makedirs(os.path.dirname(data_paths.prepared("train")))
    for split, size in (("train", 400), ("val", 100)):
        files.save_split(
            data_paths.prepared(split), np.zeros((size, 28, 28, 1), np.float32), np.zeros(size, np.uint8)
        )
    study = config.Study({**STUDY.raw, "seeds": [7], "recipe_seeds": [7, 8]})
    trainings = cost.study_trainings(study)

    epochs = study.spec("baseline").epochs
    assert trainings["train baseline --seed 7"][0] == epochs * 400
    augmented = study.augmented_variant_names[0]
    copies = study.augmentation(study.spec(augmented).augmentation).copies
    assert copies >= 1
    # The split plus its augmented copies.
    assert trainings[f"train {augmented} --seed 7"][0] == study.spec(augmented).epochs * 400 * (1 + copies)
    kfold = study.kfold
    fold_epochs = study.spec(kfold.variant).epochs
    assert trainings["kfold 0"][0] == fold_epochs * 500 * (kfold.n_splits - 1) // kfold.n_splits
    assert trainings["kfold_carried"][0] == kfold.n_splits * trainings["kfold 0"][0]
    # The recipes train over their own seeds.
    recipes = study.recipe_names
    assert recipes and all(f"train {name} --seed 8" in trainings for name in recipes)
    assert len(trainings) == len(study.variant_names) + len(recipes) + len(kfold.folds) + 1
    # Each training carries its own variant's spec.
    assert all(trainings[f"train {name} --seed 7"][1] == study.spec(name) for name in study.variant_names)
    assert len({trainings[f"train {name} --seed 7"][1].kernel_sizes for name in study.variant_names}) > 1


def test_training_cost_of_a_variant_by_hand():
    """What the report's cost table holds: parameters, MFLOP per trained image, images and TFLOP of one
    training."""
    import types

    augmented = STUDY.augmented_variant_names[0]
    copies = STUDY.augmentation(STUDY.spec(augmented).augmentation).copies
    per_seed = {name: [{"params": 225_034}] for name in ("baseline", augmented)}
    results = types.SimpleNamespace(study=STUDY, specs=STUDY.specs, train_size=400, per_seed=per_seed)
    epochs = STUDY.spec("baseline").epochs
    assert cost.training_cost(results, "baseline") == {
        "params": 225_034,
        "mflop_per_image": pytest.approx(3 * 5.26208),
        "images": epochs * 400,
        "tflop": pytest.approx(3 * 5_262_080 * epochs * 400 / 1e12),
    }
    images = STUDY.spec(augmented).epochs * 400 * (1 + copies)
    assert cost.training_cost(results, augmented)["images"] == images
    table = cost.cost_table(
        results,
        [augmented, "baseline"],
        "baseline",
        {augmented: {"val_accuracy": 0.9}, "baseline": {"val_accuracy": 0.91}},
    )
    assert [row["name"] for row in table] == [augmented, "baseline"]
    flops = cost.training_flops(STUDY.spec(augmented))
    assert table[0]["relative_tflop"] == pytest.approx(flops * images / (3 * 5_262_080 * epochs * 400))
    assert table[1]["relative_tflop"] == 1
    assert table[0]["val_accuracy"] == 0.9
