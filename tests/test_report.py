"""The study report from hand-made input files: mean ± sd over seeds, intervals, per-seed McNemar tests, errors."""

import json
import math
import os
import shutil
import statistics as hand  # the standard library's mean and sample sd, as one would compute them by hand

import numpy as np
import pytest
import yaml
from scipy import stats

from stages import report
from study import statistics
from study.dataset import CLASS_NAMES

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGES = 200


def exact_mcnemar_by_hand(only_a, only_b):
    """Two-sided exact McNemar p-value: twice the binomial(b + c, 1/2) tail of the smaller count."""
    n = only_a + only_b
    tail = sum(math.comb(n, k) for k in range(min(only_a, only_b) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def answers(correct):
    """(actual, predicted) class names per test image, right where `correct` is True."""
    return [(CLASS_NAMES[i % 10], CLASS_NAMES[i % 10] if right else CLASS_NAMES[(i + 1) % 10])
            for i, right in enumerate(correct)]


def write_seed_confusion(path, seeds, correct):
    """plots/confusion/<name>.csv as stages/evaluate.py writes it: seed,actual,predicted, seed by seed."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rows = ["seed,actual,predicted"]
    for seed, row in zip(seeds, correct):
        rows += [f"{seed},{actual},{predicted}" for actual, predicted in answers(row)]
    with open(path, "w") as stream:
        stream.write("\n".join(rows) + "\n")


def write_confusion(path, correct):
    """A k-fold model's answers: actual,predicted."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rows = ["actual,predicted"] + [f"{actual},{predicted}" for actual, predicted in answers(correct)]
    with open(path, "w") as stream:
        stream.write("\n".join(rows) + "\n")


def mean_and_sd(values):
    return hand.mean(values), (hand.stdev(values) if len(values) > 1 else None)


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as stream:
        json.dump(value, stream)


def build_study(seeds):
    """Hand-made inputs of the report in the current directory, for every model of params.yaml and `seeds`.

    200 test images. Per seed (42, 43):
      baseline    right on images 0-179 | 0-175
      batchnorm   right on 0-169 and 180-184 | 0-159 and 176-177: against the baseline,
                  10 right only for the baseline and 5 only for batchnorm (seed 42), 16 and 2 (seed 43)
      the others  right on the first 150 + i (+ 1 for seed 43), i their rank among the others
      k-fold      best fold right on 0-189, ensemble on 0-191
    """
    shutil.copy(os.path.join(PROJECT, "params.yaml"), "params.yaml")
    with open("params.yaml") as stream:
        params = yaml.safe_load(stream)
    params["seeds"] = list(seeds)
    with open("params.yaml", "w") as stream:
        yaml.safe_dump(params, stream, sort_keys=False)
    os.makedirs("reports", exist_ok=True)
    shutil.copy(os.path.join(PROJECT, "reports", "seed_numbers.yaml"), "reports/seed_numbers.yaml")
    names = [*params["variants"], *params["augmented_variants"]]
    index = np.arange(IMAGES)
    correct = {
        "baseline": np.array([index < 180, index < 176]),
        "batchnorm": np.array([(index < 170) | ((index >= 180) & (index < 185)),
                               (index < 160) | ((index >= 176) & (index < 178))]),
    }
    for i, name in enumerate(n for n in names if n not in correct):
        correct[name] = np.array([index < 150 + i, index < 151 + i])
    correct = {name: rows[:len(seeds)] for name, rows in correct.items()}

    per_seed = {}
    for i, name in enumerate(names):
        val = {"baseline": [0.91, 0.915], "batchnorm": [0.92, 0.93]}.get(name, [0.85 - i / 100, 0.852 - i / 100])
        per_seed[name] = {"train_accuracy": [0.95 - i / 100, 0.96 - i / 100], "train_accuracy_running": [0.9, 0.9],
                          "val_accuracy": val}
        summary = {"seeds": list(seeds)}
        for key, values in per_seed[name].items():
            summary[key], summary[f"{key}_sd"] = mean_and_sd(values[:len(seeds)])
        write_json(f"metrics/train/{name}.json", summary)
        write_seed_confusion(f"plots/confusion/{name}.csv", seeds, correct[name])
    per_class = {c: {"precision": 0.9, "recall": 0.8, "f1": 0.85, "support": 20} for c in CLASS_NAMES}
    models = {}
    for name in names:
        accuracies = [float(row.mean()) for row in correct[name]]
        mean, sd = mean_and_sd(accuracies)
        models[name] = {"test_accuracy": mean, "test_accuracy_sd": sd,
                        "test_accuracy_per_seed": {str(s): a for s, a in zip(seeds, accuracies)}}
        if name in ("baseline", "batchnorm"):
            models[name]["per_class"] = per_class
    write_json("metrics/evaluate.json", {"selected": ["batchnorm", "baseline"], "seeds": list(seeds), "models": models})
    kfold = {"variant": "baseline_lr", "n_splits": 2,
             "folds": [{"fold": 0, "train_accuracy": 0.93, "val_accuracy": 0.91},
                       {"fold": 1, "train_accuracy": 0.94, "val_accuracy": 0.92}],
             "train_accuracy_mean": 0.935, "train_accuracy_sd": 0.007, "val_accuracy_mean": 0.915,
             "val_accuracy_sd": 0.007, "best_fold": 1, "best_fold_train_accuracy": 0.94, "best_fold_val_accuracy": 0.92,
             "best_fold_test_accuracy": 0.95, "ensemble_test_accuracy": 0.96}
    write_json("metrics/kfold.json", kfold)
    write_confusion("plots/kfold_confusion/best.csv", index < 190)
    write_confusion("plots/kfold_confusion/ensemble.csv", index < 192)
    return correct, per_seed


@pytest.fixture
def study_dir(tmp_path, monkeypatch):
    """Two seeds, 42 and 43."""
    monkeypatch.chdir(tmp_path)
    correct, per_seed = build_study([42, 43])
    return tmp_path, correct, per_seed


@pytest.fixture
def one_seed_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    correct, per_seed = build_study([42])
    return tmp_path, correct, per_seed


def wilson_text(seed, right):
    low, high = statistics.wilson_interval(right, IMAGES)
    return f"{seed}: {right / IMAGES:.4f} [{low:.4f}, {high:.4f}]"


def test_tables_report_mean_and_sd_over_seeds(study_dir):
    root, correct, _ = study_dir
    report.main()
    text = (root / "reports" / "study.md").read_text()
    # Table 1: baseline train 0.95, 0.96 (mean 0.955, sd 0.00707); running 0.9, 0.9; validation 0.91, 0.915
    # (mean 0.9125, sd 0.00354); the seed's 0.9188 and 0.9173 beside.
    assert "| baseline | 0.9550 ± 0.0071 | 0.9000 ± 0.0000 | 0.9125 ± 0.0035 | 0.9188 | 0.9173 |" in text
    assert "mean ± sample sd over the 2 seeds (42, 43)" in text
    # Table 2: the baseline is right on 180 and 176 of 200: 0.90 and 0.88, mean 0.89, sd 0.01414.
    low, high = statistics.bootstrap_mean_interval(correct["baseline"].mean(axis=0))
    assert low < 0.89 < high
    assert (f"| baseline | 0.8900 ± 0.0141 | [{low:.4f}, {high:.4f}] | "
            f"{wilson_text(42, 180)}; {wilson_text(43, 176)} | 0.9156 |") in text
    # batchnorm: 175 and 162 of 200, mean 0.8425, sd 0.0460.
    assert "| batchnorm | 0.8425 ± 0.0460 | [" in text
    assert "bootstrap over test images (2000 resamples of the 200 images" in text
    # Table 3, batchnorm first (the best by validation), the seed's numbers beside.
    assert "| T-shirt/top | 0.90 / 0.80 / 0.85 | 0.93 / 0.77 / 0.84 | 0.90 / 0.80 / 0.85 | 0.90 / 0.83 / 0.86 |" in text
    # Table 5: the k-fold models with Wilson intervals, the baseline as mean ± sd with its bootstrap interval.
    best_low, best_high = statistics.wilson_interval(190, IMAGES)
    assert f"| best fold (1) | 0.9400 | 0.9200 | 0.9500 [{best_low:.4f}, {best_high:.4f}] |" in text
    assert f"| baseline (Table 1, 2) | 0.9550 ± 0.0071 | 0.9125 ± 0.0035 | 0.8900 ± 0.0141 [{low:.4f}, {high:.4f}] |" in text
    # The augmentation figures are named by variant.
    assert "](../plots/figures/augmentation_baseline_aug.png)" in text
    assert "](../plots/figures/augmentation_baseline_aug_hflip.png)" in text


def test_mcnemar_per_seed_and_paired_bootstrap(study_dir):
    root, correct, _ = study_dir
    report.main()
    text = (root / "reports" / "study.md").read_text()
    # Table 2, batchnorm against baseline: seed 42 b = 5, c = 10; seed 43 b = 2, c = 16.
    p42, p43 = exact_mcnemar_by_hand(5, 10), exact_mcnemar_by_hand(2, 16)
    assert p42 == pytest.approx(2 * 4944 / 2 ** 15) and p43 == pytest.approx(2 * 172 / 2 ** 18)
    difference = (175 + 162) / 400 - (180 + 176) / 400
    low, high = statistics.bootstrap_mean_interval(correct["batchnorm"].mean(axis=0) - correct["baseline"].mean(axis=0))
    assert high < 0  # the interval excludes 0, but only one seed of two is significant: not significant
    assert (f"**batchnorm against baseline.** Not significant at 0.05: "
            f"McNemar's exact test significant at 0.05 in 1 of 2 seeds (seed 42: p = {p42:.3g}; "
            f"seed 43: p = {p43:.3g}); the mean difference batchnorm − baseline {difference:+.4f} "
            f"[{low:+.4f}, {high:+.4f}] excludes 0.") in text
    # Table 4, baseline_lr against baseline: right on 153 and 154 images, 27 and 22 fewer than the baseline.
    lr_low, lr_high = statistics.bootstrap_mean_interval(correct["baseline_lr"].mean(axis=0) - correct["baseline"].mean(axis=0))
    assert (f"| {-49 / 400:+.4f} [{lr_low:+.4f}, {lr_high:+.4f}] | seed 42: p < 0.001; seed 43: p < 0.001 "
            "| yes (2 of 2 seeds) |") in text
    assert ("- baseline_lr against baseline: Significant at 0.05, baseline better than baseline_lr: McNemar's exact test "
            "significant at 0.05 in 2 of 2 seeds (seed 42: p < 0.001; seed 43: p < 0.001), and the mean difference") in text

    headline = json.loads((root / "metrics" / "study.json").read_text())
    assert headline["n_seeds"] == 2
    assert headline["best_model"] == "baseline"
    assert headline["best_test_accuracy"] == pytest.approx(0.89)
    assert headline["best_test_accuracy_sd"] == pytest.approx(hand.stdev([0.9, 0.88]))
    base_low, base_high = statistics.bootstrap_mean_interval(correct["baseline"].mean(axis=0))
    assert headline["best_test_accuracy_ci_low"] == pytest.approx(base_low)
    assert headline["best_test_accuracy_ci_high"] == pytest.approx(base_high)
    assert headline["table2_comparison"] == "batchnorm_vs_baseline"
    pair = headline["comparisons"]["batchnorm_vs_baseline"]
    assert pair["mcnemar_p"] == {"42": pytest.approx(p42), "43": pytest.approx(p43)}
    assert pair["seeds_significant"] == 1 and pair["significant"] is False
    assert pair["difference"] == pytest.approx(difference)
    assert (pair["difference_ci_low"], pair["difference_ci_high"]) == pytest.approx((low, high))
    lr = headline["comparisons"]["baseline_lr_vs_baseline"]
    assert lr["mcnemar_p"] == {"42": pytest.approx(2 / 2 ** 27), "43": pytest.approx(2 / 2 ** 22)}
    assert lr["seeds_significant"] == 2 and lr["significant"] is True
    assert {"baseline_aug_vs_baseline", "baseline_aug_hflip_vs_baseline"} <= set(headline["comparisons"])
    # The single k-fold model is paired with each seed of the baseline: right on 10 and 14 more images.
    kfold = headline["comparisons"]["kfold_best_vs_baseline"]
    assert kfold["mcnemar_p"] == {"42": pytest.approx(2 / 2 ** 10), "43": pytest.approx(2 / 2 ** 14)}


def test_findings_check_the_seed_conclusions(study_dir):
    root, _, per_seed = study_dir
    report.main()
    text = (root / "reports" / "study.md").read_text()
    claims = json.loads((root / "metrics" / "study.json").read_text())["claims"]
    assert claims["kfold_beats_baseline"] == "holds"
    assert claims["baseline_beats_batchnorm"] == "holds in direction only"
    assert claims["lr_decay_improves_baseline"] == "does not hold (the reverse is significant at 0.05)"
    assert claims["two_best_by_validation"] == "holds"
    assert "k-fold with the LR decay beats the baseline on test (seed, Table 5): **holds** here" in text
    assert "The LR step decay improves the baseline (seed, Table 4): **does not hold (the reverse is significant" in text
    # Validation exists only as mean and sd over seeds: Welch's t-test over the seeds.
    p_value = stats.ttest_ind(per_seed["batchnorm"]["val_accuracy"], per_seed["baseline"]["val_accuracy"],
                              equal_var=False).pvalue
    assert p_value > 0.05
    assert claims["batchnorm_beats_baseline_in_validation"] == "holds in direction only"
    assert (f"Batch norm beats the baseline in validation (seed, Table 1): **holds in direction only** here "
            f"(batchnorm 0.9250 ± 0.0071 vs baseline 0.9125 ± 0.0035 in validation; Welch's t-test over the seeds "
            f"p = {p_value:.3g}; one validation split).") in text
    assert "- Best of the 5 by mean validation accuracy: **batchnorm**, 0.9250 ± 0.0071" in text
    assert "- Best of the 5 on the test set: **baseline**, 0.8900 ± 0.0141 [" in text


def test_one_seed_has_no_sd_and_one_p_value(one_seed_dir):
    root, correct, _ = one_seed_dir
    report.main()
    text = (root / "reports" / "study.md").read_text()
    assert "| baseline | 0.9500 | 0.9000 | 0.9100 | 0.9188 | 0.9173 |" in text
    low, high = statistics.bootstrap_mean_interval(correct["baseline"][0].astype(float))
    assert f"| baseline | 0.9000 | [{low:.4f}, {high:.4f}] | {wilson_text(42, 180)} | 0.9156 |" in text
    assert "±" not in text.split("## Tables")[1].split("**Table 5")[0]
    p_value = exact_mcnemar_by_hand(5, 10)
    assert f"McNemar's exact test significant at 0.05 in 0 of 1 seed (seed 42: p = {p_value:.3g})" in text
    headline = json.loads((root / "metrics" / "study.json").read_text())
    assert headline["n_seeds"] == 1 and headline["best_test_accuracy_sd"] is None
    assert headline["best_test_accuracy"] == 0.9
    assert headline["comparisons"]["batchnorm_vs_baseline"]["mcnemar_p"] == {"42": pytest.approx(p_value)}
    assert headline["claims"]["batchnorm_beats_baseline_in_validation"] == "holds in direction only"
    assert "no test of significance with one seed" in text


def rewrite(path, change):
    with open(path) as stream:
        text = stream.read()
    with open(path, "w") as stream:
        stream.write(change(text))


def drop_seed_43(text):
    return "\n".join(line for line in text.splitlines() if not line.startswith("43,")) + "\n"


def edit_json(change):
    def edit(text):
        value = json.loads(text)
        change(value)
        return json.dumps(value)
    return edit


@pytest.mark.parametrize("path, change, message", [
    ("plots/confusion/sgd.csv", None, "plots/confusion/sgd.csv: missing (run `dvc repro` to make it)"),
    ("metrics/evaluate.json", None, "metrics/evaluate.json: missing (run `dvc repro` to make these metrics)"),
    ("plots/confusion/sgd.csv", drop_seed_43,
     "plots/confusion/sgd.csv: seeds 42, expected 42, 43 as in params.yaml (run `dvc repro evaluate`)"),
    ("plots/confusion/sgd.csv", lambda text: text.replace("seed,actual,predicted", "actual,predicted"),
     "plots/confusion/sgd.csv: header 'actual,predicted', expected 'seed,actual,predicted'"),
    ("plots/confusion/sgd.csv", lambda text: text.replace("42,T-shirt/top", "42,Hat", 1),
     "plots/confusion/sgd.csv: line 2: '42,Hat,T-shirt/top', expected seed,actual,predicted with class names"),
    ("metrics/train/kernel7.json", edit_json(lambda v: v.update(seeds=[42])),
     "metrics/train/kernel7.json: seeds [42], params.yaml has [42, 43] (run `dvc repro seed_summary`)"),
    ("metrics/train/kernel7.json", edit_json(lambda v: v.pop("val_accuracy_sd")),
     "metrics/train/kernel7.json: no val_accuracy_sd (run `dvc repro seed_summary`)"),
    ("metrics/train/kernel7.json", lambda text: text[:-5],
     "metrics/train/kernel7.json: not valid JSON ("),
    ("metrics/evaluate.json", edit_json(lambda v: v["models"]["sgd"]["test_accuracy_per_seed"].update({"43": 0.5})),
     ("plots/confusion/sgd.csv: seed 43 is right on 0.7600 of the images, metrics/evaluate.json says 0.5000 "
      "(run `dvc repro evaluate`)")),
    ("metrics/kfold.json", edit_json(lambda v: v.pop("val_accuracy_sd")),
     "metrics/kfold.json: no val_accuracy_sd (run `dvc repro kfold_summary`)"),
    ("plots/kfold_confusion/best.csv", lambda text: "\n".join(text.splitlines()[:100]) + "\n",
     ("plots/kfold_confusion/best.csv: not the test images of plots/confusion/baseline.csv "
      "(run `dvc repro evaluate kfold_summary`)")),
])
def test_a_bad_input_ends_in_one_clear_line(study_dir, capsys, path, change, message):
    root, _, _ = study_dir
    if change is None:
        os.remove(root / path)
    else:
        rewrite(root / path, change)
    with pytest.raises(SystemExit) as exit_info:
        report.main()
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"error: {message}") and "\n" not in error
    assert not (root / "reports" / "study.md").exists() and not (root / "metrics" / "study.json").exists()
