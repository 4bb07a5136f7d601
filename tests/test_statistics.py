"""The statistics of the report against known values: Wilson intervals, McNemar's test, the bootstrap,
the seed-level bootstrap and paired t-test, and Holm's correction."""

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from study.analysis import statistics


def test_wilson_interval_matches_newcombe():
    # Newcombe (1998), Statistics in Medicine 17:857, Table I: 81 of 263, score method.
    low, high = statistics.wilson_interval(81, 263)
    assert low == pytest.approx(0.2553, abs=1e-4) and high == pytest.approx(0.3662, abs=1e-4)


def test_wilson_interval_matches_its_formula():
    correct, total, z = 9156, 10000, 1.959963984540054
    p = correct / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    expected = (centre - half, centre + half)
    assert statistics.wilson_interval(correct, total) == pytest.approx(expected, abs=1e-9)


def exact_mcnemar_by_hand(only_a, only_b):
    """Two-sided exact McNemar p-value: twice the binomial(b + c, 1/2) tail of the smaller count."""
    n = only_a + only_b
    tail = sum(math.comb(n, k) for k in range(min(only_a, only_b) + 1)) / 2**n
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
    same_seed = statistics.bootstrap_mean_interval(values, seed=1)
    assert statistics.bootstrap_mean_interval(values, seed=1) == same_seed
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


def test_holm_adjust_matches_the_hand_computed_case():
    # Sorted: 0.005, 0.01, 0.03, 0.04 with m = 4 -> 4 * 0.005 = 0.02, 3 * 0.01 = 0.03,
    # 2 * 0.03 = 0.06, max(0.06, 1 * 0.04) = 0.06. The None claim is left out of m.
    adjusted = statistics.holm_adjust([0.01, 0.04, None, 0.03, 0.005])
    assert adjusted[2] is None
    assert [adjusted[i] for i in (0, 1, 3, 4)] == pytest.approx([0.03, 0.06, 0.06, 0.02], abs=1e-12)


def test_holm_adjust_caps_at_one_and_keeps_the_order_monotone():
    # Sorted: 0.02, 0.3, 0.5 -> 0.06, max(0.06, 0.6) = 0.6, max(0.6, min(1, 0.5)) = 0.6.
    assert statistics.holm_adjust([0.5, 0.02, 0.3]) == pytest.approx([0.6, 0.06, 0.6], abs=1e-12)
    assert statistics.holm_adjust([0.6, 0.7]) == pytest.approx([1.0, 1.0])
    assert statistics.holm_adjust([None, None]) == [None, None]


def correctness(rng, accuracy, n_images):
    """A random pattern of right and wrong images with exactly the given accuracy."""
    right = np.zeros(n_images, dtype=bool)
    right[rng.permutation(n_images)[: round(accuracy * n_images)]] = True
    return right


def paired_models(per_seed_accuracies, n_images=2000, seed=11):
    """Correctness matrices of A and B, one row per training seed, from (accuracy A, accuracy B) per seed."""
    rng = np.random.default_rng(seed)
    correct_a = np.stack([correctness(rng, a, n_images) for a, _ in per_seed_accuracies])
    correct_b = np.stack([correctness(rng, b, n_images) for _, b in per_seed_accuracies])
    return correct_a, correct_b


def test_hierarchical_bootstrap_is_deterministic_and_reports_the_plain_mean_difference():
    correct_a, correct_b = paired_models([(0.91, 0.90), (0.92, 0.905), (0.90, 0.91)])
    result = statistics.hierarchical_bootstrap_difference(correct_a, correct_b)
    assert result == statistics.hierarchical_bootstrap_difference(correct_a, correct_b)
    expected = (correct_a.astype(float) - correct_b.astype(float)).mean()
    assert result["difference"] == pytest.approx(expected, abs=1e-15)
    assert result["difference"] == pytest.approx((0.01 + 0.015 - 0.01) / 3, abs=1e-12)
    assert result["n_seeds"] == 3
    assert result["low"] < result["difference"] < result["high"]
    other = statistics.hierarchical_bootstrap_difference(correct_a, correct_b, seed=5)
    assert other != result and other["difference"] == result["difference"]


