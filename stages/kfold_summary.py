"""Stage kfold_summary: the seed's Table 5 and Figure 3 from the k-fold models.

    python -m stages.kfold_summary

Reads params.yaml `kfold`, each fold's metrics and test-set answers
(metrics/kfold/fold_<fold>.json, predictions/kfold/fold_<fold>.npz; no model
file) and the test labels (data/prepared/test.npz). Reports per-fold train and
validation accuracy with their mean and sample standard deviation (null for a
single fold), the test accuracy of the best fold's model (the published
protocol) and of the ensemble of all fold models (their softmax outputs
averaged), as study/analysis/kfold.py computes them. Writes
metrics/details/kfold.json, plots/kfold_confusion/{best,ensemble}.csv and
plots/figures/kfold_confusion_{best,ensemble}.png.
"""

import os

import stages
from study import config, errors, files
from study.analysis import artifacts, evaluation, kfold
from study.analysis.formats import mean_sd
from study.data import paths as data_paths
from study.training import runs


def main():
    with errors.refused_in_one_line():
        settings = config.load().kfold
        folds = sorted(settings.folds)
        fold_metrics = [files.read_json(runs.fold_run(f)["metrics"]) for f in folds]
        _, y_test = files.load_split(data_paths.prepared("test"))
        answers = [files.read_predictions(runs.fold_run(f)["predictions"], len(y_test)) for f in folds]

    summary, predicted = kfold.summarise(settings, folds, fold_metrics, y_test, answers)
    accuracies = {"best": summary["best_fold_test_accuracy"], "ensemble": summary["ensemble_test_accuracy"]}
    titles = {"best": f"fold {summary['best_fold']}", "ensemble": f"ensemble of {len(folds)} folds"}
    for kind in ("best", "ensemble"):
        evaluation.write_confusion_csv(
            os.path.join(artifacts.KFOLD_CONFUSION_DIR, f"{kind}.csv"), y_test, predicted[kind]
        )
        evaluation.save_confusion_figure(
            artifacts.kfold_confusion_figure(kind),
            y_test,
            predicted[kind],
            f"k-fold {settings.variant}, {titles[kind]}: test accuracy {accuracies[kind]:.4f}",
        )
    files.write_json(artifacts.kfold_details(), summary)
    print(
        f"kfold_summary: validation {mean_sd(summary['val_accuracy_mean'], summary['val_accuracy_sd'])}; "
        f"best fold {summary['best_fold']} test {accuracies['best']:.4f}; "
        f"ensemble test {accuracies['ensemble']:.4f}"
    )


if __name__ == "__main__":
    stages.run(main)
