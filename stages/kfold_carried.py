"""Stage kfold_carried: the published k-fold as its figures suggest it ran, one model carried over every fold.

    python -m stages.kfold_carried

The published study reports k-fold validation accuracy (0.9708) far above its
training accuracy (0.9548) and test accuracy (0.9259). That is what one model,
built once and then compiled and fitted fold after fold, would show: from the
second fold on, its "validation" fold holds images it has already trained on.
This stage runs exactly that, so the explanation is a measurement: the folds of
stage kfold (params.yaml `kfold`: the variant, n_splits, the seed), in order, each
fitted for the variant's epochs starting from the previous fold's weights, with a
fresh optimizer and learning-rate schedule each time (a new compile). The honest
k-fold (stage kfold) trains a fresh model per fold and stays the main result.

Writes runs.carried_run(): the final model, its metrics (each fold's running
training and validation accuracy and how many of its validation images earlier
folds trained on), the history of all folds end to end, and the final model's
test-set predictions.
"""

import os

import numpy as np

import stages
from study import config, errors, files
from study.data import paths as data_paths
from study.data.splits import all_training_images, fold_indices, seen_before
from study.training import fitting, runs


def main():
    with errors.refused_in_one_line():
        study = config.load()
        settings = study.kfold
        spec = study.spec(settings.variant, settings.seed)
        x, y = all_training_images()
        x_test, _ = files.load_split(data_paths.prepared("test"))

    splits = fold_indices(y, settings.n_splits, settings.seed)
    model, weights, history, per_fold, finished = None, None, [], [], []
    for fold, (train_index, val_index) in enumerate(splits):
        train_data, val_data = (x[train_index], y[train_index]), (x[val_index], y[val_index])
        if model is not None:
            # Each fold builds its model afresh from the carried weights; without this
            # Keras keeps every earlier fold's model and graphs, and the peak memory grows.
            del model
            fitting.release_keras_state()
        model, fold_history, checkpoint = fitting.train(
            f"{runs.KFOLD_CARRIED}_fold_{fold}", spec, train_data, val_data, initial_weights=weights
        )
        # Each fold's checkpoint is kept until the last fold ends: a run killed in
        # fold k resumes there, the earlier folds replayed from their checkpoints.
        finished.append(checkpoint)
        weights = model.get_weights()
        offset = len(history)
        history += [{**row, "epoch": row["epoch"] + offset} for row in fold_history]
        last = fold_history[-1]
        per_fold.append(
            {
                "fold": fold,
                runs.RUNNING_TRAIN_ACCURACY: last["accuracy"],
                runs.VAL_ACCURACY: last["val_accuracy"],
                "val_images_trained_on_before": seen_before(splits, fold),
            }
        )
        print(
            f"{runs.KFOLD_CARRIED}: fold {fold}: running training accuracy {last['accuracy']:.4f}, "
            f"validation {last['val_accuracy']:.4f} "
            f"({per_fold[-1]['val_images_trained_on_before']:.0%} of it trained on in earlier folds)"
        )
    metrics = {
        "variant": settings.variant,
        "n_splits": settings.n_splits,
        "epochs_per_fold": spec.epochs,
        "folds": per_fold,
        # The published Table 5 reads like the last fit's figures: Keras's running
        # training accuracy and the validation accuracy of the last fold.
        runs.RUNNING_TRAIN_ACCURACY: per_fold[-1][runs.RUNNING_TRAIN_ACCURACY],
        runs.VAL_ACCURACY: per_fold[-1][runs.VAL_ACCURACY],
        "val_accuracy_mean": float(np.mean([f[runs.VAL_ACCURACY] for f in per_fold])),
    }
    paths = runs.carried_run()
    fitting.save_run(paths, model, history, metrics, x_test)
    for checkpoint in finished:
        checkpoint.remove()
    print(f"{runs.KFOLD_CARRIED}: written {', '.join(sorted(os.path.basename(p) for p in paths.values()))}")


if __name__ == "__main__":
    stages.run(main)
