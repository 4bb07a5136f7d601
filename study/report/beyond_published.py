"""The report's section Beyond the published study: the strongest model and what it changes, what each
model costs, the one-factor families (augmentation, label smoothing, padding) and the test-time mirror,
formatted from the details of study/analysis/findings.py; and the recorded search that found the recipe."""

from study.analysis import artifacts, formats
from study.analysis.effects import FACTORS
from study.analysis.results import mirrored
from study.report.text import interval_text, number, p_text, table, test_cell, yaml_text


def families(details):
    """{key of study.json: [(comparison, its verdict)]} of each one-factor family the details hold."""
    keys = [
        "augmentation_effects",
        *(f"{key}_effects" for key, _, _, _ in FACTORS if f"{key}_effects" in details),
    ]
    return {key: list(zip(details[key], details["effect_verdicts"][key])) for key in keys}


def also_text(comparison):
    """What a one-factor change also changes in the model, where it changes anything."""
    ratios = [
        (comparison.get("parameters_ratio"), "the parameters"),
        (comparison.get("flops_ratio"), "the FLOPs"),
    ]
    changed = [
        f"{what} {ratio:.2f}x" for ratio, what in ratios if ratio is not None and abs(ratio - 1) > 1e-9
    ]
    return "; it also changes " + " and ".join(changed) if changed else ""


def effects_text(family):
    """One-factor comparisons in a sentence: each variant's difference, Holm p and verdict."""
    return (
        "; ".join(
            f"{c['a']} {interval_text(c)} (Holm p {p_text(c['p_holm'])}, {verdict}{also_text(c)})"
            for c, verdict in family
        )
        + "."
    )


def one_factor_table(header, family):
    """Each variant against its twin with one factor off (study.analysis.effects.one_factor_pairs)."""
    return table(
        [header, "difference [95% CI over seeds]", "p (paired t)", "p (Holm)", "detectable", "verdict"],
        [
            [
                f"{c['a']} − {c['b']}",
                interval_text(c),
                p_text(c["p_value"]),
                p_text(c["p_holm"]),
                number(c.get("detectable")),
                f"**{verdict}**",
            ]
            for c, verdict in family
        ],
    )


def cost_rows(details):
    return [
        [
            row["name"],
            f"{row['params']:,}",
            f"{row['mflop_per_image']:.1f}",
            f"{row['images']:,}",
            f"{row['tflop']:.1f} ({row['relative_tflop']:.1f}x)",
            f"{row['val_accuracy']:.4f}",
            f"{row['test_accuracy']:.4f}",
            f"{row['ensemble_test_accuracy']:.4f}",
        ]
        for row in details["costs"]
    ]


def factor_part(key, off, title, header, family):
    """The heading and table of one factor's family (a row of effects.FACTORS)."""
    plural = "s" if len(family) != 1 else ""
    return (
        f"**{title} against the same model without it** (params.yaml `{key}`; each variant against the "
        f"variant whose spec differs only in `{key}: {yaml_text(off)}`; a family of its own, "
        f"{len(family)} comparison{plural}, Holm-adjusted together):",
        one_factor_table(header, family),
    )


