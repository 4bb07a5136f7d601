"""Stage report: the study report, every table of the seed beside its published numbers.

    python -m stages.report

Reads the metrics and plot files of the other stages (metrics/train/*.json,
metrics/evaluate.json, metrics/kfold.json, plots/confusion/*.csv,
plots/kfold_confusion/*.csv), params.yaml and reports/seed_numbers.yaml (the
seed's published numbers). Writes reports/study.md (Tables 1-5, Figures 1-3,
computed findings) and metrics/study.json (the headline figures).
Accuracies on the test set get a 95% Wilson interval; two models are compared
with McNemar's exact test on the same test images.
"""

import os

import numpy as np
import yaml

from stages import files, params
from stages.evaluation import read_json
from stages.fashion_mnist import CLASS_NAMES
from stages.files import DataError
from stages.statistics import mcnemar_exact, wilson_interval

SEED_NUMBERS = os.path.join("reports", "seed_numbers.yaml")
REPORT = os.path.join("reports", "study.md")
SIGNIFICANCE = 0.05


def read_correct(path):
    """Per test image, whether the model was right: from an actual,predicted CSV."""
    if not os.path.isfile(path):
        raise DataError(f"{path}: missing (run `dvc repro` to make it)")
    with open(path) as stream:
        header = stream.readline().strip()
        if header != "actual,predicted":
            raise DataError(f"{path}: header {header!r}, expected 'actual,predicted'")
        pairs = [line.rstrip("\n").split(",") for line in stream if line.strip()]
    unknown = {name for pair in pairs for name in pair} - set(CLASS_NAMES)
    if unknown or any(len(pair) != 2 for pair in pairs):
        raise DataError(f"{path}: rows must be two class names, found {sorted(unknown)[:3]}")
    return np.array([actual == predicted for actual, predicted in pairs])


def number(value, digits=4):
    return "—" if value is None else f"{value:.{digits}f}"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows])


def p_text(p_value):
    return f"p = {p_value:.3g}" if p_value >= 0.001 else "p < 0.001"


def significance_sentence(name_a, name_b, test):
    better = name_a if test["only_a_correct"] > test["only_b_correct"] else name_b
    if test["p_value"] < SIGNIFICANCE:
        return f"{better} is better, and the difference is significant at 0.05 ({p_text(test['p_value'])})."
    return f"The difference is not significant at 0.05 ({p_text(test['p_value'])}): another seed could reverse it."


class Study:
    """Everything the report is made from, read and checked once."""

    def __init__(self, all_params):
        self.params = all_params
        self.names = params.variant_names(all_params)
        settings = params.evaluate_params(all_params)
        self.study_variants = settings["select_from"]
        self.compared = settings["compare_with_baseline"]
        self.train = {n: read_json(os.path.join("metrics", "train", f"{n}.json")) for n in self.names}
        self.evaluate = read_json(os.path.join("metrics", "evaluate.json"))
        self.kfold = read_json(os.path.join("metrics", "kfold.json"))
        self.correct = {n: read_correct(os.path.join("plots", "confusion", f"{n}.csv")) for n in self.names}
        for kind in ("best", "ensemble"):
            self.correct[f"kfold_{kind}"] = read_correct(os.path.join("plots", "kfold_confusion", f"{kind}.csv"))
        if not os.path.isfile(SEED_NUMBERS):
            raise DataError(f"{SEED_NUMBERS}: missing (the seed's published numbers)")
        with open(SEED_NUMBERS) as stream:
            self.seed = yaml.safe_load(stream)

    def test_accuracy(self, name):
        return float(self.correct[name].mean())

    def interval(self, name):
        return wilson_interval(self.correct[name].sum(), self.correct[name].size)

    def with_interval(self, name):
        low, high = self.interval(name)
        return f"{self.test_accuracy(name):.4f} [{low:.4f}, {high:.4f}]"

    def mcnemar(self, name_a, name_b):
        return mcnemar_exact(self.correct[name_a], self.correct[name_b])


def table_1(study):
    seed = study.seed["table1"]
    rows = [[n, number(study.train[n]["train_accuracy"]), number(study.train[n]["train_accuracy_running"]),
             number(study.train[n]["val_accuracy"]), number(seed.get(n, {}).get("train_accuracy")),
             number(seed.get(n, {}).get("val_accuracy"))] for n in study.study_variants]
    return ("**Table 1. Training and validation accuracy.** Train: measured after the last epoch in "
            "inference mode on the training split; running: Keras's mean over the last epoch's batches "
            "(dropout on, weights moving).\n\n"
            + table(["model", "train", "train (running)", "validation", "seed: train", "seed: validation"], rows))


def table_2(study):
    selected = study.evaluate["selected"]
    seed = study.seed["table2"]
    rows = [[n, study.with_interval(n), number(seed.get(n))] for n in dict.fromkeys([*selected, *seed])]
    test = study.mcnemar(*selected[:2])
    return (f"**Table 2. Test accuracy of the two best models by validation accuracy** (ours: "
            f"{' and '.join(selected)}; the seed's: {' and '.join(seed)}), with 95% Wilson intervals.\n\n"
            + table(["model", "test [95% CI]", "seed: test"], rows)
            + f"\n\nMcNemar's exact test, {selected[0]} against {selected[1]}: "
            + significance_sentence(selected[0], selected[1], test))


