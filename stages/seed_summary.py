"""Stage seed_summary: each variant's training figures as the mean and sd over its seeds.

    python -m stages.seed_summary

Reads params.yaml `seeds`, `variants` and `augmented_variants`, and the per-seed
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

from study import artifacts, files, params
from study.artifacts import HISTORY_COLUMNS, read_history, read_json
from study.files import DataError
from study.statistics import mean_and_sd

SD_COLUMNS = ("val_accuracy_sd", "val_loss_sd")


def summarise_metrics(per_seed, seeds):
    """{key: mean, key_sd: sd} over the per-seed metrics dicts, in their key order."""
    summary = {"seeds": list(seeds)}
    for key in per_seed[0]:
        mean, sd = mean_and_sd([metrics[key] for metrics in per_seed])
        summary[key] = mean
        summary[f"{key}_sd"] = sd
    return summary


def summarise_history(per_seed):
    """Rows of the per-epoch mean over seeds, with the sd of the validation columns (if several seeds)."""
    rows = []
    for epoch_rows in zip(*per_seed):
        row = [int(epoch_rows[0]["epoch"])]
        row += [mean_and_sd([r[column] for r in epoch_rows])[0] for column in HISTORY_COLUMNS[1:]]
        if len(epoch_rows) > 1:
            row += [mean_and_sd([r[column.removesuffix("_sd")] for r in epoch_rows])[1] for column in SD_COLUMNS]
        rows.append(row)
    return rows


def read_variant(name, seeds):
    """The per-seed metrics and histories of one variant, checked for the keys the summary needs."""
    metrics, histories = [], []
    for seed in seeds:
        paths = artifacts.seed_run(name, seed)
        path = paths["metrics"]
        value = read_json(path)
        if not isinstance(value, dict) or "val_accuracy" not in value:
            raise DataError(f"{path}: no val_accuracy (run `dvc repro train@{name}-{seed}`)")
        metrics.append(value)
        histories.append(read_history(paths["history"]))
    keys = [sorted(value) for value in metrics]
    if any(k != keys[0] for k in keys):
        raise DataError(f"{os.path.dirname(paths['metrics'])}/: the seeds' metrics files have different keys (rerun `dvc repro train@{name}`)")
    lengths = {len(history) for history in histories}
    if len(lengths) != 1:
        raise DataError(f"{os.path.dirname(paths['history'])}/: the seeds' histories have different numbers of epochs {sorted(lengths)}")
    return metrics, histories


def main():
    try:
        all_params = params.load()
        seeds = params.seeds(all_params)
        names = params.variant_names(all_params)
        inputs = {name: read_variant(name, seeds) for name in names}
    except (params.ParamsError, DataError) as error:
        params.fail(error)

    curves = []
    with (files.atomic_directory(artifacts.TRAIN_SUMMARY_DIR) as metrics_dir,
          files.atomic_directory(artifacts.HISTORY_DIR) as history_dir):
        for name, (metrics, histories) in inputs.items():
            summary = summarise_metrics(metrics, seeds)
            files.write_json(artifacts.variant_summary(name, metrics_dir), summary)
            files.write_csv(
                artifacts.variant_history(name, history_dir),
                HISTORY_COLUMNS + (SD_COLUMNS if len(seeds) > 1 else ()),
                summarise_history(histories),
            )
            curves += [[int(row[0]), name, *row[1:len(HISTORY_COLUMNS)]] for row in summarise_history(histories)]
            sd = summary["val_accuracy_sd"]
            print(
                f"seed_summary: {name}: validation accuracy {summary['val_accuracy']:.4f}"
                + ("" if sd is None else f" ± {sd:.4f}") + f" over {len(seeds)} seed(s)"
            )
        files.write_csv(artifacts.CURVES, ("epoch", "variant", *HISTORY_COLUMNS[1:]), curves)


if __name__ == "__main__":
    main()
