"""stages.kfold.fold_indices: disjoint, covering, stratified folds."""

import numpy as np

from stages.kfold import fold_indices


def test_folds_are_disjoint_covering_and_stratified():
    labels = np.repeat(np.arange(10, dtype=np.uint8), 15)  # 15 per class: 3 per class in each of 5 folds
    np.random.default_rng(0).shuffle(labels)
    folds = fold_indices(labels, 5, seed=42)
    assert len(folds) == 5
    validation = np.concatenate([val for _, val in folds])
    np.testing.assert_array_equal(np.sort(validation), np.arange(150))  # each index validated exactly once
    for train, val in folds:
        assert len(val) == 30 and len(train) == 120
        assert np.intersect1d(train, val).size == 0
        np.testing.assert_array_equal(np.sort(np.concatenate([train, val])), np.arange(150))
        assert np.bincount(labels[val], minlength=10).tolist() == [3] * 10


def test_folds_depend_on_the_seed_only():
    labels = np.repeat(np.arange(10), 10)
    first, again, other = (fold_indices(labels, 5, seed) for seed in (42, 42, 1))
    for (_, a), (_, b) in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for (_, a), (_, b) in zip(first, other))
    # Shuffled: the first fold is not simply the first images of each class.
    assert not np.array_equal(first[0][1], np.sort(np.concatenate([np.arange(c * 10, c * 10 + 2) for c in range(10)])))