def table_3(study):
    selected = study.evaluate["selected"]
    rows = []
    for class_name in CLASS_NAMES:
        row = [class_name]
        for name in selected:
            ours = study.evaluate["models"][name]["per_class"][class_name]
            row.append(f"{ours['precision']:.2f} / {ours['recall']:.2f} / {ours['f1']:.2f}")
            published = study.seed["table3"].get(name, {}).get(class_name)
            row.append(" / ".join(f"{v:.2f}" for v in published) if published else "—")
        rows.append(row)
    header = ["class"] + [c for n in selected for c in (n, f"seed: {n}")]
    return ("**Table 3. Per-class precision / recall (sensitivity) / F1 on the test set.**\n\n"
            + table(header, rows))


def table_4(study):
    seed = study.seed["table4"]
    rows = []
    for name in ["baseline", *study.compared]:
        if name == "baseline":
            rows.append([name, study.with_interval(name), number(seed.get(name)), "", ""])
            continue
        test = study.mcnemar(name, "baseline")
        difference = study.test_accuracy(name) - study.test_accuracy("baseline")
        rows.append([name, study.with_interval(name), number(seed.get(name)),
                     f"{difference:+.4f}", p_text(test["p_value"])])
    return ("**Table 4. Test accuracy of the baseline and the choice tasks**, with 95% Wilson intervals "
            "and McNemar's exact test against the baseline.\n\n"
            + table(["model", "test [95% CI]", "seed: test", "vs baseline", "McNemar"], rows))


def table_5(study):
    kfold = study.kfold
    rows = [[f"fold {f['fold']}", number(f["train_accuracy"]), number(f["val_accuracy"]), ""] for f in kfold["folds"]]
    rows.append(["mean ± sd", f"{kfold['train_accuracy_mean']:.4f} ± {kfold['train_accuracy_sd']:.4f}",
                 f"{kfold['val_accuracy_mean']:.4f} ± {kfold['val_accuracy_sd']:.4f}", ""])
    rows.append([f"best fold ({kfold['best_fold']})", number(kfold["best_fold_train_accuracy"]),
                 number(kfold["best_fold_val_accuracy"]), study.with_interval("kfold_best")])
    rows.append(["ensemble of the folds (mean softmax)", "", "", study.with_interval("kfold_ensemble")])
    rows.append(["baseline (Table 1, 2)", number(study.train["baseline"]["train_accuracy"]),
                 number(study.train["baseline"]["val_accuracy"]), study.with_interval("baseline")])
    published = study.seed["table5"]
    for label, key in (("seed: baseline", "baseline"), ("seed: k-fold & LR", "kfold_lr")):
        rows.append([label, number(published[key]["train_accuracy"]), number(published[key]["val_accuracy"]),
                     number(published[key]["test_accuracy"])])
    return (f"**Table 5. {kfold['n_splits']}-fold cross-validation of {kfold['variant']}** (stratified over "
            "the 60,000 training images; mean ± sample sd over folds; test with 95% Wilson intervals).\n\n"
            + table(["", "train", "validation", "test [95% CI]"], rows))


def comparison(study, claim, better, worse):
    """One of the seed's claims that model `better` beats `worse`, checked on the test set."""
    test = study.mcnemar(better, worse)
    holds = study.test_accuracy(better) > study.test_accuracy(worse)
    verdict = "holds" if holds else "does not hold"
    strength = "significant" if test["p_value"] < SIGNIFICANCE else "not significant"
    return {
        "claim": claim, "holds": holds, "p_value": test["p_value"],
        "text": (f"{claim}: {verdict} here ({better} {study.test_accuracy(better):.4f} vs {worse} "
                 f"{study.test_accuracy(worse):.4f} on test; McNemar {p_text(test['p_value'])}, {strength} at 0.05)."),
    }


