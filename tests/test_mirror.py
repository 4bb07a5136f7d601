"""Stage mirror: the test-time mirror against a hand-computed model, and its refusals."""

import copy
import os
import subprocess
import sys

import numpy as np
import pytest
import yaml

from study import config, files
from study.data import paths as data_paths
from study.errors import ParamsError
from study.training import runs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARAMS_PATH = os.path.join(ROOT, "params.yaml")


def run_stage(cwd, *arguments):
    """Runs `python -m stages.mirror ARGUMENTS` in `cwd` (a fresh process: TensorFlow's settings
    are per process)."""
    return subprocess.run(
        [sys.executable, "-m", "stages.mirror", *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": ROOT},
    )


@pytest.fixture
def project(tmp_path):
    """A project with params.yaml listing the recipe `recipe` (the baseline's spec) for the mirror,
    recipe seed 42, six test images and a linear model."""
    with open(PARAMS_PATH) as stream:
        all_params = yaml.safe_load(stream)
    all_params["recipe_seeds"] = [42]
    all_params["recipes"] = {"recipe": {}}
    all_params["evaluate"]["compare_with_baseline"] = ["recipe"]
    all_params["mirror"]["variants"] = ["recipe"]
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(all_params))
    rng = np.random.default_rng(0)
    x = rng.random((6, 28, 28, 1), dtype=np.float32)
    files.save_split(str(tmp_path / data_paths.prepared("test")), x, np.arange(6, dtype=np.uint8))
    weights = rng.normal(0, 0.05, size=(28 * 28, 10)).astype(np.float32)
    bias = rng.normal(0, 0.1, size=10).astype(np.float32)
    script = (
        "import sys, numpy as np, keras\n"
        "weights, bias = np.load(sys.argv[1]), np.load(sys.argv[2])\n"
        "model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),\n"
        "                          keras.layers.Dense(10, activation='softmax')])\n"
        "model.layers[-1].set_weights([weights, bias])\n"
        "model.save(sys.argv[3])\n"
    )
    np.save(tmp_path / "weights.npy", weights)
    np.save(tmp_path / "bias.npy", bias)
    model_path = tmp_path / runs.seed_run("recipe", 42)["model"]
    os.makedirs(model_path.parent)
    subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            str(tmp_path / "weights.npy"),
            str(tmp_path / "bias.npy"),
            str(model_path),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return tmp_path, x, weights, bias


def softmax(logits):
    exponentials = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def test_answers_are_the_mean_of_the_image_and_its_mirror(project):
    root, x, weights, bias = project
    result = run_stage(root, "recipe", "--seed", "42")
    assert result.returncode == 0, result.stderr
    predicted, probabilities = files.read_predictions(str(root / runs.mirror_predictions("recipe", 42)))
    plain = softmax(x.reshape(len(x), -1) @ weights + bias)
    mirror = softmax(x[:, :, ::-1, :].reshape(len(x), -1) @ weights + bias)
    expected = (plain + mirror) / 2
    # The file keeps float16 probabilities (files.write_predictions); the class is from float32.
    np.testing.assert_allclose(probabilities, expected, atol=1e-3)
    np.testing.assert_array_equal(predicted, expected.argmax(axis=1))
    # A linear model's mirrored answer differs from its plain one: the mirror is really applied.
    assert not np.allclose(plain, mirror, atol=1e-3)


def test_the_same_model_gives_the_same_bytes(project):
    root, *_ = project
    output = root / runs.mirror_predictions("recipe", 42)
    assert run_stage(root, "recipe", "--seed", "42").returncode == 0
    first = output.read_bytes()
    assert run_stage(root, "recipe", "--seed", "42").returncode == 0
    assert output.read_bytes() == first


@pytest.mark.parametrize(
    "arguments, message",
    [
        (
            ["kernel7", "--seed", "42"],
            "error: params.yaml: mirror.variants: 'kernel7' is not listed (listed: recipe)",
        ),
        (["recipe", "--seed", "43"], "error: params.yaml: recipe_seeds: 43 is not listed"),
    ],
)
def test_a_run_not_in_params_is_refused_and_writes_nothing(project, arguments, message):
    root, *_ = project
    result = run_stage(root, *arguments)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [message]
    assert not os.path.exists(root / "predictions")


def test_a_missing_model_is_refused_and_keeps_the_last_answers(project):
    root, *_ = project
    assert run_stage(root, "recipe", "--seed", "42").returncode == 0
    output = root / runs.mirror_predictions("recipe", 42)
    last = output.read_bytes()
    os.remove(root / runs.seed_run("recipe", 42)["model"])
    result = run_stage(root, "recipe", "--seed", "42")
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert runs.seed_run("recipe", 42)["model"] in result.stderr
    assert output.read_bytes() == last


def test_mirror_params_name_what_to_fix():
    real = config.read(PARAMS_PATH)
    assert config.Study(real, PARAMS_PATH).mirror.variants == tuple(real["mirror"]["variants"])
    for variants, message in (
        (["baseline"], "mirror.variants: expected names of entries of `recipes`, got 'baseline'"),
        (["narrow_same_padding"] * 2, "mirror.variants: a variant is listed twice"),
        ("narrow_same_padding", "mirror.variants: expected a list of variant names"),
    ):
        changed = copy.deepcopy(real)
        changed["mirror"]["variants"] = variants
        with pytest.raises(ParamsError, match=message):
            config.Study(changed)
    del real["mirror"]
    with pytest.raises(ParamsError, match="mirror"):
        config.Study(real)
