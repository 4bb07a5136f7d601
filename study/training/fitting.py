"""Seeded, deterministic, resumable Keras training, shared by the training stages.

Each epoch trains on a permutation drawn from (seed, epoch) (study/training/batches.py),
and after each epoch the whole state is saved (study/training/checkpoints.py): a run
killed at any moment resumes from the last finished epoch and ends with the same
weights as one never interrupted.
"""

import contextlib
import os

from study import files
from study.training import runs
from study.training.batches import training_batches, whole_calls
from study.training.checkpoints import CHECKPOINT_ROOT, Checkpoint, fingerprint
from study.training.models import (
    EVALUATION_BATCH_SIZE,
    build_model,
    learning_rate_at,
    learning_rate_schedule,
    predict_probabilities,
)

EVALUATION_CHUNK_SIZE = 10 * EVALUATION_BATCH_SIZE  # images handed to model.evaluate at once


def quiet_tensorflow():
    """Silences TensorFlow's C++ logs (oneDNN notices, a spurious NodeDef message), which drown
    Keras's per-epoch lines; errors still reach the user as Python exceptions. Takes effect
    only before TensorFlow is first imported, so it is called before each first import here."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def set_up_tensorflow(seed, threads=None):
    """One seed for Python, NumPy and TensorFlow, deterministic ops, and `threads` threads
    (None: TensorFlow's choice).

    The number of threads is part of the spec because it can change how oneDNN
    splits a sum, and so the last bits of the weights. At small batches one
    thread does as much as two, so two trainings side by side
    (scripts/repro_parallel.py) use both cores.
    """
    quiet_tensorflow()
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


def mend_keras_for_multi_worker(model, strategy):
    """Lets Keras 3's fit and evaluate run across two or more workers of MultiWorkerMirroredStrategy.

    Keras 3.15 fails there twice (keras-team/keras#20585): before the first step it
    reduces a whole (x, y) batch across the workers in one call, which the strategy
    refuses for a tuple, only to learn the batch's shapes, which this worker's own
    part has; and it averages each step's logs, scalars, across the workers along
    axis 0, which a scalar lacks. Nothing changes for another strategy or a cluster
    of one worker. It leans on two private pieces of Keras (_symbolic_build and
    trainer.reduce_per_replica): tests/test_multi_worker.py fails if an upgrade moves them.
    """
    import tensorflow as tf
    from keras import tree
    from keras.src.backend.tensorflow import trainer

    if strategy is None or not trainer._collective_all_reduce_multi_worker(strategy):
        return

    def local(value):
        if isinstance(value, tf.distribute.DistributedValues):
            return strategy.experimental_local_results(value)[0]
        return value

    def maybe_symbolic_build(iterator=None, data_batch=None):
        if iterator is not None:
            for _, _, batches in iterator:
                data_batch = tree.map_structure(local, next(batches))
                break
        with strategy.scope():
            model._symbolic_build(data_batch=data_batch)

    model._maybe_symbolic_build = maybe_symbolic_build
    if not getattr(trainer.reduce_per_replica, "averages_scalars", False):
        reduce_per_replica = trainer.reduce_per_replica

        def averaged(values, strategy, reduction):
            if reduction in ("auto", "mean") and trainer._collective_all_reduce_multi_worker(strategy):

                def mean(value):
                    rank = strategy.experimental_local_results(value)[0].shape.rank
                    return strategy.reduce("MEAN", value, axis=0 if rank else None)

                return tree.map_structure(mean, values)
            return reduce_per_replica(values, strategy, reduction)

        averaged.averages_scalars = True
        trainer.reduce_per_replica = averaged


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
            history.append(
                {
                    "epoch": epoch + 1,
                    "loss": float(logs["loss"]),
                    "accuracy": float(logs["accuracy"]),
                    "val_loss": float(logs["val_loss"]),
                    "val_accuracy": float(logs["val_accuracy"]),
                    "learning_rate": learning_rate_at(rate, (epoch + 1) * steps_per_epoch - 1),
                }
            )
            checkpoint.save(self.model, history)
            figures = " - ".join(f"{key}: {value:.4f}" for key, value in logs.items())
            seconds = time.perf_counter() - self.started
            print(f"Epoch {epoch + 1}/{spec.epochs} - {seconds:.1f}s - {figures}", flush=True)

    return EndOfEpoch()


def train(
    name, spec, train_data, val_data, checkpoint_root=CHECKPOINT_ROOT, callbacks=(), initial_weights=None
):
    """Trains the model of `spec`; returns (model, history rows, its Checkpoint to remove when done).

    `callbacks`: more Keras callbacks (the benchmark times steps with one).
    `initial_weights`: start from these weights instead of the seeded initialisation
    (the carried-over k-fold); the optimizer and its schedule start afresh.
    """
    x_train, y_train = train_data
    x_val, y_val = val_data
    set_up_tensorflow(spec.seed, spec.threads)
    strategy = distribution_strategy(spec.strategy)
    replicas = 1 if strategy is None else strategy.num_replicas_in_sync
    global_batch_size = spec.batch_size * replicas
    steps_per_epoch = -(-len(x_train) // global_batch_size)
    steps_per_call = whole_calls(steps_per_epoch, spec.steps_per_execution)
    if steps_per_call != spec.steps_per_execution:
        print(
            f"{name}: {steps_per_call} steps per call instead of {spec.steps_per_execution}, "
            f"the most that divide an epoch's {steps_per_epoch} steps",
            flush=True,
        )
    spec = spec.replace(steps_per_execution=steps_per_call)
    checkpoint = Checkpoint(
        name, fingerprint(spec, x_train, y_train, x_val, y_val, *(initial_weights or ())), checkpoint_root
    )
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        resumed = checkpoint.load()
        if resumed is None:
            model, history = build_model(spec, name=name, steps_per_epoch=steps_per_epoch), []
            if initial_weights is not None:
                model.set_weights(initial_weights)
        else:
            model, history = resumed
            print(f"{name}: resuming after epoch {len(history)} from {checkpoint.directory}/")
    mend_keras_for_multi_worker(model, strategy)
    first_epoch = len(history)
    if first_epoch >= spec.epochs:
        return model, history, checkpoint
    callbacks = [_epoch_callback(spec, steps_per_epoch, history, checkpoint), *callbacks]
    # One fit call for all epochs: Keras keeps the dataset's iterator from one
    # epoch to the next because steps_per_epoch is given.
    model.fit(
        training_batches(
            x_train, y_train, spec.seed, first_epoch, spec.epochs, global_batch_size, spec.augment_on_the_fly
        ),
        steps_per_epoch=steps_per_epoch,
        initial_epoch=first_epoch,
        epochs=spec.epochs,
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
    is given into a tensor, and a copy of a whole augmented training set would take
    its stage past the memory a stage may use. Keras weights each batch's loss by its size,
    so the size-weighted mean over chunks is the mean over the whole set.
    """
    loss_sum = correct = 0.0
    for start in range(0, len(x), EVALUATION_CHUNK_SIZE):
        x_chunk, y_chunk = x[start : start + EVALUATION_CHUNK_SIZE], y[start : start + EVALUATION_CHUNK_SIZE]
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
        runs.TRAIN_ACCURACY: train_accuracy,
        "train_loss": train_loss,
        runs.VAL_ACCURACY: val_accuracy,
        "val_loss": val_loss,
        # What Keras prints for the last epoch: the running mean over its batches,
        # with dropout on and the weights still changing (the published kind).
        runs.RUNNING_TRAIN_ACCURACY: history[-1]["accuracy"],
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
    """Writes a finished training's four outputs (runs.seed_run or fold_run): the model,
    its history, its metrics and its answers on the test set."""
    save_model(model, paths["model"])
    files.write_history(paths["history"], history, runs.HISTORY_COLUMNS)
    files.write_predictions(paths["predictions"], predict_probabilities(model, x_test))
    files.write_json(paths["metrics"], metrics)
