"""The protocol screen: which reading of the published study's open choices reproduces its Table 1.

    python scripts/protocol_screen.py --candidate "batch 128=19b5be8" --candidate "batch 32=refs/exps/..." \
        --epochs 10 12 15 20 --seed 42

The published study leaves the batch size, the number of epochs and the dense
dropout rate open. Each candidate is one run of the training stages at one
reading of them, made as a DVC experiment (README, "The protocol screen"), e.g.

    dvc exp run --queue -n screen-b32 -S baseline.batch_size=32 -S baseline.epochs=20 -S 'seeds=[42]' train
    dvc queue start

and named here by a git revision holding its per-seed histories
(plots/seeds/<variant>/seed_<seed>.csv; an experiment's ref, a commit). A run of
E epochs also answers for every shorter run: the history's row at epoch e is
what an e-epoch run would have reported, since nothing in training depends on
the total but a per-step schedule (none of the screened variants has one).

For each candidate and number of epochs, every published Table 1 figure (the
running training accuracy, as Keras prints it, and the validation accuracy) is
set beside ours, with its distance in sds: |ours - published| / sd, where sd is
the spread over training seeds of the same figure in `--sd-rev`'s committed
study (floored at `--sd-floor`). Writes reports/protocol_screen.json, which the
report stage renders as its "Protocol" section.
"""

import argparse
import csv
import io
import json
import subprocess
import sys

import yaml

sys.path.insert(0, ".")
from study import artifacts, files  # noqa: E402  (run from the project root)

OUTPUT = "reports/protocol_screen.json"
FIGURES = {"train_accuracy": "accuracy", "val_accuracy": "val_accuracy"}  # published key -> history column


def git_show(rev, path):
    result = subprocess.run(["git", "show", f"{rev}:{path}"], capture_output=True, text=True)
    return result.stdout if result.returncode == 0 else None


def history_at(rev, variant, seed, epoch):
    text = git_show(rev, artifacts.seed_run(variant, seed)["history"])
    if text is None:
        return None
    rows = list(csv.DictReader(io.StringIO(text)))
    return next((row for row in rows if int(float(row["epoch"])) == epoch), None)


def seed_sd(rev, variant, key):
    """The sd over training seeds of a Table 1 figure in a committed study (its per-variant summary)."""
    for path in (artifacts.variant_summary(variant), f"metrics/train/{variant}.json"):
        text = git_show(rev, path)
        if text:
            summary = json.loads(text)
            column = "train_accuracy_running" if key == "train_accuracy" else key
            return summary.get(f"{column}_sd")
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidate", action="append", required=True, help="NAME=REV: a screen run and its revision")
    parser.add_argument("--epochs", type=int, nargs="+", default=[10, 12, 15, 20])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--sd-rev", default="HEAD", help="the committed study whose seed sds scale the distances")
    parser.add_argument("--sd-floor", type=float, default=0.002)
    arguments = parser.parse_args()

    with open(artifacts.PUBLISHED) as stream:
        published = yaml.safe_load(stream)["table1"]
    rows = []
    for candidate in arguments.candidate:
        name, rev = candidate.split("=", 1)
        for epochs in arguments.epochs:
            figures = []
            for variant, numbers in published.items():
                row = history_at(rev, variant, arguments.seed, epochs)
                for key, column in FIGURES.items():
                    sd = max(seed_sd(arguments.sd_rev, variant, key) or 0.0, arguments.sd_floor)
                    ours = None if row is None else float(row[column])
                    distance = None if ours is None else abs(ours - numbers[key]) / sd
                    figures.append({"variant": variant, "figure": key, "published": numbers[key], "ours": ours,
                                    "sd": sd, "distance_sd": distance,
                                    "within_2sd": None if distance is None else distance <= 2})
            if all(f["ours"] is None for f in figures):
                continue  # this run has no such epoch
            rows.append({"candidate": name, "rev": rev, "epochs": epochs, "figures": figures,
                         "within_2sd": sum(bool(f["within_2sd"]) for f in figures),
                         "measured": sum(f["ours"] is not None for f in figures)})
            print(f"{name}, {epochs} epochs: {rows[-1]['within_2sd']} of {rows[-1]['measured']} within 2 sd")
    files.write_json(OUTPUT, {"seed": arguments.seed, "sd_rev": arguments.sd_rev, "sd_floor": arguments.sd_floor,
                              "candidates": rows})


if __name__ == "__main__":
    main()
