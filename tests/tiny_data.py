"""Small Fashion-MNIST look-alikes written by the tests: real IDX files, a few images per class,
and params for them."""

import gzip
import hashlib
import os
import struct

import numpy as np

from study.data.facts import IDX_FILES
from study.data.idx import UNSIGNED_BYTE


def encode_idx(array):
    """The IDX bytes of a uint8 array (used by the tests to make small data sets)."""
    array = np.asarray(array)
    if array.dtype != np.uint8:
        raise ValueError(f"IDX here holds unsigned bytes, got {array.dtype}")
    header = struct.pack(">BBBB", 0, 0, UNSIGNED_BYTE, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def make_images(labels, seed=0):
    """28x28 uint8 images whose brightness pattern depends on the label, so a CNN can learn them."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 40, size=(len(labels), 28, 28), dtype=np.uint8)
    for i, label in enumerate(labels):
        images[i, 2 * label : 2 * label + 6, :] = 200 + rng.integers(0, 50)
    return images


def make_arrays(train_per_class=12, test_per_class=4, seed=0):
    """{IDX file name: uint8 array} of a tiny balanced data set."""
    train_labels = np.repeat(np.arange(10, dtype=np.uint8), train_per_class)
    test_labels = np.repeat(np.arange(10, dtype=np.uint8), test_per_class)
    rng = np.random.default_rng(seed)
    rng.shuffle(train_labels)
    rng.shuffle(test_labels)
    return {
        "train-images-idx3-ubyte": make_images(train_labels, seed),
        "train-labels-idx1-ubyte": train_labels,
        "t10k-images-idx3-ubyte": make_images(test_labels, seed + 1),
        "t10k-labels-idx1-ubyte": test_labels,
    }


def write_dataset(directory, arrays=None, compress=True):
    """Writes the four IDX files (gzipped or raw) into `directory`; returns {name: sha256 of raw bytes}."""
    arrays = make_arrays() if arrays is None else arrays
    os.makedirs(directory, exist_ok=True)
    checksums = {}
    for name in IDX_FILES:
        raw = encode_idx(arrays[name])
        checksums[name] = hashlib.sha256(raw).hexdigest()
        if compress:
            with open(os.path.join(directory, name + ".gz"), "wb") as stream:
                stream.write(gzip.compress(raw))
        else:
            with open(os.path.join(directory, name), "wb") as stream:
                stream.write(raw)
    return checksums


def shrink_params(params, source_dir, checksums, seeds=(1,)):
    """Edits params.yaml's dict in place for a quick run on the tiny data set in `source_dir`.

    One epoch of batch 32, two folds and one seed for the published variants and the
    recipes alike (each variant trains once, not once per seed of the study); a variant
    that sets its own epochs trains one too, and a
    warm-up schedule of the baseline or a variant warms up over 0 epochs (params.yaml
    refuses a warm-up as long as the training): its cosine decay starts at the peak
    rate. The protocol and the variants' other keys are left as they are.
    """
    params["data"]["source_dir"] = str(source_dir)
    params["data"]["sha256"] = checksums
    params["baseline"]["epochs"] = 1
    shorten_warmup(params["baseline"])
    for section in ("variants", "augmented_variants", "recipes"):
        for overrides in (params.get(section) or {}).values():
            if overrides and "epochs" in overrides:
                overrides["epochs"] = 1
            shorten_warmup(overrides)
    params["baseline"]["batch_size"] = 32
    params["kfold"]["n_splits"] = 2
    params["kfold"]["folds"] = [0, 1]
    params["seeds"] = list(seeds)
    params["recipe_seeds"] = list(seeds)
    return params


def shorten_warmup(overrides):
    """A warm-up + cosine schedule of `overrides` set to warm up over 0 epochs (in a new dict: YAML's anchors
    and merge keys share one among variants)."""
    schedule = (overrides or {}).get("lr_schedule")
    if isinstance(schedule, dict) and schedule.get("warmup_epochs"):
        overrides["lr_schedule"] = {**schedule, "warmup_epochs": 0}
