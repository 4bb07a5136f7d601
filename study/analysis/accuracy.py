"""Each model's accuracy as the report prints it, computed once and kept in study.json.

On test: the mean and sample sd of the seeds' accuracies, a 95% percentile bootstrap
interval over the test images of the accuracy of the seed mean (each image's
correctness averaged over the seeds, resampled), and each seed model's accuracy
with its 95% Wilson interval. In training: the mean and sample sd over seeds of
each of Table 1's figures.
"""

from study.analysis.statistics import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    bootstrap_mean_interval,
    mean_and_sd,
    wilson_interval,
)
from study.training import runs

CONFIDENCE = 0.95
# Table 1's figures: after training in inference mode, Keras's running one, and validation.
TRAINING_FIGURES = (runs.TRAIN_ACCURACY, runs.RUNNING_TRAIN_ACCURACY, runs.VAL_ACCURACY)


def interval_method():
    """How accuracy_on_test's interval is drawn, recorded beside it."""
    return {
        "method": "percentile bootstrap over the test images of the accuracy averaged over seeds",
        "confidence": CONFIDENCE,
        "resamples": BOOTSTRAP_RESAMPLES,
        "seed": BOOTSTRAP_SEED,
    }


def per_seed_wilson(results, name):
    """Each seed model's accuracy and Wilson interval: [{seed, accuracy, low, high}], the seed None
    for a single model."""
    rows = results.correct[name]
    # Only a variant's rows are its seeds' models; the k-fold's rows are folds.
    seeds = results.seeds_of(name) or [None] * len(rows)
    records = []
    for seed, row in zip(seeds, rows):
        low, high = wilson_interval(row.sum(), row.size, CONFIDENCE)
        records.append({"seed": seed, "accuracy": float(row.mean()), "low": low, "high": high})
    return records


def accuracy_on_test(results, name):
    """{mean, sd, low, high, per_seed} of model `name` on the test set (sd None for a single model)."""
    correct = results.correct[name]
    mean, sd = mean_and_sd(correct.mean(axis=1))
    low, high = bootstrap_mean_interval(correct.mean(axis=0), CONFIDENCE)
    return {"mean": mean, "sd": sd, "low": low, "high": high, "per_seed": per_seed_wilson(results, name)}


def accuracies_on_test(results):
    """accuracy_on_test of every model with answers: the variants, the k-fold's models, the mirrored ones."""
    return {name: accuracy_on_test(results, name) for name in results.correct}


def accuracies_in_training(results):
    """{variant: {figure of TRAINING_FIGURES: {mean, sd}}} over the seeds."""
    return {
        name: {
            key: dict(zip(("mean", "sd"), mean_and_sd(results.seed_values(name, key))))
            for key in TRAINING_FIGURES
        }
        for name in results.names
    }
