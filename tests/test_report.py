"""The study report: intervals and McNemar's test against known values, and the report from hand-made files."""

import json
import math
import os
import shutil

import numpy as np
import pytest
import yaml

from stages import report, statistics
from stages.fashion_mnist import CLASS_NAMES

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_wilson_interval_matches_newcombe():
    # Newcombe (1998), Statistics in Medicine 17:857, Table I: 81 of 263, score method.
    low, high = statistics.wilson_interval(81, 263)
    assert low == pytest.approx(0.2553, abs=1e-4) and high == pytest.approx(0.3662, abs=1e-4)


def test_wilson_interval_matches_its_formula():
    correct, total, z = 9156, 10000, 1.959963984540054
    p = correct / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    assert statistics.wilson_interval(correct, total) == pytest.approx((centre - half, centre + half), abs=1e-9)


def exact_mcnemar_by_hand(only_a, only_b):
    n = only_a + only_b
    tail = sum(math.comb(n, k) for k in range(min(only_a, only_b) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


@pytest.mark.parametrize("only_a, only_b", [(10, 2), (150, 86), (3, 3), (0, 7)])
def test_mcnemar_exact_matches_the_binomial_by_hand(only_a, only_b):
    both = 50
    correct_a = np.array([True] * only_a + [False] * only_b + [True] * both)
    correct_b = np.array([False] * only_a + [True] * only_b + [True] * both)
    result = statistics.mcnemar_exact(correct_a, correct_b)
    assert (result["only_a_correct"], result["only_b_correct"]) == (only_a, only_b)
    assert result["p_value"] == pytest.approx(exact_mcnemar_by_hand(only_a, only_b), rel=1e-9)


def test_mcnemar_hand_computed_case():
    # b = 10, c = 2: p = 2 (1 + 12 + 66) / 2**12
    result = statistics.mcnemar_exact([1] * 10 + [0] * 2, [0] * 10 + [1] * 2)
    assert result["p_value"] == pytest.approx(158 / 4096)


def write_confusion(path, correct):
    """A confusion CSV whose rows are right where `correct` is True."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rows = ["actual,predicted"]
    for i, right in enumerate(correct):
        actual = CLASS_NAMES[i % 10]
        rows.append(f"{actual},{actual if right else CLASS_NAMES[(i + 1) % 10]}")
    with open(path, "w") as stream:
        stream.write("\n".join(rows) + "\n")


@pytest.fixture
def study_dir(tmp_path, monkeypatch):
    """Hand-made metrics and plot files for every model of params.yaml, 200 test images each."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(os.path.join(PROJECT, "params.yaml"), "params.yaml")
    os.makedirs("reports")
    shutil.copy(os.path.join(PROJECT, "reports", "seed_numbers.yaml"), "reports/seed_numbers.yaml")
    with open("params.yaml") as stream:
        params = yaml.safe_load(stream)
    names = [*params["variants"], *params["augmented_variants"]]
    # The baseline is right on images 0-179; batchnorm on 0-169 and 180-184 (10 right only
    # for the baseline, 5 only for batchnorm); every other model on the first 150 + i.
    correct = {"baseline": np.arange(200) < 180, "batchnorm": (np.arange(200) < 170) | ((np.arange(200) >= 180) & (np.arange(200) < 185))}
    for i, name in enumerate(n for n in names if n not in correct):
        correct[name] = np.arange(200) < 150 + i
    os.makedirs("metrics/train")
    val = {"baseline": 0.91, "batchnorm": 0.92}
    for i, name in enumerate(names):
        metrics = {"train_accuracy": 0.95 - i / 100, "train_accuracy_running": 0.9, "val_accuracy": val.get(name, 0.85 - i / 100)}
        with open(f"metrics/train/{name}.json", "w") as stream:
            json.dump(metrics, stream)
        write_confusion(f"plots/confusion/{name}.csv", correct[name])
    per_class = {c: {"precision": 0.9, "recall": 0.8, "f1": 0.85, "support": 20} for c in CLASS_NAMES}
    evaluate = {"selected": ["batchnorm", "baseline"],
                "models": {n: {"test_accuracy": float(correct[n].mean()), **({"per_class": per_class} if n in ("baseline", "batchnorm") else {})} for n in names}}
    with open("metrics/evaluate.json", "w") as stream:
        json.dump(evaluate, stream)
    kfold = {"variant": "baseline_lr", "n_splits": 2,
             "folds": [{"fold": 0, "train_accuracy": 0.93, "val_accuracy": 0.91}, {"fold": 1, "train_accuracy": 0.94, "val_accuracy": 0.92}],
             "train_accuracy_mean": 0.935, "train_accuracy_sd": 0.007, "val_accuracy_mean": 0.915, "val_accuracy_sd": 0.007,
             "best_fold": 1, "best_fold_train_accuracy": 0.94, "best_fold_val_accuracy": 0.92,
             "best_fold_test_accuracy": 0.95, "ensemble_test_accuracy": 0.96}
    with open("metrics/kfold.json", "w") as stream:
        json.dump(kfold, stream)
    write_confusion("plots/kfold_confusion/best.csv", np.arange(200) < 190)
    write_confusion("plots/kfold_confusion/ensemble.csv", np.arange(200) < 192)
    return tmp_path, correct


def test_report_tables_hold_the_right_numbers(study_dir):
    root, correct = study_dir
    report.main()
    text = (root / "reports" / "study.md").read_text()
    low, high = statistics.wilson_interval(180, 200)
    assert f"| baseline | 0.9000 [{low:.4f}, {high:.4f}] | 0.9156 |" in text           # Table 2
    assert "| baseline | 0.9500 | 0.9000 | 0.9100 | 0.9188 | 0.9173 |" in text       # Table 1
    p_value = exact_mcnemar_by_hand(5, 10)
    assert f"McNemar's exact test, batchnorm against baseline: The difference is not significant at 0.05 (p = {p_value:.3g})" in text
    assert "| T-shirt/top | 0.90 / 0.80 / 0.85 | 0.93 / 0.77 / 0.84 |" in text        # Table 3, batchnorm first
    assert "| best fold (1) | 0.9400 | 0.9200 | 0.9500 [" in text                      # Table 5
    headline = json.loads((root / "metrics" / "study.json").read_text())
    assert headline["best_model"] == "baseline" and headline["best_test_accuracy"] == 0.9
    assert headline["best_test_accuracy_ci_low"] == pytest.approx(low)
    # The k-fold model is right on 10 more images than the baseline and wrong on none of its: p = 2 / 2**10.
    kfold_claim = "k-fold with the LR decay beats the baseline on test (seed, Table 5)"
    assert headline["mcnemar_p"][kfold_claim] == pytest.approx(2 / 2 ** 10)
    assert "k-fold with the LR decay beats the baseline on test (seed, Table 5): holds here" in text


def test_missing_input_is_named(study_dir, capsys):
    root, _ = study_dir
    os.remove(root / "plots" / "confusion" / "sgd.csv")
    with pytest.raises(SystemExit) as exit_info:
        report.main()
    assert exit_info.value.code != 0
    assert capsys.readouterr().err.strip() == "error: plots/confusion/sgd.csv: missing (run `dvc repro` to make it)"
    assert not (root / "reports" / "study.md").exists()
