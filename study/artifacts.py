"""Every file the stages exchange: its path, built here and nowhere else, and its reader and writer.

dvc.yaml names the same paths (it cannot import Python); tests/test_layout.py
checks that every stage's outputs there are the paths this module builds.

    data/prepared/{train,val,test}.npz            prepare
    data/augmented/<variant>.npz                  augment@<variant>
    models/train/<variant>/seed_<seed>.keras      train@<variant>-<seed> (DVC's cache only)
    metrics/seeds/<variant>/seed_<seed>.json      train: Table 1's figures of one seed
    plots/seeds/<variant>/seed_<seed>.csv         train: the history of one seed
    predictions/train/<variant>/seed_<seed>.npz   train: its answers on the test set
    models/kfold/fold_<fold>.keras, metrics/kfold/fold_<fold>.json,
    plots/kfold/fold_<fold>.csv, predictions/kfold/fold_<fold>.npz
                                                  kfold@<fold>, the same for one fold
    models/kfold_carried.keras, plots/kfold_carried.csv, predictions/kfold_carried.npz,
    metrics/details/kfold_carried.json            kfold_carried: one model carried over every fold
    predictions/mirror/<variant>/seed_<seed>.npz  mirror@<variant>-<seed>: the same model's answers,
                                                  each averaged with its answer on the mirrored image
    metrics/details/train/<variant>.json, plots/history/<variant>.csv, plots/curves.csv
                                                  seed_summary: means and sds over seeds
    metrics/details/{evaluate,kfold}.json         evaluate, kfold_summary
    metrics/headline.json, metrics/details/study.json, reports/study.md
                                                  report

Models are DVC's cache; everything else a later stage reads is small and committed,
so a clone with no DVC remote reruns every stage after training without the models.
"""

import csv
import json
import os
import zipfile

import numpy as np

from study.files import DataError, write_bytes, write_csv, write_json

RAW_DIR = os.path.join("data", "raw")
PREPARED_DIR = os.path.join("data", "prepared")
AUGMENTED_DIR = os.path.join("data", "augmented")
DETAILS_DIR = os.path.join("metrics", "details")
HISTORY_DIR = os.path.join("plots", "history")
# Every variant's mean curves in one long table (epoch, variant, ...): one chart draws them all.
CURVES = os.path.join("plots", "curves.csv")
CONFUSION_DIR = os.path.join("plots", "confusion")
KFOLD_CONFUSION_DIR = os.path.join("plots", "kfold_confusion")
FIGURES_DIR = os.path.join("plots", "figures")
EVALUATE_FIGURES_DIR = os.path.join(FIGURES_DIR, "evaluate")
PUBLISHED = os.path.join("reports", "published.yaml")
PROTOCOL_SCREEN = os.path.join("reports", "protocol_screen.json")  # scripts/protocol_screen.py
REPORT = os.path.join("reports", "study.md")
HEADLINE = os.path.join("metrics", "headline.json")
KFOLD_CARRIED = "kfold_carried"

# The columns of every training history, in order.
HISTORY_COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate")
# The keys of a training's metrics file (fitting.training_metrics writes them).
TRAIN_ACCURACY = "train_accuracy"               # after training, in inference mode (dropout off)
RUNNING_TRAIN_ACCURACY = "train_accuracy_running"  # what Keras prints for the last epoch (dropout on)
VAL_ACCURACY = "val_accuracy"


# Paths.
def prepared(split, directory=PREPARED_DIR):
    """data/prepared/<split>.npz (or the same file in `directory`, a stage's temporary output directory)."""
    return os.path.join(directory, f"{split}.npz")


def augmented(variant):
    return os.path.join(AUGMENTED_DIR, f"{variant}.npz")


def training_set(variant, spec):
    """The plain train split, or the augmented set made for this variant (stage augment@<variant>)."""
    return prepared("train") if spec["augmentation"] is None else augmented(variant)


def kfold_confusion_figure(kind):
    """Figure 3: the confusion matrix of the best fold's model or of the ensemble (`kind`: best, ensemble)."""
    return os.path.join(FIGURES_DIR, f"kfold_confusion_{kind}.png")


