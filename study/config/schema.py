"""The sections of params.yaml as frozen dataclasses, and the table of checks of each section's keys.

Each table maps a key to (its check, what is expected); study/config/study.py checks
a section against its table, then builds its dataclass, so that every later use
reads attributes of values already known to be right.
"""

import dataclasses
from typing import Optional, Union

from study.config.checks import (
    IDX_FILES,
    IMAGE_SIZE,
    MAX_ASPECT_RATIO,
    MAX_SEED,
    _is_int,
    _is_number,
    boolean,
    lr_schedule,
    non_negative_int,
    on_the_fly_augmentation,
    one_of,
    open_unit_interval,
    optional_text,
    positive_int,
    positive_int_list,
    positive_number,
    rate,
    sha256_table,
    url,
    valid_seed,
)

DATA_KEYS = {
    "source_dir": (optional_text, "null or a directory path"),
    "download_url": (url, "an http(s):// URL"),
    "sha256": (sha256_table, f"a map from each of {', '.join(IDX_FILES)} to 64 lowercase hex digits"),
}
PREPARE_KEYS = {
    "val_fraction": (open_unit_interval, "a number strictly between 0 and 1"),
    "split_seed": (non_negative_int, "an integer >= 0"),
}
MODEL_KEYS = {
    "filters": (positive_int_list, "a non-empty list of positive integers"),
    "kernel_sizes": (positive_int_list, "a non-empty list of positive integers, one per conv layer"),
    "pool_size": (positive_int, "a positive integer"),
    "padding": (one_of("valid", "same"), "valid or same"),
    "conv_dropout_rate": (rate, "a number in [0, 1)"),
    "dense_units": (positive_int, "a positive integer"),
    "dense_dropout_rate": (rate, "a number in [0, 1)"),
    "activation": (one_of("relu", "sigmoid", "tanh", "elu", "gelu"), "one of relu, sigmoid, tanh, elu, gelu"),
    "batch_norm": (boolean, "true or false"),
    "batch_norm_kernel": (one_of("keras", "fused"), "keras or fused"),
    "optimizer": (one_of("adam", "sgd", "rmsprop"), "one of adam, sgd, rmsprop"),
    "learning_rate": (positive_number, "a number > 0"),
    "momentum": (rate, "a number in [0, 1)"),
    "label_smoothing": (rate, "a number in [0, 1)"),
    "lr_schedule": (
        lr_schedule,
        "null, {drop_every_epochs: positive integer, factor: number in (0, 1]} "
        "or {warmup_epochs: integer >= 0, decay: cosine}",
    ),
    "augmentation": (optional_text, "null or the name of an entry of `augmentations`"),
    "augment_on_the_fly": (
        on_the_fly_augmentation,
        "null or {max_shift_pixels: integer in [0, "
        f"{IMAGE_SIZE // 2}), horizontal_flip_probability: number in [0, 1]"
        "[, erasing: {probability: number in [0, 1], area: [min, max] in (0, 1], "
        f"aspect_ratio: [min, max] in (0, {MAX_ASPECT_RATIO}]}}]}}",
    ),
    "epochs": (positive_int, "a positive integer"),
    "batch_size": (positive_int, "a positive integer"),
    "precision": (one_of("float32", "mixed_bfloat16"), "float32 or mixed_bfloat16"),
    "jit_compile": (boolean, "true or false"),
    "steps_per_execution": (positive_int, "a positive integer"),
    "threads": (lambda v: v is None or positive_int(v), "null (TensorFlow's choice) or a positive integer"),
    "strategy": (one_of("default", "mirrored", "multi_worker"), "one of default, mirrored, multi_worker"),
}
AUGMENTATION_KEYS = {
    "copies": (positive_int, "a positive integer"),
    "max_rotation_degrees": (lambda v: _is_number(v) and 0 <= v <= 180, "a number of degrees in [0, 180]"),
    "max_shift_pixels": (
        lambda v: non_negative_int(v) and v < IMAGE_SIZE,
        f"an integer in [0, {IMAGE_SIZE})",
    ),
    "vertical_flip_probability": (lambda v: _is_number(v) and 0 <= v <= 1, "a probability in [0, 1]"),
    "horizontal_flip_probability": (lambda v: _is_number(v) and 0 <= v <= 1, "a probability in [0, 1]"),
    "noise_variance": (lambda v: _is_number(v) and v >= 0, "a number >= 0"),
    "seed": (non_negative_int, "an integer >= 0"),
}
KFOLD_KEYS = {
    "variant": (lambda v: isinstance(v, str), "the name of a variant"),
    "n_splits": (lambda v: _is_int(v) and v >= 2, "an integer >= 2"),
    "folds": (
        lambda v: (
            isinstance(v, list)
            and len(v) > 0
            and all(non_negative_int(f) for f in v)
            and len(set(v)) == len(v)
        ),
        "a non-empty list of distinct fold indices",
    ),
    "seed": (valid_seed, f"an integer from 0 to {MAX_SEED}"),  # of the folds and of each fold's training
}
EVALUATE_KEYS = {
    "select_from": (lambda v: isinstance(v, list) and len(v) > 0, "a non-empty list of variant names"),
    "select_count": (positive_int, "a positive integer"),
    "compare_with_baseline": (lambda v: isinstance(v, list), "a list of variant names"),
}

