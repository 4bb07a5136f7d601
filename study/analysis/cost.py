"""Floating-point operations of a model of the study, counted from its spec, and what its trainings cost.

    python -m study.analysis.cost       # every variant of params.yaml

One multiply-add is 2 FLOPs. A Conv2D of a k x k kernel from c_in to c_out
channels on an h x w output costs 2 k^2 c_in c_out h w (a 'same' one counts its
zero-padded products too, as the hardware does them); a Dense layer
2 n_in n_out. Pooling, dropout, activations, batch norm and the softmax are
elementwise and left out (under 1% of the baseline). Training costs about three
times the forward pass: the backward pass computes the gradients of both the
inputs and the weights of each layer, each as large as the forward product.
The images a training sees come from config.Study.training_images.
"""

from study import config, errors, files
from study.data import paths as data_paths
from study.data.facts import IMAGE_SIZE, NUM_CLASSES
from study.geometry import conv_output_size


def forward_flops(spec):
    """FLOPs of one image's forward pass through the convolutions and dense layers."""
    size, channels, total = IMAGE_SIZE, 1, 0
    for filters, kernel_size in zip(spec.filters, spec.kernel_sizes):
        size = conv_output_size(size, kernel_size, spec.padding)
        total += 2 * kernel_size * kernel_size * channels * filters * size * size
        size //= spec.pool_size
        channels = filters
    flattened = size * size * channels
    total += 2 * flattened * spec.dense_units + 2 * spec.dense_units * NUM_CLASSES
    return total


def training_flops(spec):
    """FLOPs of one image's training step: forward, then gradients of inputs and of weights."""
    return 3 * forward_flops(spec)


def study_trainings(study):
    """{training stage, as logs/resources/ names it: (images it trains on, its spec)} of a config.Study.

    Images are epochs times the training set the stage reads: the train split (times
    1 + copies for an augmented set), or k-1 of the k folds of train + validation.
    Reads the sizes of data/prepared/ (stage prepare).
    """
    sizes = {split: len(files.load_split(data_paths.prepared(split))[1]) for split in ("train", "val")}
    kfold = study.kfold
    fold_train = (sizes["train"] + sizes["val"]) * (kfold.n_splits - 1) // kfold.n_splits
    trainings = {}
    for name in study.variant_names:
        spec = study.spec(name)
        images = spec.epochs * study.training_images(name, sizes["train"])
        for seed in study.seeds_of(name):
            trainings[f"train {name} --seed {seed}"] = (images, spec)
    spec = study.spec(kfold.variant)
    for fold in kfold.folds:
        trainings[f"kfold {fold}"] = (spec.epochs * fold_train, spec)
    trainings["kfold_carried"] = (spec.epochs * fold_train * kfold.n_splits, spec)
    return trainings


def training_cost(results, name):
    """What one training of variant `name` costs: parameters, MFLOP per trained image, images trained,
    TFLOP in all. Images trained are the epochs times the training set the run read."""
    spec = results.specs[name]
    images = spec.epochs * results.study.training_images(name, results.train_size)
    return {
        "params": int(results.per_seed[name][0]["params"]),
        "mflop_per_image": training_flops(spec) / 1e6,
        "images": images,
        "tflop": training_flops(spec) * images / 1e12,
    }


def cost_table(results, order, reference, figures):
    """Every variant of `order` with its training_cost, its TFLOP as a multiple of the `reference`
    variant's (relative_tflop), and its `figures` ({name: {figure: value}}) beside them."""
    reference_tflop = training_cost(results, reference)["tflop"]
    rows = []
    for name in order:
        cost = training_cost(results, name)
        relative = cost["tflop"] / reference_tflop
        rows.append({"name": name, **cost, "relative_tflop": relative, **figures[name]})
    return rows


def main():
    with errors.refused_in_one_line():
        study = config.load()
    for name in study.variant_names:
        spec = study.spec(name)
        print(
            f"{name}: {forward_flops(spec) / 1e6:.2f} MFLOP forward, "
            f"{training_flops(spec) / 1e6:.2f} MFLOP per trained image"
        )


if __name__ == "__main__":
    main()
