"""Confidence intervals and paired tests for accuracies measured on the same test images.

Wilson score intervals and McNemar's exact test come from scipy's binomial test,
bootstrap intervals from scipy.stats.bootstrap.
Seed-level verdicts come from scipy's paired t-test over training seeds, whose false-positive
rate stays at its level with as few as three seeds (tests/test_statistics.py simulates it); the
two-level (seeds, then images) bootstrap is kept as detail. Holm's step-down correction adjusts
the p-values of a family of claims.
"""

import numpy as np
from scipy import stats


def mean_and_sd(values):
    """(mean, sample standard deviation) of figures over seeds; the sd is None for a single value."""
    values = np.asarray(values, dtype=float)
    sd = float(np.std(values, ddof=1)) if len(values) > 1 else None
    return float(np.mean(values)), sd


def wilson_interval(correct, total, confidence=0.95):
    """Wilson score interval of an accuracy of `correct` out of `total` images."""
    interval = stats.binomtest(int(correct), int(total)).proportion_ci(
        confidence_level=confidence, method="wilson"
    )
    return float(interval.low), float(interval.high)


def mcnemar_exact(correct_a, correct_b):
    """McNemar's exact test of two models on the same images.

    `correct_a` and `correct_b` are boolean arrays, one entry per image. Only the
    discordant images count: b where only A is right, c where only B is right.
    Under the null hypothesis of equal accuracy b ~ Binomial(b + c, 1/2); the
    p-value is two-sided.
    """
    correct_a, correct_b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    if correct_a.shape != correct_b.shape:
        raise ValueError(
            f"the models were tested on different images: {correct_a.shape} and {correct_b.shape}"
        )
    only_a = int(np.sum(correct_a & ~correct_b))
    only_b = int(np.sum(~correct_a & correct_b))
    if only_a + only_b == 0:
        p_value = 1.0
    else:
        p_value = float(stats.binomtest(min(only_a, only_b), only_a + only_b, 0.5).pvalue)
    return {"only_a_correct": only_a, "only_b_correct": only_b, "p_value": min(p_value, 1.0)}


BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20240601


