"""study/training/fitting.py, batches.py and study/data/on_the_fly.py: the batches of each epoch in its
permutation's order, the rate recorded per epoch, the chunked evaluation."""

import dataclasses

import numpy as np
import pytest

from study.config import ModelSpec, OnTheFly, StepDecay, WarmupCosine
from study.config.schema import Erasing
from study.data.on_the_fly import random_transform
from study.training import batches as batching
from study.training import fitting


def tiny_spec(**changes):
    """A ModelSpec of a tiny model (one conv of 4 filters, Dense8), nothing random left but the seed."""
    spec = ModelSpec(
        filters=(4,),
        kernel_sizes=(3,),
        pool_size=2,
        padding="valid",
        conv_dropout_rate=0.0,
        dense_units=8,
        dense_dropout_rate=0.0,
        activation="relu",
        batch_norm=False,
        batch_norm_kernel="keras",
        optimizer="adam",
        learning_rate=0.001,
        momentum=0.0,
        label_smoothing=0.0,
        lr_schedule=None,
        augmentation=None,
        augment_on_the_fly=None,
        epochs=3,
        batch_size=32,
        precision="float32",
        jit_compile=False,
        steps_per_execution=4,
        threads=None,
        strategy="default",
        seed=0,
    )
    return spec.replace(**changes)


def test_epoch_order_depends_on_seed_and_epoch_only():
    assert np.array_equal(batching.epoch_order(42, 3, 10), batching.epoch_order(42, 3, 10))
    assert sorted(batching.epoch_order(42, 3, 10)) == list(range(10))
    assert not np.array_equal(batching.epoch_order(42, 3, 10), batching.epoch_order(42, 4, 10))
    assert not np.array_equal(batching.epoch_order(42, 3, 10), batching.epoch_order(43, 3, 10))


@pytest.mark.parametrize("first_epoch", [0, 2])
def test_batches_follow_each_epochs_permutation_and_never_span_two_epochs(first_epoch):
    # 10 images, batch 4: each epoch is batches of 4, 4 and 2. Each image's pixels
    # hold its index, so a batch's images tell which indices were gathered.
    count, batch_size, epochs = 10, 4, 4
    x = np.repeat(np.arange(count, dtype=np.float32), 28 * 28).reshape(count, 28, 28, 1)
    y = (np.arange(count) % 3).astype(np.uint8)
    batches = list(batching.training_batches(x, y, 7, first_epoch, epochs, batch_size).as_numpy_iterator())

    assert [len(images) for images, _ in batches] == [4, 4, 2] * (epochs - first_epoch)
    for epoch in range(first_epoch, epochs):
        in_epoch = batches[3 * (epoch - first_epoch) : 3 * (epoch - first_epoch + 1)]
        gathered = np.concatenate([images[:, 0, 0, 0] for images, _ in in_epoch]).astype(int)
        assert gathered.tolist() == batching.epoch_order(7, epoch, count).tolist()
        labels = np.concatenate([batch_labels for _, batch_labels in in_epoch])
        assert labels.tolist() == y[gathered].tolist()


def test_learning_rate_at_the_last_step_of_each_epoch():
    from study.training.models import learning_rate_at, learning_rate_schedule

    step_decay = tiny_spec(
        learning_rate=0.001, lr_schedule=StepDecay(drop_every_epochs=5, factor=0.5), epochs=15
    )
    rate = learning_rate_schedule(step_decay, 100)
    assert [learning_rate_at(rate, (epoch + 1) * 100 - 1) for epoch in (0, 4, 5, 14)] == pytest.approx(
        [0.001, 0.001, 0.0005, 0.00025], rel=1e-6
    )
    # Warm-up over the first epoch's 10 steps, then a cosine to 0 over the other 20.
    cosine = tiny_spec(
        learning_rate=0.004, lr_schedule=WarmupCosine(warmup_epochs=1, decay="cosine"), epochs=3
    )
    rate = learning_rate_schedule(cosine, 10)
    rates = [learning_rate_at(rate, (epoch + 1) * 10 - 1) for epoch in range(3)]
    expected = [
        0.004 * 9 / 10,
        0.004 * 0.5 * (1 + np.cos(np.pi * 9 / 20)),
        0.004 * 0.5 * (1 + np.cos(np.pi * 19 / 20)),
    ]
    assert rates == pytest.approx(expected, rel=1e-5)
    constant = tiny_spec(learning_rate=0.01, lr_schedule=None)
    assert learning_rate_at(learning_rate_schedule(constant), 12345) == 0.01