def test_hierarchical_bootstrap_of_identical_models_finds_nothing():
    correct_a, _ = paired_models([(0.9, 0.9)] * 3)
    result = statistics.hierarchical_bootstrap_difference(correct_a, correct_a.copy())
    assert result["difference"] == 0.0 and result["low"] == 0.0 and result["high"] == 0.0
    assert result["p_value"] == 1.0


def test_hierarchical_bootstrap_matches_the_exact_seed_distribution():
    # A right and B wrong on every image for seeds 0 and 1, the reverse for seed 2: image draws
    # change nothing, and a resample with k draws of seed 2 has mean (3 - 2k) / 3. Over the 27
    # equally likely seed draws, P(mean <= 0) = P(k >= 2) = 7/27, so the p-value is 14/27; the
    # lowest mean -1 has probability 1/27 > 2.5% and the highest 1 has 8/27, so the 95%
    # percentile interval is exactly (-1, 1).
    correct_a = np.array([[True] * 50, [True] * 50, [False] * 50])
    result = statistics.hierarchical_bootstrap_difference(correct_a, ~correct_a)
    assert result["difference"] == pytest.approx(1 / 3)
    assert (result["low"], result["high"]) == (-1.0, 1.0)
    # 2000 resamples: the share 7/27 has a standard error of about 0.01, the p-value twice that.
    assert result["p_value"] == pytest.approx(14 / 27, abs=0.06)


def test_hierarchical_bootstrap_with_identical_seeds_is_the_image_bootstrap():
    # When every seed gave the same results the seed draw changes nothing, and what is left is
    # the plain image bootstrap of the per-image differences (checked against Wilson above).
    one_a, one_b = paired_models([(0.92, 0.88)], n_images=4000)
    result = statistics.hierarchical_bootstrap_difference(
        np.repeat(one_a, 3, axis=0), np.repeat(one_b, 3, axis=0)
    )
    low, high = statistics.bootstrap_mean_interval(one_a[0].astype(float) - one_b[0].astype(float))
    assert result["difference"] == pytest.approx(0.04, abs=1e-12)
    assert result["low"] == pytest.approx(low, abs=0.002) and result["high"] == pytest.approx(high, abs=0.002)


def test_hierarchical_bootstrap_finds_a_difference_every_seed_agrees_on():
    correct_a, correct_b = paired_models([(0.92, 0.88)] * 3)
    result = statistics.hierarchical_bootstrap_difference(correct_a, correct_b)
    assert result["difference"] == pytest.approx(0.04, abs=1e-12)
    assert 0 < result["low"] < 0.04 < result["high"]
    assert result["p_value"] < 0.05


def test_hierarchical_bootstrap_sees_seeds_that_disagree():
    # Seeds +0.04, +0.04, -0.06 on 2000 images each: every seed's difference is far outside its
    # image noise, yet one seed in three points the other way, so the seed-level interval must
    # contain 0 (a resample draws seed 2 at least twice in 7 of 27 cases, giving a mean <= -0.027).
    correct_a, correct_b = paired_models([(0.92, 0.88), (0.92, 0.88), (0.86, 0.92)])
    result = statistics.hierarchical_bootstrap_difference(correct_a, correct_b)
    assert result["difference"] == pytest.approx(0.02 / 3, abs=1e-12)
    assert result["low"] < 0 < result["high"]
    assert result["p_value"] > 0.05


def test_hierarchical_bootstrap_has_no_verdict_with_one_seed():
    correct_a, correct_b = paired_models([(0.92, 0.88)])
    result = statistics.hierarchical_bootstrap_difference(correct_a, correct_b)
    assert result == {
        "difference": pytest.approx(0.04),
        "low": None,
        "high": None,
        "p_value": None,
        "n_seeds": 1,
    }


def test_hierarchical_bootstrap_refuses_unpaired_matrices():
    with pytest.raises(ValueError, match="same shape"):
        statistics.hierarchical_bootstrap_difference(np.ones((3, 10), bool), np.ones((2, 10), bool))
    with pytest.raises(ValueError, match="same shape"):
        statistics.hierarchical_bootstrap_difference(np.ones(10, bool), np.ones(10, bool))


