"""The Markdown of reports/study.md: every table beside the published numbers, the protocol screen,
the fidelity of each headline number and a verdict for every published claim."""

import os

import numpy as np
import yaml

from study import artifacts
from study.dataset import CLASS_NAMES
from study.report.compare import compare, wilson_per_seed
from study.statistics import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, bootstrap_mean_interval

PER_CLASS_KEYS = ("precision", "recall", "f1")


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows])


def number(value, digits=4):
    return "—" if value is None else f"{value:.{digits}f}"


def mean_sd(values):
    values = np.atleast_1d(np.asarray(values, dtype=float))
    return f"{values.mean():.4f}" if len(values) < 2 else f"{values.mean():.4f} ± {np.std(values, ddof=1):.4f}"


def p_text(p_value):
    if p_value is None:
        return "—"
    return f"{p_value:.3g}" if p_value >= 0.001 else "< 0.001"


def interval_text(comparison):
    if comparison.get("low") is None:
        return f"{comparison['difference']:+.4f} (one run)"
    return f"{comparison['difference']:+.4f} [{comparison['low']:+.4f}, {comparison['high']:+.4f}]"


def test_cell(inputs, name):
    """Test accuracy: mean ± sd over seeds, with a 95% bootstrap interval over test images of the seed mean."""
    correct = inputs.correct[name]
    low, high = bootstrap_mean_interval(correct.mean(axis=0))
    return f"{mean_sd(correct.mean(axis=1))} [{low:.4f}, {high:.4f}]"


def intro(inputs, family_size):
    seeds = ", ".join(map(str, inputs.seeds))
    return (
        "Written by `python -m stages.report` (`dvc repro report`) from the files of the pipeline; the published "
        f"numbers and claims come from `{artifacts.PUBLISHED}`. Every variant is trained once per seed ({seeds}); "
        "figures are the mean ± sample sd over the seeds. Test accuracies carry a 95% percentile bootstrap interval "
        f"over the test images ({BOOTSTRAP_RESAMPLES} resamples, numpy seed {BOOTSTRAP_SEED}).\n\n"
        "**How a difference is judged.** Two models are compared seed by seed on the same test images. The 95% "
        "interval and the p-value of the difference come from a hierarchical bootstrap: the seeds are resampled "
        "(paired), then the test images, so the spread between trainings counts as well as the luck of the test "
        "set. McNemar's exact test per seed pair and a paired t-test over the seeds stay as detail. Each claim that "
        f"one model beats another is a member of one family ({family_size} claims: every `better_on_test` and "
        "`better_in_validation` claim of the published study with a seed level to test); their p-values are "
        "Holm-adjusted over the family, and a claim **holds** when the adjusted p is below 0.05 and the difference "
        "points its way, **holds in direction only** when it points its way without that, and **does not hold** "
        "otherwise. A comparison with a single training run on one side (the k-fold models) gets **no verdict**.")


def protocol_section(inputs, chosen):
    screen = inputs.screen
    if not screen or not screen.get("candidates"):
        return "No protocol screen recorded (`reports/protocol_screen.json`; README, The protocol screen)."
    rows = [[c["candidate"], c["epochs"], f"{c['within_2sd']} of {c['measured']}",
             *[number(f["ours"]) + (" ✓" if f["within_2sd"] else "") for f in c["figures"]]]
            for c in screen["candidates"]]
    first = screen["candidates"][0]["figures"]
    header = ["candidate", "epochs", "within 2 sd",
              *[f"{f['variant']} {'train' if f['figure'] == 'train_accuracy' else 'val'} ({f['published']:.4f})"
                for f in first]]
    return (
        "The published study leaves the batch size, the number of epochs and the dense dropout rate open. Each "
        "candidate below is a run of the five variants at one reading, read at several epochs from its "
        "history (over the seeds it has; the column `seeds` of reports/protocol_screen.json); a ✓ marks a published "
        f"Table 1 figure within 2 sd of ours (sd: the spread over seeds in commit {screen['sd_rev']}, floored at "
        f"{screen['sd_floor']}). Training figures are the running ones Keras prints, as published. `{chosen}` is "
        "the protocol of this study (params.yaml `baseline`).\n\n" + table(header, rows))


