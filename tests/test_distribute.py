"""study.training.fitting's strategies: `mirrored` really trains on two replicas (two logical CPU devices).

`multi_worker` without TF_CONFIG trains as a cluster of one worker.

Logical devices must be configured before TensorFlow initialises its devices, so
each check runs in a fresh Python process.
"""

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # whole trainings: minutes

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = r"""
import json, math, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
import tensorflow as tf

cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(
    cpus[0], [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
)

from study import config
from study.training import fitting

checkpoint_root, precision, strategy_name = sys.argv[1], sys.argv[2], sys.argv[4]
spec = config.load(os.path.join(sys.argv[3], "params.yaml")).spec("baseline", 0)
spec = spec.replace(epochs=1, batch_size=16, strategy=strategy_name, precision=precision,
                    # Keras's multi-step loop (steps_per_execution > 1) fails under MirroredStrategy
                    # with this input pipeline (InvalidArgumentError in multi_step_on_iterator).
                    steps_per_execution=1)
rng = np.random.default_rng(0)
x = rng.random((64, 28, 28, 1), dtype=np.float32)
y = rng.integers(0, 10, 64).astype(np.uint8)
x_val, y_val = x[:16], y[:16]

strategy = fitting.distribution_strategy(strategy_name)
model, history, checkpoint = fitting.train(strategy_name, spec, (x, y), (x_val, y_val),
                                           checkpoint_root=checkpoint_root)
print("RESULT " + json.dumps({
    "replicas": strategy.num_replicas_in_sync,
    "devices": list(strategy.extended.worker_devices),
    "output_shape": list(model.predict(x, verbose=0).shape),
    "history": history,
    "steps": int(model.optimizer.iterations.numpy()),
    "checkpoint_saved": os.path.isfile(checkpoint.state_path),
}))
"""


def run_mirrored(directory, precision, strategy="mirrored"):
    environment = {**os.environ, "PYTHONPATH": PROJECT}
    environment.pop("TF_CONFIG", None)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(directory / "checkpoints"), precision, PROJECT, strategy],
        cwd=directory,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    assert len(lines) == 1, result.stdout
    return json.loads(lines[0].removeprefix("RESULT "))


@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16"])
def test_mirrored_strategy_trains_on_two_logical_cpus(tmp_path, precision):
    outcome = run_mirrored(tmp_path, precision)
    assert outcome["replicas"] == 2
    assert len(outcome["devices"]) == 2 and all("CPU" in device for device in outcome["devices"])
    assert outcome["output_shape"] == [64, 10]
    (epoch,) = outcome["history"]
    for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
        assert epoch[key] == epoch[key] and abs(epoch[key]) != float("inf"), (key, epoch[key])  # finite
    assert 0 < epoch["loss"] < 10
    # The global batch is batch_size x replicas: 64 images in batches of 2 x 16 are 2 steps.
    assert outcome["steps"] == 2
    assert outcome["checkpoint_saved"]


def test_mirrored_training_is_deterministic(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    assert run_mirrored(first, "float32")["history"] == run_mirrored(second, "float32")["history"]


def test_multi_worker_without_tf_config_is_one_worker(tmp_path):
    # No TF_CONFIG: a cluster of this one worker, whose replica is its CPU; it trains like the default.
    outcome = run_mirrored(tmp_path, "float32", strategy="multi_worker")
    assert outcome["replicas"] == 1
    assert outcome["output_shape"] == [64, 10]
    assert outcome["steps"] == 4  # 64 images in batches of 16
    assert 0 < outcome["history"][0]["loss"] < 10
