"""The study's splits: the official IDX files parsed, the 60,000 training images split into
train and validation (stratified), and the k folds of all of them.
"""

import os

import numpy as np

from study import files
from study.data import idx
from study.data.paths import RAW_DIR, prepared
from study.errors import DataError


def read_split(prefix):
    """Images and labels of one split (`train` or `t10k`), checked to match."""
    arrays = []
    for kind, parse in (("images-idx3", idx.parse_images), ("labels-idx1", idx.parse_labels)):
        path = os.path.join(RAW_DIR, f"{prefix}-{kind}-ubyte")
        if not os.path.isfile(path):
            raise DataError(f"{path}: missing (run `dvc repro fetch`)")
        with open(path, "rb") as stream:
            arrays.append(parse(stream.read(), path))
    images, labels = arrays
    if len(images) != len(labels):
        raise DataError(f"{RAW_DIR}/{prefix}-*: {len(images)} images but {len(labels)} labels")
    return images, labels


def scale(images):
    """uint8 pixels to float32 in [0, 1], with the channel axis Keras's Conv2D expects."""
    return (images.astype(np.float32) / 255.0)[..., np.newaxis]


def stratified_split(labels, val_fraction, seed):
    """Index arrays (train, validation) that keep each class's share in both parts."""
    from sklearn.model_selection import train_test_split

    indices = np.arange(len(labels))
    try:
        train, val = train_test_split(indices, test_size=val_fraction, stratify=labels, random_state=seed)
    except ValueError as error:
        raise DataError(f"{RAW_DIR}: cannot split {len(labels)} training images: {error}") from None
    return np.sort(train), np.sort(val)


def fold_indices(labels, n_splits, seed):
    """[(train indices, validation indices)] of each fold, stratified by class."""
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(labels)), labels))


def all_training_images():
    """The 60,000 training images: the train split then the validation split."""
    x_train, y_train = files.load_split(prepared("train"))
    x_val, y_val = files.load_split(prepared("val"))
    return np.concatenate([x_train, x_val]), np.concatenate([y_train, y_val])


def seen_before(splits, fold):
    """The share of fold `fold`'s validation images that the training sets of folds 0..fold-1 contained."""
    if fold == 0:
        return 0.0
    seen = np.unique(np.concatenate([train_index for train_index, _ in splits[:fold]]))
    return float(np.isin(splits[fold][1], seen).mean())
