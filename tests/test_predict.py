"""python -m study.predict: the user's own images, classified by a saved model."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from study import config, predict
from study.errors import DataError
from tests import tiny_data

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


STUDY = config.load(os.path.join(PROJECT, "params.yaml"))
FIRST_SEED, OTHER_SEED = STUDY.seeds[:2]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A project directory: params.yaml and models/train/baseline/seed_<s>.keras for the first two seeds.

    Each model is briefly trained on tiny data from its own seed, so the two differ.
    Returns (root, {seed: model}, test images).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    from study.training.models import build_model

    root = tmp_path_factory.mktemp("predict")
    shutil.copy(os.path.join(PROJECT, "params.yaml"), root / "params.yaml")
    arrays = tiny_data.make_arrays(train_per_class=20)
    x = arrays["train-images-idx3-ubyte"][..., None] / 255.0
    models = {}
    for seed in (FIRST_SEED, OTHER_SEED):
        keras.utils.set_random_seed(seed)
        model = build_model(STUDY.spec("baseline", seed))
        model.fit(x, arrays["train-labels-idx1-ubyte"], epochs=2, batch_size=32, verbose=0)
        (root / "models" / "train" / "baseline").mkdir(parents=True, exist_ok=True)
        model.save(root / "models" / "train" / "baseline" / f"seed_{seed}.keras")
        models[seed] = model
    return root, models, arrays["t10k-images-idx3-ubyte"]


def save_pngs(directory, images):
    paths = []
    for i, image in enumerate(images):
        path = directory / f"image_{i}.png"
        Image.fromarray(image).save(path)
        paths.append(str(path))
    return paths


def assert_predictions_of(model, predictions, paths, images):
    expected = model.predict(images[..., None] / 255.0, verbose=0)
    for i, path in enumerate(paths):
        top = predictions[path]
        assert len(top) == 3
        assert top[0]["label"] == int(expected[i].argmax())
        assert top[0]["probability"] == pytest.approx(float(expected[i].max()), abs=1e-5)


def run_predict(root, *arguments):
    return subprocess.run(
        [sys.executable, "-m", "study.predict", *arguments],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": PROJECT, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )


def test_png_of_a_test_image_gets_the_class_of_its_array(model_dir):
    # --model NAME: the variant's model of the first seed of params.yaml.
    root, models, test_images = model_dir
    paths = save_pngs(root, test_images[:6])
    result = run_predict(root, *paths, "--model", "baseline", "--json")
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["model"] == f"models/train/baseline/seed_{FIRST_SEED}.keras"
    assert_predictions_of(models[FIRST_SEED], output["predictions"], paths, test_images[:6])


def test_seed_chooses_the_model_of_another_seed(model_dir):
    root, models, test_images = model_dir
    paths = save_pngs(root, test_images[:6])
    result = run_predict(root, *paths, "--model", "baseline", "--seed", str(OTHER_SEED), "--json")
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["model"] == f"models/train/baseline/seed_{OTHER_SEED}.keras"
    assert_predictions_of(models[OTHER_SEED], output["predictions"], paths, test_images[:6])
    # The two seeds' models differ, so the check above tells them apart.
    first = models[FIRST_SEED].predict(test_images[:6, ..., None] / 255.0, verbose=0)
    other = models[OTHER_SEED].predict(test_images[:6, ..., None] / 255.0, verbose=0)
    assert abs(first - other).max() > 1e-3


def test_a_keras_path_still_works(model_dir, tmp_path):
    root, models, test_images = model_dir
    copy = tmp_path / "mine.keras"
    shutil.copy(root / "models" / "train" / "baseline" / f"seed_{OTHER_SEED}.keras", copy)
    paths = save_pngs(tmp_path, test_images[:3])
    result = run_predict(tmp_path, *paths, "--model", str(copy), "--json")  # no params.yaml needed there
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["model"] == str(copy)
    assert_predictions_of(models[OTHER_SEED], output["predictions"], paths, test_images[:3])
    refused = run_predict(tmp_path, paths[0], "--model", str(copy), "--seed", "1")
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        "error: --seed 1: a .keras path names one model, --seed chooses among a variant's"
    ]


def test_without_model_the_selected_variant_of_the_evaluation(model_dir, tmp_path):
    root, _, test_images = model_dir
    project = tmp_path / "project"
    shutil.copytree(root / "models", project / "models")
    shutil.copy(root / "params.yaml", project / "params.yaml")
    (project / "metrics" / "details").mkdir(parents=True)
    (project / "metrics" / "details" / "evaluate.json").write_text(
        json.dumps({"selected": ["baseline", "kernel7"]})
    )
    paths = save_pngs(tmp_path, test_images[:2])
    result = run_predict(project, *paths, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["model"] == f"models/train/baseline/seed_{FIRST_SEED}.keras"


def test_bad_files_get_one_line_each_and_the_rest_is_classified(model_dir, tmp_path):
    root, _, test_images = model_dir
    good = tmp_path / "good.png"
    Image.fromarray(test_images[0]).save(good)
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    result = run_predict(root, str(text), str(good), str(empty), "--model", "baseline")
    assert result.returncode == 1
    # (TensorFlow's own start-up lines on stderr are not ours to silence.)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: {text}: not a readable image (UnidentifiedImageError)",
        f"error: {empty}: not a readable image (UnidentifiedImageError)",
    ]
    assert result.stdout.startswith(f"{good}: ")


def test_missing_model_is_named(model_dir, tmp_path):
    root, _, test_images = model_dir
    good = tmp_path / "good.png"
    Image.fromarray(test_images[0]).save(good)
    result = run_predict(root, str(good), "--model", "nosuch")
    assert result.returncode == 2
    assert f"error: models/train/nosuch/seed_{FIRST_SEED}.keras: missing" in result.stderr
    result = run_predict(root, str(good), "--model", "baseline", "--seed", "7")
    assert result.returncode == 2
    assert "error: models/train/baseline/seed_7.keras: missing" in result.stderr


def test_a_variant_name_needs_the_seeds_of_params_yaml(model_dir, tmp_path):
    _, _, test_images = model_dir
    good = tmp_path / "good.png"
    Image.fromarray(test_images[0]).save(good)
    result = run_predict(tmp_path, str(good), "--model", "baseline")  # no params.yaml in tmp_path
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["error: params.yaml: file not found (run from the project root)"]


def test_a_photo_becomes_a_centred_dark_background_image():
    # A dark grey rectangle on a white 300x200 RGB photo, off centre.
    photo = np.full((200, 300, 3), 255, dtype=np.uint8)
    photo[20:120, 30:80] = 60
    converted = predict.to_fashion_mnist(Image.fromarray(photo))
    assert converted.shape == (28, 28) and converted.dtype == np.float32
    assert converted[0, 0] == 0.0 and converted.max() == pytest.approx(195 / 255, abs=0.02)
    rows, cols = np.nonzero(converted > 0.5)
    assert rows.min() == 0 and rows.max() == 27  # the longest side fills 28 pixels
    assert abs((cols.min() + cols.max()) / 2 - 13.5) <= 1  # centred
    assert 12 <= cols.max() - cols.min() + 1 <= 16  # aspect ratio 1:2 kept


def test_not_an_image_is_a_data_error(tmp_path):
    path = tmp_path / "x.jpg"
    path.write_bytes(b"\xff\xd8 truncated jpeg")
    with pytest.raises(DataError, match="x.jpg: not a readable image"):
        predict.load_image(str(path))