def test_evaluate_in_chunks_gives_the_whole_sets_loss_and_accuracy(monkeypatch):
    # 25 images in chunks of 7 (7, 7, 7, 4) and batches of 3, against the loss and
    # accuracy computed by hand from the model's predicted probabilities.
    import keras

    monkeypatch.setattr(fitting, "EVALUATION_CHUNK_SIZE", 7)
    monkeypatch.setattr(fitting, "EVALUATION_BATCH_SIZE", 3)
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((25, 28, 28, 1), dtype=np.float32)
    y = np.random.default_rng(1).integers(0, 3, 25).astype(np.uint8)
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")]
    )
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    loss, accuracy = fitting.evaluate(model, x, y)

    probabilities = model.predict(x, verbose=0)
    assert accuracy == np.mean(probabilities.argmax(axis=1) == y)
    assert loss == pytest.approx(-np.mean(np.log(probabilities[np.arange(25), y])), rel=1e-5)


def test_random_transform_mirrors_shifts_and_repeats_for_the_same_seed():
    import tensorflow as tf

    rng = np.random.default_rng(0)
    images = rng.random((16, 28, 28, 1), dtype=np.float32)
    seed = tf.constant([7, 3], tf.int64)
    mirror = OnTheFly(max_shift_pixels=0, horizontal_flip_probability=1.0)
    np.testing.assert_array_equal(
        random_transform(tf.constant(images), mirror, seed).numpy(), images[:, :, ::-1]
    )
    identity = OnTheFly(max_shift_pixels=0, horizontal_flip_probability=0.0)
    np.testing.assert_array_equal(random_transform(tf.constant(images), identity, seed).numpy(), images)

    shift = OnTheFly(max_shift_pixels=2, horizontal_flip_probability=0.0)
    shifted = random_transform(tf.constant(images), shift, seed).numpy()
    np.testing.assert_array_equal(shifted, random_transform(tf.constant(images), shift, seed).numpy())
    assert not np.array_equal(
        shifted, random_transform(tf.constant(images), shift, tf.constant([7, 4], tf.int64)).numpy()
    )
    # Each image is its original moved by (dy, dx) in [-2, 2]^2 with zeros entering: find the offset by hand.
    moved = 0
    for original, result in zip(images[..., 0], shifted[..., 0]):
        padded = np.pad(original, 2)
        matches = [
            (dy, dx)
            for dy in range(5)
            for dx in range(5)
            if np.array_equal(padded[dy : dy + 28, dx : dx + 28], result)
        ]
        assert matches, "not a shift of the original"
        moved += matches[0] != (2, 2)
    assert moved >= 8  # most of 16 images move (each stays with probability 1/25)


