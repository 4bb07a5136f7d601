"""Each variant's training figures over its seeds (stage seed_summary): the mean, and the sample sd
from statistics.mean_and_sd (null for a single seed), of every metric and of every epoch's history."""

from study.analysis.statistics import mean_and_sd
from study.training.runs import HISTORY_COLUMNS

# The history columns whose spread over seeds the summary keeps, beside their means.
SD_COLUMNS = ("val_accuracy_sd", "val_loss_sd")


def summarise_metrics(per_seed, seeds):
    """{key: mean, key_sd: sd} over the per-seed metrics dicts, in their key order."""
    summary = {"seeds": list(seeds)}
    for key in per_seed[0]:
        mean, sd = mean_and_sd([metrics[key] for metrics in per_seed])
        summary[key] = mean
        summary[f"{key}_sd"] = sd
    return summary


def history_columns(seed_count):
    """The columns of a summarised history: the sd columns only where there are several seeds."""
    return HISTORY_COLUMNS + (SD_COLUMNS if seed_count > 1 else ())


def summarise_history(per_seed):
    """Rows of the per-epoch mean over seeds, with the sd of the validation columns (if several seeds)."""
    rows = []
    for epoch_rows in zip(*per_seed):
        row = [int(epoch_rows[0]["epoch"])]
        row += [mean_and_sd([r[column] for r in epoch_rows])[0] for column in HISTORY_COLUMNS[1:]]
        if len(epoch_rows) > 1:
            row += [
                mean_and_sd([r[column.removesuffix("_sd")] for r in epoch_rows])[1] for column in SD_COLUMNS
            ]
        rows.append(row)
    return rows
