"""Stage kfold_summary: the seed's Table 5 and Figure 3 from the k-fold models.

    python -m stages.kfold_summary

Reads params.yaml `kfold`, each fold's metrics and test-set answers
(metrics/kfold/fold_<fold>.json, predictions/kfold/fold_<fold>.npz; no model
file) and the test labels (data/prepared/test.npz). Reports per-fold train and
validation accuracy with their mean and sample standard deviation, the test
accuracy of the best fold's model (the published protocol) and of the ensemble
of all fold models (their softmax outputs averaged). Writes
metrics/details/kfold.json, plots/kfold_confusion/{best,ensemble}.csv and
plots/figures/kfold_confusion_{best,ensemble}.png.
"""

import os

import numpy as np

from study import artifacts, evaluation, files, params
from study.files import DataError


def main():
    try:
        settings = params.kfold_params(params.load())
        folds = sorted(settings["folds"])
        fold_metrics = [artifacts.read_json(artifacts.fold_run(f)["metrics"]) for f in folds]
        _, y_test = files.load_split(artifacts.prepared("test"))
        answers = [artifacts.read_predictions(artifacts.fold_run(f)["predictions"], len(y_test)) for f in folds]
    except (params.ParamsError, DataError) as error:
        params.fail(error)

    val_accuracies = np.array([m["val_accuracy"] for m in fold_metrics])
    train_accuracies = np.array([m["train_accuracy"] for m in fold_metrics])
    running_accuracies = np.array([m[artifacts.RUNNING_TRAIN_ACCURACY] for m in fold_metrics])
    best = int(np.argmax(val_accuracies))
    probabilities = [fold_probabilities for _, fold_probabilities in answers]
    best_predicted = answers[best][0]
    ensemble_predicted = evaluation.average_probabilities(probabilities).argmax(axis=1)
    best_accuracy, _ = evaluation.classification_report(y_test, best_predicted)
    ensemble_accuracy, _ = evaluation.classification_report(y_test, ensemble_predicted)

    sd = (lambda values: float(np.std(values, ddof=1)) if len(values) > 1 else 0.0)
    summary = {
        "variant": settings["variant"],
        "n_splits": settings["n_splits"],
        "folds": [
            {"fold": f, "train_accuracy": m["train_accuracy"], "val_accuracy": m["val_accuracy"],
             artifacts.RUNNING_TRAIN_ACCURACY: m[artifacts.RUNNING_TRAIN_ACCURACY]}
            for f, m in zip(folds, fold_metrics)
        ],
        "train_accuracy_mean": float(train_accuracies.mean()),
        "train_accuracy_sd": sd(train_accuracies),
        # What Keras printed for each fold's last epoch (dropout on): the published kind of training figure.
        "train_accuracy_running_mean": float(running_accuracies.mean()),
        "train_accuracy_running_sd": sd(running_accuracies),
        "val_accuracy_mean": float(val_accuracies.mean()),
        "val_accuracy_sd": sd(val_accuracies),
        "best_fold": folds[best],
        "best_fold_train_accuracy": float(train_accuracies[best]),
        "best_fold_val_accuracy": float(val_accuracies[best]),
        "best_fold_test_accuracy": best_accuracy,
        "ensemble_test_accuracy": ensemble_accuracy,
    }
    for kind, predicted, accuracy in (("best", best_predicted, best_accuracy), ("ensemble", ensemble_predicted, ensemble_accuracy)):
        evaluation.write_confusion_csv(os.path.join(artifacts.KFOLD_CONFUSION_DIR, f"{kind}.csv"), y_test, predicted)
        title = f"fold {folds[best]}" if kind == "best" else f"ensemble of {len(folds)} folds"
        evaluation.save_confusion_figure(
            artifacts.kfold_confusion_figure(kind), y_test, predicted,
            f"k-fold {settings['variant']}, {title}: test accuracy {accuracy:.4f}",
        )
    files.write_json(artifacts.kfold_details(), summary)
    print(
        f"kfold_summary: validation {summary['val_accuracy_mean']:.4f} ± {summary['val_accuracy_sd']:.4f}; "
        f"best fold {folds[best]} test {best_accuracy:.4f}; ensemble test {ensemble_accuracy:.4f}"
    )


if __name__ == "__main__":
    main()
