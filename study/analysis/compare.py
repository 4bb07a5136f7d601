"""Model against model on the same test images, judged at the level of training seeds.

A difference counts only if it holds across training seeds: the verdict's p-value and
interval come from the paired t-test over the seeds' test accuracies, whose false-positive
rate stays at 5% with three seeds, where a bootstrap over three seeds has only ten distinct
resamples and rejects far more often. Each comparison also states the smallest difference its
seeds could detect (80% power). The hierarchical bootstrap (the seeds, paired, then the test
images) and McNemar's exact test per seed pair are kept as detail. A comparison with a single
training run on one side (the k-fold models) has no seed level: no verdict where it points the
claim's way, "does not hold" where it does not. Two sets of different trainings (the k-fold's
fold models against a variant's seeds) are compared unpaired, by Welch's t-test. Holm's
correction runs over each family of claims the report tests.
"""

from study.analysis.statistics import (
    hierarchical_bootstrap_difference,
    holm_adjust,
    mcnemar_exact,
    paired_seed_difference,
    welch_difference,
)

SIGNIFICANCE = 0.05


def compare(results, name_a, name_b):
    """A against B: the mean difference in test accuracy (A minus B), its 95% interval and p-value."""
    a, b = results.correct[name_a], results.correct[name_b]
    seeds = results.seeds_of(name_a)
    if min(len(a), len(b)) >= 2 and (seeds is None or seeds != results.seeds_of(name_b)):
        # Trained over different seeds: no pairs, so the two sets of models are compared unpaired.
        return compare_trainings(results, name_a, name_b)
    result = {"a": name_a, "b": name_b, "n_seeds": min(len(a), len(b))}
    if len(a) < 2:
        # One model on one side: one training run, whose luck no seed-level test can see.
        result.update(
            difference=float(a.mean() - b.mean()),
            low=None,
            high=None,
            p_value=None,
            detectable=None,
            mcnemar=[],
            single_run=True,
        )
        return result
    seed_level = paired_seed_difference(a.mean(axis=1), b.mean(axis=1))
    bootstrap = hierarchical_bootstrap_difference(a, b)
    result.update(
        difference=seed_level["difference"],
        low=seed_level["low"],
        high=seed_level["high"],
        p_value=seed_level["p_value"],
        detectable=seed_level["detectable"],
        single_run=False,
        bootstrap={key: bootstrap[key] for key in ("low", "high", "p_value")},
        mcnemar=[{"seed": seed, **mcnemar_exact(x, y)} for seed, x, y in zip(seeds, a, b)],
    )
    return result


def compare_trainings(results, name_a, name_b):
    """A against B where the two are different sets of trainings, not paired seeds (the k-fold's fold
    models against a variant's seeds): Welch's t-test over the models' test accuracies."""
    a, b = results.test_values(name_a), results.test_values(name_b)
    return {
        "a": name_a,
        "b": name_b,
        "n_seeds": [len(a), len(b)],
        **welch_difference(a, b),
        "detectable": None,
        "measure": "test accuracy per model (Welch's t-test, unpaired)",
        "single_run": False,
        "mcnemar": [],
    }


def adjust(comparisons):
    """Holm-adjusted p-values over the family `comparisons` (a list), in place; returns the list."""
    adjusted = holm_adjust([c["p_value"] for c in comparisons])
    for comparison, p_value in zip(comparisons, adjusted):
        comparison["p_holm"] = p_value
        comparison["significant"] = p_value is not None and p_value < SIGNIFICANCE
    return comparisons
