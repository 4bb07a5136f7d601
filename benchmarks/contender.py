"""One contender of the benchmark, in its own process so that its peak memory and TF settings are its own.

    python -m benchmarks.contender plain|plain_same_batch|default|fast|lever --data DIR --epochs N --out result.json [--lever NAME]

Prints nothing of interest; writes a JSON result that benchmarks/benchmark.py tabulates.
"""

import argparse
import json
import os
import resource
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

# Each lever alone, on the baseline at the published protocol's settings (fp32, batch 32)
# except the one named; the thread count is TensorFlow's unless named.
LEVERS = {
    "reference (fp32, batch 32)": {},
    "batch 128": {"batch_size": 128},
    "batch 256": {"batch_size": 256},
    "batch 512": {"batch_size": 512},
    "bf16 mixed precision": {"precision": "mixed_bfloat16"},
    "bf16, batch 256": {"precision": "mixed_bfloat16", "batch_size": 256},
    "bf16, batch 512": {"precision": "mixed_bfloat16", "batch_size": 512},
    "XLA jit_compile": {"jit_compile": True},
    "1 intra-op thread": {"threads": 1},
    "2 intra-op, 1 inter-op threads": {"threads": 2},
    "tf.data from_tensor_slices + cache": {"tf_data": True},
    "op determinism (as the pipeline runs)": {"determinism": True},
}
LEVER_STEPS = 60


def load(data_dir):
    from study import files

    return files.load_split(os.path.join(data_dir, "train.npz")), files.load_split(os.path.join(data_dir, "val.npz"))


def make_timer(started, target, steps_per_call=1):
    import keras

    class Timer(keras.callbacks.Callback):
        """Step times, and the first epoch (and seconds since the start) reaching the target accuracy.

        With steps_per_execution > 1 Keras calls the batch callbacks once per call
        of `steps_per_call` steps, so each interval is divided among them.
        """

        def __init__(self):
            super().__init__()
            self.steps, self.epochs, self.reached = [], [], None

        def on_train_batch_begin(self, batch, logs=None):
            self.step_started = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.steps.append((time.perf_counter() - self.step_started) / steps_per_call)

        def on_epoch_end(self, epoch, logs=None):
            if "val_accuracy" not in (logs or {}):
                return  # a lever run has no validation
            seconds = time.perf_counter() - started
            self.epochs.append({"epoch": epoch + 1, "seconds": seconds, "val_accuracy": float(logs["val_accuracy"])})
            if self.reached is None and logs["val_accuracy"] >= target:
                self.reached = {"epoch": epoch + 1, "seconds": seconds}

    return Timer()


def run_training(kind, data_dir, epochs, target):
    """(a) the plain script at Keras's defaults, the plain script at the protocol's batch size,
    (b) our path at the published protocol, (c) our path at the fast protocol."""
    from study import fitting, params

    train_data, val_data = load(data_dir)
    started = time.perf_counter()
    if kind in ("plain", "plain_same_batch"):
        from benchmarks.plain_keras import train_plain

        batch_size = 32 if kind == "plain" else params.model_spec(params.load(), "baseline", 42)["batch_size"]
        timer = make_timer(started, target)
        train_plain(train_data, val_data, epochs, [timer], batch_size=batch_size)
    else:
        all_params = params.load()
        all_params["protocol"] = "reproduce" if kind == "default" else "fast"
        spec = params.model_spec(all_params, "baseline", 42)
        if epochs is not None:
            spec["epochs"] = epochs
        timer = make_timer(started, target, spec["steps_per_execution"])
        with tempfile.TemporaryDirectory() as checkpoints:
            fitting.train(f"benchmark_{kind}", spec, train_data, val_data, checkpoint_root=checkpoints, callbacks=[timer])
        batch_size = spec["batch_size"]
    return {
        "batch_size": batch_size,
        "median_step_s": float(np.median(timer.steps)),
        "wall_s": time.perf_counter() - started,
        "epochs": len(timer.epochs),
        "final_val_accuracy": timer.epochs[-1]["val_accuracy"],
        "reached": timer.reached,
        "history": timer.epochs,
    }


def run_lever(name, data_dir):
    """The median step time of the baseline with one lever changed, over LEVER_STEPS steps after a warm-up."""
    import tensorflow as tf

    lever = dict(LEVERS[name])
    threads = lever.pop("threads", None)
    if threads is not None:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    tf_data = lever.pop("tf_data", False)
    import keras

    keras.utils.set_random_seed(42)
    if lever.pop("determinism", False):
        tf.config.experimental.enable_op_determinism()
    from study import params
    from study.models import build_model

    spec = {**params.model_spec(params.load(), "baseline", 42), **lever}
    (x, y), _ = load(data_dir)
    count = min(len(x), spec["batch_size"] * (LEVER_STEPS + 5))
    x, y = x[:count], y[:count]
    spec["steps_per_execution"] = 1  # one callback per step: the levers time single steps
    model = build_model(spec)
    inputs = tf.data.Dataset.from_tensor_slices((x, y)).batch(spec["batch_size"]).cache() if tf_data else x
    timer = make_timer(time.perf_counter(), 2.0)
    fit_arguments = {} if tf_data else {"y": y, "batch_size": spec["batch_size"]}
    model.fit(inputs, epochs=2, verbose=0, callbacks=[timer], **fit_arguments)
    steps = timer.steps[len(timer.steps) // 2:]  # the second epoch: traced and warm
    return {"batch_size": spec["batch_size"], "median_step_s": float(np.median(steps)), "steps": len(steps)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["plain", "plain_same_batch", "default", "fast", "lever"])
    parser.add_argument("--data", default=os.path.join("data", "prepared"))
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--target", type=float, default=0.915)
    parser.add_argument("--lever", choices=list(LEVERS))
    parser.add_argument("--out", required=True)
    arguments = parser.parse_args()
    if arguments.kind == "lever":
        result = run_lever(arguments.lever, arguments.data)
    else:
        result = run_training(arguments.kind, arguments.data, arguments.epochs, arguments.target)
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open(arguments.out, "w") as stream:
        json.dump(result, stream)


if __name__ == "__main__":
    main()
