"""The k-fold's figures: per-fold accuracy over the folds, the best fold's model and the ensemble of all.

The best fold is the one with the highest validation accuracy (the published protocol
picks its model so); the ensemble averages every fold model's softmax outputs. Stage
kfold_summary and the report's analysis both choose through best_and_ensemble, so the
two never disagree on which model is which.
"""

import numpy as np

from study.analysis import evaluation
from study.analysis.statistics import mean_and_sd
from study.training import runs

# The names the analysis gives the k-fold's two models beside the variants' (the carried-over
# one is runs.KFOLD_CARRIED): the best fold's model and the ensemble of every fold's.
KFOLD_BEST = "kfold_best"
KFOLD_ENSEMBLE = "kfold_ensemble"
# Every fold's model, one row each: five trainings of the k-fold's variant, each on other images.
KFOLD_FOLDS = "kfold_folds"


def best_and_ensemble(val_accuracies, answers):
    """(index of the best fold, its predicted classes, the ensemble's predicted classes).

    `val_accuracies` and `answers` (predicted classes, probabilities) hold one entry per fold, in one order.
    """
    best = int(np.argmax(val_accuracies))
    ensemble = evaluation.average_probabilities([probabilities for _, probabilities in answers])
    ensemble = ensemble.argmax(axis=1)
    return best, answers[best][0], ensemble


def summarise(settings, folds, fold_metrics, labels, answers):
    """(metrics/details/kfold.json's summary, {"best": predicted classes, "ensemble": predicted classes}).

    `folds` are the fold indices in ascending order, `fold_metrics` and `answers` one entry per fold.
    """
    val_accuracies = [metrics[runs.VAL_ACCURACY] for metrics in fold_metrics]
    train_accuracies = [metrics[runs.TRAIN_ACCURACY] for metrics in fold_metrics]
    running_accuracies = [metrics[runs.RUNNING_TRAIN_ACCURACY] for metrics in fold_metrics]
    best, best_predicted, ensemble_predicted = best_and_ensemble(val_accuracies, answers)
    best_accuracy, _ = evaluation.classification_report(labels, best_predicted)
    ensemble_accuracy, _ = evaluation.classification_report(labels, ensemble_predicted)
    train_mean, train_sd = mean_and_sd(train_accuracies)
    running_mean, running_sd = mean_and_sd(running_accuracies)
    val_mean, val_sd = mean_and_sd(val_accuracies)
    summary = {
        "variant": settings.variant,
        "n_splits": settings.n_splits,
        "folds": [
            {
                "fold": fold,
                runs.TRAIN_ACCURACY: metrics[runs.TRAIN_ACCURACY],
                runs.VAL_ACCURACY: metrics[runs.VAL_ACCURACY],
                runs.RUNNING_TRAIN_ACCURACY: metrics[runs.RUNNING_TRAIN_ACCURACY],
            }
            for fold, metrics in zip(folds, fold_metrics)
        ],
        "train_accuracy_mean": train_mean,
        "train_accuracy_sd": train_sd,
        # What Keras printed for each fold's last epoch (dropout on): the published kind of training figure.
        "train_accuracy_running_mean": running_mean,
        "train_accuracy_running_sd": running_sd,
        "val_accuracy_mean": val_mean,
        "val_accuracy_sd": val_sd,
        "best_fold": folds[best],
        "best_fold_train_accuracy": float(train_accuracies[best]),
        "best_fold_val_accuracy": float(val_accuracies[best]),
        "best_fold_test_accuracy": best_accuracy,
        "ensemble_test_accuracy": ensemble_accuracy,
    }
    return summary, {"best": best_predicted, "ensemble": ensemble_predicted}
