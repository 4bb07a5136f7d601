"""Stage train@<variant>: train one model of the study on the train split.

    python -m stages.train baseline

Reads params.yaml `baseline` and `variants.<variant>` (or `augmented_variants.<variant>`),
data/prepared/train.npz (or data/augmented/<augmentation>.npz) and data/prepared/val.npz. Writes models/train/<variant>.keras,
metrics/train/<variant>.json and plots/history/<variant>.csv.
"""

import argparse
import os

from stages import files, fitting, params
from stages.files import DataError

PREPARED_DIR = os.path.join("data", "prepared")
AUGMENTED_DIR = os.path.join("data", "augmented")


def training_set_path(spec):
    """The plain train split, or the augmented set the variant names."""
    if spec["augmentation"] is None:
        return os.path.join(PREPARED_DIR, "train.npz")
    return os.path.join(AUGMENTED_DIR, f"{spec['augmentation']}.npz")


def output_paths(name):
    return {
        "model": os.path.join("models", "train", f"{name}.keras"),
        "metrics": os.path.join("metrics", "train", f"{name}.json"),
        "history": os.path.join("plots", "history", f"{name}.csv"),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant", help="a name under `variants` in params.yaml")
    name = parser.parse_args(argv).variant
    try:
        spec = params.model_spec(params.load(), name)
        train_data = files.load_split(training_set_path(spec))
        val_data = files.load_split(os.path.join(PREPARED_DIR, "val.npz"))
    except (params.ParamsError, DataError) as error:
        params.fail(error)

    model, history, checkpoint = fitting.train(name, spec, train_data, val_data)
    metrics = fitting.training_metrics(model, history, train_data, val_data)
    paths = output_paths(name)
    fitting.save_model(model, paths["model"])
    fitting.write_history(paths["history"], history)
    files.write_json(paths["metrics"], metrics)
    checkpoint.remove()
    print(
        f"train@{name}: train accuracy {metrics['train_accuracy']:.4f}, "
        f"validation accuracy {metrics['val_accuracy']:.4f} after {metrics['epochs']} epochs"
    )


if __name__ == "__main__":
    main()
