"""Stage kfold@<fold>: one fold of the published study's stratified k-fold cross-validation.

    python -m stages.kfold 0

Reads params.yaml `kfold`, `baseline`, the chosen `protocols` entry, `variants.<kfold.variant>`
and all 60,000 training images (data/prepared/train.npz and val.npz together). Trains a
fresh model of the variant on the other k-1 folds (with the seed kfold.seed) and
validates on this one. Writes the four files of runs.fold_run: model, metrics,
history and test-set predictions.
"""

import argparse

import stages
from study import config, errors, files
from study.data import paths as data_paths
from study.data.splits import all_training_images, fold_indices
from study.errors import ParamsError
from study.training import fitting, runs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fold", type=int, help="the fold to validate on, 0 to kfold.n_splits - 1")
    fold = parser.parse_args(argv).fold
    with errors.refused_in_one_line():
        study = config.load()
        settings = study.kfold
        if not 0 <= fold < settings.n_splits:
            raise ParamsError(
                f"{study.path}: kfold.n_splits: fold {fold} (the command's argument) does not exist "
                f"with n_splits {settings.n_splits} (folds are 0 to {settings.n_splits - 1})"
            )
        spec = study.spec(settings.variant, settings.seed)
        x, y = all_training_images()
        x_test, _ = files.load_split(data_paths.prepared("test"))

    train_index, val_index = fold_indices(y, settings.n_splits, settings.seed)[fold]
    train_data, val_data = (x[train_index], y[train_index]), (x[val_index], y[val_index])
    model, history, checkpoint = fitting.train(f"kfold_fold_{fold}", spec, train_data, val_data)
    metrics = {"fold": fold, **fitting.training_metrics(model, history, train_data, val_data)}
    fitting.save_run(runs.fold_run(fold), model, history, metrics, x_test)
    checkpoint.remove()
    print(
        f"kfold@{fold}: train accuracy {metrics[runs.TRAIN_ACCURACY]:.4f}, "
        f"validation accuracy {metrics[runs.VAL_ACCURACY]:.4f}"
    )


if __name__ == "__main__":
    stages.run(main)