def fidelity_section(records, counted):
    rows = [[r["key"], number(r["published"]), number(r["ours"]), number(r["sd"]), f"{r['distance_sd']:.1f}",
             "yes" if r["within_2sd"] else "**no**", r["source"]] for r in records]
    within, total = counted
    return (f"**{within} of the {total} published headline numbers lie within 2 sd of ours** (Tables 1, 2 and 4 "
            "from the seeds; Table 5 from the carried-over k-fold, the honest k-fold beside it). The sd is the "
            "spread over training seeds of the same figure, floored at 0.002; a one-run figure takes the seed sd "
            "of the same figure of the k-fold's variant.\n\n"
            + table(["number", "published", "ours", "sd", "distance (sd)", "within 2 sd", "from"], rows))


def table_1(inputs):
    published = inputs.published["table1"]
    rows = []
    for name in inputs.study_variants:
        cells = [mean_sd(inputs.seed_values(name, key))
                 for key in (artifacts.TRAIN_ACCURACY, artifacts.RUNNING_TRAIN_ACCURACY, artifacts.VAL_ACCURACY)]
        numbers = published.get(name) or {}
        rows.append([name, *cells, number(numbers.get("train_accuracy")), number(numbers.get("val_accuracy"))])
    return ("**Table 1. Training and validation accuracy.** Train: after the last epoch in inference mode; "
            "running: Keras's mean over the last epoch's batches (dropout on), the published kind.\n\n"
            + table(["model", "train", "train (running)", "validation", "published: train", "published: validation"],
                    rows))


def accuracy_rows(inputs, names, published):
    rows = []
    for name in names:
        wilson = "; ".join(f"{accuracy:.4f} [{low:.4f}, {high:.4f}]" for _, accuracy, low, high in
                           wilson_per_seed(inputs, name))
        ensemble = inputs.evaluate["models"].get(name, {}).get("ensemble_test_accuracy")
        rows.append([name, test_cell(inputs, name), wilson, number(ensemble), number(published.get(name))])
    return rows


ACCURACY_HEADER = ["model", "test [95% CI]", "per seed [95% Wilson]", "ensemble of the seeds", "published"]


def comparison_table(comparisons):
    rows = [[f"{c['a']} − {c['b']}", interval_text(c), p_text(c.get("p_value")), p_text(c.get("p_holm")),
             p_text(c.get("t_test_p")), ", ".join(p_text(t["p_value"]) for t in c.get("mcnemar", [])) or "—"]
            for c in comparisons]
    return table(["difference", "mean [95% CI, seeds then images]", "p (bootstrap)", "p (Holm)",
                  "p (paired t, seeds)", "McNemar p per seed"], rows)


def table_2_and_4(inputs, comparisons):
    published = {**inputs.published["table2"], **inputs.published["table4"]}
    names = list(dict.fromkeys([*inputs.selected, *inputs.published["table2"], "baseline", *inputs.compared]))
    return ("**Tables 2 and 4. Test accuracy** of the two models picked by validation (ours: "
            f"{' and '.join(inputs.selected)}), the baseline and the choice tasks; the ensemble averages the seeds' "
            "softmax outputs.\n\n" + table(ACCURACY_HEADER, accuracy_rows(inputs, names, published))
            + "\n\nAgainst the baseline (one row per comparison; p (Holm) where the comparison is a published claim):"
            + "\n\n" + comparison_table(comparisons))


def table_3(inputs):
    rows = []
    for class_name in CLASS_NAMES:
        row = [class_name]
        for name in inputs.selected:
            ours = inputs.evaluate["models"][name]["per_class"][class_name]
            row.append(" / ".join(f"{ours[key]:.2f}" for key in PER_CLASS_KEYS))
            published = (inputs.published["table3"].get(name) or {}).get(class_name)
            row.append(" / ".join(f"{v:.2f}" for v in published) if published else "—")
        rows.append(row)
    header = ["class"] + [c for n in inputs.selected for c in (n, f"published: {n}")]
    return ("**Table 3. Per-class precision / recall / F1 on the test set** (mean over the seeds).\n\n"
            + table(header, rows))


