"""Stage kfold@<fold>: one fold of the published study's stratified k-fold cross-validation.

    python -m stages.kfold 0

Reads params.yaml `kfold`, `baseline`, the chosen `protocols` entry, `variants.<kfold.variant>` and all 60,000
training images (data/prepared/train.npz and val.npz together). Trains a fresh
model of the variant on the other k-1 folds (with the seed kfold.seed) and
validates on this one. Writes the four files of artifacts.fold_run: model,
metrics, history and test-set predictions.
"""

import argparse

import numpy as np

from study import artifacts, files, fitting, params
from study.files import DataError


def fold_indices(labels, n_splits, seed):
    """[(train indices, validation indices)] of each fold, stratified by class."""
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(labels)), labels))


def all_training_images():
    """The 60,000 training images: the train split then the validation split."""
    x_train, y_train = files.load_split(artifacts.prepared("train"))
    x_val, y_val = files.load_split(artifacts.prepared("val"))
    return np.concatenate([x_train, x_val]), np.concatenate([y_train, y_val])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fold", type=int, help="the fold to validate on, 0 to kfold.n_splits - 1")
    fold = parser.parse_args(argv).fold
    try:
        all_params = params.load()
        settings = params.kfold_params(all_params)
        if not 0 <= fold < settings["n_splits"]:
            raise params.ParamsError(
                f"{params.PARAMS_FILE}: kfold.n_splits: fold {fold} (the command's argument) does not exist "
                f"with n_splits {settings['n_splits']} (folds are 0 to {settings['n_splits'] - 1})"
            )
        spec = params.model_spec(all_params, settings["variant"], settings["seed"])
        x, y = all_training_images()
        x_test, _ = files.load_split(artifacts.prepared("test"))
    except (params.ParamsError, DataError) as error:
        params.fail(error)

    train_index, val_index = fold_indices(y, settings["n_splits"], settings["seed"])[fold]
    train_data, val_data = (x[train_index], y[train_index]), (x[val_index], y[val_index])
    model, history, checkpoint = fitting.train(f"kfold_fold_{fold}", spec, train_data, val_data)
    metrics = {"fold": fold, **fitting.training_metrics(model, history, train_data, val_data)}
    fitting.save_run(artifacts.fold_run(fold), model, history, metrics, x_test)
    checkpoint.remove()
    print(f"kfold@{fold}: train accuracy {metrics['train_accuracy']:.4f}, validation accuracy {metrics['val_accuracy']:.4f}")


if __name__ == "__main__":
    main()
