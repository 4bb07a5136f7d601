"""python -m stages.predict: the user's own images, classified by a saved model."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from stages import params, predict
from stages.files import DataError
from tests import tiny_data

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A directory holding models/train/baseline.keras (briefly trained on tiny data)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from stages.models import build_model

    root = tmp_path_factory.mktemp("predict")
    arrays = tiny_data.make_arrays(train_per_class=20)
    x = arrays["train-images-idx3-ubyte"][..., None] / 255.0
    model = build_model(params.model_spec(params.load(os.path.join(PROJECT, "params.yaml")), "baseline"))
    model.fit(x, arrays["train-labels-idx1-ubyte"], epochs=2, batch_size=32, verbose=0)
    (root / "models" / "train").mkdir(parents=True)
    model.save(root / "models" / "train" / "baseline.keras")
    return root, model, arrays["t10k-images-idx3-ubyte"]


def run_predict(root, *arguments):
    return subprocess.run(
        [sys.executable, "-m", "stages.predict", *arguments], cwd=root, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": PROJECT, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )


def test_png_of_a_test_image_gets_the_class_of_its_array(model_dir):
    root, model, test_images = model_dir
    paths = []
    for i in range(6):
        path = root / f"image_{i}.png"
        Image.fromarray(test_images[i]).save(path)
        paths.append(str(path))
    result = run_predict(root, *paths, "--model", "baseline", "--json")
    assert result.returncode == 0, result.stderr
    predictions = json.loads(result.stdout)["predictions"]
    expected = model.predict(test_images[:6, ..., None] / 255.0, verbose=0)
    for i, path in enumerate(paths):
        top = predictions[path]
        assert len(top) == 3
        assert top[0]["label"] == int(expected[i].argmax())
        assert top[0]["probability"] == pytest.approx(float(expected[i].max()), abs=1e-5)


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
    assert "models/train/nosuch.keras: missing" in result.stderr


def test_a_photo_becomes_a_centred_dark_background_image():
    # A dark grey rectangle on a white 300x200 RGB photo, off centre.
    photo = np.full((200, 300, 3), 255, dtype=np.uint8)
    photo[20:120, 30:80] = 60
    converted = predict.to_fashion_mnist(Image.fromarray(photo))
    assert converted.shape == (28, 28) and converted.dtype == np.float32
    assert converted[0, 0] == 0.0 and converted.max() == pytest.approx(195 / 255, abs=0.02)
    rows, cols = np.nonzero(converted > 0.5)
    assert rows.min() == 0 and rows.max() == 27           # the longest side fills 28 pixels
    assert abs((cols.min() + cols.max()) / 2 - 13.5) <= 1  # centred
    assert 12 <= cols.max() - cols.min() + 1 <= 16         # aspect ratio 1:2 kept


def test_not_an_image_is_a_data_error(tmp_path):
    path = tmp_path / "x.jpg"
    path.write_bytes(b"\xff\xd8 truncated jpeg")
    with pytest.raises(DataError, match="x.jpg: not a readable image"):
        predict.load_image(str(path))
