"""Confidence intervals and paired tests for accuracies measured on the same test images.

Wilson score intervals and McNemar's exact test come from scipy's binomial test,
bootstrap intervals from scipy.stats.bootstrap, Welch's t-test from scipy.stats.
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
        raise ValueError(f"the models were tested on different images: {correct_a.shape} and {correct_b.shape}")
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
        (values,), np.mean, n_resamples=n_resamples, confidence_level=confidence, method="percentile",
        vectorized=True, batch=max(1, min(n_resamples, 2_000_000 // values.size)), rng=np.random.default_rng(seed),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def welch_test(mean_a, sd_a, count_a, mean_b, sd_b, count_b):
    """Two-sided p-value of Welch's t-test from means, sample sds and counts; None where it has no answer.

    For figures that exist only as a mean and sd over training seeds (validation
    accuracy): one seed, or no spread in either model, leaves nothing to test.
    """
    if sd_a is None or sd_b is None or count_a < 2 or count_b < 2 or sd_a == sd_b == 0:
        return None
    result = stats.ttest_ind_from_stats(mean_a, sd_a, count_a, mean_b, sd_b, count_b, equal_var=False)
    p_value = float(result.pvalue)
    return None if np.isnan(p_value) else p_value
