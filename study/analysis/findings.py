"""The study's findings: every comparison, claim verdict, fidelity record, accuracy, cost and effect that
the report prints, computed here from the StudyResults and kept in metrics/details/study.json.

    details = findings.analyse(results)     # everything study.json holds, and all the report formats
    findings.headline(results, details)     # metrics/headline.json: the few figures DVC compares
"""

from collections import Counter

from study.analysis import accuracy, claims, cost, effects, fidelity
from study.analysis.compare import compare, compare_trainings
from study.analysis.evaluation import confusion_matrix
from study.analysis.kfold import KFOLD_BEST, KFOLD_ENSEMBLE, KFOLD_FOLDS
from study.analysis.results import BASELINE, mirrored
from study.data.facts import CLASS_NAMES
from study.training import runs


def comparisons_with_baseline(results, checked):
    """Every compared model against the baseline; a published claim's own comparison (Holm-adjusted) where
    one exists. `checked`: the claims' results (claims.check_all)."""
    tested = {
        (r["comparison"]["a"], r["comparison"]["b"]): r["comparison"]
        for r in checked
        if r["kind"] == "better_on_test" and "comparison" in r
    }
    rows = []
    for name in [*results.selected[1:2], *results.compared, runs.KFOLD_CARRIED, KFOLD_BEST, KFOLD_ENSEMBLE]:
        if name == BASELINE:
            continue
        rows.append(tested.get((name, BASELINE)) or compare(results, name, BASELINE))
    # The honest k-fold's models are five trainings of their own: against the baseline's seeds, unpaired.
    rows.append(compare_trainings(results, KFOLD_FOLDS, BASELINE))
    return rows


def strongest_model(results, comparisons, validation):
    """The strongest model in validation: its name, what its spec changes of the baseline's, its comparison
    with the baseline (the one already in `comparisons` where there is one) and the published best test."""
    name = effects.strongest(validation)
    made = {c["a"]: c for c in comparisons if c["b"] == BASELINE}
    published = results.published
    return {
        "name": name,
        "changes_from_baseline": effects.changes(results.specs[name], results.specs[BASELINE]),
        "against_baseline": None if name == BASELINE else made.get(name) or compare(results, name, BASELINE),
        "published_best_test": max(
            [
                *published["table2"].values(),
                *published["table4"].values(),
                *(row["test_accuracy"] for row in published["table5"].values()),
            ]
        ),
    }


def figure_3_counts(results):
    """Each confusion the published Figure 3 quotes, counted in the honest k-fold's best model and in the
    carried-over one."""
    index = {name: i for i, name in enumerate(CLASS_NAMES)}
    matrices = {
        name: confusion_matrix(results.labels, results.answers[name][0])
        for name in (KFOLD_BEST, runs.KFOLD_CARRIED)
    }
    return [
        {
            "actual": cell["actual"],
            "predicted": cell["predicted"],
            "published": cell["count"],
            **{
                name: int(matrix[index[cell["actual"]], index[cell["predicted"]]])
                for name, matrix in matrices.items()
            },
        }
        for cell in results.published["figure3"]
    ]


def summary(results, details):
    """The few facts the report's Findings open with, from the details computed before."""
    tests = {name: record["mean"] for name, record in details["test_accuracy"].items()}
    verdicts = {}
    for result in details["claims"]:
        verdicts.setdefault(result["verdict"].split(" (")[0], []).append(result["key"])
    return {
        # Chosen by validation, as every choice of the study is (the strongest model); the report
        # gives its test figure.
        "best_in_validation": details["strongest"]["name"],
        "claim_verdicts": verdicts,
        "claims_holding": sum(result["verdict"] == "holds" for result in details["claims"]),
        # Counted in the order each verdict first occurs, as the report lists them.
        "mirror_verdicts": dict(Counter(details["effect_verdicts"]["mirror_effects"])),
        "best_with_mirror": (
            max(results.mirrored, key=lambda name: tests[mirrored(name)]) if results.mirrored else None
        ),
    }


def analyse(results):
    """Everything metrics/details/study.json holds, in its order: the comparisons and verdicts first."""
    checked = claims.check_all(results)
    records = fidelity.headline_numbers(results)
    comparisons = comparisons_with_baseline(results, checked)
    families = {
        "augmentation_effects": effects.augmentation_effects(results),
        "mirror_effects": effects.mirror_effects(results),
        **{f"{key}_effects": value for key, value in effects.factor_effects(results).items()},
    }
    training = accuracy.accuracies_in_training(results)
    validation = {name: figures[runs.VAL_ACCURACY]["mean"] for name, figures in training.items()}
    test = accuracy.accuracies_on_test(results)
    details = {"fidelity": records, "claims": checked, "comparisons": comparisons, **families}
    details.update(
        {
            "claim_family_size": sum(
                1
                for r in checked
                if "comparison" in r
                and r["comparison"].get("p_holm") is not None
                and r["comparison"].get("family", "models") == "models"
            ),
            "fidelity_split": fidelity.split_count(records),
            "test_accuracy_interval": accuracy.interval_method(),
            "test_accuracy": test,
            "training_accuracy": training,
            "mirror_ensemble_test_accuracy": results.mirror_ensemble,
            "strongest": strongest_model(results, comparisons, validation),
            "costs": cost.cost_table(
                results,
                sorted(results.names, key=lambda name: -validation[name]),
                BASELINE,
                {
                    name: {
                        "val_accuracy": validation[name],
                        "test_accuracy": test[name]["mean"],
                        "ensemble_test_accuracy": results.evaluate["models"][name]["ensemble_test_accuracy"],
                    }
                    for name in results.names
                },
            ),
            "effect_verdicts": {
                key: [effects.verdict(c) for c in family] for key, family in families.items()
            },
            "figure3": figure_3_counts(results),
        }
    )
    # What one training of each variant costs, by variant (the rows of `costs`, keyed by name).
    details["cost"] = {
        row["name"]: {
            "parameters": row["params"],
            "mflop_per_image": row["mflop_per_image"],
            "images": row["images"],
            "tflop": row["tflop"],
        }
        for row in details["costs"]
    }
    details["findings"] = summary(results, details)
    return details


def headline(results, details):
    """metrics/headline.json: per variant the validation and test accuracy (mean; test sd), the k-folds,
    fidelity."""
    test, training = details["test_accuracy"], details["training_accuracy"]
    split = details["fidelity_split"]
    return {
        "val": {name: training[name][runs.VAL_ACCURACY]["mean"] for name in results.names},
        "test": {name: test[name]["mean"] for name in results.names},
        "test_sd": {name: test[name]["sd"] for name in results.names},
        "kfold": {
            "val": results.kfold["val_accuracy_mean"],
            "test_best_fold": test[KFOLD_BEST]["mean"],
            "test_ensemble": test[KFOLD_ENSEMBLE]["mean"],
            "carried_val": results.carried[runs.VAL_ACCURACY],
            "carried_test": test[runs.KFOLD_CARRIED]["mean"],
        },
        "test_mirror": {name: test[mirrored(name)]["mean"] for name in results.mirrored},
        # Table 1's numbers chose the protocol (out of 10); the held-out ones did not.
        "fidelity": {
            "tuned_within_2sd": split["tuned_within_2sd"],
            "held_out_within_2sd": split["held_out_within_2sd"],
            "held_out_total": split["held_out_total"],
        },
    }