def beyond_section(results, details):
    strongest, test = details["strongest"], details["test_accuracy"]
    name, against = strongest["name"], strongest["against_baseline"]
    compared = families(details)
    mirror = zip(details["mirror_effects"], details["effect_verdicts"]["mirror_effects"])
    lines = [
        "**The strongest model of the family** (the highest mean validation accuracy of all variants): "
        f"**{name}**, test {test_cell(test[name])}, the ensemble of its seeds "
        f"{number(results.evaluate['models'][name]['ensemble_test_accuracy'])}; the published study's best "
        f"test accuracy is {strongest['published_best_test']:.4f}."
        + (
            f" Against the baseline: {interval_text(against)}, p {p_text(against['p_value'])}."
            if against
            else ""
        ),
        "What it changes of the baseline's spec: "
        + (
            ", ".join(
                f"`{key}: {yaml_text(value)}`" for key, value in strongest["changes_from_baseline"].items()
            )
            or "nothing"
        )
        + ".",
        "**What each model costs** (one training; TFLOP = MFLOP per trained image × images trained: the "
        "arithmetic of the run, not its time, which docs/speed.md gives), strongest in validation first:",
        table(
            [
                "model",
                "parameters",
                "MFLOP per trained image",
                "images trained",
                "TFLOP (× baseline)",
                "validation",
                "test",
                "ensemble of the seeds",
            ],
            cost_rows(details),
        ),
        "**Augmentation against the same model without it** (each augmented variant against the variant "
        "whose spec differs only in its augmentation; a family of its own, "
        f"{len(details['augmentation_effects'])} comparisons, Holm-adjusted together):",
        one_factor_table("augmented − without", compared["augmentation_effects"]),
        *(
            part
            for key, off, title, header in FACTORS
            if f"{key}_effects" in compared
            for part in factor_part(key, off, title, header, compared[f"{key}_effects"])
        ),
        "**Test-time mirror** (params.yaml `mirror`, stage `mirror`): each model's class probabilities on a "
        "test image and on its left-right mirror, averaged; twice the inference, the same trained models. "
        "With the mirror against without, a family of its own "
        f"({len(details['mirror_effects'])} comparisons, Holm-adjusted together):",
        table(
            [
                "model",
                "test",
                "test with the mirror",
                "with − without [95% CI over seeds]",
                "p (Holm)",
                "verdict",
                "ensemble of the seeds, with the mirror",
            ],
            [
                [
                    c["b"],
                    test_cell(test[c["b"]]),
                    test_cell(test[mirrored(c["b"])]),
                    interval_text(c),
                    p_text(c["p_holm"]),
                    f"**{verdict}**",
                    number(details["mirror_ensemble_test_accuracy"][c["b"]]),
                ]
                for c, verdict in mirror
            ],
        ),
    ]
    return "\n\n".join(lines)


def search_section(search):
    """The recipe search's recorded trainings (reports/search.json) and the comparisons made of them."""
    if not search:
        return "No search recorded (`reports/search.json`)."
    variants = sorted(search["variants"].items(), key=lambda item: -item[1]["val_accuracy"])
    rows = [
        [
            name,
            ", ".join(f"`{key}: {yaml_text(value)}`" for key, value in record["overrides"].items()) or "—",
            len(record["seeds"]),
            formats.mean_sd(record["val_accuracy"], record["val_accuracy_sd"]),
            formats.mean_sd(record["test_accuracy"], record["test_accuracy_sd"]),
            f"{record['tflop']:.1f}",
        ]
        for name, record in variants
    ]
    comparisons = [
        [
            c["family"].replace("_", " "),
            f"{c['a']} − {c['b']}",
            interval_text(c),
            p_text(c["p_holm"]),
            number(c["detectable"]),
            "**significant**" if c["significant"] else "not significant",
        ]
        for c in search["comparisons"]
    ]
    return "\n\n".join(
        [
            "The recipe came out of a search whose trainings are not part of the default pipeline: each "
            f"is recorded in `{artifacts.SEARCH}` as trained at commit {search['commit']} (its spec, seeds, "
            "validation and test accuracy, FLOPs); `python scripts/search.py NAME` trains it again as an "
            "experiment. Chosen by validation: the recipe is the cheapest of the screen (docs/protocol.md) "
            "whose validation accuracy reached 0.94. The batch-norm models of the search used Keras's "
            "kernel (`batch_norm_kernel: keras`), the recipe the fused one.",
            table(["variant", "overrides of the baseline", "seeds", "validation", "test", "TFLOP"], rows),
            "Its one-factor comparisons, as recorded (paired t-test over seeds, Holm within each family as "
            "it was then):",
            table(
                ["family", "comparison", "difference [95% CI]", "p (Holm)", "detectable", "verdict"],
                comparisons,
            ),
        ]
    )
