"""Classify your own images with a trained model of the study.

    python -m study.predict shirt.jpg boot.png [--model baseline [--seed 43]] [--json]

--model NAME loads models/train/NAME/seed_<seed>.keras, the model of variant NAME
trained with the first seed of params.yaml `seeds` (or with --seed N); --model
may also be the path of any .keras file. Without --model: the first model the
published evaluation selected (metrics/details/evaluate.json; else the baseline), first seed.

Each image, of any size or colour, is made into a 28x28 grayscale image the way
Fashion-MNIST was made from product photos: grayscale, background dark (photos
on a light background are inverted), trimmed to the object, longest side scaled
to 28 pixels, centred. An image already 28x28 with a dark background is used as
it is. Prints the top 3 classes with their probabilities (or JSON with --json).
A file that cannot be read as an image gets one line on stderr; the others are
still classified, and the exit status is 1.
"""

import argparse
import json
import os
import sys

import numpy as np

from study import config
from study.analysis import artifacts
from study.data.facts import CLASS_NAMES, IMAGE_SIZE
from study.errors import DataError, ParamsError
from study.training import runs

TOP_K = 3


def _border(pixels):
    return np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])


def to_fashion_mnist(image):
    """A PIL image as a (28, 28) float32 array in [0, 1]: dark background, object centred."""
    from PIL import Image

    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent parts become the light background a product photo has.
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    pixels = np.asarray(image.convert("L"), dtype=np.float32)
    if np.median(_border(pixels)) > 127:
        pixels = 255.0 - pixels  # Fashion-MNIST shows light clothes on black.
    if pixels.shape == (IMAGE_SIZE, IMAGE_SIZE):
        return pixels / 255.0
    # Trim the background: keep the rows and columns the object reaches.
    mask = pixels > max(pixels.max() * 0.1, np.median(_border(pixels)) + 10)
    if mask.any():
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        pixels = pixels[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    height, width = pixels.shape
    scale = IMAGE_SIZE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = np.asarray(
        Image.fromarray(pixels.astype(np.uint8)).resize(size, Image.LANCZOS), dtype=np.float32
    )
    canvas = np.zeros((IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    top, left = (IMAGE_SIZE - size[1]) // 2, (IMAGE_SIZE - size[0]) // 2
    canvas[top : top + size[1], left : left + size[0]] = resized
    return canvas / 255.0


def load_image(path):
    """The image at `path` as Fashion-MNIST input; DataError names a file that is not an image."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            return to_fashion_mnist(image)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise DataError(f"{path}: not a readable image ({type(error).__name__})") from None


def top_classes(probabilities, k=TOP_K):
    order = np.argsort(-probabilities)[:k]
    return [{"class": CLASS_NAMES[i], "label": int(i), "probability": float(probabilities[i])} for i in order]


def default_model_name():
    """The first model the published evaluation selected (by validation), else the baseline."""
    try:
        with open(artifacts.evaluate_details()) as stream:
            return json.load(stream)["selected"][0]
    except (OSError, ValueError, KeyError, IndexError):
        return "baseline"


def model_path(name, seed=None):
    """The .keras file of variant `name` and `seed` (default: the first of params.yaml `seeds`),
    or `name` itself if a .keras path."""
    if name.endswith(".keras"):
        if seed is not None:
            raise ParamsError(
                f"--seed {seed}: a .keras path names one model, --seed chooses among a variant's"
            )
        return name
    if seed is None:
        seed = config.load().seeds[0]
    return runs.seed_run(name, seed)["model"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="+", help="PNG, JPEG or other image files")
    parser.add_argument(
        "--model",
        help="a trained variant (models/train/NAME/seed_<seed>.keras) or a .keras path; "
        "default: the first model the published evaluation selected (metrics/details/evaluate.json)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        help="which seed's model of the variant; default: the first of params.yaml `seeds`",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    arguments = parser.parse_args(argv)

    try:
        path = model_path(arguments.model or default_model_name(), arguments.seed)
    except ParamsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    inputs, failed = {}, 0
    for image_path in arguments.images:
        try:
            inputs[image_path] = load_image(image_path)
        except DataError as error:
            print(f"error: {error}", file=sys.stderr)
            failed += 1
    if inputs:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        from study.training.models import load_model, predict_probabilities

        try:
            model = load_model(path)
        except DataError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        probabilities = predict_probabilities(model, np.stack(list(inputs.values()))[..., np.newaxis])
        results = {p: top_classes(row) for p, row in zip(inputs, probabilities)}
        if arguments.json:
            print(json.dumps({"model": path, "predictions": results}, indent=2))
        else:
            for image_path, top in results.items():
                print(f"{image_path}: " + ", ".join(f"{t['class']} {t['probability']:.3f}" for t in top))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
