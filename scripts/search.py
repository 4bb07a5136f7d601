"""Train a variant of the recipe search again: the `dvc exp run` that adds it to the pipeline.

    python scripts/search.py                      # the recorded variants, best in validation first
    python scripts/search.py wide_same_padding    # runs its experiment (a recipe, over recipe_seeds)
    python scripts/search.py wide --print         # only prints the command
    python scripts/search.py wide --queue         # any other option goes to `dvc exp run`

reports/search.json records each search variant as the keys of params.yaml `baseline` it
overrides. A variant trained on the train split rejoins the pipeline as an entry of `recipes`
(trained over `recipe_seeds`), one trained on an augmented set as an entry of
`augmented_variants` (over `seeds`); every table and chart of the report then includes it.
"""

import json
import shlex
import subprocess
import sys

import yaml

SEARCH = "reports/search.json"


def command(name, overrides):
    """The `dvc exp run` arguments that add variant `name` with `overrides` to params.yaml."""
    section = "augmented_variants" if "augmentation" in overrides else "recipes"
    value = yaml.safe_dump(overrides, default_flow_style=True, sort_keys=True, width=10_000).strip()
    return ["dvc", "exp", "run", "-n", f"search-{name}".replace("_", "-"), "-S", f"+{section}.{name}={value}"]


def main(argv=None):
    arguments = sys.argv[1:] if argv is None else argv
    with open(SEARCH) as stream:
        variants = json.load(stream)["variants"]
    if not arguments:
        for name, record in sorted(variants.items(), key=lambda item: -item[1]["val_accuracy"]):
            print(f"{name:36} validation {record['val_accuracy']:.4f}  {record['tflop']:6.1f} TFLOP")
        return 0
    name, options = arguments[0], arguments[1:]
    if name not in variants:
        print(f"error: {SEARCH}: no variant named {name!r} (known: {', '.join(variants)})", file=sys.stderr)
        return 2
    run = command(name, variants[name]["overrides"])
    if "--print" in options:
        print(shlex.join(run))
        return 0
    return subprocess.run([*run, *options]).returncode


if __name__ == "__main__":
    sys.exit(main())