def test_hierarchical_bootstrap_is_fast_on_the_full_test_set():
    import time

    correct_a, correct_b = paired_models([(0.92, 0.91), (0.915, 0.91), (0.92, 0.905)], n_images=10000)
    start = time.perf_counter()
    statistics.hierarchical_bootstrap_difference(correct_a, correct_b)
    assert time.perf_counter() - start < 3.0


def test_paired_seed_t_test_matches_scipy():
    a, b = [0.9172, 0.9190, 0.9160], [0.9194, 0.9201, 0.9215]
    # By hand: differences -0.0022, -0.0011, -0.0055; t = mean / (sd / sqrt(3)) with 2 degrees of freedom.
    differences = np.subtract(a, b)
    t = differences.mean() / (differences.std(ddof=1) / math.sqrt(3))
    by_hand = 2 * stats.t.sf(abs(t), df=2)
    assert statistics.paired_seed_t_test(a, b) == pytest.approx(stats.ttest_rel(a, b).pvalue, rel=1e-9)
    assert statistics.paired_seed_t_test(a, b) == pytest.approx(by_hand, rel=1e-9)


def test_paired_seed_t_test_has_no_answer_without_spread():
    assert statistics.paired_seed_t_test([0.91], [0.92]) is None
    # 0.92 - 0.88 and 0.93 - 0.89 differ only by floating-point rounding: no spread to test.
    assert statistics.paired_seed_t_test([0.92, 0.93, 0.94], [0.88, 0.89, 0.90]) is None
    with pytest.raises(ValueError, match="one accuracy per seed"):
        statistics.paired_seed_t_test([0.9, 0.91], [0.9])


@pytest.mark.parametrize("seeds", [3, 5])
def test_the_seed_level_test_keeps_its_false_positive_rate_under_no_difference(seeds):
    """Calibration: two models of equal skill, whose per-seed accuracies differ only by the luck of the
    seed (sd 0.008 to 0.012 between twins, as between the study's baseline and batch norm) and of the
    10,000 test images. The paired t-test over seeds that gives every verdict must call a difference
    in at most 5% of such studies (plus the simulation's own error, two standard errors)."""
    from study.analysis.statistics import paired_seed_difference

    rng = np.random.default_rng(20261206)
    studies, rejected = 4000, 0
    for _ in range(studies):
        seed_sd = rng.uniform(0.008, 0.012) / np.sqrt(2)  # each model's own seed luck
        skill = rng.uniform(0.88, 0.93)
        a = rng.binomial(10_000, np.clip(skill + rng.normal(0, seed_sd, seeds), 0, 1)) / 10_000
        b = rng.binomial(10_000, np.clip(skill + rng.normal(0, seed_sd, seeds), 0, 1)) / 10_000
        p_value = paired_seed_difference(a, b)["p_value"]
        rejected += p_value is not None and p_value < 0.05
    rate = rejected / studies
    margin = 2 * np.sqrt(0.05 * 0.95 / studies)
    assert rate <= 0.05 + margin, f"false-positive rate {rate:.3f} at {seeds} seeds"


def test_paired_seed_difference_against_scipy_and_by_hand():
    from study.analysis.statistics import paired_seed_difference

    a, b = np.array([0.92, 0.93, 0.915]), np.array([0.91, 0.915, 0.912])
    result = paired_seed_difference(a, b)
    differences = a - b
    error = differences.std(ddof=1) / np.sqrt(3)
    assert result["difference"] == pytest.approx(differences.mean())
    assert result["p_value"] == pytest.approx(stats.ttest_rel(a, b).pvalue)
    low, high = stats.t.interval(0.95, 2, loc=differences.mean(), scale=error)
    assert (result["low"], result["high"]) == (pytest.approx(low), pytest.approx(high))
    # The smallest difference the three seeds detect with 80% power, at this spread.
    assert result["detectable"] == pytest.approx((stats.t.ppf(0.975, 2) + stats.t.ppf(0.8, 2)) * error)
    # Equal on every seed is no difference (p 1); one seed has no seed level to test.
    assert paired_seed_difference(a, a)["p_value"] == 1.0
    assert paired_seed_difference(a[:1], b[:1])["p_value"] is None