def findings(study):
    """The computed findings: the best model, and each conclusion of the seed checked."""
    candidates = study.study_variants
    by_test = sorted(candidates, key=study.test_accuracy, reverse=True)
    best, runner_up = by_test[0], by_test[1]
    best_test = study.mcnemar(best, runner_up)
    lines = [
        f"- Best of the five on the test set: **{best}**, {study.with_interval(best)}, "
        f"{study.test_accuracy(best) - study.test_accuracy(runner_up):+.4f} over the next, {runner_up}. "
        + significance_sentence(best, runner_up, best_test)
    ]
    claims = []
    present = set(study.names)
    for claim, better, worse in (
        ("The 7x7 first convolution lowers accuracy (seed, section 2)", "baseline", "kernel7"),
        ("Adam beats SGD with momentum (seed, section 2)", "baseline", "sgd"),
        ("Sigmoid activations are worse than ReLU (seed, section 2)", "baseline", "sigmoid"),
        ("The baseline beats batch norm on the test set (seed, Table 2)", "baseline", "batchnorm"),
        ("The LR step decay improves the baseline (seed, Table 4)", "baseline_lr", "baseline"),
        ("Augmentation lowers accuracy (seed, Table 4)", "baseline", "baseline_aug"),
        ("Without the vertical flip, augmentation does better (the seed's guess)", "baseline_aug_hflip", "baseline_aug"),
    ):
        if {better, worse} <= present:
            claims.append(comparison(study, claim, better, worse))
    claims.append(comparison(study, "k-fold with the LR decay beats the baseline on test (seed, Table 5)",
                             "kfold_best", "baseline"))
    worst = min(candidates, key=lambda n: study.train[n]["val_accuracy"])
    claims.append({
        "claim": "Sigmoid is the worst of the five in validation (seed, Table 1)", "holds": worst == "sigmoid",
        "p_value": None,
        "text": (f"Sigmoid is the worst of the five in validation (seed, Table 1): "
                 f"{'holds' if worst == 'sigmoid' else 'does not hold'} here (worst: {worst}, "
                 f"{study.train[worst]['val_accuracy']:.4f})."),
    })
    bn_val, base_val = study.train["batchnorm"]["val_accuracy"], study.train["baseline"]["val_accuracy"]
    claims.append({
        "claim": "Batch norm beats the baseline in validation (seed, Table 1)", "holds": bn_val > base_val,
        "p_value": None,
        "text": (f"Batch norm beats the baseline in validation (seed, Table 1): "
                 f"{'holds' if bn_val > base_val else 'does not hold'} here ({bn_val:.4f} vs {base_val:.4f}; "
                 "one validation split, no paired test)."),
    })
    kfold_val = study.kfold["val_accuracy_mean"]
    claims.append({
        "claim": "k-fold validation accuracy exceeds training accuracy (seed: 0.9708 vs 0.9548)",
        "holds": kfold_val > study.kfold["train_accuracy_mean"], "p_value": None,
        "text": (f"The seed's k-fold validation accuracy (0.9708) above its training accuracy (0.9548) and its test "
                 f"accuracy (0.9259) is not reproduced: here validation is {kfold_val:.4f} ± "
                 f"{study.kfold['val_accuracy_sd']:.4f} against training {study.kfold['train_accuracy_mean']:.4f}. "
                 "Validation images the model had trained on (one model carried across folds) would explain "
                 "the seed's figure; each fold here trains a fresh model."
                 if kfold_val <= study.kfold["train_accuracy_mean"] else
                 f"k-fold validation {kfold_val:.4f} exceeds training {study.kfold['train_accuracy_mean']:.4f} here too."),
    })
    lines += [f"- {c['text']}" for c in claims]
    return lines, claims, best


def main():
    try:
        study = Study(params.load())
    except (params.ParamsError, DataError) as error:
        params.fail(error)
    finding_lines, claims, best = findings(study)
    low, high = study.interval(best)
    figures = [
        ("Figure 1. Training and validation loss per epoch", "../plots/figures/evaluate/loss_curves.png"),
        *[(f"Confusion matrix of {n} on the test set", f"../plots/figures/evaluate/confusion_{n}.png")
          for n in study.evaluate["selected"]],
        *[(f"Figure 2. Augmentation {p}", f"../plots/figures/augmentation_{p}.png")
          for p in study.params.get("augmentations", {})],
        ("Figure 3. Confusion matrix of the best k-fold model", "../plots/figures/kfold_confusion_best.png"),
        ("Confusion matrix of the k-fold ensemble", "../plots/figures/kfold_confusion_ensemble.png"),
    ]
    report = "\n\n".join([
        "# Fashion-MNIST CNN study: results",
        "Written by `python -m stages.report` (`dvc repro report`) from the metrics and plot files of the "
        "pipeline; the seed's published numbers come from `reports/seed_numbers.yaml`. Test accuracies carry "
        "95% Wilson score intervals over the test images; two models are compared with McNemar's exact "
        "(binomial) test on the images where exactly one of them is right.",
        "## Findings", "\n".join(finding_lines),
        "## Tables", table_1(study), table_2(study), table_3(study), table_4(study), table_5(study),
        "## Figures", "\n\n".join(f"**{title}**\n\n![{title}]({path})" for title, path in figures),
    ]) + "\n"
    headline = {
        "best_model": best,
        "best_test_accuracy": study.test_accuracy(best),
        "best_test_accuracy_ci_low": low,
        "best_test_accuracy_ci_high": high,
        "mcnemar_p": {c["claim"]: c["p_value"] for c in claims if c["p_value"] is not None},
    }
    files.write_text(REPORT, report)
    files.write_json(os.path.join("metrics", "study.json"), headline)
    print(f"report: {REPORT}; best model {best}, test {study.test_accuracy(best):.4f} [{low:.4f}, {high:.4f}]")


if __name__ == "__main__":
    main()
