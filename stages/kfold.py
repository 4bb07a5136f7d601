"""Stage kfold@<fold>: one fold of the seed's stratified k-fold cross-validation.

    python -m stages.kfold 0

Reads params.yaml `kfold`, `baseline`, the chosen `protocols` entry, `variants.<kfold.variant>` and all 60,000
training images (data/prepared/train.npz and val.npz together). Trains the
variant on the other k-1 folds (with the seed kfold.seed) and validates on this one. Writes
models/kfold/fold_<fold>.keras, metrics/kfold/fold_<fold>.json and
plots/kfold/fold_<fold>.csv.
"""

import argparse
import os

import numpy as np

from stages import files, fitting, params
from stages.files import DataError

PREPARED_DIR = os.path.join("data", "prepared")


def fold_indices(labels, n_splits, seed):
    """[(train indices, validation indices)] of each fold, stratified by class."""
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(labels)), labels))


def all_training_images():
    """The 60,000 training images: the train split then the validation split."""
    x_train, y_train = files.load_split(os.path.join(PREPARED_DIR, "train.npz"))
    x_val, y_val = files.load_split(os.path.join(PREPARED_DIR, "val.npz"))
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
    except (params.ParamsError, DataError) as error:
        params.fail(error)

    train_index, val_index = fold_indices(y, settings["n_splits"], settings["seed"])[fold]
    train_data, val_data = (x[train_index], y[train_index]), (x[val_index], y[val_index])
    model, history, checkpoint = fitting.train(f"kfold_fold_{fold}", spec, train_data, val_data)
    metrics = {"fold": fold, **fitting.training_metrics(model, history, train_data, val_data)}
    fitting.save_model(model, os.path.join("models", "kfold", f"fold_{fold}.keras"))
    fitting.write_history(os.path.join("plots", "kfold", f"fold_{fold}.csv"), history)
    files.write_json(os.path.join("metrics", "kfold", f"fold_{fold}.json"), metrics)
    checkpoint.remove()
    print(f"kfold@{fold}: train accuracy {metrics['train_accuracy']:.4f}, validation accuracy {metrics['val_accuracy']:.4f}")


if __name__ == "__main__":
    main()
