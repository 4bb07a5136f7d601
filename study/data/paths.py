"""The data stages' files: built here and nowhere else (dvc.yaml names the same paths).

data/raw/<IDX file>                 fetch: the four official files, decompressed and verified
data/prepared/{train,val,test}.npz  prepare
data/augmented/<variant>.npz        augment@<variant>
plots/figures/augmentation_<variant>.png
                                    augment@<variant>: one image through each transform
"""

import os

RAW_DIR = os.path.join("data", "raw")
PREPARED_DIR = os.path.join("data", "prepared")
AUGMENTED_DIR = os.path.join("data", "augmented")
FIGURES_DIR = os.path.join("plots", "figures")


def prepared(split, directory=PREPARED_DIR):
    """data/prepared/<split>.npz (or the same file in `directory`, a stage's temporary output directory)."""
    return os.path.join(directory, f"{split}.npz")


def augmented(variant):
    return os.path.join(AUGMENTED_DIR, f"{variant}.npz")


def training_set(variant, spec):
    """The plain train split, or the augmented set made for this variant (stage augment@<variant>)."""
    return prepared("train") if spec.augmentation is None else augmented(variant)


def augmentation_figure(variant):
    return os.path.join(FIGURES_DIR, f"augmentation_{variant}.png")
