"""Seeded, deterministic, resumable Keras training, shared by the training stages.

Each epoch trains on a permutation drawn from (seed, epoch), so the order of
batches never depends on how many epochs ran in this process. After
each epoch the model, its optimizer, its dropout RNG state and the history so far
are saved under checkpoints/<name>/ (outside DVC's outputs, which DVC deletes
before a stage runs). A run killed at any moment resumes from the last finished
epoch and ends with the same weights as one never interrupted.
"""

import contextlib
import hashlib
import json
import os
import shutil

import numpy as np

from study import artifacts, files
from study.models import (
    EVALUATION_BATCH_SIZE,
    build_model,
    learning_rate_at,
    learning_rate_schedule,
    load_keras_model,
    predict_probabilities,
)

CHECKPOINT_ROOT = "checkpoints"
EVALUATION_CHUNK_SIZE = 10 * EVALUATION_BATCH_SIZE  # images handed to model.evaluate at once


# TensorFlow's C++ logs (oneDNN notices, a spurious NodeDef message) drown Keras's
# per-epoch lines; errors still reach the user as Python exceptions.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def set_up_tensorflow(seed, threads=None):
    """One seed for Python, NumPy and TensorFlow, deterministic ops, and `threads` threads (None: TensorFlow's choice).

    The number of threads is part of the spec because it can change how oneDNN
    splits a sum, and so the last bits of the weights. At small batches one
    thread does as much as two, so two trainings side by side
    (scripts/repro_parallel.py) use both cores.
    """
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    if threads is not None:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:
            pass  # TensorFlow already started in this process (a test); it keeps its threads


def release_keras_state():
    """Frees the models and graphs Keras holds globally, before a process builds another model."""
    import keras

    keras.backend.clear_session()  # it also runs Python's garbage collector


def distribution_strategy(name):
    """TensorFlow's strategy for params `strategy`; None for the default (one device).

    mirrored: one replica per local GPU or, with no GPU, per logical CPU device
    (tf.config.set_logical_device_configuration makes several); multi_worker:
    one replica per worker that TF_CONFIG lists. Gradients are summed over replicas
    each step, so the global batch is batch_size times the number of replicas.
    """
    import tensorflow as tf

    if name == "default":
        return None
    if name == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy(devices=[device.name for device in devices])
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"unknown strategy {name!r}")


def fingerprint(spec, *arrays):
    """A hash of everything training depends on, so a stale checkpoint is never resumed."""
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode())
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _seed_states(model):
    # Keras does not save its SeedGenerator states (the dropout masks' RNG) with
    # the model, so they are saved beside it to make a resumed run identical.
    return [v for v in model.non_trainable_variables if "seed_generator_state" in v.path]


class Checkpoint:
    """The state of an unfinished training run: checkpoints/<name>/{model.keras,state.json}."""

    def __init__(self, name, run_fingerprint, root=CHECKPOINT_ROOT):
        self.directory = os.path.join(root, name)
        self.model_path = os.path.join(self.directory, "model.keras")
        self.state_path = os.path.join(self.directory, "state.json")
        self.fingerprint = run_fingerprint

    def load(self):
        """(model, history rows) of the last finished epoch, or None to start afresh."""
        try:
            with open(self.state_path) as stream:
                state = json.load(stream)
            if state["fingerprint"] != self.fingerprint:
                print(f"{self.directory}: checkpoint of other params or data, starting afresh")
                return None
            model = load_keras_model(self.model_path)
        except FileNotFoundError:
            return None
        except Exception as error:  # A checkpoint cut short by a crash: start afresh.
            print(f"{self.directory}: unreadable checkpoint ({type(error).__name__}), starting afresh")
            return None
        for variable, value in zip(_seed_states(model), state["seed_states"]):
            variable.assign(np.array(value, dtype=variable.dtype))
        return model, state["history"]

    def save(self, model, history):
        os.makedirs(self.directory, exist_ok=True)
        with files.atomic_path(self.model_path, suffix=".keras") as temporary:
            model.save(temporary)
        state = {
            "fingerprint": self.fingerprint,
            "history": history,
            "seed_states": [np.asarray(v.numpy()).tolist() for v in _seed_states(model)],
        }
        # The state is renamed into place last: it is what says the epoch finished.
        files.write_json(self.state_path, state)

    def remove(self):
        shutil.rmtree(self.directory, ignore_errors=True)


