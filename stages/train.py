"""Stage train@<variant>-<seed>: train one model of the study, with one seed, on the train split.

    python -m stages.train baseline --seed 42

Reads params.yaml `baseline`, the chosen `protocols` entry and `variants.<variant>`
(or `augmented_variants.<variant>`), data/prepared/train.npz (or
data/augmented/<variant>.npz), data/prepared/val.npz and data/prepared/test.npz
(only to record the trained model's answers). Writes the four files of
runs.seed_run: the model (DVC's cache), its metrics, its history and its
test-set predictions (committed; every later stage reads these, not the model).
"""

import argparse

import stages
from study import config, errors, files
from study.data import paths as data_paths
from study.training import fitting, runs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant", help="a name under `variants` or `augmented_variants` in params.yaml")
    parser.add_argument(
        "--seed", type=int, required=True, help="the seed of weights, dropout and batch order"
    )
    arguments = parser.parse_args(argv)
    name, seed = arguments.variant, arguments.seed
    with errors.refused_in_one_line():
        spec = config.load().spec(name, seed)
        train_data = files.load_split(data_paths.training_set(name, spec))
        val_data = files.load_split(data_paths.prepared("val"))
        x_test, _ = files.load_split(data_paths.prepared("test"))

    model, history, checkpoint = fitting.train(f"{name}-seed_{seed}", spec, train_data, val_data)
    metrics = fitting.training_metrics(model, history, train_data, val_data)
    fitting.save_run(runs.seed_run(name, seed), model, history, metrics, x_test)
    checkpoint.remove()
    print(
        f"train@{name}-{seed}: train accuracy {metrics[runs.TRAIN_ACCURACY]:.4f}, "
        f"validation accuracy {metrics[runs.VAL_ACCURACY]:.4f} after {metrics['epochs']} epochs"
    )


if __name__ == "__main__":
    stages.run(main)
