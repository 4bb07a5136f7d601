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

from study import files
from study.data.splits import scale
from tests import tiny_data

pytestmark = pytest.mark.slow  # whole trainings: minutes

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


SEED = 42


def make_project(root, epochs=4, protocol="reproduce"):
    """A directory with params.yaml (tiny training) and data/prepared/ from tiny data."""
    with open(os.path.join(PROJECT, "params.yaml")) as stream:
        params = yaml.safe_load(stream)
    params["baseline"].update(epochs=epochs, batch_size=32)
    params["protocol"] = protocol
    # A fresh random shift and mirror of every batch: the on-the-fly augmentation must resume exactly too.
    params["variants"]["shift_flip"] = {
        "augment_on_the_fly": {"max_shift_pixels": 2, "horizontal_flip_probability": 0.5}
    }
    if protocol != "reproduce":  # the protocol's other keys (precision, schedule) stay
        params["protocols"][protocol].update(epochs=epochs, batch_size=32)
    with open(root / "params.yaml", "w") as stream:
        yaml.safe_dump(params, stream)
    arrays = tiny_data.make_arrays(train_per_class=60, test_per_class=2)
    images, labels = arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"]
    # 480 images: 15 steps of 32 per epoch, which 16 steps per call do not divide (batches.whole_calls).
    files.save_split(str(root / "data/prepared/train.npz"), scale(images[:480]), labels[:480])
    files.save_split(str(root / "data/prepared/val.npz"), scale(images[480:]), labels[480:])
    test_images, test_labels = arrays["t10k-images-idx3-ubyte"], arrays["t10k-labels-idx1-ubyte"]
    files.save_split(str(root / "data/prepared/test.npz"), scale(test_images), test_labels)
    return params


