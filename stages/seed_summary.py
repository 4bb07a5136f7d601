"""Stage seed_summary: each variant's training figures as the mean and sd over its seeds.

    python -m stages.seed_summary

Reads params.yaml's variant sections and the seeds of each (`seeds`, `recipe_seeds`), and the per-seed
files of the train stages (metrics/seeds/<variant>/seed_<seed>.json and
plots/seeds/<variant>/seed_<seed>.csv). Writes, for every variant,
  metrics/details/train/<variant>.json   every key of the per-seed metrics as the mean over
                                 seeds, `<key>_sd` beside it (sample sd; null for one
                                 seed) and `seeds`, so `dvc metrics diff` compares
                                 like with like whatever the number of seeds
  plots/history/<variant>.csv    the per-epoch mean over seeds of each history
                                 column, with val_accuracy_sd and val_loss_sd when
                                 there are several seeds
and plots/curves.csv: every variant's mean curves in one long table (epoch,
variant, ...), which dvc.yaml draws as one chart per measure, a line per variant,
so a new variant appears on them with no edit.
Only the seeds listed in params.yaml count, whatever other files lie there.
"""

import os

import stages
from study import config, errors, files
from study.analysis import artifacts, over_seeds
from study.analysis.formats import mean_sd
from study.errors import DataError
from study.files import read_history, read_json
from study.training import runs
from study.training.runs import HISTORY_COLUMNS


def read_variant(name, seeds):
    """The per-seed metrics and histories of one variant, checked for the keys the summary needs."""
    metrics, histories = [], []
    for seed in seeds:
        paths = runs.seed_run(name, seed)
        path = paths["metrics"]
        value = read_json(path)
        if not isinstance(value, dict) or runs.VAL_ACCURACY not in value:
            raise DataError(f"{path}: no {runs.VAL_ACCURACY} (run `dvc repro train@{name}-{seed}`)")
        metrics.append(value)
        histories.append(read_history(paths["history"]))
    keys = [sorted(value) for value in metrics]
    if any(k != keys[0] for k in keys):
        raise DataError(
            f"{os.path.dirname(paths['metrics'])}/: the seeds' metrics files have different keys "
            f"(rerun `dvc repro train@{name}`)"
        )
    lengths = {len(history) for history in histories}
    if len(lengths) != 1:
        raise DataError(
            f"{os.path.dirname(paths['history'])}/: the seeds' histories have different "
            f"numbers of epochs {sorted(lengths)}"
        )
    return metrics, histories


def main():
    with errors.refused_in_one_line():
        study = config.load()
        inputs = {name: read_variant(name, study.seeds_of(name)) for name in study.variant_names}

    curves = []
    with (
        files.atomic_directory(artifacts.TRAIN_SUMMARY_DIR) as metrics_dir,
        files.atomic_directory(artifacts.HISTORY_DIR) as history_dir,
    ):
        for name, (metrics, histories) in inputs.items():
            seeds = study.seeds_of(name)
            summary = over_seeds.summarise_metrics(metrics, seeds)
            history = over_seeds.summarise_history(histories)
            files.write_json(artifacts.variant_summary(name, metrics_dir), summary)
            files.write_csv(
                artifacts.variant_history(name, history_dir), over_seeds.history_columns(len(seeds)), history
            )
            curves += [[int(row[0]), name, *row[1 : len(HISTORY_COLUMNS)]] for row in history]
            validation = mean_sd(summary[runs.VAL_ACCURACY], summary[f"{runs.VAL_ACCURACY}_sd"])
            print(f"seed_summary: {name}: validation accuracy {validation} over {len(seeds)} seed(s)")
        files.write_csv(artifacts.CURVES, ("epoch", "variant", *HISTORY_COLUMNS[1:]), curves)


if __name__ == "__main__":
    stages.run(main)
