"""Stage evaluate: the seed's test evaluation (Tables 2-4, Figure 1).

    python -m stages.evaluate

Reads params.yaml `evaluate`, metrics/train/*.json, plots/history/*.csv,
models/train/*.keras and data/prepared/test.npz. Picks the `select_count`
variants of `select_from` with the highest validation accuracy, as the seed did,
and writes
  metrics/evaluate.json        selected names; test accuracy of every model;
                               per-class precision, recall, F1 of the selected
  plots/confusion/<name>.csv   actual,predicted per test image, every model (the
                               per-image answers paired tests need)
  plots/figures/evaluate/      loss_curves.png (Figure 1), confusion_<name>.png
                               of the selected
"""

import os

from stages import evaluation, files, params
from stages.files import DataError

TEST_PATH = os.path.join("data", "prepared", "test.npz")
CONFUSION_DIR = os.path.join("plots", "confusion")
FIGURES_DIR = os.path.join("plots", "figures", "evaluate")


def select_best(train_metrics, candidates, count):
    """The `count` candidates with the highest validation accuracy, best first (ties: params order)."""
    return sorted(candidates, key=lambda name: -train_metrics[name]["val_accuracy"])[:count]


def main():
    try:
        all_params = params.load()
        settings = params.evaluate_params(all_params)
        names = params.variant_names(all_params)
        train_metrics = {n: evaluation.read_json(os.path.join("metrics", "train", f"{n}.json")) for n in names}
        histories = {n: evaluation.read_history(os.path.join("plots", "history", f"{n}.csv")) for n in names}
        x_test, y_test = files.load_split(TEST_PATH)
        for name in names:
            if "val_accuracy" not in train_metrics[name]:
                raise DataError(f"metrics/train/{name}.json: no val_accuracy (run `dvc repro train@{name}`)")
        model_paths = {n: os.path.join("models", "train", f"{n}.keras") for n in names}
        for path in model_paths.values():  # every file checked before TensorFlow's import logs anything
            evaluation.check_model_file(path)
        models = {n: evaluation.load_model(path) for n, path in model_paths.items()}
    except (params.ParamsError, DataError) as error:
        params.fail(error)

    selected = select_best(train_metrics, settings["select_from"], settings["select_count"])
    results = {"selected": selected, "models": {}}
    with files.atomic_directory(CONFUSION_DIR) as confusion_dir, files.atomic_directory(FIGURES_DIR) as figures_dir:
        for name, model in models.items():
            predicted = evaluation.predict_probabilities(model, x_test).argmax(axis=1)
            accuracy, per_class = evaluation.classification_report(y_test, predicted)
            results["models"][name] = {"test_accuracy": accuracy}
            evaluation.write_confusion_csv(os.path.join(confusion_dir, f"{name}.csv"), y_test, predicted)
            if name in selected:
                results["models"][name]["per_class"] = per_class
                evaluation.save_confusion_figure(
                    os.path.join(figures_dir, f"confusion_{name}.png"), y_test, predicted,
                    f"{name}: test accuracy {accuracy:.4f}",
                )
            print(f"evaluate: {name}: test accuracy {accuracy:.4f}" + (" (selected)" if name in selected else ""))
        evaluation.save_loss_curves(os.path.join(figures_dir, "loss_curves.png"), histories)
        files.write_json(os.path.join("metrics", "evaluate.json"), results)


if __name__ == "__main__":
    main()