def bootstrap_mean_interval(values, confidence=0.95, n_resamples=BOOTSTRAP_RESAMPLES, seed=BOOTSTRAP_SEED):
    """Percentile bootstrap interval of the mean of `values`, one value per test image.

    The images are resampled with replacement `n_resamples` times (scipy.stats.bootstrap,
    percentile method); the interval runs between the (1 - confidence) / 2 and
    (1 + confidence) / 2 quantiles of the resampled means. The resampling draws from a
    numpy Generator seeded with `seed`, so the same values always give the same interval.

    For the accuracy of a model trained with several seeds, `values` is each image's
    correctness averaged over the seeds; for a paired comparison of two models on the
    same images, each image's difference of correctness (A minus B, averaged over seeds).
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or values.size < 2:
        raise ValueError(f"expected one value per test image (at least two), got shape {values.shape}")
    result = stats.bootstrap(
        (values,),
        np.mean,
        n_resamples=n_resamples,
        confidence_level=confidence,
        method="percentile",
        vectorized=True,
        batch=max(1, min(n_resamples, 2_000_000 // values.size)),
        rng=np.random.default_rng(seed),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def hierarchical_bootstrap_difference(
    correct_a, correct_b, confidence=0.95, n_resamples=BOOTSTRAP_RESAMPLES, seed=BOOTSTRAP_SEED
):
    """Two-level bootstrap of the accuracy difference A minus B over training seeds and test images.

    `correct_a` and `correct_b` are boolean arrays of shape (n_seeds, n_images): whether the
    model trained with seed s got image i right; row s of A is paired with row s of B. Two
    sources of noise move an accuracy difference: which test images were drawn, and which
    training seeds were drawn. Resampling images alone ignores the second, so a difference that
    one seed contradicts could still look certain. Here each resample draws n_seeds seeds with
    replacement (the same seeds for A and B, since seeds are paired), then n_images images with
    replacement (the same images for A and B, and for every seed, since all seeds were tested on
    the same images), and takes the mean of correct_a - correct_b over the drawn seeds and images.

    The image draw of a resample is kept as counts per image (how often each image was drawn),
    built in batches with numpy's bincount, so no (n_resamples, n_images) array is held at once;
    the mean of a resample is then the count-weighted sum of each drawn seed's per-image
    differences. The sums stay integers, so a resample whose difference is zero is exactly zero.
    The draws come from numpy.random.default_rng(seed), so the same inputs give the same result.

    Returns a dict: "difference", the observed mean difference over all seeds and images; "low"
    and "high", the percentile interval at `confidence`; "p_value", the two-sided bootstrap
    p-value min(1, 2 * min(share of resampled differences <= 0, share >= 0)); and "n_seeds".
    With a single seed the seed level cannot be resampled, so low, high and p_value are None and
    callers must give no significance verdict.
    """
    correct_a, correct_b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    if correct_a.ndim != 2 or correct_a.shape != correct_b.shape or correct_a.shape[1] < 1:
        raise ValueError(
            "expected two correctness matrices of the same shape (n_seeds, n_images), "
            f"got {correct_a.shape} and {correct_b.shape}"
        )
    n_seeds, n_images = correct_a.shape
    differences = correct_a.astype(np.int64) - correct_b.astype(np.int64)
    result = {
        "difference": float(differences.mean()),
        "low": None,
        "high": None,
        "p_value": None,
        "n_seeds": n_seeds,
    }
    if n_seeds < 2:
        return result

    rng = np.random.default_rng(seed)
    seed_draws = rng.integers(0, n_seeds, size=(n_resamples, n_seeds))
    # How often each seed was drawn in each resample, shape (n_resamples, n_seeds).
    seed_counts = (seed_draws[:, :, None] == np.arange(n_seeds)).sum(axis=1)
    differences_by_image = np.ascontiguousarray(differences.T)  # (n_images, n_seeds)
    resampled = np.empty(n_resamples)
    batch_size = max(1, min(n_resamples, 1_000_000 // n_images))
    for start in range(0, n_resamples, batch_size):
        stop = min(start + batch_size, n_resamples)
        rows = stop - start
        image_draws = rng.integers(0, n_images, size=(rows, n_images))
        offsets = np.arange(rows)[:, None] * n_images
        image_counts = np.bincount((image_draws + offsets).ravel(), minlength=rows * n_images)
        image_counts = image_counts.reshape(rows, n_images)
        sums_per_seed = image_counts @ differences_by_image  # (rows, n_seeds), integers
        resampled[start:stop] = (seed_counts[start:stop] * sums_per_seed).sum(axis=1) / (n_seeds * n_images)

    tail = (1 - confidence) / 2
    low, high = np.percentile(resampled, [100 * tail, 100 * (1 - tail)])
    share_at_or_below_zero = float(np.mean(resampled <= 0))
    share_at_or_above_zero = float(np.mean(resampled >= 0))
    result.update(
        low=float(low),
        high=float(high),
        p_value=min(1.0, 2 * min(share_at_or_below_zero, share_at_or_above_zero)),
    )
    return result


def paired_seed_t_test(accuracies_a, accuracies_b):
    """Two-sided p-value of the paired t-test over training seeds; None where it has no answer.

    `accuracies_a` and `accuracies_b` hold one accuracy per training seed, paired by seed. The
    test asks whether the per-seed differences are centred away from zero relative to their
    spread across seeds, which is the seed-level question that image-level tests do not ask.
    With fewer than two seeds there is no spread to estimate, and when every seed gives the same
    difference (up to floating-point rounding of accuracies such as 0.92 - 0.88) the spread is
    zero and the t statistic is undefined, so both cases return None rather than a verdict.
    """
    accuracies_a = np.asarray(accuracies_a, dtype=float)
    accuracies_b = np.asarray(accuracies_b, dtype=float)
    if accuracies_a.ndim != 1 or accuracies_a.shape != accuracies_b.shape:
        raise ValueError(
            "expected one accuracy per seed for both models, got shapes "
            f"{accuracies_a.shape} and {accuracies_b.shape}"
        )
    if accuracies_a.size < 2:
        return None
    differences = accuracies_a - accuracies_b
    if np.ptp(differences) <= 1e-12:
        return None
    p_value = float(stats.ttest_rel(accuracies_a, accuracies_b).pvalue)
    return None if np.isnan(p_value) else p_value


def paired_seed_difference(accuracies_a, accuracies_b, confidence=0.95, power=0.8):
    """The seed-level comparison of two models: the mean of the per-seed differences A minus B, its
    t interval, the paired t-test's p-value, and the smallest difference the seeds could detect.

    With n paired seeds and the per-seed differences' sample sd s, the interval is the mean
    +/- t(1 - (1 - confidence) / 2, n - 1) s / sqrt(n), and `detectable` is the difference the
    test would call at the same level with probability `power`:
    (t(1 - (1 - confidence) / 2, n - 1) + t(power, n - 1)) s / sqrt(n). Fewer than two seeds,
    or differences with no spread, leave the interval, p-value and detectable difference None.
    """
    a, b = np.asarray(accuracies_a, dtype=float), np.asarray(accuracies_b, dtype=float)
    p_value = paired_seed_t_test(a, b)
    differences = a - b
    result = {
        "difference": float(differences.mean()),
        "low": None,
        "high": None,
        "p_value": p_value,
        "detectable": None,
        "n_seeds": int(differences.size),
    }
    if p_value is None:
        if differences.size > 1 and not differences.any():
            # Equal on every seed: no difference at all, which is a verdict, not a missing one.
            result.update(low=0.0, high=0.0, p_value=1.0)
        return result
    count = differences.size
    error = float(np.std(differences, ddof=1)) / np.sqrt(count)
    critical = float(stats.t.ppf(1 - (1 - confidence) / 2, count - 1))
    result.update(
        low=result["difference"] - critical * error,
        high=result["difference"] + critical * error,
        detectable=(critical + float(stats.t.ppf(power, count - 1))) * error,
    )
    return result


def welch_difference(accuracies_a, accuracies_b, confidence=0.95):
    """Two sets of different trainings (not paired seeds): the difference of their mean accuracies,
    Welch's t interval and p-value (scipy.stats.ttest_ind, unequal variances); None below two each."""
    a, b = np.asarray(accuracies_a, dtype=float), np.asarray(accuracies_b, dtype=float)
    result = {"difference": float(a.mean() - b.mean()), "low": None, "high": None, "p_value": None}
    if min(a.size, b.size) > 1:
        test = stats.ttest_ind(a, b, equal_var=False)
        interval = test.confidence_interval(confidence)
        result.update(low=float(interval.low), high=float(interval.high), p_value=float(test.pvalue))
    return result


def holm_adjust(p_values):
    """Holm-Bonferroni step-down adjusted p-values, returned in the order given.

    When several claims are judged at once, the chance that at least one of them looks
    significant by luck grows with their number; Holm's method keeps that family-wise error
    rate at the chosen level while being less conservative than Bonferroni. With the m
    p-values sorted in ascending order, the adjusted p_(i) is the maximum over j <= i of
    min(1, (m - j + 1) * p_(j)). None entries (claims with no test, such as a single seed)
    stay None and do not count in the family size m.
    """
    p_values = list(p_values)
    tested = [index for index, p_value in enumerate(p_values) if p_value is not None]
    ordered = sorted(tested, key=lambda index: p_values[index])
    family_size = len(ordered)
    adjusted = [None] * len(p_values)
    running_maximum = 0.0
    for rank, index in enumerate(ordered):
        running_maximum = max(running_maximum, min(1.0, (family_size - rank) * float(p_values[index])))
        adjusted[index] = running_maximum
    return adjusted
