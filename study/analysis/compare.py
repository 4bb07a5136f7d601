"""Model against model on the same test images, judged at the level of training seeds.

A difference counts only if it holds across training seeds: the interval and the
p-value come from a hierarchical bootstrap (the seeds, paired, then the test
images), so both the spread between trainings and the sampling of test images
are in it. McNemar's exact test per seed pair and a paired t-test over the
seeds' accuracies are kept as detail. A comparison that involves a single
training run (the k-fold models) has no seed level to resample and gets no
verdict. Holm's correction runs over the family of claims the report tests.
"""

from study.analysis.statistics import (
    hierarchical_bootstrap_difference,
    holm_adjust,
    mcnemar_exact,
    paired_seed_t_test,
)

SIGNIFICANCE = 0.05


def compare(results, name_a, name_b):
    """A against B: the mean difference in test accuracy (A minus B), its 95% interval and p-value."""
    a, b = results.correct[name_a], results.correct[name_b]
    result = {"a": name_a, "b": name_b, "n_seeds": min(len(a), len(b))}
    if len(a) != len(b) or len(a) < 2:
        # One model on one side: one training run, whose luck no bootstrap can see.
        result.update(
            difference=float(a.mean() - b.mean()),
            low=None,
            high=None,
            p_value=None,
            t_test_p=None,
            mcnemar=[],
            single_run=True,
        )
        return result
    bootstrap = hierarchical_bootstrap_difference(a, b)
    result.update(
        difference=bootstrap["difference"],
        low=bootstrap["low"],
        high=bootstrap["high"],
        p_value=bootstrap["p_value"],
        single_run=False,
        t_test_p=paired_seed_t_test(a.mean(axis=1), b.mean(axis=1)),
        mcnemar=[{"seed": seed, **mcnemar_exact(x, y)} for seed, x, y in zip(results.seeds, a, b)],
    )
    return result


def adjust(comparisons):
    """Holm-adjusted p-values over the family `comparisons` (a list), in place; returns the list."""
    adjusted = holm_adjust([c["p_value"] for c in comparisons])
    for comparison, p_value in zip(comparisons, adjusted):
        comparison["p_holm"] = p_value
        comparison["significant"] = p_value is not None and p_value < SIGNIFICANCE
    return comparisons