def table_5(inputs):
    kfold, carried = inputs.kfold, inputs.carried
    published = inputs.published["table5"]
    rows = [[f"fold {f['fold']} (fresh model)", number(f[artifacts.RUNNING_TRAIN_ACCURACY]),
             number(f[artifacts.VAL_ACCURACY]), ""] for f in kfold["folds"]]
    rows.append(["honest k-fold: mean ± sd", f"{kfold['train_accuracy_running_mean']:.4f} ± "
                 f"{kfold['train_accuracy_running_sd']:.4f}",
                 f"{kfold['val_accuracy_mean']:.4f} ± {kfold['val_accuracy_sd']:.4f}",
                 f"best fold {number(float(inputs.test_values('kfold_best')[0]))}, ensemble "
                 f"{number(float(inputs.test_values('kfold_ensemble')[0]))}"])
    for fold in carried["folds"]:
        rows.append([f"carried over, fold {fold['fold']} ({fold['val_images_trained_on_before']:.0%} of its "
                     "validation images trained on before)", number(fold[artifacts.RUNNING_TRAIN_ACCURACY]),
                     number(fold[artifacts.VAL_ACCURACY]), ""])
    rows.append(["carried over: the final model", number(carried[artifacts.RUNNING_TRAIN_ACCURACY]),
                 number(carried[artifacts.VAL_ACCURACY]),
                 number(float(inputs.test_values(artifacts.KFOLD_CARRIED)[0]))])
    rows.append(["baseline (Tables 1, 2)", mean_sd(inputs.seed_values("baseline", artifacts.RUNNING_TRAIN_ACCURACY)),
                 mean_sd(inputs.seed_values("baseline", artifacts.VAL_ACCURACY)), test_cell(inputs, "baseline")])
    for label, key in (("published: baseline", "baseline"), ("published: k-fold & LR", "kfold_lr")):
        rows.append([label, number(published[key]["train_accuracy"]), number(published[key]["val_accuracy"]),
                     number(published[key]["test_accuracy"])])
    return (f"**Table 5. {kfold['n_splits']}-fold cross-validation of {kfold['variant']}.** Training figures are "
            "the running ones (as published). The honest k-fold trains a fresh model per fold and is the study's "
            "result; the carried-over k-fold trains one model fold after fold (a new compile, the same weights), "
            "as the published figures suggest, so from the second fold on its validation fold holds images it "
            "trained on.\n\n" + table(["", "train (running)", "validation", "test"], rows))


def figure_3(inputs):
    from study.evaluation import confusion_matrix

    index = {name: i for i, name in enumerate(CLASS_NAMES)}
    matrices = {"honest k-fold, best fold": confusion_matrix(inputs.labels, inputs.answers["kfold_best"][0]),
                "carried-over k-fold": confusion_matrix(inputs.labels, inputs.answers[artifacts.KFOLD_CARRIED][0])}
    rows = [[f"{c['actual']} → {c['predicted']}", c["count"],
             *[int(m[index[c["actual"]], index[c["predicted"]]]) for m in matrices.values()]]
            for c in inputs.published["figure3"]]
    return ("**Figure 3's counts** (test images of the true class taken for the other), the published best model "
            "against ours.\n\n" + table(["actual → predicted", "published", *matrices], rows))


def yaml_text(value):
    """A value as params.yaml would write it inline: null, true, [64, 128], {warmup_epochs: 1, decay: cosine}."""
    return yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=1000).strip().removesuffix("\n...")


def published_best_test(published):
    """The published study's highest test accuracy, whichever table prints it."""
    values = [*published["table2"].values(), *published["table4"].values(),
              *(row["test_accuracy"] for row in published["table5"].values())]
    return max(values)


def one_factor_table(header, effects):
    """Each variant against its twin with one factor off (study.report.beyond.one_factor_pairs)."""
    from study.report import beyond

    return table([header, "difference [95% CI, seeds then images]", "p (bootstrap)", "p (Holm)", "verdict"],
                 [[f"{c['a']} − {c['b']}", interval_text(c), p_text(c["p_value"]), p_text(c["p_holm"]),
                   f"**{beyond.verdict(c)}**"] for c in effects])


