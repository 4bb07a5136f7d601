"""Stage prepare: parse the IDX files, split train/validation, scale to [0, 1].

    python -m stages.prepare

Reads params.yaml `prepare` and data/raw/. Writes data/prepared/{train,val,test}.npz,
each with `x` (float32, N x 28 x 28 x 1, in [0, 1]) and `y` (uint8 labels 0-9).
The split is stratified: each class keeps its share in both parts.
"""

import os

import numpy as np

from study import files, idx, params
from study.artifacts import PREPARED_DIR, RAW_DIR, prepared
from study.files import DataError



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
        train, val = train_test_split(
            indices, test_size=val_fraction, stratify=labels, random_state=seed
        )
    except ValueError as error:
        raise DataError(f"{RAW_DIR}: cannot split {len(labels)} training images: {error}") from None
    return np.sort(train), np.sort(val)


def main():
    try:
        prepare = params.prepare_params(params.load())
        train_images, train_labels = read_split("train")
        test_images, test_labels = read_split("t10k")
        train_index, val_index = stratified_split(
            train_labels, prepare["val_fraction"], prepare["split_seed"]
        )
    except (params.ParamsError, idx.IdxError, DataError) as error:
        params.fail(error)
    with files.atomic_directory(PREPARED_DIR) as directory:
        files.save_split(prepared("train", directory), scale(train_images[train_index]), train_labels[train_index])
        files.save_split(prepared("val", directory), scale(train_images[val_index]), train_labels[val_index])
        files.save_split(prepared("test", directory), scale(test_images), test_labels)
    print(
        f"prepare: train {len(train_index)}, validation {len(val_index)}, test {len(test_labels)} "
        f"images into {PREPARED_DIR}/"
    )


if __name__ == "__main__":
    main()
