"""Stage train@<variant>-<seed>: train one model of the study, with one seed, on the train split.

    python -m stages.train baseline --seed 42

Reads params.yaml `baseline`, the chosen `protocols` entry and `variants.<variant>`
(or `augmented_variants.<variant>`), data/prepared/train.npz (or
data/augmented/<variant>.npz) and data/prepared/val.npz. Writes
models/train/<variant>/seed_<seed>.keras, metrics/seeds/<variant>/seed_<seed>.json
and plots/seeds/<variant>/seed_<seed>.csv; the seed_summary stage averages them.
"""

import argparse
import os

from stages import files, fitting, params
from stages.files import DataError

PREPARED_DIR = os.path.join("data", "prepared")
AUGMENTED_DIR = os.path.join("data", "augmented")


def training_set_path(name, spec):
    """The plain train split, or the augmented set made for this variant (stage augment@<variant>)."""
    if spec["augmentation"] is None:
        return os.path.join(PREPARED_DIR, "train.npz")
    return os.path.join(AUGMENTED_DIR, f"{name}.npz")


def output_paths(name, seed):
    return {
        "model": os.path.join("models", "train", name, f"seed_{seed}.keras"),
        "metrics": os.path.join("metrics", "seeds", name, f"seed_{seed}.json"),
        "history": os.path.join("plots", "seeds", name, f"seed_{seed}.csv"),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant", help="a name under `variants` or `augmented_variants` in params.yaml")
    parser.add_argument("--seed", type=int, required=True, help="the seed of weights, dropout and batch order")
    arguments = parser.parse_args(argv)
    name, seed = arguments.variant, arguments.seed
    try:
        spec = params.model_spec(params.load(), name, seed)
        train_data = files.load_split(training_set_path(name, spec))
        val_data = files.load_split(os.path.join(PREPARED_DIR, "val.npz"))
    except (params.ParamsError, DataError) as error:
        params.fail(error)

    model, history, checkpoint = fitting.train(f"{name}-seed_{seed}", spec, train_data, val_data)
    metrics = fitting.training_metrics(model, history, train_data, val_data)
    paths = output_paths(name, seed)
    fitting.save_model(model, paths["model"])
    fitting.write_history(paths["history"], history)
    files.write_json(paths["metrics"], metrics)
    checkpoint.remove()
    print(
        f"train@{name}-{seed}: train accuracy {metrics['train_accuracy']:.4f}, "
        f"validation accuracy {metrics['val_accuracy']:.4f} after {metrics['epochs']} epochs"
    )


if __name__ == "__main__":
    main()