def epoch_order(seed, epoch, count):
    """The order of the training images in 0-based `epoch`: a permutation drawn from (seed, epoch) alone."""
    return np.random.default_rng([seed, epoch]).permutation(count)


def random_transform(images, settings, seed):
    """Each image shifted by up to max_shift_pixels in each direction (zeros enter), mirrored
    left-right with horizontal_flip_probability and, with `erasing`, one rectangle
    replaced by noise; all drawn from the stateless `seed` (two integers).

    The same seed always gives the same transform, so a resumed run sees the same images.
    """
    import tensorflow as tf

    count = tf.shape(images)[0]
    size = images.shape[1]
    flip_seed, shift_seed, erase_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 3))
    flip = tf.random.stateless_uniform([count], flip_seed) < settings["horizontal_flip_probability"]
    images = tf.where(flip[:, None, None, None], tf.reverse(images, axis=[2]), images)
    shift = settings["max_shift_pixels"]
    if shift:
        padded = tf.pad(images, [[0, 0], [shift, shift], [shift, shift], [0, 0]])
        offsets = tf.random.stateless_uniform([count, 2], shift_seed, minval=0, maxval=2 * shift + 1, dtype=tf.int32)
        rows = offsets[:, :1] + tf.range(size)[None, :]
        cols = offsets[:, 1:] + tf.range(size)[None, :]
        images = tf.gather(tf.gather(padded, rows, axis=1, batch_dims=1), cols, axis=2, batch_dims=1)
    if settings.get("erasing"):
        images = random_erasing(images, settings["erasing"], erase_seed)
    return images


def random_erasing(images, settings, seed):
    """Random erasing (Zhong et al., 2017): with `probability`, a rectangle of each image
    whose area is a uniform fraction in `area` of the image's and whose height/width
    ratio is log-uniform in `aspect_ratio` is filled with uniform noise in [0, 1).

    The paper redraws a rectangle that does not fit; here its sides are clipped to the
    image, so that every image costs the same fixed work inside one traced step.
    """
    import math

    import tensorflow as tf

    count = tf.shape(images)[0]
    size = images.shape[1]
    apply_seed, area_seed, ratio_seed, place_seed, noise_seed = tf.unstack(
        tf.random.experimental.stateless_split(seed, 5))
    applied = tf.random.stateless_uniform([count], apply_seed) < settings["probability"]
    low_area, high_area = settings["area"]
    area = tf.random.stateless_uniform([count], area_seed, low_area, high_area) * float(size * size)
    low_ratio, high_ratio = settings["aspect_ratio"]
    ratio = tf.exp(tf.random.stateless_uniform([count], ratio_seed, math.log(low_ratio), math.log(high_ratio)))
    height = tf.clip_by_value(tf.round(tf.sqrt(area * ratio)), 1.0, float(size))
    width = tf.clip_by_value(tf.round(tf.sqrt(area / ratio)), 1.0, float(size))
    place = tf.random.stateless_uniform([count, 2], place_seed)
    top = tf.floor(place[:, 0] * (float(size) - height + 1.0))
    left = tf.floor(place[:, 1] * (float(size) - width + 1.0))
    pixels = tf.range(size, dtype=tf.float32)[None, :]
    in_rows = (pixels >= top[:, None]) & (pixels < (top + height)[:, None])
    in_cols = (pixels >= left[:, None]) & (pixels < (left + width)[:, None])
    inside = in_rows[:, :, None] & in_cols[:, None, :] & applied[:, None, None]
    noise = tf.random.stateless_uniform(tf.shape(images), noise_seed, dtype=images.dtype)
    return tf.where(inside[..., None], noise, images)


