"""Confidence intervals and paired tests for accuracies measured on the same test images."""

import numpy as np
from scipy import stats


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