def test_random_erasing_replaces_one_rectangle_within_the_bounds_and_repeats_for_the_same_seed():
    import tensorflow as tf

    images = np.zeros((200, 28, 28, 1), dtype=np.float32)  # every erased pixel becomes noise > 0
    seed = tf.constant([5, 1], tf.int64)
    erase_all = OnTheFly(
        max_shift_pixels=0,
        horizontal_flip_probability=0.0,
        erasing=Erasing(probability=1.0, area=(0.02, 0.4), aspect_ratio=(0.3, 3.3)),
    )
    erased = random_transform(tf.constant(images), erase_all, seed).numpy()[..., 0]
    np.testing.assert_array_equal(
        erased, random_transform(tf.constant(images), erase_all, seed).numpy()[..., 0]
    )
    areas, ratios = [], []
    for image in erased:
        rows, cols = np.nonzero(image.any(axis=1))[0], np.nonzero(image.any(axis=0))[0]
        height, width = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
        # One solid rectangle (noise in [0, 1) is 0 with probability ~2^-24 a pixel).
        assert np.count_nonzero(image) == height * width
        assert 0.3 / 1.5 <= height / width <= 3.3 * 1.5  # the ratio's bounds, loosened by rounding to pixels
        areas.append(height * width / 28**2)
        ratios.append(height / width)
    # Areas are uniform in [0.02, 0.4], up to rounding the sides to whole pixels.
    assert 0.015 <= min(areas) and max(areas) <= 0.45
    assert np.mean(areas) == pytest.approx(0.21, abs=0.03)
    # The ratio is log-uniform in [0.3, 3.3]: tall and wide rectangles alike.
    assert sum(r > 1.5 for r in ratios) >= 40 and sum(r < 1 / 1.5 for r in ratios) >= 40

    half = dataclasses.replace(erase_all, erasing=dataclasses.replace(erase_all.erasing, probability=0.5))
    touched = random_transform(tf.constant(images), half, seed).numpy().reshape(200, -1).any(axis=1)
    assert 70 <= touched.sum() <= 130  # binomial(200, 0.5): 6 sd either side
    never = dataclasses.replace(erase_all, erasing=dataclasses.replace(erase_all.erasing, probability=0.0))
    np.testing.assert_array_equal(random_transform(tf.constant(images), never, seed).numpy(), images)


def test_training_batches_erase_afresh_each_epoch_and_the_same_on_a_rerun():
    """The path training takes: erasing inside the tf.data map, seeded by (seed, batch number)."""
    x = np.zeros((64, 28, 28, 1), dtype=np.float32)
    y = np.arange(64, dtype=np.uint8) % 10
    erase = OnTheFly(
        max_shift_pixels=0,
        horizontal_flip_probability=0.0,
        erasing=Erasing(probability=1.0, area=(0.02, 0.4), aspect_ratio=(0.3, 3.3)),
    )

    def batches(first_epoch):
        return [images.numpy() for images, _ in batching.training_batches(x, y, 3, first_epoch, 2, 32, erase)]

    first = batches(0)
    assert len(first) == 4 and all(np.count_nonzero(b.reshape(32, -1).any(axis=1)) == 32 for b in first)
    assert not np.array_equal(first[0], first[2])  # epoch 2 erases afresh
    np.testing.assert_array_equal(np.stack(first), np.stack(batches(0)))
    np.testing.assert_array_equal(
        np.stack(first[2:]), np.stack(batches(1))
    )  # a resumed run sees the same images


def test_each_epoch_runs_exactly_its_steps_when_steps_per_execution_does_not_divide_them(tmp_path, capsys):
    import keras

    spec = tiny_spec(epochs=3, batch_size=32, steps_per_execution=4, seed=0)
    rng = np.random.default_rng(0)
    x = rng.random((320, 28, 28, 1), dtype=np.float32)  # 10 steps of 32 per epoch; 4 does not divide 10
    y = rng.integers(0, 10, 320).astype(np.uint8)
    steps = []

    class Steps(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            steps.append(int(self.model.optimizer.iterations.numpy()))

    fitting.train("spe", spec, (x, y), (x[:32], y[:32]), checkpoint_root=str(tmp_path), callbacks=[Steps()])
    assert steps == [10, 20, 30]
    assert (
        "spe: 2 steps per call instead of 4, the most that divide an epoch's 10 steps"
        in capsys.readouterr().out
    )


def test_whole_calls_divide_the_epoch():
    assert batching.whole_calls(1500, 16) == 15
    assert batching.whole_calls(375, 16) == 15
    assert batching.whole_calls(188, 16) == 4
    assert batching.whole_calls(16, 16) == 16
    assert batching.whole_calls(7, 16) == 7
    assert batching.whole_calls(13, 1) == 1
