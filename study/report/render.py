"""The Markdown of reports/study.md: the findings, every table beside the published numbers, the
protocol screen, the fidelity of each headline number and a verdict for every published claim.

    page(results, details)    # the StudyResults and study/analysis/findings.analyse's details

Formatting only: each figure, interval, comparison and verdict arrives computed.
"""

import os

from study.analysis import artifacts
from study.analysis.effects import FACTORS
from study.analysis.results import BASELINE, mirrored
from study.data import paths as data_paths
from study.report import tables
from study.report.beyond_published import beyond_section, effects_text, families, search_section
from study.report.text import interval_text, number, p_text, table, test_cell
from study.training import runs


def page(results, details):
    """The whole report."""
    return (
        "\n\n".join(
            [
                "# Fashion-MNIST CNN study: results",
                intro(results, details),
                "## Findings",
                findings_section(results, details),
                "## Protocol",
                protocol_section(results),
                "## Fidelity",
                fidelity_section(details),
                "## Tables",
                tables.table_1(results, details),
                tables.table_2_and_4(results, details),
                tables.table_3(results),
                tables.table_5(results, details),
                tables.figure_3(details),
                "## Beyond the published study",
                beyond_section(results, details),
                "## How the recipe was found",
                search_section(results.search),
                "## Every published claim",
                claims_section(details["claims"]),
                "## Figures",
                figures(results),
            ]
        )
        + "\n"
    )


def findings_section(results, details):
    summary, test = details["findings"], details["test_accuracy"]
    best, strongest = summary["best_in_validation"], details["strongest"]["name"]
    split = details["fidelity_split"]
    params = next(row["params"] for row in details["costs"] if row["name"] == strongest)
    compared = families(details)
    carried = results.carried
    lines = [
        f"- **Held out: {split['held_out_within_2sd']} of {split['held_out_total']}** published numbers that "
        "did not choose the protocol lie within 2 sd of ours (the test accuracies of Tables 2 and 4, and "
        f"Table 5 from the honest k-fold). Table 1's numbers chose the protocol, so they were fitted: "
        f"{split['tuned_within_2sd']} of {split['tuned_total']} within 2 sd.",
        "- Table 5 as published is explained, not counted: one model carried from fold to fold, whose "
        "validation folds it had already trained on, gives validation "
        + ", ".join(f"{fold[runs.VAL_ACCURACY]:.4f}" for fold in carried["folds"])
        + f" fold by fold (mean {carried['val_accuracy_mean']:.4f}; the published figure is its last "
        "fold's).",
        f"- Best model in validation: **{best}**, test {test_cell(test[best])}; the ensemble of its seeds "
        f"{number(results.evaluate['models'][best]['ensemble_test_accuracy'])}.",
        "- Published claims: "
        + "; ".join(f"{len(keys)} {verdict}" for verdict, keys in summary["claim_verdicts"].items())
        + ".",
        f"- Beyond the published study: the strongest model in validation is **{strongest}** "
        f"({params:,} parameters), test {test_cell(test[strongest])}. "
        "Augmentation against the same model without it: " + effects_text(compared["augmentation_effects"]),
    ]
    for key, _, title, _ in FACTORS:
        if f"{key}_effects" in compared:
            lines.append(
                f"- {title} against the same model without it: " + effects_text(compared[f"{key}_effects"])
            )
    top = summary["best_with_mirror"]
    if details["mirror_effects"]:
        lines.append(
            f"- Test-time mirror, on {len(details['mirror_effects'])} models (Holm): "
            + ", ".join(f"{verdict} {count}" for verdict, count in summary["mirror_verdicts"].items())
            + ". "
            f"The best with it: **{top}**, test {test_cell(test[mirrored(top)])} against "
            f"{test_cell(test[top])} without; the ensemble of its seeds with it "
            f"{number(details['mirror_ensemble_test_accuracy'][top])}."
        )
    return "\n".join(lines)


def intro(results, details):
    seeds = ", ".join(map(str, results.seeds))
    interval, family_size = details["test_accuracy_interval"], details["claim_family_size"]
    return (
        "Written by `python -m stages.report` (`dvc repro report`) from the files of the pipeline; the "
        f"published numbers and claims come from `{artifacts.PUBLISHED}`. Every variant is trained once per "
        f"seed ({seeds}); figures are the mean ± sample sd over the seeds. Test accuracies carry a "
        f"{interval['confidence']:.0%} percentile bootstrap interval over the test images "
        f"({interval['resamples']} resamples, numpy seed {interval['seed']}).\n\n"
        "**How a difference is judged.** Two models are compared seed by seed on the same test images. The "
        "p-value and 95% interval of the difference come from the paired t-test over the seeds' test "
        "accuracies, whose false-positive rate stays at 5% with as few as three seeds "
        "(`tests/test_statistics.py` simulates it); each comparison also gives the smallest difference its "
        "seeds could detect with 80% power. The hierarchical bootstrap (seeds, then test images) and "
        "McNemar's exact test per seed pair stay as detail. Each claim that one model beats another is a "
        f"member of one family ({family_size} claims: every `better_on_test` and `better_in_validation` "
        "claim of the published study with a seed level to test), and each per-class claim of another; "
        "their p-values are Holm-adjusted within the family, and a claim "
        "**holds** when the adjusted p is below 0.05 and the difference points its way, **holds in direction "
        "only** when it points its way without that, and **does not hold** otherwise. A comparison with a "
        "single training run on one side (the k-fold models) gets **no verdict**."
    )


