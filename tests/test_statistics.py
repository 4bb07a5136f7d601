"""The statistics of the report against known values: Wilson intervals, McNemar's test, the bootstrap, Welch's test."""

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from stages import statistics


def test_wilson_interval_matches_newcombe():
    # Newcombe (1998), Statistics in Medicine 17:857, Table I: 81 of 263, score method.
    low, high = statistics.wilson_interval(81, 263)
    assert low == pytest.approx(0.2553, abs=1e-4) and high == pytest.approx(0.3662, abs=1e-4)


def test_wilson_interval_matches_its_formula():
    correct, total, z = 9156, 10000, 1.959963984540054
    p = correct / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    assert statistics.wilson_interval(correct, total) == pytest.approx((centre - half, centre + half), abs=1e-9)


def exact_mcnemar_by_hand(only_a, only_b):
    """Two-sided exact McNemar p-value: twice the binomial(b + c, 1/2) tail of the smaller count."""
    n = only_a + only_b
    tail = sum(math.comb(n, k) for k in range(min(only_a, only_b) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


@pytest.mark.parametrize("only_a, only_b", [(10, 2), (150, 86), (3, 3), (0, 7)])
def test_mcnemar_exact_matches_the_binomial_by_hand(only_a, only_b):
    both = 50
    correct_a = np.array([True] * only_a + [False] * only_b + [True] * both)
    correct_b = np.array([False] * only_a + [True] * only_b + [True] * both)
    result = statistics.mcnemar_exact(correct_a, correct_b)
    assert (result["only_a_correct"], result["only_b_correct"]) == (only_a, only_b)
    assert result["p_value"] == pytest.approx(exact_mcnemar_by_hand(only_a, only_b), rel=1e-9)


def test_mcnemar_hand_computed_case():
    # b = 10, c = 2: p = 2 (1 + 12 + 66) / 2**12
    result = statistics.mcnemar_exact([1] * 10 + [0] * 2, [0] * 10 + [1] * 2)
    assert result["p_value"] == pytest.approx(158 / 4096)


def test_mcnemar_refuses_different_images():
    with pytest.raises(ValueError, match="different images"):
        statistics.mcnemar_exact([1, 0, 1], [1, 0])


def test_bootstrap_matches_the_exact_bootstrap_distribution():
    # Six images, three right: every one of the 6**6 resamples enumerated, and the 2.5th and
    # 97.5th percentiles of their means taken by numpy: 1/6 and 5/6.
    values = np.array([0, 0, 0, 1, 1, 1], dtype=float)
    means = np.array([values[list(draw)].mean() for draw in itertools.product(range(6), repeat=6)])
    exact = np.percentile(means, [2.5, 97.5])
    assert exact == pytest.approx([1 / 6, 5 / 6])
    assert statistics.bootstrap_mean_interval(values) == pytest.approx(tuple(exact), abs=1e-12)
    # Two images, one right: the resampled means are 0, 1/2, 1 with probabilities 1/4, 1/2, 1/4.
    assert statistics.bootstrap_mean_interval([0.0, 1.0]) == (0.0, 1.0)


def test_bootstrap_is_deterministic_and_contains_the_estimate():
    rng = np.random.default_rng(7)
    # Per-image correctness averaged over three seeds, as the report gives it.
    values = (rng.random((3, 500)) < 0.85).mean(axis=0)
    low, high = statistics.bootstrap_mean_interval(values)
    assert low < values.mean() < high
    assert statistics.bootstrap_mean_interval(values) == (low, high)
    assert statistics.bootstrap_mean_interval(values, seed=1) == statistics.bootstrap_mean_interval(values, seed=1)
    narrow_low, narrow_high = statistics.bootstrap_mean_interval(values, confidence=0.5)
    assert low <= narrow_low < values.mean() < narrow_high <= high
    constant = statistics.bootstrap_mean_interval(np.ones(50))
    assert constant == (1.0, 1.0)


def test_bootstrap_of_one_model_is_close_to_wilson():
    # For one model on 10,000 images the bootstrap and Wilson intervals estimate the same thing.
    correct = np.arange(10000) < 9100
    low, high = statistics.bootstrap_mean_interval(correct)
    wilson_low, wilson_high = statistics.wilson_interval(9100, 10000)
    assert low == pytest.approx(wilson_low, abs=0.0015) and high == pytest.approx(wilson_high, abs=0.0015)


def test_bootstrap_refuses_too_few_values():
    with pytest.raises(ValueError, match="one value per test image"):
        statistics.bootstrap_mean_interval([1.0])


def test_welch_test_matches_scipy_on_the_samples():
    a, b = [0.9172, 0.9190, 0.9160], [0.9194, 0.9201, 0.9215]
    expected = stats.ttest_ind(a, b, equal_var=False).pvalue
    p_value = statistics.welch_test(np.mean(a), np.std(a, ddof=1), 3, np.mean(b), np.std(b, ddof=1), 3)
    assert p_value == pytest.approx(expected, rel=1e-9)


def test_welch_test_has_no_answer_with_one_seed():
    assert statistics.welch_test(0.91, None, 1, 0.92, None, 1) is None
    assert statistics.welch_test(0.91, 0.0, 3, 0.92, 0.0, 3) is None
