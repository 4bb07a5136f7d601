"""`strategy: multi_worker` across two real worker processes on 127.0.0.1, each told its place by TF_CONFIG.

Both workers train the same tiny spec on the same tiny data through
study.training.fitting.train, one replica each (one thread each), and the test checks
that they finish with the same weights, and that these are the weights of one
worker training alone at the same global batch (batch_size is per replica: two
workers at 16 are one at 32) to within TOLERANCE. Dropout is off in the comparison:
each replica draws its own masks, so with dropout two workers are a different
training from one, not the same one rounded differently.

Keras 3.15's Model.fit does not run under MultiWorkerMirroredStrategy with more than
one worker as it is; fitting.mend_keras_for_multi_worker mends it, and these workers
run fitting.train unchanged, so the test also fails if a Keras upgrade moves what the
mend relies on.
"""

import json
import os
import signal
import socket
import subprocess
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # three trainings, two of them across processes: about a minute

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Measured on the 2-core machine (Keras 3.15.1, TensorFlow 2.21, 3 epochs of 4 steps, seeds
# 7, 8 and 9): the largest difference between a weight of the two-worker model and of the
# one-worker model was 6.8e-08, 6.3e-08 and 1.1e-07, between their predicted probabilities
# at most 2.1e-07, between their per-epoch training losses 2.4e-07; validation accuracies and
# predicted classes were equal. With dropout 0.25 the weights differed by 0.019 and the
# validation accuracies were 0.725 and 0.8: another training. The bound is 90 times the largest.
TOLERANCE = 1e-5

SCRIPT = r"""
import json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
project, out_dir, strategy_name, batch_size = sys.argv[1:5]
sys.path.insert(0, project)
import numpy as np
from study import config
from study.training import fitting, models
from tests import tiny_data

arrays = tiny_data.make_arrays(train_per_class=12, test_per_class=4, seed=0)  # 120 and 40 images
x = (arrays["train-images-idx3-ubyte"].astype(np.float32) / 255)[..., None]
y = arrays["train-labels-idx1-ubyte"]
x_val = (arrays["t10k-images-idx3-ubyte"].astype(np.float32) / 255)[..., None]
y_val = arrays["t10k-labels-idx1-ubyte"]
spec = config.load(os.path.join(project, "params.yaml")).spec("baseline", 7).replace(
    epochs=3, batch_size=int(batch_size), strategy=strategy_name, steps_per_execution=1, threads=1,
    precision="float32", conv_dropout_rate=0.0, dense_dropout_rate=0.0, lr_schedule=None,
    augment_on_the_fly=None)
model, history, checkpoint = fitting.train("worker", spec, (x, y), (x_val, y_val),
                                           checkpoint_root=os.path.join(out_dir, "checkpoints"))
# What stages/train.py does next: evaluate on both splits and predict the test set (here val).
metrics = fitting.training_metrics(model, history, (x, y), (x_val, y_val))
probabilities = models.predict_probabilities(model, x_val)
np.savez(os.path.join(out_dir, "result.npz"), probabilities=probabilities, *model.get_weights())
print("RESULT " + json.dumps({
    "replicas": model.distribute_strategy.num_replicas_in_sync,
    "steps": int(model.optimizer.iterations.numpy()),
    "history": history,
    "metrics": metrics,
    "checkpoint_saved": os.path.isfile(checkpoint.state_path),
}), flush=True)
"""


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def train(directory, workers, batch_size, strategy="multi_worker", timeout=300):
    """Runs `workers` worker processes of one cluster (no TF_CONFIG for one); returns each one's result:
    (its RESULT dict, its weights, its predicted probabilities), or raises with their output."""
    ports = free_ports(workers)
    processes = []
    for index in range(workers):
        environment = {**os.environ, "PYTHONPATH": PROJECT}
        environment.pop("TF_CONFIG", None)
        if workers > 1:
            environment["TF_CONFIG"] = json.dumps(
                {
                    "cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
                    "task": {"type": "worker", "index": index},
                }
            )
        out_dir = directory / f"worker_{index}"
        out_dir.mkdir(parents=True)
        command = [sys.executable, "-c", SCRIPT, PROJECT, str(out_dir), strategy, str(batch_size)]
        processes.append(
            (
                out_dir,
                subprocess.Popen(
                    command,
                    cwd=out_dir,
                    env=environment,
                    text=True,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    start_new_session=True,
                ),
            )
        )
    results, failures = [], []
    try:
        for out_dir, process in processes:
            # A worker whose peer died waits for it: the timeout ends the cluster.
            try:
                stdout, stderr = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                failures.append(f"worker {out_dir.name} still running after {timeout} s")
                break
            if process.returncode != 0:
                failures.append(f"worker {out_dir.name} exited {process.returncode}:\n{stderr[-4000:]}")
                continue
            (line,) = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
            stored = np.load(out_dir / "result.npz")
            weights = [stored[f"arr_{i}"] for i in range(len(stored.files) - 1)]
            results.append((json.loads(line.removeprefix("RESULT ")), weights, stored["probabilities"]))
    finally:
        for _, process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    if failures:
        raise RuntimeError("\n".join(failures))
    return results


def largest_difference(first, second):
    assert [w.shape for w in first] == [w.shape for w in second]
    return max(float(np.abs(a - b).max()) for a, b in zip(first, second))


def test_two_workers_train_as_one_worker_of_the_same_global_batch(tmp_path):
    two = train(tmp_path / "two", workers=2, batch_size=16)
    ((alone, alone_weights, alone_probabilities),) = train(
        tmp_path / "one", workers=1, batch_size=32, strategy="default"
    )
    (first, first_weights, first_probabilities), (second, second_weights, second_probabilities) = two

    for outcome in (first, second):
        assert outcome["replicas"] == 2
        assert outcome["steps"] == 12  # 3 epochs of 120 images in global batches of 2 x 16
        assert outcome["checkpoint_saved"]
        assert [row["epoch"] for row in outcome["history"]] == [1, 2, 3]
    assert alone["steps"] == 12
    # The workers hold one model: every step's gradients are summed across them.
    assert first == second
    assert largest_difference(first_weights, second_weights) == 0.0
    assert np.array_equal(first_probabilities, second_probabilities)

    # And it is the one-worker model, to rounding.
    difference = largest_difference(first_weights, alone_weights)
    assert difference <= TOLERANCE, difference
    assert float(np.abs(first_probabilities - alone_probabilities).max()) <= TOLERANCE
    assert np.array_equal(first_probabilities.argmax(axis=1), alone_probabilities.argmax(axis=1))
    for key in ("val_accuracy", "train_accuracy", "best_epoch", "epochs", "params"):
        assert first["metrics"][key] == alone["metrics"][key], key
    for key in ("val_loss", "train_loss"):
        assert first["metrics"][key] == pytest.approx(alone["metrics"][key], rel=TOLERANCE, abs=TOLERANCE), (
            key
        )
    for together, single in zip(first["history"], alone["history"]):
        assert together["val_accuracy"] == single["val_accuracy"]
        assert together["loss"] == pytest.approx(single["loss"], rel=TOLERANCE)
