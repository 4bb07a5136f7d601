"""One contender of the benchmark, in its own process so that its peak memory and TF settings are its own.

    python -m benchmarks.contender plain|fast --data DIR [--epochs N] --out result.json     # time to accuracy
    python -m benchmarks.contender steps --setup NAME --data DIR --out result.json         # step time only
    python -m benchmarks.contender steps --setup variant:wide --data DIR --out result.json
                                                                 # one of the study's variants

Prints nothing of interest; writes a JSON result that benchmarks/benchmark.py tabulates.
"""

import argparse
import copy
import json
import os
import resource
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from benchmarks.changes import check_changes, key_and_value, study_with  # noqa: E402
from benchmarks.timing import make_timer  # noqa: E402
from study import config, files  # noqa: E402
from study.data import paths as data_paths  # noqa: E402
from study.errors import ParamsError  # noqa: E402

# Step-time setups, each on the baseline model. The contenders:
#   plain_same_batch  the plain script (benchmarks/plain_keras.py) at the protocol's batch and precision
#   default           our training path (study/training/fitting.py) at the `reproduce` protocol,
#                     as the study runs it
#   default_bf16      the same in bf16 mixed precision: what the study would gain by retraining in bf16
# Then the levers: our model with Keras's defaults (TensorFlow's threads, one step per call, no op
# determinism, `model.fit` on arrays) and one setting changed, so each lever's worth is read
# against the same reference.
# Our path's setups: the `reproduce` protocol's spec with these keys changed.
OUR_PATH = {"default": {}, "default_bf16": {"precision": "mixed_bfloat16"}}
CONTENDERS = ("plain_same_batch", *OUR_PATH)
LEVERS = {
    "reference (Keras defaults)": {},
    "steps_per_execution 16": {"steps_per_execution": 16},
    "1 thread": {"threads": 1},
    "1 thread, steps_per_execution 16": {"threads": 1, "steps_per_execution": 16},
    "op determinism": {"determinism": True},
    "tf.data from_tensor_slices + cache": {"tf_data": True},
    "bf16 mixed precision": {"precision": "mixed_bfloat16"},
    # Not a lever the study can take (it changes the model): what drawing the dropout masks costs a step.
    "dropout off": {"conv_dropout_rate": 0.0, "dense_dropout_rate": 0.0},
    "batch 128": {"batch_size": 128},
    "XLA jit_compile": {"jit_compile": True},
}
SETUPS = (*CONTENDERS, *(f"lever:{name}" for name in LEVERS))
CALLS_PER_EPOCH = 12  # a step-time run trains 3 epochs of 12 x 16 steps on a slice of the training set
STEP_EPOCHS = 3  # the first epoch traces the graph; its steps are not counted
# `variant:<name>` times our path at one of the study's variants, as its training stage runs it.
# Each epoch is this many images whatever the batch, so that a wide model at batch 128 is
# timed on the same images as the baseline at 32, in seconds rather than minutes.
VARIANT_IMAGES_PER_EPOCH = 32 * 16 * CALLS_PER_EPOCH


def load(data_dir):
    return files.load_split(data_paths.prepared("train", data_dir)), files.load_split(
        data_paths.prepared("val", data_dir)
    )


def protocol_spec(protocol):
    """The baseline's spec (seed 42) under `protocol`, an entry of params.yaml `protocols`."""
    study = config.load()
    raw = copy.deepcopy(study.raw)
    raw["protocol"] = protocol
    return config.Study(raw, study.path).spec("baseline", 42)


