"""The published study's tables (1 to 5) and Figure 3's counts, ours beside the published numbers.

Each takes the StudyResults (what was read: the published numbers, the evaluation, the
k-folds) and the details that study/analysis/findings.py computed, and formats them.
"""

from study.analysis.kfold import KFOLD_BEST, KFOLD_ENSEMBLE
from study.analysis.results import BASELINE
from study.data.facts import CLASS_NAMES
from study.report.text import interval_text, mean_sd, number, p_text, table, test_cell
from study.training import runs

PER_CLASS_KEYS = ("precision", "recall", "f1")
ACCURACY_HEADER = ["model", "test [95% CI]", "per seed [95% Wilson]", "ensemble of the seeds", "published"]
# Figure 3's columns of ours: the model whose confusions each counts.
FIGURE_3_MODELS = {KFOLD_BEST: "honest k-fold, best fold", runs.KFOLD_CARRIED: "carried-over k-fold"}


def table_1(results, details):
    published = results.published["table1"]
    rows = []
    for name in results.study_variants:
        figures = details["training_accuracy"][name]
        cells = [
            mean_sd(figures[key])
            for key in (runs.TRAIN_ACCURACY, runs.RUNNING_TRAIN_ACCURACY, runs.VAL_ACCURACY)
        ]
        numbers = published.get(name) or {}
        rows.append(
            [name, *cells, number(numbers.get("train_accuracy")), number(numbers.get("val_accuracy"))]
        )
    return (
        "**Table 1. Training and validation accuracy.** Train: after the last epoch in inference mode; "
        "running: Keras's mean over the last epoch's batches (dropout on), the published kind.\n\n"
        + table(
            ["model", "train", "train (running)", "validation", "published: train", "published: validation"],
            rows,
        )
    )


def accuracy_rows(results, details, names, published):
    rows = []
    for name in names:
        accuracy = details["test_accuracy"][name]
        wilson = "; ".join(
            f"{s['accuracy']:.4f} [{s['low']:.4f}, {s['high']:.4f}]" for s in accuracy["per_seed"]
        )
        ensemble = results.evaluate["models"].get(name, {}).get("ensemble_test_accuracy")
        rows.append([name, test_cell(accuracy), wilson, number(ensemble), number(published.get(name))])
    return rows


def comparison_table(comparisons):
    rows = [
        [
            f"{c['a']} − {c['b']}",
            interval_text(c),
            p_text(c.get("p_value")),
            p_text(c.get("p_holm")),
            number(c.get("detectable")),
            p_text((c.get("bootstrap") or {}).get("p_value")),
            ", ".join(p_text(t["p_value"]) for t in c.get("mcnemar", [])) or "—",
        ]
        for c in comparisons
    ]
    return table(
        [
            "difference",
            "mean [95% CI over seeds]",
            "p (paired t, seeds)",
            "p (Holm)",
            "detectable (80% power)",
            "p (bootstrap, seeds then images)",
            "McNemar p per seed",
        ],
        rows,
    )


def table_2_and_4(results, details):
    published = {**results.published["table2"], **results.published["table4"]}
    names = list(
        dict.fromkeys([*results.selected, *results.published["table2"], BASELINE, *results.compared])
    )
    return (
        "**Tables 2 and 4. Test accuracy** of the two models picked by validation (ours: "
        f"{' and '.join(results.selected)}), the baseline and the choice tasks; the ensemble averages "
        "the seeds' softmax outputs.\n\n"
        + table(ACCURACY_HEADER, accuracy_rows(results, details, names, published))
        + "\n\nAgainst the baseline (one row per comparison; p (Holm) where the comparison is a "
        "published claim):\n\n" + comparison_table(details["comparisons"])
    )


def table_3(results):
    rows = []
    for class_name in CLASS_NAMES:
        row = [class_name]
        for name in results.selected:
            ours = results.evaluate["models"][name]["per_class"][class_name]
            row.append(" / ".join(f"{ours[key]:.2f}" for key in PER_CLASS_KEYS))
            published = (results.published["table3"].get(name) or {}).get(class_name)
            row.append(" / ".join(f"{v:.2f}" for v in published) if published else "—")
        rows.append(row)
    header = ["class"] + [c for n in results.selected for c in (n, f"published: {n}")]
    return (
        "**Table 3. Per-class precision / recall / F1 on the test set** (mean over the seeds).\n\n"
        + table(header, rows)
    )


def table_5(results, details):
    kfold, carried, test = results.kfold, results.carried, details["test_accuracy"]
    published = results.published["table5"]
    rows = [
        [
            f"fold {f['fold']} (fresh model)",
            number(f[runs.RUNNING_TRAIN_ACCURACY]),
            number(f[runs.VAL_ACCURACY]),
            "",
        ]
        for f in kfold["folds"]
    ]
    rows.append(
        [
            "honest k-fold: mean ± sd",
            mean_sd({"mean": kfold["train_accuracy_running_mean"], "sd": kfold["train_accuracy_running_sd"]}),
            mean_sd({"mean": kfold["val_accuracy_mean"], "sd": kfold["val_accuracy_sd"]}),
            f"best fold {number(test[KFOLD_BEST]['mean'])}, ensemble {number(test[KFOLD_ENSEMBLE]['mean'])}",
        ]
    )
    for fold in carried["folds"]:
        rows.append(
            [
                f"carried over, fold {fold['fold']} ({fold['val_images_trained_on_before']:.0%} of its "
                "validation images trained on before)",
                number(fold[runs.RUNNING_TRAIN_ACCURACY]),
                number(fold[runs.VAL_ACCURACY]),
                "",
            ]
        )
    rows.append(
        [
            "carried over: the final model",
            number(carried[runs.RUNNING_TRAIN_ACCURACY]),
            number(carried[runs.VAL_ACCURACY]),
            number(test[runs.KFOLD_CARRIED]["mean"]),
        ]
    )
    baseline = details["training_accuracy"][BASELINE]
    rows.append(
        [
            "baseline (Tables 1, 2)",
            mean_sd(baseline[runs.RUNNING_TRAIN_ACCURACY]),
            mean_sd(baseline[runs.VAL_ACCURACY]),
            test_cell(test[BASELINE]),
        ]
    )
    for label, key in (("published: baseline", "baseline"), ("published: k-fold & LR", "kfold_lr")):
        rows.append(
            [
                label,
                number(published[key]["train_accuracy"]),
                number(published[key]["val_accuracy"]),
                number(published[key]["test_accuracy"]),
            ]
        )
    return (
        f"**Table 5. {kfold['n_splits']}-fold cross-validation of {kfold['variant']}.** Training figures "
        "are the running ones (as published). The honest k-fold trains a fresh model per fold and is "
        "the study's result; the carried-over k-fold trains one model fold after fold (a new compile, "
        "the same weights), as the published figures suggest, so from the second fold on its validation "
        "fold holds images it trained on.\n\n" + table(["", "train (running)", "validation", "test"], rows)
    )


def figure_3(details):
    rows = [
        [f"{c['actual']} → {c['predicted']}", c["published"], *[c[name] for name in FIGURE_3_MODELS]]
        for c in details["figure3"]
    ]
    return (
        "**Figure 3's counts** (test images of the true class taken for the other), the published best "
        "model against ours.\n\n"
        + table(["actual → predicted", "published", *FIGURE_3_MODELS.values()], rows)
    )
