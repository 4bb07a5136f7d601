"""Test-set measures shared by the evaluation stages: metrics, the selection of the published
evaluation, each variant's test figures over seeds, confusion data, figures."""

import numpy as np

from study import files
from study.analysis.statistics import mean_and_sd
from study.data.facts import CLASS_NAMES
from study.training import runs


def average_probabilities(probabilities):
    """The ensemble's prediction: the mean of the models' softmax outputs, image by image."""
    return np.mean(np.stack(probabilities), axis=0)


def classification_report(y_true, y_pred):
    """Accuracy and per-class precision, recall (sensitivity), F1 and support, by class name."""
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    labels = list(range(len(CLASS_NAMES)))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    per_class = {
        name: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, name in enumerate(CLASS_NAMES)
    }
    return float(accuracy_score(y_true, y_pred)), per_class


def select_best(train_metrics, candidates, count):
    """The `count` candidates with the highest validation accuracy, best first (ties: params order)."""
    return sorted(candidates, key=lambda name: -train_metrics[name][runs.VAL_ACCURACY])[:count]


def mean_per_class(reports):
    """Each class's precision, recall and F1 averaged over the seeds' reports; support as is."""
    return {
        name: {
            key: (
                reports[0][name][key] if key == "support" else float(np.mean([r[name][key] for r in reports]))
            )
            for key in reports[0][name]
        }
        for name in reports[0]
    }


def evaluate_variant(labels, answers, seeds, per_class):
    """(metrics/details/evaluate.json's record of one variant, each seed's predicted classes).

    `answers` holds one (predicted classes, probabilities) per seed of `seeds`; with
    `per_class` the record keeps each class's measures, averaged over the seeds.
    """
    predictions = [predicted for predicted, _ in answers]
    reports = [classification_report(labels, predicted) for predicted in predictions]
    accuracies = [accuracy for accuracy, _ in reports]
    ensemble = average_probabilities([probabilities for _, probabilities in answers]).argmax(axis=1)
    mean, sd = mean_and_sd(accuracies)
    record = {
        "test_accuracy": mean,
        "test_accuracy_sd": sd,
        "test_accuracy_per_seed": {str(seed): accuracy for seed, accuracy in zip(seeds, accuracies)},
        "ensemble_test_accuracy": float(np.mean(ensemble == labels)),
    }
    if per_class:
        record["per_class"] = mean_per_class([report for _, report in reports])
    return record, predictions


def write_confusion_csv(path, y_true, y_pred, seeds=None):
    """One row per test image, `actual,predicted` class names: DVC's confusion template.

    With `seeds`, y_pred is one array per seed and each row starts with its seed
    (`seed,actual,predicted`); the chart then counts the seeds together.
    """
    if seeds is None:
        rows = [(CLASS_NAMES[a], CLASS_NAMES[p]) for a, p in zip(y_true, y_pred)]
        files.write_csv(path, ("actual", "predicted"), rows)
        return
    rows = [
        (seed, CLASS_NAMES[a], CLASS_NAMES[p])
        for seed, predicted in zip(seeds, y_pred)
        for a, p in zip(y_true, predicted)
    ]
    files.write_csv(path, ("seed", "actual", "predicted"), rows)


def confusion_matrix(y_true, y_pred):
    from sklearn.metrics import confusion_matrix as sklearn_confusion_matrix

    return sklearn_confusion_matrix(y_true, y_pred, labels=list(range(len(CLASS_NAMES))))


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure, path):
    with files.atomic_path(path, suffix=".png") as temporary:
        figure.savefig(temporary, dpi=100, format="png")
    _pyplot().close(figure)


def save_confusion_figure(path, y_true, y_pred, title):
    plt = _pyplot()
    matrix = confusion_matrix(y_true, y_pred)
    figure, axis = plt.subplots(figsize=(7.5, 6.5))
    image = axis.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axis)
    for (row, col), count in np.ndenumerate(matrix):
        color = "white" if count > matrix.max() / 2 else "black"
        axis.text(col, row, str(count), ha="center", va="center", fontsize=8, color=color)
    axis.set_xticks(range(len(CLASS_NAMES)), CLASS_NAMES, rotation=45, ha="right")
    axis.set_yticks(range(len(CLASS_NAMES)), CLASS_NAMES)
    axis.set_xlabel("predicted")
    axis.set_ylabel("actual")
    axis.set_title(title)
    figure.tight_layout()
    save_figure(figure, path)


def save_loss_curves(path, histories):
    """The seed's Figure 1: training and validation loss per epoch, one panel per model."""
    plt = _pyplot()
    columns = min(3, len(histories))
    rows = -(-len(histories) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.2 * rows), squeeze=False)
    panels = zip("abcdefghijklmnopqrstuvwxyz", histories.items())
    for axis, (letter, (name, history)) in zip(axes.flat, panels):
        epochs = [row["epoch"] for row in history]
        axis.plot(epochs, [row["loss"] for row in history], label="training loss")
        axis.plot(epochs, [row["val_loss"] for row in history], label="validation loss")
        axis.set_title(f"({letter}) {name}")
        axis.set_xlabel("epoch")
        axis.set_ylabel("loss")
        axis.legend(fontsize=8)
    for axis in list(axes.flat)[len(histories) :]:
        axis.axis("off")
    figure.tight_layout()
    save_figure(figure, path)