def run_training(kind, data_dir, epochs, target):
    """`plain`: the plain script at Keras's defaults (batch 32); `fast`: our path at the fast protocol."""
    from study.training import batches, fitting

    train_data, val_data = load(data_dir)
    started = time.perf_counter()
    if kind == "plain":
        from benchmarks.plain_keras import train_plain

        timer = make_timer(started, target)
        train_plain(train_data, val_data, epochs, [timer], batch_size=32)
        batch_size = 32
    else:
        spec = protocol_spec("fast")
        if epochs is not None:
            spec = spec.replace(epochs=epochs)
        steps_per_epoch = -(-len(train_data[0]) // spec.batch_size)
        timer = make_timer(started, target, batches.whole_calls(steps_per_epoch, spec.steps_per_execution))
        with tempfile.TemporaryDirectory() as checkpoints:
            fitting.train(
                f"benchmark_{kind}",
                spec,
                train_data,
                val_data,
                checkpoint_root=checkpoints,
                callbacks=[timer],
            )
        batch_size = spec.batch_size
    return {
        "batch_size": batch_size,
        "median_step_s": float(np.median(timer.warm_steps())),
        "wall_s": time.perf_counter() - started,
        "epochs": len(timer.epochs),
        "final_val_accuracy": timer.epochs[-1]["val_accuracy"],
        "reached": timer.reached,
        "history": timer.epochs,
    }


def _slice(train_data, batch_size):
    """The first CALLS_PER_EPOCH x 16 batches of the training set: every setup times the same images."""
    x, y = train_data
    count = min(len(x), batch_size * 16 * CALLS_PER_EPOCH)
    return x[:count], y[:count]


def variant_spec(name, changes=None):
    """Variant `name`'s spec at the study's protocol (seed 42) with `changes` ({key: value}, checked
    as params.yaml is), timed for STEP_EPOCHS epochs.

    A variant trained on a pre-made augmented set is timed on the train split: the
    same model and steps, on other images.
    """
    study = config.load()
    if changes:
        check_changes(changes, "--set")
        study = study_with(study, name, changes)
    return study.spec(name, 42).replace(epochs=STEP_EPOCHS, augmentation=None)


def parse_changes(parser, assignments):
    """{key: value} of `--set key=value` arguments."""
    changes = {}
    for assignment in assignments:
        if key_and_value(assignment) is None:
            parser.error(f"--set {assignment}: expected KEY=VALUE")
        key, value = key_and_value(assignment)
        changes[key] = value
    return changes


def refuse_a_bad_setup(parser, setup, changes):
    """One line naming what to fix, before TensorFlow starts: an unknown setup or variant, or a bad --set."""
    if not setup.startswith("variant:"):
        if setup not in SETUPS:
            parser.error(f"--setup: expected one of {', '.join(SETUPS)}, or variant:<name>; got {setup!r}")
        if changes:
            parser.error("--set: only with --setup variant:<name>")
        return
    try:
        variant_spec(setup.removeprefix("variant:"), changes)
    except ParamsError as error:
        parser.error(str(error))


def run_our_path(setup, spec, train_data, val_data):
    """Our training path (study/training/fitting.py) at `spec` on `train_data`: the median step time after
    the tracing epoch."""
    from study.training import batches, fitting

    steps_per_call = batches.whole_calls(-(-len(train_data[0]) // spec.batch_size), spec.steps_per_execution)
    timer = make_timer(time.perf_counter(), 2.0, steps_per_call)
    with tempfile.TemporaryDirectory() as checkpoints:
        fitting.train(
            f"benchmark_{setup.replace(':', '_')}",
            spec,
            train_data,
            val_data,
            checkpoint_root=checkpoints,
            callbacks=[timer],
        )
    return {
        "batch_size": spec.batch_size,
        "threads": spec.threads,
        "steps": len(timer.warm_steps()),
        "median_step_s": float(np.median(timer.warm_steps())),
    }


def run_steps(setup, data_dir, changes=None):
    """The median step time of `setup` (a contender, `lever:<name>` or `variant:<name>`, the last with
    `changes` to its spec) after the tracing epoch."""
    train_data, val_data = load(data_dir)
    val_data = (val_data[0][:1000], val_data[1][:1000])
    if setup in OUR_PATH:
        spec = protocol_spec("reproduce").replace(epochs=STEP_EPOCHS, **OUR_PATH[setup])
        return run_our_path(setup, spec, _slice(train_data, spec.batch_size), val_data)
    if setup.startswith("variant:"):
        spec = variant_spec(setup.removeprefix("variant:"), changes)
        # Whole calls of whole batches, VARIANT_IMAGES_PER_EPOCH images or the nearest above.
        call_images = spec.batch_size * spec.steps_per_execution
        count = -(-VARIANT_IMAGES_PER_EPOCH // call_images) * call_images
        return run_our_path(setup, spec, (train_data[0][:count], train_data[1][:count]), val_data)
    if setup == "plain_same_batch":
        from benchmarks.plain_keras import train_plain

        spec = protocol_spec("reproduce")
        if spec.precision != "float32":
            raise SystemExit("plain_same_batch: the plain script runs float32 only")
        timer = make_timer(time.perf_counter(), 2.0)
        train_plain(
            _slice(train_data, spec.batch_size), val_data, STEP_EPOCHS, [timer], batch_size=spec.batch_size
        )
        return {
            "batch_size": spec.batch_size,
            "threads": None,
            "steps": len(timer.warm_steps()),
            "median_step_s": float(np.median(timer.warm_steps())),
        }
    return run_lever(setup.removeprefix("lever:"), train_data)


def run_lever(name, train_data):
    """Our model with Keras's defaults and the one setting of lever `name` changed."""
    import tensorflow as tf

    lever = dict(LEVERS[name])
    threads = lever.pop("threads", None)
    if threads is not None:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    tf_data = lever.pop("tf_data", False)
    import keras

    keras.utils.set_random_seed(42)
    if lever.pop("determinism", False):
        tf.config.experimental.enable_op_determinism()
    from study.training.models import build_model

    # Keras's defaults (one step per call, TensorFlow's threads), then the lever's own settings over them.
    spec = protocol_spec("reproduce").replace(**{"steps_per_execution": 1, "threads": None, **lever})
    x, y = _slice(train_data, spec.batch_size)
    model = build_model(spec)
    inputs = tf.data.Dataset.from_tensor_slices((x, y)).batch(spec.batch_size).cache() if tf_data else x
    timer = make_timer(time.perf_counter(), 2.0, spec.steps_per_execution)
    fit_arguments = {} if tf_data else {"y": y, "batch_size": spec.batch_size}
    model.fit(inputs, epochs=STEP_EPOCHS, verbose=0, callbacks=[timer], **fit_arguments)
    return {
        "batch_size": spec.batch_size,
        "threads": threads,
        "steps": len(timer.warm_steps()),
        "median_step_s": float(np.median(timer.warm_steps())),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["plain", "fast", "steps"])
    parser.add_argument(
        "--setup", help=f"for `steps`: one of {', '.join(SETUPS)}, or variant:<name of a variant>"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="for variant:<name>, a key of its spec changed (repeatable)",
    )
    parser.add_argument("--data", default=data_paths.PREPARED_DIR)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--target", type=float, default=0.915)
    parser.add_argument("--out", required=True)
    arguments = parser.parse_args()
    if arguments.kind == "steps":
        changes = parse_changes(parser, arguments.set)
        refuse_a_bad_setup(parser, arguments.setup or "", changes)
        result = run_steps(arguments.setup, arguments.data, changes)
    else:
        result = run_training(arguments.kind, arguments.data, arguments.epochs, arguments.target)
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open(arguments.out, "w") as stream:
        json.dump(result, stream)


if __name__ == "__main__":
    main()
