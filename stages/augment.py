"""Stage augment@<variant>: one augmented variant's augmented training set, and a figure of its transforms.

    python -m stages.augment baseline_aug

Reads params.yaml `augmented_variants.<variant>.augmentation` (the name of a
preset), `augmentations.<preset>` and data/prepared/train.npz (never the
validation or test split). Writes data/augmented/<variant>.npz: the original
images followed by `copies` transformed copies of each, labels alongside, and
plots/figures/augmentation_<variant>.png: one image, then each transform in turn.
"""

import argparse

import stages
from study import config, errors, files
from study.data import paths as data_paths
from study.data.augmentation import augment, save_figure
from study.errors import ParamsError


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant", help="a name under `augmented_variants` in params.yaml")
    name = parser.parse_args(argv).variant
    with errors.refused_in_one_line():
        study = config.load()
        if name not in study.augmented_variant_names:
            # (A plain variant, or no variant: either way not one this stage makes data for.)
            known = ", ".join(map(str, study.augmented_variant_names)) or "none"
            raise ParamsError(
                f"{study.path}: augmented_variants: no augmented variant named {name!r} (known: {known})"
            )
        preset = study.augmentation(study.spec(name).augmentation)
        x, y = files.load_split(data_paths.prepared("train"))
    augmented_x, augmented_y = augment(x, y, preset)
    files.save_split(data_paths.augmented(name), augmented_x, augmented_y)
    save_figure(data_paths.augmentation_figure(name), x[0], int(y[0]), preset)
    print(f"augment@{name}: {len(x)} training images -> {len(augmented_x)} in {data_paths.augmented(name)}")


if __name__ == "__main__":
    stages.run(main)
