"""Stage evaluate: the published test evaluation (Tables 2-4, Figure 1), from the trainings' recorded answers.

    python -m stages.evaluate

Reads params.yaml `evaluate`, `seeds` and `recipe_seeds`, each variant's summary over seeds
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

import stages
from study import config, errors, files
from study.analysis import artifacts, evaluation
from study.data import paths as data_paths
from study.data.facts import TEST_SIZE
from study.training import runs

FIGURES_DIR = artifacts.EVALUATE_FIGURES_DIR


def read_inputs(study):
    names = study.variant_names
    train_metrics = {n: files.read_json(artifacts.variant_summary(n)) for n in names}
    histories = {n: files.read_history(artifacts.variant_history(n)) for n in names}
    _, y_test = files.load_split(data_paths.prepared("test"))
    answers = {
        n: [
            files.read_predictions(runs.seed_run(n, seed)["predictions"], len(y_test))
            for seed in study.seeds_of(n)
        ]
        for n in names
    }
    return train_metrics, histories, y_test, answers


def main():
    with errors.refused_in_one_line():
        study = config.load()
        train_metrics, histories, y_test, answers = read_inputs(study)
        if len(y_test) != TEST_SIZE:
            print(f"evaluate: {len(y_test)} test images (the real set has {TEST_SIZE})")

    selected = evaluation.select_best(train_metrics, study.evaluate.select_from, study.evaluate.select_count)
    results = {"selected": selected, "seeds": list(study.seeds), "models": {}}
    with (
        files.atomic_directory(artifacts.CONFUSION_DIR) as confusion_dir,
        files.atomic_directory(FIGURES_DIR) as figures_dir,
    ):
        for name in study.variant_names:
            seeds = study.seeds_of(name)
            record, predictions = evaluation.evaluate_variant(y_test, answers[name], seeds, name in selected)
            results["models"][name] = record
            mean, sd = record["test_accuracy"], record["test_accuracy_sd"]
            if name in selected:
                summed = f", {len(seeds)} seeds summed" if len(seeds) > 1 else ""
                evaluation.write_confusion_csv(
                    os.path.join(confusion_dir, f"{name}.csv"), y_test, predictions[0]
                )
                evaluation.save_confusion_figure(
                    os.path.join(figures_dir, f"confusion_{name}.png"),
                    np.tile(y_test, len(seeds)),
                    np.concatenate(predictions),
                    f"{name}: test accuracy {mean:.4f}{summed}",
                )
            spread = "" if sd is None else f" ± {sd:.4f} over {len(seeds)} seeds"
            mark = " (selected)" if name in selected else ""
            print(f"evaluate: {name}: test accuracy {mean:.4f}{spread}{mark}")
        evaluation.save_loss_curves(os.path.join(figures_dir, "loss_curves.png"), histories)
        files.write_json(artifacts.evaluate_details(), results)


if __name__ == "__main__":
    stages.run(main)