def protocol_section(results):
    screen = results.screen
    if not screen or not screen.get("candidates"):
        return "No protocol screen recorded (`reports/protocol_screen.json`; docs/protocol.md)."
    # The baseline as the chosen protocol sets it: the protocol this study's figures come from.
    baseline = results.study.spec(BASELINE)
    chosen = f"batch {baseline.batch_size}, {baseline.epochs} epochs"
    rows = [
        [
            c["candidate"],
            c["epochs"],
            f"{c['within_2sd']} of {c['measured']}",
            *[number(f["ours"]) + (" ✓" if f["within_2sd"] else "") for f in c["figures"]],
        ]
        for c in screen["candidates"]
    ]
    first = screen["candidates"][0]["figures"]
    header = [
        "candidate",
        "epochs",
        "within 2 sd",
        *[
            f"{f['variant']} {'train' if f['figure'] == 'train_accuracy' else 'val'} ({f['published']:.4f})"
            for f in first
        ],
    ]
    return (
        "The published study leaves the batch size, the number of epochs and the dense dropout rate open. "
        "Each candidate below is a run of the five variants at one reading, read at several epochs from its "
        "history (over the seeds it has; the column `seeds` of reports/protocol_screen.json); a ✓ marks a "
        "published Table 1 figure within 2 sd of ours (sd: the spread over seeds in commit "
        f"{screen['sd_rev']}, floored at {screen['sd_floor']}). Training figures are the running ones Keras "
        f"prints, as published. `{chosen}` is the protocol of this study (params.yaml `baseline`). The "
        f"dense dropout rate was not screened: it is {baseline.dense_dropout_rate} in every candidate, the "
        "rate after the convolutions.\n\n" + table(header, rows)
    )


def fidelity_section(details):
    records = details["fidelity"]
    rows = [
        [
            r["key"],
            number(r["published"]),
            number(r["ours"]),
            number(r["sd"]),
            f"{r['distance_sd']:.1f}",
            "yes" if r["within_2sd"] else "**no**",
            r["source"],
        ]
        for r in records
    ]
    split = details["fidelity_split"]
    return (
        f"**Held out: {split['held_out_within_2sd']} of {split['held_out_total']} published numbers lie "
        "within 2 sd of ours** (the test figures of Tables 2 and 4 from the seeds, Table 5 from the "
        f"honest k-fold). Table 1's {split['tuned_total']} numbers chose the protocol, so they count "
        f"apart as fitted ({split['tuned_within_2sd']} within 2 sd); the carried-over k-fold's rows "
        "explain the published Table 5 and are not counted. The sd is the spread over training seeds of "
        "the same figure, floored at 0.002; a one-run figure takes the seed sd of the same figure of "
        "the k-fold's variant.\n\n"
        + table(["number", "published", "ours", "sd", "distance (sd)", "within 2 sd", "from"], rows)
    )


def claims_section(checked):
    rows = [
        [
            r["text"],
            f"**{r['verdict']}**",
            r["detail"],
            interval_text(r["comparison"]) if "comparison" in r and "low" in r["comparison"] else "",
            p_text(r["comparison"].get("p_holm")) if "comparison" in r else "",
        ]
        for r in checked
    ]
    return table(["published claim", "verdict here", "our figures", "difference [95% CI]", "p (Holm)"], rows)


def figures(results):
    evaluate = os.path.join("..", artifacts.EVALUATE_FIGURES_DIR)
    items = [
        (
            "Figure 1. Training and validation loss per epoch (mean over the seeds)",
            os.path.join(evaluate, "loss_curves.png"),
        ),
        *[
            (
                f"Confusion matrix of {n} on the test set, all seeds summed",
                os.path.join(evaluate, f"confusion_{n}.png"),
            )
            for n in results.selected
        ],
        *[
            (
                f"Figure 2. Augmentation of {v} ({results.specs[v].augmentation})",
                f"../{data_paths.augmentation_figure(v)}",
            )
            for v in results.study.augmented_variant_names
        ],
        (
            "Figure 3. Confusion matrix of the best k-fold model",
            os.path.join("..", artifacts.kfold_confusion_figure("best")),
        ),
        (
            "Confusion matrix of the k-fold ensemble",
            os.path.join("..", artifacts.kfold_confusion_figure("ensemble")),
        ),
    ]
    return "\n\n".join(f"**{title}**\n\n![{title}]({path})" for title, path in items)
