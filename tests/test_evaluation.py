"""study.analysis.evaluation and study.analysis.kfold: per-class measures, the ensemble, confusion CSV,
model selection, the k-fold's best fold and summary, and the report's Figure 3 counts."""

import types

import numpy as np
import pytest
from sklearn.metrics import precision_recall_fscore_support

from study.analysis import evaluation, findings, kfold
from study.analysis.evaluation import mean_per_class, select_best
from study.analysis.kfold import KFOLD_BEST
from study.data.facts import CLASS_NAMES
from study.training import runs

Y_TRUE = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 9])
Y_PRED = np.array([0, 0, 1, 1, 1, 2, 2, 0, 9, 9])


def test_classification_report_against_sklearn_and_by_hand():
    accuracy, per_class = evaluation.classification_report(Y_TRUE, Y_PRED)
    assert accuracy == pytest.approx(7 / 10)
    assert list(per_class) == list(CLASS_NAMES)
    precision, recall, f1, support = precision_recall_fscore_support(
        Y_TRUE, Y_PRED, labels=range(10), zero_division=0
    )
    for i, name in enumerate(CLASS_NAMES):
        assert per_class[name]["precision"] == pytest.approx(precision[i])
        assert per_class[name]["recall"] == pytest.approx(recall[i])
        assert per_class[name]["f1"] == pytest.approx(f1[i])
        assert per_class[name]["support"] == support[i]
    # Class 0 (T-shirt/top): 2 of 3 predictions right, 2 of 3 images found.
    assert per_class["T-shirt/top"] == pytest.approx(
        {"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3, "support": 3}
    )
    # Class 2 (Pullover): every prediction right, half of the images found: F1 = 2*1*0.5/1.5.
    assert per_class["Pullover"] == pytest.approx(
        {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 4}
    )
    # A class never seen nor predicted counts 0, not NaN.
    assert per_class["Bag"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}


def test_average_probabilities_can_disagree_with_every_model():
    first = np.zeros((2, 10))
    second = np.zeros((2, 10))
    first[0, [0, 1]] = [0.6, 0.4]  # says 0
    second[0, [1, 2]] = [0.4, 0.6]  # says 2; together 1 (0.4 against 0.3 and 0.3)
    first[1, 5], second[1, [5, 7]] = 1.0, [0.3, 0.7]  # image 2: models say 5 and 7, together 5 (0.65)
    mean = evaluation.average_probabilities([first, second])
    np.testing.assert_allclose(mean[0, :3], [0.3, 0.4, 0.3])
    np.testing.assert_allclose(mean[1, [5, 7]], [0.65, 0.35])
    assert mean.argmax(axis=1).tolist() == [1, 5]
    assert [first.argmax(axis=1)[0], second.argmax(axis=1)[0]] == [0, 2]
    np.testing.assert_allclose(mean.sum(axis=1), [1.0, 1.0])


def test_write_confusion_csv(tmp_path):
    path = tmp_path / "plots" / "confusion.csv"
    evaluation.write_confusion_csv(str(path), np.array([0, 9, 6]), np.array([6, 9, 0]))
    assert path.read_text() == (
        "actual,predicted\nT-shirt/top,Shirt\nAnkle boot,Ankle boot\nShirt,T-shirt/top\n"
    )


def test_write_confusion_csv_of_several_seeds(tmp_path):
    path = tmp_path / "confusion.csv"
    evaluation.write_confusion_csv(
        str(path), np.array([0, 9]), [np.array([6, 9]), np.array([0, 7])], [42, 43]
    )
    assert path.read_text() == (
        "seed,actual,predicted\n"
        "42,T-shirt/top,Shirt\n42,Ankle boot,Ankle boot\n"
        "43,T-shirt/top,T-shirt/top\n43,Ankle boot,Sneaker\n"
    )


def test_mean_per_class_over_seeds():
    first = evaluation.classification_report(Y_TRUE, Y_PRED)[1]
    second = evaluation.classification_report(Y_TRUE, Y_TRUE)[1]  # every answer right
    mean = mean_per_class([first, second])
    assert list(mean) == list(CLASS_NAMES)
    assert mean["Pullover"] == pytest.approx(
        {"precision": 1.0, "recall": 0.75, "f1": (2 / 3 + 1) / 2, "support": 4}
    )
    assert mean["T-shirt/top"]["precision"] == pytest.approx((2 / 3 + 1) / 2)
    assert mean["Bag"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert mean_per_class([first]) == first


def test_confusion_matrix_has_all_ten_classes():
    matrix = evaluation.confusion_matrix(Y_TRUE, Y_PRED)
    assert matrix.shape == (10, 10) and matrix.sum() == 10
    assert matrix[2].tolist() == [1, 0, 2, 0, 0, 0, 0, 0, 0, 1]


def test_select_best_takes_the_highest_validation_accuracies():
    metrics = {
        "baseline": {"val_accuracy": 0.91},
        "kernel7": {"val_accuracy": 0.93},
        "batchnorm": {"val_accuracy": 0.925},
        "sgd": {"val_accuracy": 0.90},
        "sigmoid": {"val_accuracy": 0.95},
        "outside": {"val_accuracy": 0.99},
    }
    candidates = ["baseline", "kernel7", "batchnorm", "sgd", "sigmoid"]
    assert select_best(metrics, candidates, 2) == ["sigmoid", "kernel7"]
    metrics["kernel7"]["val_accuracy"] = metrics["batchnorm"]["val_accuracy"] = 0.96
    assert select_best(metrics, candidates, 2) == ["kernel7", "batchnorm"]  # tie: params order
    assert select_best(metrics, list(reversed(candidates)), 2) == ["batchnorm", "kernel7"]


def test_evaluate_variant_over_seeds_by_hand():
    probabilities = [np.eye(10)[Y_PRED], np.eye(10)[Y_TRUE]]  # seed 1 right on 7 of 10, seed 2 on all
    record, predictions = evaluation.evaluate_variant(
        Y_TRUE, [(p.argmax(axis=1), p) for p in probabilities], (1, 2), per_class=True
    )
    assert record["test_accuracy"] == pytest.approx(0.85)
    assert record["test_accuracy_sd"] == pytest.approx(np.std([0.7, 1.0], ddof=1))
    assert record["test_accuracy_per_seed"] == {"1": pytest.approx(0.7), "2": pytest.approx(1.0)}
    # The ensemble averages 0.5 on each seed's answer; a tie goes to the lower class.
    ensemble = np.mean(probabilities, axis=0).argmax(axis=1)
    assert record["ensemble_test_accuracy"] == pytest.approx(np.mean(ensemble == Y_TRUE))
    assert record["per_class"] == mean_per_class(
        [evaluation.classification_report(Y_TRUE, p)[1] for p in (Y_PRED, Y_TRUE)]
    )
    assert [p.tolist() for p in predictions] == [Y_PRED.tolist(), Y_TRUE.tolist()]
    plain, _ = evaluation.evaluate_variant(Y_TRUE, [(Y_TRUE, np.eye(10)[Y_TRUE])], (1,), False)
    assert "per_class" not in plain


def test_kfold_best_fold_and_ensemble_by_hand():
    first, second, third = np.zeros((3, 10)), np.zeros((3, 10)), np.zeros((3, 10))
    first[:, 0], second[:, 1], third[:, 2] = 1.0, 0.6, 0.5
    second[:, 2], third[:, 1] = 0.4, 0.5  # classes 1 and 2 together: 1.1 and 0.9 against class 0's 1.0
    answers = [(p.argmax(axis=1), p) for p in (first, second, third)]
    best, best_predicted, ensemble = kfold.best_and_ensemble([0.90, 0.95, 0.93], answers)
    assert best == 1 and best_predicted.tolist() == [1, 1, 1] and ensemble.tolist() == [1, 1, 1]
    # The summary the stage writes, from hand-made fold metrics (a tie in validation goes to the first fold).
    metrics = [
        {"train_accuracy": 0.9, "val_accuracy": 0.95, "train_accuracy_running": 0.85},
        {"train_accuracy": 0.92, "val_accuracy": 0.95, "train_accuracy_running": 0.87},
    ]
    settings = types.SimpleNamespace(variant="some_variant", n_splits=5)
    labels = np.array([0, 0, 1])
    summary, predicted = kfold.summarise(settings, [2, 4], metrics, labels, answers[:2])
    assert summary["folds"] == [{"fold": 2, **metrics[0]}, {"fold": 4, **metrics[1]}]
    assert summary["best_fold"] == 2 and summary["best_fold_test_accuracy"] == pytest.approx(2 / 3)
    assert summary["val_accuracy_mean"] == pytest.approx(0.95)
    assert summary["val_accuracy_sd"] == pytest.approx(0)
    assert summary["train_accuracy_sd"] == pytest.approx(np.std([0.9, 0.92], ddof=1))
    assert summary["train_accuracy_running_mean"] == pytest.approx(0.86)
    # The ensemble of the first two: class 0's 1.0 against class 1's 0.6.
    assert predicted["ensemble"].tolist() == [0, 0, 0]
    assert summary["ensemble_test_accuracy"] == pytest.approx(2 / 3)
    # One fold: the same sample sd as over seeds, none.
    one, _ = kfold.summarise(settings, [0], metrics[:1], labels, answers[:1])
    assert one["val_accuracy_sd"] is None and one["train_accuracy_running_sd"] is None


def test_figure_3_counts_each_quoted_confusion_in_both_k_fold_models():
    labels = np.array([6, 6, 6, 0, 0, 1])
    best = np.array([0, 0, 2, 6, 0, 1])  # Shirt -> T-shirt/top twice, T-shirt/top -> Shirt once
    carried = np.array([0, 6, 6, 6, 6, 1])  # Shirt -> T-shirt/top once, T-shirt/top -> Shirt twice
    quoted = [
        {"actual": "Shirt", "predicted": "T-shirt/top", "count": 94},
        {"actual": "T-shirt/top", "predicted": "Shirt", "count": 79},
    ]
    results = types.SimpleNamespace(
        labels=labels,
        published={"figure3": quoted},
        answers={KFOLD_BEST: best[None], runs.KFOLD_CARRIED: carried[None]},
    )
    carried_name = runs.KFOLD_CARRIED
    assert findings.figure_3_counts(results) == [
        {"actual": "Shirt", "predicted": "T-shirt/top", "published": 94, KFOLD_BEST: 2, carried_name: 1},
        {"actual": "T-shirt/top", "predicted": "Shirt", "published": 79, KFOLD_BEST: 1, carried_name: 2},
    ]
