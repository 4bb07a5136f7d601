"""Stage mirror@<variant>-<seed>: one trained model's test-set answers, each averaged with its answer on the mirrored image.

    python -m stages.mirror best_less_dropout --seed 42

Reads params.yaml `mirror` (which variants), the variant's spec (its threads),
the model of train@<variant>-<seed> and data/prepared/test.npz. Writes
predictions/mirror/<variant>/seed_<seed>.npz in the format of the training's own
predictions: per test image the mean of the class probabilities of the image and
of its left-right mirror. The report sets these beside the plain answers.
"""

import argparse

from study import artifacts, files, fitting, params
from study.files import DataError
from study.models import check_model_file, load_model, predict_probabilities


def mirrored_probabilities(model, images):
    """The mean of the model's probabilities on `images` (N, height, width, channels) and on their mirrors."""
    mirrored = images[:, :, ::-1, :]
    return (predict_probabilities(model, images) + predict_probabilities(model, mirrored)) / 2


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant", help="a name in params.yaml `mirror.variants`")
    parser.add_argument("--seed", type=int, required=True, help="which seed's model of the variant")
    arguments = parser.parse_args(argv)
    name, seed = arguments.variant, arguments.seed
    try:
        all_params = params.load()
        listed = params.mirror_params(all_params)["variants"]
        if name not in listed:
            raise params.ParamsError(
                f"{params.PARAMS_FILE}: mirror.variants: {name!r} is not listed (listed: {', '.join(listed)})")
        if seed not in params.seeds(all_params):
            raise params.ParamsError(f"{params.PARAMS_FILE}: seeds: {seed} is not listed")
        spec = params.model_spec(all_params, name, seed)
        model_path = artifacts.seed_run(name, seed)["model"]
        check_model_file(model_path)
        x_test, _ = files.load_split(artifacts.prepared("test"))
    except (params.ParamsError, DataError) as error:
        params.fail(error)

    # The training's own settings (seeded, deterministic ops, its threads): the
    # plain half of the average is then bit for bit the training's own answer.
    fitting.set_up_tensorflow(seed, spec["threads"])
    probabilities = mirrored_probabilities(load_model(model_path), x_test)
    path = artifacts.mirror_predictions(name, seed)
    artifacts.write_predictions(path, probabilities)
    print(f"mirror@{name}-{seed}: {path}")


if __name__ == "__main__":
    main()