def augmentation_figure(variant):
    return os.path.join(FIGURES_DIR, f"augmentation_{variant}.png")


def _run_paths(kind, directory, file_name):
    return {
        "model": os.path.join("models", kind, directory, f"{file_name}.keras"),
        "metrics": os.path.join("metrics", kind if kind == "kfold" else "seeds", directory, f"{file_name}.json"),
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
        "metrics": os.path.join(DETAILS_DIR, f"{KFOLD_CARRIED}.json"),
        "history": os.path.join("plots", f"{KFOLD_CARRIED}.csv"),
        "predictions": os.path.join("predictions", f"{KFOLD_CARRIED}.npz"),
    }


def mirror_predictions(variant, seed):
    """The output of mirror@<variant>-<seed>: test-set answers averaged over each image and its mirror."""
    return os.path.join("predictions", "mirror", variant, f"seed_{seed}.npz")


TRAIN_SUMMARY_DIR = os.path.join(DETAILS_DIR, "train")


def variant_summary(variant, directory=TRAIN_SUMMARY_DIR):
    return os.path.join(directory, f"{variant}.json")


def variant_history(variant, directory=HISTORY_DIR):
    return os.path.join(directory, f"{variant}.csv")


def evaluate_details():
    return os.path.join(DETAILS_DIR, "evaluate.json")


def kfold_details():
    return os.path.join(DETAILS_DIR, "kfold.json")


def study_details():
    return os.path.join(DETAILS_DIR, "study.json")


# Readers and writers.
def read_json(path, what="metrics"):
    if not os.path.isfile(path):
        raise DataError(f"{path}: missing (run `dvc repro` to make these {what})")
    try:
        with open(path) as stream:
            return json.load(stream)
    except ValueError as error:
        raise DataError(f"{path}: not valid JSON ({error})") from None


def read_history(path):
    """Rows of a history CSV written by the training stages, as dicts of floats."""
    if not os.path.isfile(path):
        raise DataError(f"{path}: missing (run `dvc repro` to train the model)")
    with open(path) as stream:
        rows = list(csv.reader(stream))
    try:
        return [dict(zip(rows[0], map(float, row))) for row in rows[1:] if row]
    except (ValueError, IndexError) as error:
        raise DataError(f"{path}: not a history of numbers ({error})") from None


def write_history(path, history):
    write_csv(path, HISTORY_COLUMNS, [[row[column] for column in HISTORY_COLUMNS] for row in history])


def write_metrics(path, metrics):
    write_json(path, metrics)


def write_predictions(path, probabilities):
    """A model's answers on the test set: each image's class probabilities, as float16 in a compressed .npz.

    float16 keeps three significant digits, enough to average an ensemble; the
    predicted class is the argmax of the float32 probabilities, stored beside them
    so that it never depends on the rounding. The zip entries carry a fixed date,
    so the same answers always give the same bytes.
    """
    import io

    probabilities = np.asarray(probabilities, dtype=np.float32)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, array in (("predicted", probabilities.argmax(axis=1).astype(np.uint8)),
                            ("probabilities", probabilities.astype(np.float16))):
            member = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(member, "w") as stream:
                np.lib.format.write_array(stream, np.ascontiguousarray(array), allow_pickle=False)
    write_bytes(path, buffer.getvalue())


def read_predictions(path, test_size=None):
    """(predicted classes, probabilities as float32) of a predictions file."""
    if not os.path.isfile(path):
        raise DataError(f"{path}: missing (run `dvc repro` to train the model that writes it)")
    try:
        with np.load(path) as arrays:
            predicted, probabilities = arrays["predicted"], arrays["probabilities"].astype(np.float32)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise DataError(f"{path}: not a predictions file ({error})") from None
    if predicted.ndim != 1 or probabilities.shape != (len(predicted), 10):
        raise DataError(f"{path}: predicted {predicted.shape} and probabilities {probabilities.shape}, "
                        "expected (N,) and (N, 10)")
    if test_size is not None and len(predicted) != test_size:
        raise DataError(f"{path}: {len(predicted)} answers, the test set has {test_size} images")
    return predicted, probabilities
