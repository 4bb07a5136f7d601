"""The files every training writes: their paths, built here and nowhere else, and the keys of its metrics.

dvc.yaml names the same paths (it cannot import Python); tests/test_layout.py
checks that every training stage's outputs there are the paths built here.

    models/train/<variant>/seed_<seed>.keras      train@<variant>-<seed> (DVC's cache only)
    metrics/seeds/<variant>/seed_<seed>.json      its Table 1 figures
    plots/seeds/<variant>/seed_<seed>.csv         its history, one row per epoch
    predictions/train/<variant>/seed_<seed>.npz   its answers on the test set
    models/kfold/fold_<fold>.keras, metrics/kfold/fold_<fold>.json,
    plots/kfold/fold_<fold>.csv, predictions/kfold/fold_<fold>.npz
                                                  kfold@<fold>, the same for one fold
    models/kfold_carried.keras, plots/kfold_carried.csv, predictions/kfold_carried.npz,
    metrics/details/kfold_carried.json            kfold_carried: one model carried over every fold
    predictions/mirror/<variant>/seed_<seed>.npz  mirror@<variant>-<seed>: the same model's answers,
                                                  each averaged with its answer on the mirrored image

Models go to DVC's cache; everything else a later stage reads is small and committed,
so a clone with no DVC remote reruns every stage after training without the models.
"""

import os

# The columns of every training history, in order.
HISTORY_COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate")
# The keys of a training's metrics file (fitting.training_metrics writes them).
TRAIN_ACCURACY = "train_accuracy"  # after training, in inference mode (dropout off)
RUNNING_TRAIN_ACCURACY = "train_accuracy_running"  # what Keras prints for the last epoch (dropout on)
VAL_ACCURACY = "val_accuracy"
KFOLD_CARRIED = "kfold_carried"


def _run_paths(kind, directory, file_name):
    return {
        "model": os.path.join("models", kind, directory, f"{file_name}.keras"),
        "metrics": os.path.join(
            "metrics", kind if kind == "kfold" else "seeds", directory, f"{file_name}.json"
        ),
        "history": os.path.join("plots", kind if kind == "kfold" else "seeds", directory, f"{file_name}.csv"),
        "predictions": os.path.join("predictions", kind, directory, f"{file_name}.npz"),
    }


def seed_run(variant, seed):
    """The four outputs of train@<variant>-<seed>: model, metrics, history, predictions."""
    return _run_paths("train", variant, f"seed_{seed}")


def fold_run(fold):
    """The four outputs of kfold@<fold>."""
    return _run_paths("kfold", "", f"fold_{fold}")


def carried_run():
    """The outputs of kfold_carried: one model trained fold after fold."""
    return {
        "model": os.path.join("models", f"{KFOLD_CARRIED}.keras"),
        "metrics": os.path.join("metrics", "details", f"{KFOLD_CARRIED}.json"),
        "history": os.path.join("plots", f"{KFOLD_CARRIED}.csv"),
        "predictions": os.path.join("predictions", f"{KFOLD_CARRIED}.npz"),
    }


def mirror_predictions(variant, seed):
    """The output of mirror@<variant>-<seed>: test-set answers averaged over each image and its mirror."""
    return os.path.join("predictions", "mirror", variant, f"seed_{seed}.npz")
