"""Augmented training sets made once, before training (params.yaml `augmentations`): the train
split plus `copies` transformed copies of each image, and a figure of the transforms.

Transforms apply in this order: rotation by a uniform angle in [-max, max], shift by
up to shift_pixels, flips (each with its probability), Gaussian noise (mean 0), clip
to [0, 1]. Every transform works on a whole array of images at once, not image by
image. The transforms drawn afresh every epoch are study/data/on_the_fly.py.
"""

import numpy as np

from study import files
from study.data.facts import CLASS_NAMES

CHUNK_SIZE = 8192  # images per vectorised step: bounds the memory of the sampling grids


def rotate_and_shift(images, angles_degrees, shifts):
    """Each image (N, H, W) rotated about its centre and shifted, bilinear, zero outside.

    Output pixel p takes the input at R(-angle) (p - centre - shift) + centre.
    """
    count, height, width = images.shape
    rows, cols = np.meshgrid(
        np.arange(height, dtype=np.float32), np.arange(width, dtype=np.float32), indexing="ij"
    )
    centre_row, centre_col = (height - 1) / 2, (width - 1) / 2
    angles = np.deg2rad(angles_degrees).astype(np.float32)[:, None, None]
    cos, sin = np.cos(angles), np.sin(angles)
    dr = rows[None] - centre_row - shifts[:, 0, None, None]
    dc = cols[None] - centre_col - shifts[:, 1, None, None]
    source_row = cos * dr + sin * dc + centre_row
    source_col = -sin * dr + cos * dc + centre_col

    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))  # a ring of zeros: out-of-image reads are 0
    top = np.floor(source_row)
    left = np.floor(source_col)
    weight_row = source_row - top
    weight_col = source_col - left
    # Indices into `padded`; each neighbour is clipped on its own, so a read far
    # outside the image lands on the ring of zeros, never on an edge pixel.
    top = top.astype(np.int64) + 1
    left = left.astype(np.int64) + 1
    bottom = np.clip(top + 1, 0, height + 1)
    right = np.clip(left + 1, 0, width + 1)
    top = np.clip(top, 0, height + 1)
    left = np.clip(left, 0, width + 1)
    index = np.arange(count)[:, None, None]
    return (
        padded[index, top, left] * (1 - weight_row) * (1 - weight_col)
        + padded[index, top, right] * (1 - weight_row) * weight_col
        + padded[index, bottom, left] * weight_row * (1 - weight_col)
        + padded[index, bottom, right] * weight_row * weight_col
    ).astype(images.dtype)


def flip(images, probability, axis, rng):
    """Flips each image along `axis` (1: vertical, upside down; 2: horizontal, mirror) with `probability`."""
    chosen = rng.random(len(images)) < probability
    flipped = images.copy()
    flipped[chosen] = np.flip(images[chosen], axis=axis)
    return flipped


def add_noise(images, variance, rng):
    """Gaussian noise of mean 0 and `variance`, then clipped back to the pixel range [0, 1]."""
    if variance == 0:
        return images
    noisy = images + rng.normal(0.0, np.sqrt(variance), size=images.shape).astype(images.dtype)
    return np.clip(noisy, 0.0, 1.0)


def transform_steps(images, preset, rng):
    """[(name, images after that step)] for one batch (N, H, W), in the order the transforms apply."""
    count = len(images)
    angles = rng.uniform(-preset.max_rotation_degrees, preset.max_rotation_degrees, size=count)
    shift_range = preset.max_shift_pixels
    shifts = rng.integers(-shift_range, shift_range + 1, size=(count, 2)).astype(np.float32)
    steps = [("original", images)]
    current = np.clip(rotate_and_shift(images, angles, shifts), 0.0, 1.0)
    steps.append(("rotated" + (" + shifted" if shift_range else ""), current))
    if preset.vertical_flip_probability > 0:
        current = flip(current, preset.vertical_flip_probability, 1, rng)
        steps.append(("vertical flip", current))
    if preset.horizontal_flip_probability > 0:
        current = flip(current, preset.horizontal_flip_probability, 2, rng)
        steps.append(("horizontal flip", current))
    if preset.noise_variance > 0:
        current = add_noise(current, preset.noise_variance, rng)
        steps.append((f"noise (variance {preset.noise_variance})", current))
    return steps


def augment(x, y, preset):
    """(x, y) followed by preset.copies transformed copies of every image; seeded."""
    rng = np.random.default_rng(preset.seed)
    images = x[..., 0]
    copies = []
    for _ in range(preset.copies):
        for start in range(0, len(images), CHUNK_SIZE):
            copies.append(transform_steps(images[start : start + CHUNK_SIZE], preset, rng)[-1][1])
    augmented = np.concatenate([images, *copies])[..., np.newaxis]
    return augmented.astype(x.dtype), np.tile(y, preset.copies + 1)


def save_figure(path, image, label, preset):
    """The seed's Figure 2: one image, then the image after each transform in turn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Every flip the preset can make is shown, whatever its probability.
    shown = preset.replace(
        vertical_flip_probability=1.0 if preset.vertical_flip_probability > 0 else 0.0,
        horizontal_flip_probability=1.0 if preset.horizontal_flip_probability > 0 else 0.0,
    )
    steps = transform_steps(image[None, ..., 0], shown, np.random.default_rng(preset.seed))
    figure, axes = plt.subplots(1, len(steps), figsize=(2.2 * len(steps), 2.6))
    for axis, (name, images) in zip(np.atleast_1d(axes), steps):
        axis.imshow(images[0], cmap="gray", vmin=0, vmax=1)
        axis.set_title(name, fontsize=9)
        axis.axis("off")
    figure.suptitle(f"Augmentation of one training image ({CLASS_NAMES[label]})", fontsize=10)
    figure.tight_layout()
    with files.atomic_path(path, suffix=".png") as temporary:
        figure.savefig(temporary, dpi=100, format="png")
    plt.close(figure)
