"""Stage evaluate: the published test evaluation (Tables 2-4, Figure 1), from the trainings' recorded answers.

    python -m stages.evaluate

Reads params.yaml `evaluate` and `seeds`, each variant's summary over seeds
(metrics/details/train/<variant>.json, plots/history/<variant>.csv), each
training's answers on the test set (predictions/train/<variant>/seed_<seed>.npz)
and the test labels (data/prepared/test.npz). No model file is read, so a clone
without the models reruns it. Picks the `select_count` variants of `select_from`
with the highest mean validation accuracy, as the published study did with one
model each, and writes
  metrics/details/evaluate.json   selected names; every variant's test accuracy as the
                                  mean and sd over seeds, per seed, and of the ensemble
                                  of its seeds; per-class precision, recall, F1 of the
                                  selected (mean over seeds)
  plots/confusion/<name>.csv      actual,predicted per test image of the selected
                                  models' first seed (DVC's confusion template)
  plots/figures/evaluate/         loss_curves.png (Figure 1, means over seeds),
                                  confusion_<name>.png of the selected (all seeds summed)
"""

import os

import numpy as np

from study import artifacts, evaluation, files, params
from study.dataset import TEST_SIZE
from study.files import DataError
from study.statistics import mean_and_sd

FIGURES_DIR = artifacts.EVALUATE_FIGURES_DIR


def select_best(train_metrics, candidates, count):
    """The `count` candidates with the highest validation accuracy, best first (ties: params order)."""
    return sorted(candidates, key=lambda name: -train_metrics[name][artifacts.VAL_ACCURACY])[:count]


def mean_per_class(reports):
    """Each class's precision, recall and F1 averaged over the seeds' reports; support as is."""
    return {
        name: {
            key: (reports[0][name][key] if key == "support" else float(np.mean([r[name][key] for r in reports])))
            for key in reports[0][name]
        }
        for name in reports[0]
    }


def read_inputs(all_params):
    settings = params.evaluate_params(all_params)
    seeds = params.seeds(all_params)
    names = params.variant_names(all_params)
    train_metrics = {n: artifacts.read_json(artifacts.variant_summary(n)) for n in names}
    histories = {n: artifacts.read_history(artifacts.variant_history(n)) for n in names}
    _, y_test = files.load_split(artifacts.prepared("test"))
    answers = {n: [artifacts.read_predictions(artifacts.seed_run(n, seed)["predictions"], len(y_test)) for seed in seeds]
               for n in names}
    return settings, seeds, names, train_metrics, histories, y_test, answers


def main():
    try:
        settings, seeds, names, train_metrics, histories, y_test, answers = read_inputs(params.load())
        if len(y_test) != TEST_SIZE:
            print(f"evaluate: {len(y_test)} test images (the real set has {TEST_SIZE})")
    except (params.ParamsError, DataError) as error:
        params.fail(error)

    selected = select_best(train_metrics, settings["select_from"], settings["select_count"])
    results = {"selected": selected, "seeds": seeds, "models": {}}
    with (files.atomic_directory(artifacts.CONFUSION_DIR) as confusion_dir,
          files.atomic_directory(FIGURES_DIR) as figures_dir):
        for name in names:
            predictions = [predicted for predicted, _ in answers[name]]
            reports = [evaluation.classification_report(y_test, predicted) for predicted in predictions]
            accuracies = [accuracy for accuracy, _ in reports]
            ensemble = evaluation.average_probabilities([p for _, p in answers[name]]).argmax(axis=1)
            mean, sd = mean_and_sd(accuracies)
            results["models"][name] = {
                "test_accuracy": mean,
                "test_accuracy_sd": sd,
                "test_accuracy_per_seed": {str(seed): accuracy for seed, accuracy in zip(seeds, accuracies)},
                "ensemble_test_accuracy": float(np.mean(ensemble == y_test)),
            }
            if name in selected:
                results["models"][name]["per_class"] = mean_per_class([per_class for _, per_class in reports])
                evaluation.write_confusion_csv(os.path.join(confusion_dir, f"{name}.csv"), y_test, predictions[0])
                evaluation.save_confusion_figure(
                    os.path.join(figures_dir, f"confusion_{name}.png"),
                    np.tile(y_test, len(seeds)), np.concatenate(predictions),
                    f"{name}: test accuracy {mean:.4f}" + (f", {len(seeds)} seeds summed" if len(seeds) > 1 else ""),
                )
            spread = "" if sd is None else f" ± {sd:.4f} over {len(seeds)} seeds"
            print(f"evaluate: {name}: test accuracy {mean:.4f}{spread}" + (" (selected)" if name in selected else ""))
        evaluation.save_loss_curves(os.path.join(figures_dir, "loss_curves.png"), histories)
        files.write_json(artifacts.evaluate_details(), results)


if __name__ == "__main__":
    main()
