"""The protocol screen: which reading of the published study's open choices reproduces its Table 1.

    python scripts/protocol_screen.py \
        --candidate "batch 128, seeds 42-44=rev:19b5be8" \
        --candidate "batch 32, seeds 42-44=rev:WORKTREE" \
        --candidate "batch 32, seed 42, 20 epochs=dir:reports/screen/batch32_seed42" \
        --epochs 10 12 15 20 --seeds 42 43 44 --sd-rev WORKTREE

The published study leaves the batch size, the number of epochs and the dense
dropout rate open. Each candidate is a run of the training stages at one reading
of them, made as a DVC experiment, e.g.

    dvc exp run --queue -n screen-b32 -S baseline.batch_size=32 -S baseline.epochs=20 -S 'seeds=[42]' train
    dvc queue start

and named here by where its per-seed histories are: `rev:REV`, a git revision (a
commit, an experiment's ref, or WORKTREE for the files on disk) holding
plots/seeds/<variant>/seed_<seed>.csv; or `dir:DIR`, a folder of <variant>.csv
histories copied out of an experiment. A run of E epochs also answers for every
shorter run: the history's row at epoch e is what an e-epoch run would have
reported, since nothing in training depends on the total but a per-step schedule
(none of the screened variants has one). Over several seeds, the mean of the rows.

For each candidate and number of epochs, every published Table 1 figure (the
running training accuracy, as Keras prints it, and the validation accuracy) is
set beside ours, with its distance in sds: |ours - published| / sd, where sd is
the spread over training seeds of the same figure in `--sd-rev`'s study (floored
at `--sd-floor`). Writes reports/protocol_screen.json, which the report stage
renders as its "Protocol" section.
"""

import argparse
import csv
import io
import json
import os
import subprocess
import sys

import yaml

sys.path.insert(0, ".")
from study import files  # noqa: E402  (run from the project root)
from study.analysis import artifacts  # noqa: E402
from study.training import runs  # noqa: E402

FIGURES = {"train_accuracy": "accuracy", "val_accuracy": "val_accuracy"}  # published key -> history column


def read_text(source, variant, seed):
    """The history CSV of `variant` and `seed` in a candidate's source, or None."""
    kind, where = source.split(":", 1)
    if kind == "dir":
        path = os.path.join(where, f"{variant}.csv")
        return open(path).read() if os.path.isfile(path) else None
    path = runs.seed_run(variant, seed)["history"]
    if where == "WORKTREE":
        return open(path).read() if os.path.isfile(path) else None
    result = subprocess.run(["git", "show", f"{where}:{path}"], capture_output=True, text=True)
    return result.stdout if result.returncode == 0 else None


def figures_at(source, variant, seeds, epoch):
    """{history column: mean over the seeds that reached `epoch`} of a candidate, or None."""
    rows = []
    for seed in seeds:
        text = read_text(source, variant, seed)
        found = text and next(
            (r for r in csv.DictReader(io.StringIO(text)) if int(float(r["epoch"])) == epoch), None
        )
        if found:
            rows.append(found)
        if source.startswith("dir:"):
            break  # a folder holds one seed's histories
    if not rows:
        return None
    return {column: sum(float(r[column]) for r in rows) / len(rows) for column in FIGURES.values()}, len(rows)


def seed_sd(rev, variant, key):
    """The sd over training seeds of a Table 1 figure in a study (its per-variant summary)."""
    text = None
    # `--sd-rev` may name a revision from before the summaries' present place, when they lay
    # in metrics/train/.
    for path in (artifacts.variant_summary(variant), os.path.join("metrics", "train", f"{variant}.json")):
        if text:
            break
        if rev == "WORKTREE":
            text = open(path).read() if os.path.isfile(path) else None
        else:
            result = subprocess.run(["git", "show", f"{rev}:{path}"], capture_output=True, text=True)
            text = result.stdout if result.returncode == 0 else None
    if not text:
        return None
    column = "train_accuracy_running" if key == "train_accuracy" else key
    return json.loads(text).get(f"{column}_sd")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--candidate", action="append", required=True, help="NAME=REV: a screen run and its revision"
    )
    parser.add_argument("--epochs", type=int, nargs="+", default=[10, 12, 15, 20])
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--sd-rev", default="WORKTREE", help="the study whose seed sds scale the distances")
    parser.add_argument("--sd-floor", type=float, default=0.002)
    arguments = parser.parse_args()

    with open(artifacts.PUBLISHED) as stream:
        published = yaml.safe_load(stream)["table1"]
    rows = []
    for candidate in arguments.candidate:
        name, source = candidate.rsplit("=", 1)
        for epochs in arguments.epochs:
            figures = []
            for variant, numbers in published.items():
                found = figures_at(source, variant, arguments.seeds, epochs)
                for key, column in FIGURES.items():
                    sd = max(seed_sd(arguments.sd_rev, variant, key) or 0.0, arguments.sd_floor)
                    ours = None if found is None else found[0][column]
                    distance = None if ours is None else abs(ours - numbers[key]) / sd
                    figures.append(
                        {
                            "variant": variant,
                            "figure": key,
                            "published": numbers[key],
                            "ours": ours,
                            "seeds": None if found is None else found[1],
                            "sd": sd,
                            "distance_sd": distance,
                            "within_2sd": None if distance is None else distance <= 2,
                        }
                    )
            if all(f["ours"] is None for f in figures):
                continue  # this run has no such epoch
            rows.append(
                {
                    "candidate": name,
                    "source": source,
                    "epochs": epochs,
                    "figures": figures,
                    "within_2sd": sum(bool(f["within_2sd"]) for f in figures),
                    "measured": sum(f["ours"] is not None for f in figures),
                }
            )
            print(f"{name}, {epochs} epochs: {rows[-1]['within_2sd']} of {rows[-1]['measured']} within 2 sd")
    files.write_json(
        artifacts.PROTOCOL_SCREEN,
        {
            "seeds": arguments.seeds,
            "sd_rev": arguments.sd_rev,
            "sd_floor": arguments.sd_floor,
            "candidates": rows,
        },
    )


if __name__ == "__main__":
    main()