def training_batches(x, y, seed, first_epoch, epochs, batch_size, augmentation=None):
    """A tf.data.Dataset of every batch of epochs first_epoch..epochs-1, in order.

    The images are held once, as a tensor; each batch is gathered from it by the
    indices of its epoch's permutation. Copying the whole set in permuted order
    each epoch, as fit(x[order]) does, cost a second copy of it and a new input
    pipeline per epoch. The last batch of an epoch may be short; no batch spans
    two epochs.

    With `augmentation` (params.yaml `augment_on_the_fly`) every
    batch is transformed afresh, seeded by (seed, the batch's number from the
    first epoch), so each epoch sees new transforms of every image.
    """
    import tensorflow as tf

    orders = np.stack([epoch_order(seed, epoch, len(x)) for epoch in range(first_epoch, epochs)])
    batch_indices = tf.data.Dataset.from_tensor_slices(orders).flat_map(
        lambda order: tf.data.Dataset.from_tensor_slices(order).batch(batch_size)
    )
    # The arrays enter as one repeated element rather than as a constant captured
    # by the map function, and tf.data's default graph rewrites are off: either
    # would serialize the whole training set (tens of seconds), as Keras's own
    # array adapter also avoids.
    whole_set = tf.data.Dataset.from_tensors((tf.convert_to_tensor(x), tf.convert_to_tensor(y))).repeat()
    options = tf.data.Options()
    options.experimental_optimization.apply_default_optimizations = False
    # Nothing here is tuned (one map, a fixed prefetch), and autotuning's background
    # thread, which wakes at most once a minute, can hold up the iterator's deletion
    # at the end of fit by up to a minute (README, Speed).
    options.autotune.enabled = False
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    batches = tf.data.Dataset.zip((batch_indices, whole_set)).map(
        lambda indices, arrays: (tf.gather(arrays[0], indices), tf.gather(arrays[1], indices))
    )
    if augmentation is not None:
        steps_per_epoch = -(-len(x) // batch_size)
        batches = batches.enumerate(start=first_epoch * steps_per_epoch).map(
            lambda number, batch: (
                random_transform(batch[0], augmentation, tf.stack([tf.constant(seed, tf.int64), number])),
                batch[1],
            )
        )
    return batches.prefetch(2).with_options(options)


def _epoch_callback(spec, steps_per_epoch, history, checkpoint):
    """A Keras callback that, after each epoch, records its row of the history
    (the learning rate at the epoch's last step), saves the checkpoint and prints one line."""
    import time

    import keras

    rate = learning_rate_schedule(spec, steps_per_epoch)

    class EndOfEpoch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            history.append({
                "epoch": epoch + 1,
                "loss": float(logs["loss"]),
                "accuracy": float(logs["accuracy"]),
                "val_loss": float(logs["val_loss"]),
                "val_accuracy": float(logs["val_accuracy"]),
                "learning_rate": learning_rate_at(rate, (epoch + 1) * steps_per_epoch - 1),
            })
            checkpoint.save(self.model, history)
            figures = " - ".join(f"{key}: {value:.4f}" for key, value in logs.items())
            seconds = time.perf_counter() - self.started
            print(f"Epoch {epoch + 1}/{spec['epochs']} - {seconds:.1f}s - {figures}", flush=True)

    return EndOfEpoch()


def whole_calls(steps_per_epoch, steps_per_execution):
    """The most steps per call into TensorFlow, at most `steps_per_execution`, that divide an epoch's steps.

    Keras runs whole calls: at 16 steps per call an epoch of 1,500 steps would run
    1,504, the last 4 taken from the next epoch's batches, so every later epoch
    would end late and a resumed run would replay them. 1,500 runs as 100 calls of 15.
    """
    return max(d for d in range(1, steps_per_execution + 1) if steps_per_epoch % d == 0)


def train(name, spec, train_data, val_data, checkpoint_root=CHECKPOINT_ROOT, callbacks=(), initial_weights=None):
    """Trains the model of `spec`; returns (model, history rows, its Checkpoint to remove when done).

    `callbacks`: more Keras callbacks (the benchmark times steps with one).
    `initial_weights`: start from these weights instead of the seeded initialisation
    (the carried-over k-fold); the optimizer and its schedule start afresh.
    """
    x_train, y_train = train_data
    x_val, y_val = val_data
    set_up_tensorflow(spec["seed"], spec["threads"])
    strategy = distribution_strategy(spec["strategy"])
    replicas = 1 if strategy is None else strategy.num_replicas_in_sync
    global_batch_size = spec["batch_size"] * replicas
    steps_per_epoch = -(-len(x_train) // global_batch_size)
    steps_per_call = whole_calls(steps_per_epoch, spec["steps_per_execution"])
    if steps_per_call != spec["steps_per_execution"]:
        print(f"{name}: {steps_per_call} steps per call instead of {spec['steps_per_execution']}, "
              f"the most that divide an epoch's {steps_per_epoch} steps", flush=True)
    spec = {**spec, "steps_per_execution": steps_per_call}
    checkpoint = Checkpoint(name, fingerprint(spec, x_train, y_train, x_val, y_val, *(initial_weights or ())),
                            checkpoint_root)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        resumed = checkpoint.load()
        if resumed is None:
            model, history = build_model(spec, name=name, steps_per_epoch=steps_per_epoch), []
            if initial_weights is not None:
                model.set_weights(initial_weights)
        else:
            model, history = resumed
            print(f"{name}: resuming after epoch {len(history)} from {checkpoint.directory}/")
    first_epoch = len(history)
    if first_epoch >= spec["epochs"]:
        return model, history, checkpoint
    callbacks = [_epoch_callback(spec, steps_per_epoch, history, checkpoint), *callbacks]
    # One fit call for all epochs: Keras keeps the dataset's iterator from one
    # epoch to the next because steps_per_epoch is given.
    model.fit(
        training_batches(x_train, y_train, spec["seed"], first_epoch, spec["epochs"], global_batch_size,
                         spec["augment_on_the_fly"]),
        steps_per_epoch=steps_per_epoch,
        initial_epoch=first_epoch, epochs=spec["epochs"],
        validation_data=(x_val, y_val),
        validation_batch_size=EVALUATION_BATCH_SIZE,
        shuffle=False,  # the dataset is already in each epoch's order
        callbacks=callbacks,
        verbose=0,
    )
    return model, history, checkpoint


def evaluate(model, x, y):
    """(loss, accuracy) in inference mode: dropout off, batch norm on its moving averages.

    The arrays go to Keras a chunk at a time because model.evaluate copies what it
    is given into a tensor: for the 96,000 augmented images that copy (301 MB) took
    their training stages past 2 GiB. Keras weights each batch's loss by its size,
    so the size-weighted mean over chunks is the mean over the whole set.
    """
    loss_sum = correct = 0.0
    for start in range(0, len(x), EVALUATION_CHUNK_SIZE):
        x_chunk, y_chunk = x[start:start + EVALUATION_CHUNK_SIZE], y[start:start + EVALUATION_CHUNK_SIZE]
        loss, accuracy = model.evaluate(x_chunk, y_chunk, batch_size=EVALUATION_BATCH_SIZE, verbose=0)
        loss_sum += float(loss) * len(x_chunk)
        correct += round(float(accuracy) * len(x_chunk))  # a count, exact despite float32
    return loss_sum / len(x), correct / len(x)


def training_metrics(model, history, train_data, val_data):
    """The figures of Table 1, with the two kinds of training accuracy named apart."""
    train_loss, train_accuracy = evaluate(model, *train_data)
    val_loss, val_accuracy = evaluate(model, *val_data)
    best = max(history, key=lambda row: row["val_accuracy"])
    return {
        # Measured after training in inference mode (no dropout), like validation.
        artifacts.TRAIN_ACCURACY: train_accuracy,
        "train_loss": train_loss,
        artifacts.VAL_ACCURACY: val_accuracy,
        "val_loss": val_loss,
        # What Keras prints for the last epoch: the running mean over its batches,
        # with dropout on and the weights still changing (the published kind).
        artifacts.RUNNING_TRAIN_ACCURACY: history[-1]["accuracy"],
        "train_loss_running": history[-1]["loss"],
        "best_val_accuracy": best["val_accuracy"],
        "best_epoch": best["epoch"],
        "epochs": len(history),
        "params": model.count_params(),
    }


def save_model(model, path):
    with files.atomic_path(path, suffix=".keras") as temporary:
        model.save(temporary)


def save_run(paths, model, history, metrics, x_test):
    """Writes a finished training's four outputs (artifacts.seed_run or fold_run): the model,
    its history, its metrics and its answers on the test set."""
    save_model(model, paths["model"])
    artifacts.write_history(paths["history"], history)
    artifacts.write_predictions(paths["predictions"], predict_probabilities(model, x_test))
    artifacts.write_metrics(paths["metrics"], metrics)