def start_training(root, variant="baseline", seed=SEED):
    environment = {**os.environ, "PYTHONPATH": PROJECT}
    return subprocess.Popen(
        [sys.executable, "-m", "stages.train", variant, "--seed", str(seed)],
        cwd=root,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def train_to_the_end(root, variant="baseline", seed=SEED):
    process = start_training(root, variant, seed)
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output
    return output


def outputs(root, variant="baseline", seed=SEED):
    """(metrics bytes, history bytes, model weights) of a finished training run."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from study.training.models import load_model

    model = load_model(str(root / f"models/train/{variant}/seed_{seed}.keras"))
    return (
        (root / f"metrics/seeds/{variant}/seed_{seed}.json").read_bytes(),
        (root / f"plots/seeds/{variant}/seed_{seed}.csv").read_bytes(),
        model.get_weights(),
    )


def checkpoint_directory(root, variant="baseline", seed=SEED):
    return root / "checkpoints" / f"{variant}-seed_{seed}"


def finished_epochs(root, variant="baseline", seed=SEED):
    try:
        with open(checkpoint_directory(root, variant, seed) / "state.json") as stream:
            return len(json.load(stream)["history"])
    except (OSError, ValueError):
        return 0


def kill_after(root, epochs, total, variant="baseline"):
    """Starts training and kills it (SIGKILL) once `epochs` epochs are saved; returns how many were."""
    process = start_training(root, variant)
    deadline = time.monotonic() + 300
    while finished_epochs(root, variant) < epochs and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_after = finished_epochs(root, variant)
    assert epochs <= killed_after < total, "the run was not killed mid-training"
    assert not (root / f"metrics/seeds/{variant}/seed_{SEED}.json").exists()
    return killed_after


def assert_same_outputs(first, second):
    (metrics, history, weights), (again_metrics, again_history, again_weights) = first, second
    assert again_metrics == metrics and again_history == history
    assert len(weights) == len(again_weights)
    for a, b in zip(weights, again_weights):
        np.testing.assert_array_equal(a, b)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    root = tmp_path_factory.mktemp("uninterrupted")
    make_project(root)
    output = train_to_the_end(root)
    assert f"train@baseline-{SEED}: train accuracy" in output
    return root, outputs(root)


def test_rerun_gives_identical_bytes(uninterrupted, tmp_path):
    _, first = uninterrupted
    make_project(tmp_path)
    train_to_the_end(tmp_path)
    assert_same_outputs(first, outputs(tmp_path))


def test_another_seed_gives_another_model(uninterrupted, tmp_path):
    _, (_, history, weights) = uninterrupted
    make_project(tmp_path)
    train_to_the_end(tmp_path, seed=SEED + 1)
    assert not (tmp_path / f"models/train/baseline/seed_{SEED}.keras").exists()  # each seed its own files
    _, other_history, other_weights = outputs(tmp_path, seed=SEED + 1)
    assert other_history != history
    assert any(not np.array_equal(a, b) for a, b in zip(weights, other_weights))
    assert not checkpoint_directory(tmp_path, seed=SEED + 1).exists()


def test_killed_run_resumes_to_the_same_result(uninterrupted, tmp_path):
    root, first = uninterrupted
    assert (
        not (root / "checkpoints").exists() or os.listdir(root / "checkpoints") == []
    )  # removed once finished
    make_project(tmp_path)
    killed_after = kill_after(tmp_path, 2, 4)
    output = train_to_the_end(tmp_path)
    assert f"resuming after epoch {killed_after}" in output
    assert_same_outputs(first, outputs(tmp_path))


@pytest.mark.parametrize("variant", ["shift_flip", "baseline_lr"])
def test_augmented_on_the_fly_and_step_decay_resume_to_the_same_result(variant, tmp_path_factory):
    """Fresh transforms every epoch (seeded by the batch's number) and the staircase decay survive a kill."""
    whole = tmp_path_factory.mktemp(f"{variant}_whole")
    make_project(whole, epochs=3)
    train_to_the_end(whole, variant)
    first = outputs(whole, variant)
    resumed = tmp_path_factory.mktemp(f"{variant}_resumed")
    make_project(resumed, epochs=3)
    killed_after = kill_after(resumed, 1, 3, variant)
    assert f"resuming after epoch {killed_after}" in train_to_the_end(resumed, variant)
    assert_same_outputs(first, outputs(resumed, variant))


@pytest.mark.parametrize(
    "variant, spec",
    [("smoothed", {"label_smoothing": 0.1}), ("fused", {"batch_norm": True, "batch_norm_kernel": "fused"})],
)
def test_training_with_a_class_of_ours_killed_and_resumed_matches(variant, spec, tmp_path_factory):
    """The checkpoint of a model with the smoothed loss or the fused batch norm (classes of ours) loads
    again and resumes exactly."""

    def project(root):
        params = make_project(root, epochs=3)
        params["variants"][variant] = spec
        with open(root / "params.yaml", "w") as stream:
            yaml.safe_dump(params, stream)

    whole = tmp_path_factory.mktemp(f"{variant}_whole")
    project(whole)
    train_to_the_end(whole, variant)
    first = outputs(whole, variant)
    resumed = tmp_path_factory.mktemp(f"{variant}_resumed")
    project(resumed)
    killed_after = kill_after(resumed, 1, 3, variant)
    assert f"resuming after epoch {killed_after}" in train_to_the_end(resumed, variant)
    assert_same_outputs(first, outputs(resumed, variant))


def test_fast_protocol_killed_and_resumed_matches_and_follows_its_schedule(tmp_path_factory):
    """The `fast` protocol: bfloat16 compute and the per-step warm-up + cosine, which lives
    in the optimizer."""
    whole = tmp_path_factory.mktemp("fast_whole")
    params = make_project(whole, epochs=3, protocol="fast")
    train_to_the_end(whole)
    first = outputs(whole)
    resumed = tmp_path_factory.mktemp("fast_resumed")
    make_project(resumed, epochs=3, protocol="fast")
    killed_after = kill_after(resumed, 1, 3)
    assert f"resuming after epoch {killed_after}" in train_to_the_end(resumed)
    assert_same_outputs(first, outputs(resumed))

    # The learning_rate column: the rate at each epoch's last step (steps 14, 29 and
    # 44 of 45: 480 images, batch 32), one epoch (15 steps) of linear warm-up from 0,
    # then a cosine to 0 over the other 30 steps.
    lines = first[1].decode().splitlines()
    assert lines[0].split(",")[-1] == "learning_rate"
    rates = [float(line.split(",")[-1]) for line in lines[1:]]
    peak = params["protocols"]["fast"]["learning_rate"]
    expected = [
        peak * 14 / 15,
        peak * 0.5 * (1 + np.cos(np.pi * 14 / 30)),
        peak * 0.5 * (1 + np.cos(np.pi * 29 / 30)),
    ]
    assert rates == pytest.approx(expected, abs=1e-7)
    from study.training.models import load_keras_model

    # The project's loader: the fast protocol's label-smoothed loss is the study's own class.
    model = load_keras_model(whole / f"models/train/baseline/seed_{SEED}.keras")
    assert model.layers[0].compute_dtype == "bfloat16" and model.layers[-1].compute_dtype == "float32"


def test_checkpoint_of_other_params_is_not_resumed(tmp_path):
    make_project(tmp_path, epochs=2)
    state = checkpoint_directory(tmp_path)
    state.mkdir(parents=True)
    (state / "state.json").write_text(json.dumps({"fingerprint": "other", "history": [], "seed_states": []}))
    output = train_to_the_end(tmp_path)
    assert "checkpoint of other params or data, starting afresh" in output
    assert json.loads((tmp_path / f"metrics/seeds/baseline/seed_{SEED}.json").read_text())["epochs"] == 2


def test_checkpoint_of_another_seed_is_not_used(tmp_path):
    # Each seed has its own checkpoint directory: a run of seed 43 never resumes seed 42's.
    make_project(tmp_path, epochs=1)
    state = checkpoint_directory(tmp_path, seed=SEED)
    state.mkdir(parents=True)
    (state / "state.json").write_text("{}")
    output = train_to_the_end(tmp_path, seed=SEED + 1)
    assert "checkpoint" not in output
    assert (state / "state.json").read_text() == "{}"


WRITER = """
import os, signal, sys
from study import files
with files.atomic_path(sys.argv[1]) as temporary:
    with open(temporary, "w") as stream:
        stream.write('{"half": ')
        stream.flush()
        os.kill(os.getpid(), signal.SIGKILL)  # dies mid-write
"""


def test_writer_killed_mid_write_leaves_the_old_file(tmp_path):
    target = tmp_path / "metrics.json"
    files.write_json(str(target), {"accuracy": 0.9})
    result = subprocess.run(
        [sys.executable, "-c", WRITER, str(target)], env={**os.environ, "PYTHONPATH": PROJECT}
    )
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
    state = checkpoint_directory(tmp_path)
    state.mkdir(parents=True)
    (state / "state.json").write_text("{}")
    (state / "model.keras").write_bytes(b"cut short")
    output = train_to_the_end(tmp_path)
    assert "unreadable checkpoint" in output