MIRROR_KEYS = {
    "variants": (lambda v: isinstance(v, list), "a list of variant names"),
}


@dataclasses.dataclass(frozen=True)
class DataSettings:
    source_dir: Optional[str]
    download_url: str
    sha256: dict


@dataclasses.dataclass(frozen=True)
class PrepareSettings:
    val_fraction: float
    split_seed: int


@dataclasses.dataclass(frozen=True)
class StepDecay:
    """The learning rate times `factor` every `drop_every_epochs` epochs."""

    drop_every_epochs: int
    factor: float


@dataclasses.dataclass(frozen=True)
class WarmupCosine:
    """A linear warm-up over `warmup_epochs`, then a cosine decay to 0 (`decay` is always cosine)."""

    warmup_epochs: int
    decay: str = "cosine"


@dataclasses.dataclass(frozen=True)
class Erasing:
    probability: float
    area: tuple
    aspect_ratio: tuple


@dataclasses.dataclass(frozen=True)
class OnTheFly:
    max_shift_pixels: int
    horizontal_flip_probability: float
    erasing: Optional[Erasing] = None


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """One training's model and protocol: the baseline, the protocol's overrides, the variant's,
    and the seed."""

    filters: tuple
    kernel_sizes: tuple
    pool_size: int
    padding: str
    conv_dropout_rate: float
    dense_units: int
    dense_dropout_rate: float
    activation: str
    batch_norm: bool
    batch_norm_kernel: str
    optimizer: str
    learning_rate: float
    momentum: float
    label_smoothing: float
    lr_schedule: Union[None, StepDecay, WarmupCosine]
    augmentation: Optional[str]
    augment_on_the_fly: Optional[OnTheFly]
    epochs: int
    batch_size: int
    precision: str
    jit_compile: bool
    steps_per_execution: int
    threads: Optional[int]
    strategy: str
    seed: Optional[int] = None

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)


@dataclasses.dataclass(frozen=True)
class AugmentationPreset:
    copies: int
    max_rotation_degrees: float
    max_shift_pixels: int
    vertical_flip_probability: float
    horizontal_flip_probability: float
    noise_variance: float
    seed: int

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)


@dataclasses.dataclass(frozen=True)
class KFoldSettings:
    variant: str
    n_splits: int
    folds: tuple
    seed: int


@dataclasses.dataclass(frozen=True)
class EvaluateSettings:
    select_from: tuple
    select_count: int
    compare_with_baseline: tuple


@dataclasses.dataclass(frozen=True)
class MirrorSettings:
    variants: tuple


def frozen(value):
    """Lists as tuples, so that a dataclass built from YAML is immutable and hashable all the way down."""
    if isinstance(value, list):
        return tuple(frozen(item) for item in value)
    return value


def build(cls, mapping):
    """The dataclass `cls` of a mapping already checked against its table."""
    return cls(**{key: frozen(value) for key, value in mapping.items()})


def schedule_of(value):
    if value is None:
        return None
    return StepDecay(**value) if "drop_every_epochs" in value else WarmupCosine(**value)


def on_the_fly_of(value):
    if value is None:
        return None
    erasing_settings = value.get("erasing")
    return OnTheFly(
        value["max_shift_pixels"],
        value["horizontal_flip_probability"],
        None if erasing_settings is None else build(Erasing, erasing_settings),
    )


def model_spec_of(mapping):
    """The ModelSpec of a merged, checked mapping of MODEL_KEYS (and seed)."""
    values = {key: frozen(value) for key, value in mapping.items()}
    values["lr_schedule"] = schedule_of(mapping["lr_schedule"])
    values["augment_on_the_fly"] = on_the_fly_of(mapping["augment_on_the_fly"])
    return ModelSpec(**values)
