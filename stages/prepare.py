"""Stage prepare: parse the IDX files, split train/validation, scale to [0, 1].

    python -m stages.prepare

Reads params.yaml `prepare` and data/raw/. Writes data/prepared/{train,val,test}.npz,
each with `x` (float32, N x 28 x 28 x 1, in [0, 1]) and `y` (uint8 labels 0-9).
The split is stratified: each class keeps its share in both parts.
"""

import stages
from study import config, errors, files
from study.data.paths import PREPARED_DIR, prepared
from study.data.splits import read_split, scale, stratified_split


def main():
    with errors.refused_in_one_line():
        settings = config.load().prepare
        train_images, train_labels = read_split("train")
        test_images, test_labels = read_split("t10k")
        train_index, val_index = stratified_split(train_labels, settings.val_fraction, settings.split_seed)
    with files.atomic_directory(PREPARED_DIR) as directory:
        files.save_split(
            prepared("train", directory), scale(train_images[train_index]), train_labels[train_index]
        )
        files.save_split(prepared("val", directory), scale(train_images[val_index]), train_labels[val_index])
        files.save_split(prepared("test", directory), scale(test_images), test_labels)
    print(
        f"prepare: train {len(train_index)}, validation {len(val_index)}, test {len(test_labels)} "
        f"images into {PREPARED_DIR}/"
    )


if __name__ == "__main__":
    stages.run(main)
