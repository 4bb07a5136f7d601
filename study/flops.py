"""Floating-point operations of a model of the study, counted from its spec.

    python -m study.flops            # every variant of params.yaml

One multiply-add is 2 FLOPs. A Conv2D of a k x k kernel from c_in to c_out
channels on an h x w output costs 2 k^2 c_in c_out h w (a 'same' one counts its
zero-padded products too, as the hardware does them); a Dense layer
2 n_in n_out. Pooling, dropout, activations, batch norm and the softmax are
elementwise and left out (under 1% of the baseline). Training costs about three
times the forward pass: the backward pass computes the gradients of both the
inputs and the weights of each layer, each as large as the forward product.
"""

from study import artifacts, files, params
from study.dataset import IMAGE_SIZE, NUM_CLASSES


def forward_flops(spec):
    """FLOPs of one image's forward pass through the convolutions and dense layers."""
    size, channels, total = IMAGE_SIZE, 1, 0
    for filters, kernel_size in zip(spec["filters"], spec["kernel_sizes"]):
        size = params.conv_output_size(size, kernel_size, spec["padding"])
        total += 2 * kernel_size * kernel_size * channels * filters * size * size
        size //= spec["pool_size"]
        channels = filters
    flattened = size * size * channels
    total += 2 * flattened * spec["dense_units"] + 2 * spec["dense_units"] * NUM_CLASSES
    return total


def training_flops(spec):
    """FLOPs of one image's training step: forward, then gradients of inputs and of weights."""
    return 3 * forward_flops(spec)


def study_trainings(all_params):
    """{training stage, as logs/resources/ names it: (images it trains on, its spec)}.

    Images are epochs times the training set the stage reads: the train split (times
    1 + copies for an augmented set), or k-1 of the k folds of train + validation.
    Reads the sizes of data/prepared/ (stage prepare).
    """
    seeds = params.seeds(all_params)
    kfold = params.kfold_params(all_params)
    sizes = {split: len(files.load_split(artifacts.prepared(split))[1]) for split in ("train", "val")}
    fold_train = (sizes["train"] + sizes["val"]) * (kfold["n_splits"] - 1) // kfold["n_splits"]
    trainings = {}
    for name in params.variant_names(all_params):
        spec = params.model_spec(all_params, name)
        copies = 0 if spec["augmentation"] is None else params.augmentation_params(
            all_params, spec["augmentation"])["copies"]
        for seed in seeds:
            trainings[f"train {name} --seed {seed}"] = (spec["epochs"] * sizes["train"] * (1 + copies), spec)
    spec = params.model_spec(all_params, kfold["variant"])
    for fold in kfold["folds"]:
        trainings[f"kfold {fold}"] = (spec["epochs"] * fold_train, spec)
    trainings["kfold_carried"] = (spec["epochs"] * fold_train * kfold["n_splits"], spec)
    return trainings


def main():
    all_params = params.load()
    for name in params.variant_names(all_params):
        spec = params.model_spec(all_params, name)
        print(f"{name}: {forward_flops(spec) / 1e6:.2f} MFLOP forward, {training_flops(spec) / 1e6:.2f} MFLOP per trained image")


if __name__ == "__main__":
    main()