def beyond_section(inputs, effects, comparisons, mirror_effects, factor_effects):
    """`comparisons`: those against the baseline already made (Table 4); the strongest model's is reused."""
    from study.report import beyond
    from study.report.inputs import mirrored

    name = beyond.strongest(inputs)
    made = {c["a"]: c for c in comparisons if c["b"] == "baseline"}
    against = None if name == "baseline" else made.get(name) or compare(inputs, name, "baseline")
    specs = inputs.specs
    changed = {key: value for key, value in specs[name].items() if value != specs["baseline"][key]}
    lines = [
        f"**The strongest model of the family** (the highest mean validation accuracy of all variants): **{name}**, "
        f"test {test_cell(inputs, name)}, the ensemble of its seeds "
        f"{number(inputs.evaluate['models'][name]['ensemble_test_accuracy'])}; the published study's best test "
        f"accuracy is {published_best_test(inputs.published):.4f}."
        + (f" Against the baseline: {interval_text(against)}, p {p_text(against['p_value'])}." if against else ""),
        "What it changes of the baseline's spec: "
        + (", ".join(f"`{key}: {yaml_text(value)}`" for key, value in changed.items()) or "nothing") + ".",
        "**What each model costs** (one training; TFLOP = MFLOP per trained image × images trained: the arithmetic "
        "of the run, not its time, which README.md gives), strongest in validation first:",
        table(["model", "parameters", "MFLOP per trained image", "images trained", "TFLOP (× baseline)",
               "validation", "test", "ensemble of the seeds"], beyond.cost_rows(inputs)),
        f"**Augmentation against the same model without it** (each augmented variant against the variant whose "
        f"spec differs only in its augmentation; a family of its own, {len(effects)} comparisons, Holm-adjusted "
        "together):",
        one_factor_table("augmented − without", effects),
        *(part for key, off, title, header in beyond.FACTORS if key in factor_effects for part in (
            f"**{title} against the same model without it** (params.yaml `{key}`; each variant against the "
            f"variant whose spec differs only in `{key}: {yaml_text(off)}`; a family of its own, "
            f"{len(factor_effects[key])} comparison{'s' if len(factor_effects[key]) != 1 else ''}, "
            "Holm-adjusted together):",
            one_factor_table(header, factor_effects[key]))),
        "**Test-time mirror** (params.yaml `mirror`, stage `mirror`): each model's class probabilities on a test "
        "image and on its left-right mirror, averaged; twice the inference, the same trained models. With the "
        f"mirror against without, a family of its own ({len(mirror_effects)} comparisons, Holm-adjusted together):",
        table(["model", "test", "test with the mirror", "with − without [95% CI, seeds then images]", "p (Holm)",
               "verdict", "ensemble of the seeds, with the mirror"],
              [[c["b"], test_cell(inputs, c["b"]), test_cell(inputs, mirrored(c["b"])), interval_text(c),
                p_text(c["p_holm"]), f"**{beyond.verdict(c)}**", number(inputs.mirror_ensemble[c["b"]])]
               for c in mirror_effects]),
    ]
    return "\n\n".join(lines)


def claims_section(results):
    rows = [[r["text"], f"**{r['verdict']}**", r["detail"],
             interval_text(r["comparison"]) if "comparison" in r and "low" in r["comparison"] else "",
             p_text(r["comparison"].get("p_holm")) if "comparison" in r else ""]
            for r in results]
    return table(["published claim", "verdict here", "our figures", "difference [95% CI]", "p (Holm)"], rows)


def figures(inputs):
    evaluate = os.path.join("..", artifacts.EVALUATE_FIGURES_DIR)
    items = [("Figure 1. Training and validation loss per epoch (mean over the seeds)",
              os.path.join(evaluate, "loss_curves.png")),
             *[(f"Confusion matrix of {n} on the test set, all seeds summed",
                os.path.join(evaluate, f"confusion_{n}.png")) for n in inputs.selected],
             *[(f"Figure 2. Augmentation of {v} ({(spec or {}).get('augmentation')})",
                f"../{artifacts.augmentation_figure(v)}") for v, spec in (inputs.params.get("augmented_variants") or {}).items()],
             ("Figure 3. Confusion matrix of the best k-fold model",
              os.path.join("..", artifacts.kfold_confusion_figure("best"))),
             ("Confusion matrix of the k-fold ensemble",
              os.path.join("..", artifacts.kfold_confusion_figure("ensemble")))]
    return "\n\n".join(f"**{title}**\n\n![{title}]({path})" for title, path in items)
