"""Training that is killed resumes to the same result; reruns are identical; writes are atomic."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml

from stages import files
from stages.prepare import scale
from tests import tiny_data

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_project(root, epochs=4):
    """A directory with params.yaml (tiny training) and data/prepared/ from tiny data."""
    with open(os.path.join(PROJECT, "params.yaml")) as stream:
        params = yaml.safe_load(stream)
    params["baseline"].update(epochs=epochs, batch_size=32)
    with open(root / "params.yaml", "w") as stream:
        yaml.safe_dump(params, stream)
    arrays = tiny_data.make_arrays(train_per_class=60, test_per_class=2)
    images, labels = arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"]
    files.save_split(str(root / "data/prepared/train.npz"), scale(images[:500]), labels[:500])
    files.save_split(str(root / "data/prepared/val.npz"), scale(images[500:]), labels[500:])


def start_training(root, variant="baseline"):
    environment = {**os.environ, "PYTHONPATH": PROJECT}
    return subprocess.Popen(
        [sys.executable, "-m", "stages.train", variant], cwd=root, env=environment,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def outputs(root, variant="baseline"):
    """(metrics bytes, history bytes, model weights) of a finished training run."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    model = keras.models.load_model(root / f"models/train/{variant}.keras")
    return (
        (root / f"metrics/train/{variant}.json").read_bytes(),
        (root / f"plots/history/{variant}.csv").read_bytes(),
        model.get_weights(),
    )


def finished_epochs(root, variant="baseline"):
    try:
        with open(root / "checkpoints" / variant / "state.json") as stream:
            return len(json.load(stream)["history"])
    except (OSError, ValueError):
        return 0


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    root = tmp_path_factory.mktemp("uninterrupted")
    make_project(root)
    process = start_training(root)
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output
    return root, outputs(root)


def test_rerun_gives_identical_bytes(uninterrupted, tmp_path):
    _, (metrics, history, weights) = uninterrupted
    make_project(tmp_path)
    process = start_training(tmp_path)
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output
    again_metrics, again_history, again_weights = outputs(tmp_path)
    assert again_metrics == metrics and again_history == history
    for a, b in zip(weights, again_weights):
        np.testing.assert_array_equal(a, b)


def test_killed_run_resumes_to_the_same_result(uninterrupted, tmp_path):
    root, (metrics, history, weights) = uninterrupted
    assert not (root / "checkpoints" / "baseline").exists()  # removed once the stage finished
    make_project(tmp_path)
    process = start_training(tmp_path)
    deadline = time.monotonic() + 300
    while finished_epochs(tmp_path) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_after = finished_epochs(tmp_path)
    assert 2 <= killed_after < 4, "the run was not killed mid-training"
    assert not (tmp_path / "metrics/train/baseline.json").exists()

    process = start_training(tmp_path)
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output
    assert f"resuming after epoch {killed_after}" in output
    resumed_metrics, resumed_history, resumed_weights = outputs(tmp_path)
    assert resumed_metrics == metrics and resumed_history == history
    for a, b in zip(weights, resumed_weights):
        np.testing.assert_array_equal(a, b)


def test_checkpoint_of_other_params_is_not_resumed(tmp_path):
    make_project(tmp_path, epochs=2)
    state = tmp_path / "checkpoints" / "baseline"
    state.mkdir(parents=True)
    (state / "state.json").write_text(json.dumps({"fingerprint": "other", "history": [], "seed_states": []}))
    process = start_training(tmp_path)
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output
    assert "checkpoint of other params or data, starting afresh" in output
    assert json.loads((tmp_path / "metrics/train/baseline.json").read_text())["epochs"] == 2


WRITER = """
import os, signal, sys
from stages import files
with files.atomic_path(sys.argv[1]) as temporary:
    with open(temporary, "w") as stream:
        stream.write('{"half": ')
        stream.flush()
        os.kill(os.getpid(), signal.SIGKILL)  # dies mid-write
"""


def test_writer_killed_mid_write_leaves_the_old_file(tmp_path):
    target = tmp_path / "metrics.json"
    files.write_json(str(target), {"accuracy": 0.9})
    result = subprocess.run([sys.executable, "-c", WRITER, str(target)], env={**os.environ, "PYTHONPATH": PROJECT})
    assert result.returncode == -signal.SIGKILL
    assert json.loads(target.read_text()) == {"accuracy": 0.9}


def test_failed_write_removes_its_temporary_file(tmp_path):
    target = tmp_path / "out.json"
    with pytest.raises(RuntimeError):
        with files.atomic_path(str(target)) as temporary:
            open(temporary, "w").write("partial")
            raise RuntimeError("the writer failed")
    assert os.listdir(tmp_path) == []


def test_saved_split_has_the_same_bytes_every_time(tmp_path):
    x = np.random.default_rng(0).random((5, 28, 28, 1), dtype=np.float32)
    y = np.arange(5, dtype=np.uint8)
    files.save_split(str(tmp_path / "a.npz"), x, y)
    time.sleep(2.1)  # zip timestamps have a resolution of 2 s
    files.save_split(str(tmp_path / "b.npz"), x, y)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    loaded_x, loaded_y = files.load_split(str(tmp_path / "a.npz"))
    np.testing.assert_array_equal(loaded_x, x)
    np.testing.assert_array_equal(loaded_y, y)


def test_unreadable_checkpoint_starts_afresh(tmp_path):
    make_project(tmp_path, epochs=1)
    state = tmp_path / "checkpoints" / "baseline"
    state.mkdir(parents=True)
    (state / "state.json").write_text("{}")
    (state / "model.keras").write_bytes(b"cut short")
    process = start_training(tmp_path)
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output
    assert "unreadable checkpoint" in output
