"""Stage mirror@<variant>-<seed>: a trained model's test-set answers, averaged with those on mirrored images.

    python -m stages.mirror wide --seed 42

Reads params.yaml `mirror` (which variants), the variant's spec (its threads),
the model of train@<variant>-<seed> and data/prepared/test.npz. Writes
predictions/mirror/<variant>/seed_<seed>.npz in the format of the training's own
predictions: per test image the mean of the class probabilities of the image and
of its left-right mirror. The report sets these beside the plain answers.
"""

import argparse

import stages
from study import config, errors, files
from study.data import paths as data_paths
from study.errors import ParamsError
from study.training import fitting, runs
from study.training.models import check_model_file, load_model, mirrored_probabilities


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant", help="a name in params.yaml `mirror.variants`")
    parser.add_argument("--seed", type=int, required=True, help="which seed's model of the variant")
    arguments = parser.parse_args(argv)
    name, seed = arguments.variant, arguments.seed
    with errors.refused_in_one_line():
        study = config.load()
        listed = study.mirror.variants
        if name not in listed:
            raise ParamsError(
                f"{study.path}: mirror.variants: {name!r} is not listed (listed: {', '.join(listed)})"
            )
        if seed not in study.recipe_seeds:
            raise ParamsError(f"{study.path}: recipe_seeds: {seed} is not listed")
        spec = study.spec(name, seed)
        model_path = runs.seed_run(name, seed)["model"]
        check_model_file(model_path)
        x_test, _ = files.load_split(data_paths.prepared("test"))

    # The training's own settings (seeded, deterministic ops, its threads): the
    # plain half of the average is then bit for bit the training's own answer.
    fitting.set_up_tensorflow(seed, spec.threads)
    probabilities = mirrored_probabilities(load_model(model_path), x_test)
    path = runs.mirror_predictions(name, seed)
    files.write_predictions(path, probabilities)
    print(f"mirror@{name}-{seed}: {path}")


if __name__ == "__main__":
    stages.run(main)
