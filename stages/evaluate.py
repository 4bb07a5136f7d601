"""Stage evaluate: the seed's test evaluation (Tables 2-4, Figure 1).

    python -m stages.evaluate

Reads params.yaml `evaluate` and `seeds`, metrics/train/*.json and
plots/history/*.csv (the means over seeds), models/train/<variant>/seed_<seed>.keras
and data/prepared/test.npz. Picks the `select_count` variants of `select_from`
with the highest mean validation accuracy, as the seed did with one model each,
and writes
  metrics/evaluate.json        selected names; every variant's test accuracy as the
                               mean and sd over seeds, and per seed; per-class
                               precision, recall, F1 of the selected (mean over seeds)
  plots/confusion/<name>.csv   seed,actual,predicted per test image and seed (the
                               per-image answers paired tests need; the confusion
                               chart counts all seeds together)
  plots/figures/evaluate/      loss_curves.png (Figure 1, means over seeds),
                               confusion_<name>.png of the selected (all seeds)
"""

import os

import numpy as np

from stages import evaluation, files, params
from stages.files import DataError
from stages.statistics import mean_and_sd

TEST_PATH = os.path.join("data", "prepared", "test.npz")
CONFUSION_DIR = os.path.join("plots", "confusion")
FIGURES_DIR = os.path.join("plots", "figures", "evaluate")


def select_best(train_metrics, candidates, count):
    """The `count` candidates with the highest validation accuracy, best first (ties: params order)."""
    return sorted(candidates, key=lambda name: -train_metrics[name]["val_accuracy"])[:count]


def mean_per_class(reports):
    """Each class's precision, recall and F1 averaged over the seeds' reports; support as is."""
    return {
        name: {
            key: (reports[0][name][key] if key == "support" else float(np.mean([r[name][key] for r in reports])))
            for key in reports[0][name]
        }
        for name in reports[0]
    }


def main():
    try:
        all_params = params.load()
        settings = params.evaluate_params(all_params)
        seeds = params.seeds(all_params)
        names = params.variant_names(all_params)
        train_metrics = {n: evaluation.read_json(os.path.join("metrics", "train", f"{n}.json")) for n in names}
        histories = {n: evaluation.read_history(os.path.join("plots", "history", f"{n}.csv")) for n in names}
        x_test, y_test = files.load_split(TEST_PATH)
        for name in names:
            if "val_accuracy" not in train_metrics[name]:
                raise DataError(f"metrics/train/{name}.json: no val_accuracy (run `dvc repro seed_summary`)")
        model_paths = {
            (n, seed): os.path.join("models", "train", n, f"seed_{seed}.keras") for n in names for seed in seeds
        }
        for path in model_paths.values():  # every file checked before TensorFlow's import logs anything
            evaluation.check_model_file(path)
        models = {key: evaluation.load_model(path) for key, path in model_paths.items()}
    except (params.ParamsError, DataError) as error:
        params.fail(error)

    selected = select_best(train_metrics, settings["select_from"], settings["select_count"])
    results = {"selected": selected, "seeds": seeds, "models": {}}
    with files.atomic_directory(CONFUSION_DIR) as confusion_dir, files.atomic_directory(FIGURES_DIR) as figures_dir:
        for name in names:
            predictions = [
                evaluation.predict_probabilities(models[name, seed], x_test).argmax(axis=1) for seed in seeds
            ]
            reports = [evaluation.classification_report(y_test, predicted) for predicted in predictions]
            accuracies = [accuracy for accuracy, _ in reports]
            mean, sd = mean_and_sd(accuracies)
            results["models"][name] = {
                "test_accuracy": mean,
                "test_accuracy_sd": sd,
                "test_accuracy_per_seed": {str(seed): accuracy for seed, accuracy in zip(seeds, accuracies)},
            }
            evaluation.write_confusion_csv(os.path.join(confusion_dir, f"{name}.csv"), y_test, predictions, seeds)
            if name in selected:
                results["models"][name]["per_class"] = mean_per_class([per_class for _, per_class in reports])
                evaluation.save_confusion_figure(
                    os.path.join(figures_dir, f"confusion_{name}.png"),
                    np.tile(y_test, len(seeds)), np.concatenate(predictions),
                    f"{name}: test accuracy {mean:.4f}" + (f", {len(seeds)} seeds summed" if len(seeds) > 1 else ""),
                )
            spread = "" if sd is None else f" ± {sd:.4f} over {len(seeds)} seeds"
            print(f"evaluate: {name}: test accuracy {mean:.4f}{spread}" + (" (selected)" if name in selected else ""))
        evaluation.save_loss_curves(os.path.join(figures_dir, "loss_curves.png"), histories)
        files.write_json(os.path.join("metrics", "evaluate.json"), results)


if __name__ == "__main__":
    main()
