"""study.config: the real params.yaml passes; each mistake gives one ParamsError naming the file and key."""

import copy
import dataclasses
import json
import os
import shutil
import subprocess
import sys

import pytest

from study import config
from study.errors import ParamsError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARAMS_PATH = os.path.join(ROOT, "params.yaml")


@pytest.fixture(scope="module")
def real():
    return config.read(PARAMS_PATH)


def spec(raw, name, seed=None):
    return config.Study(raw).spec(name, seed)


def test_real_params_pass(real):
    study = config.Study(real)
    assert study.variant_names == (
        "baseline",
        "kernel7",
        "batchnorm",
        "sgd",
        "sigmoid",
        "baseline_lr",
        "baseline_aug",
        "narrow_same_padding",
        "narrow_same_padding_no_augmentation",
        "narrow_valid_padding",
    )
    assert study.recipe_names == study.variant_names[-3:]
    # Each twin differs from the recipe in one key.
    recipe = study.spec("narrow_same_padding")
    assert recipe.replace(augment_on_the_fly=None) == study.spec("narrow_same_padding_no_augmentation")
    assert recipe.replace(padding="valid") == study.spec("narrow_valid_padding")
    kernel7 = study.spec("kernel7")
    assert kernel7.kernel_sizes == (7, 3) and kernel7.filters == (32, 64) and kernel7.learning_rate == 0.001
    assert kernel7.seed is None and "seed" not in real["baseline"]
    assert study.spec("kernel7", 43).seed == 43
    assert study.spec("baseline_aug").augmentation == "rotate_vflip_noise"
    # Five seeds for the published variants; the recipes have their own.
    assert study.seeds == (42, 43, 44, 45, 46) and study.recipe_seeds == (42, 43, 44)
    assert study.seeds_of("baseline") == study.seeds and study.seeds_of("narrow_same_padding") == (42, 43, 44)
    assert study.protocol == "reproduce" and study.spec("baseline") == study.specs["baseline"]
    baseline = study.spec("baseline")
    assert (baseline.precision, baseline.jit_compile, baseline.strategy) == ("float32", False, "default")
    assert isinstance(study.spec("baseline_lr").lr_schedule, config.StepDecay)


def test_recipe_is_the_recorded_wide_recipe_at_the_published_widths(real):
    """The recipe differs from the search's `wide` (reports/search.json) only in its filters,
    padding and batch-norm kernel: the record's overrides still build the same model."""
    with open(os.path.join(ROOT, "reports", "search.json")) as stream:
        record = json.load(stream)["variants"]
    raw = copy.deepcopy(real)
    raw["recipes"]["wide"] = record["wide"]["overrides"]
    raw["recipes"]["wide_no_augmentation"] = record["wide_no_augmentation"]["overrides"]
    study = config.Study(raw)
    narrow, wide = study.spec("narrow_same_padding"), study.spec("wide")
    assert narrow.replace(filters=(64, 128), padding="valid", batch_norm_kernel="keras") == wide
    assert wide.replace(augment_on_the_fly=None) == study.spec("wide_no_augmentation")


def test_settings_are_frozen(real):
    study = config.Study(real)
    with pytest.raises(dataclasses.FrozenInstanceError):
        study.spec("baseline").epochs = 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        study.kfold.n_splits = 3


def test_protocol_sits_between_the_baseline_and_the_variant(real):
    fast = change(real, ("protocol",), "fast")
    baseline = spec(fast, "baseline", 42)
    for key, value in real["protocols"]["fast"].items():
        if key == "lr_schedule":
            assert baseline.lr_schedule == config.WarmupCosine(**value)
        else:
            assert getattr(baseline, key) == value, key
    assert list(baseline.filters) == real["baseline"]["filters"] and baseline.seed == 42
    # A variant's own keys win over the protocol's; the protocol's win over the baseline's.
    sgd = spec(fast, "sgd")
    assert sgd.learning_rate == real["variants"]["sgd"]["learning_rate"] and sgd.optimizer == "sgd"
    assert sgd.batch_size == real["protocols"]["fast"]["batch_size"] != real["baseline"]["batch_size"]
    assert spec(fast, "baseline_lr").lr_schedule == config.StepDecay(
        **real["variants"]["baseline_lr"]["lr_schedule"]
    )
    # The reproduce protocol (an empty mapping, or null) changes nothing.
    assert spec(real, "sgd").batch_size == real["baseline"]["batch_size"]
    null_protocol = change(real, ("protocols", "reproduce"), None)
    assert spec(null_protocol, "baseline") == spec(real, "baseline")


def change(real, keys, value):
    """A deep copy of `real` with the value at `keys` replaced (or deleted when value is DELETE)."""
    edited = copy.deepcopy(real)
    target = edited
    for key in keys[:-1]:
        target = target[key]
    if value is DELETE:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return edited


DELETE = object()
CASES = [
    (("baseline", "epochs"), "ten", "baseline.epochs: expected a positive integer, got 'ten'"),
    (("baseline", "epochs"), 0, "baseline.epochs: expected a positive integer, got 0"),
    (("baseline", "epochs"), -1, "baseline.epochs: expected a positive integer, got -1"),
    (("baseline", "epochs"), True, "baseline.epochs: expected a positive integer, got True"),
    (("baseline", "batch_size"), DELETE, "baseline.batch_size: missing key, expected a positive integer"),
    (
        ("prepare", "val_fraction"),
        0,
        "prepare.val_fraction: expected a number strictly between 0 and 1, got 0",
    ),
    (
        ("prepare", "val_fraction"),
        1,
        "prepare.val_fraction: expected a number strictly between 0 and 1, got 1",
    ),
    (
        ("prepare", "val_fraction"),
        1.5,
        "prepare.val_fraction: expected a number strictly between 0 and 1, got 1.5",
    ),
    (("variants", "kernel7"), {"kernel_size": [7, 3]}, "variants.kernel7.kernel_size: unknown key"),
    (
        ("variants", "kernel7"),
        {"kernel_sizes": [7]},
        r"variants.kernel7.kernel_sizes: expected one kernel size per conv layer "
        r"\(2, as in filters\), got \[7\]",
    ),
    (
        ("variants", "kernel7"),
        {"kernel_sizes": [15, 15]},
        "variants.kernel7.kernel_sizes: .* shrinks the 28x28 image to nothing",
    ),
    (("baseline", "padding"), "full", "baseline.padding: expected valid or same, got 'full'"),
    (("baseline", "padding"), DELETE, "baseline.padding: missing key, expected valid or same"),
    (
        ("baseline", "batch_norm_kernel"),
        "cudnn",
        "baseline.batch_norm_kernel: expected keras or fused, got 'cudnn'",
    ),
    (
        ("variants", "batchnorm"),
        {"batch_norm_kernel": True},
        "variants.batchnorm.batch_norm_kernel: expected keras or fused, got True",
    ),
    # Same padding keeps each conv's size, so only the pools shrink: 28 -> 14 -> 7 -> 3 -> 1 -> 0.
    (
        ("variants", "kernel7"),
        {"filters": [8] * 5, "kernel_sizes": [3] * 5, "padding": "same"},
        "variants.kernel7.kernel_sizes: .* shrinks the 28x28 image to nothing",
    ),
    (("kfold", "folds"), [0, 5], "kfold.folds: fold 5 does not exist with n_splits 5"),
    (("kfold", "seed"), 2**32, "kfold.seed: expected an integer from 0 to 4294967295, got 4294967296"),
    (("kfold", "seed"), -1, "kfold.seed: expected an integer from 0 to 4294967295, got -1"),
    (("kfold", "variant"), "baseline_aug", "kfold.variant: expected the name of an entry of `variants`"),
    (("evaluate", "select_from"), ["baseline", "ghost"], "evaluate.select_from: no variant named 'ghost'"),
    (("evaluate", "select_count"), 6, r"evaluate.select_count: expected at most 5"),
    (
        ("augmented_variants", "baseline_aug", "augmentation"),
        "nope",
        "augmentations: no augmentation named 'nope'",
    ),
    (
        ("augmentations", "hflip_rotate_shift", "max_shift_pixels"),
        28,
        "augmentations.hflip_rotate_shift.max_shift_pixels",
    ),
    (("data", "sha256", "t10k-images-idx3-ubyte"), "ABC", "data.sha256: expected a map"),
    (("baseline", "seed"), 42, "baseline.seed: unknown key"),  # a params.yaml of before `seeds`
    (
        ("baseline", "precision"),
        "float16",
        "baseline.precision: expected float32 or mixed_bfloat16, got 'float16'",
    ),
    (
        ("baseline", "precision"),
        DELETE,
        "baseline.precision: missing key, expected float32 or mixed_bfloat16",
    ),
    (("baseline", "jit_compile"), "yes", "baseline.jit_compile: expected true or false, got 'yes'"),
    (
        ("baseline", "strategy"),
        "tpu",
        "baseline.strategy: expected one of default, mirrored, multi_worker, got 'tpu'",
    ),
    (
        ("baseline", "lr_schedule"),
        {"warmup_epochs": 1, "decay": "linear"},
        "baseline.lr_schedule: expected null, ",
    ),
    (
        ("baseline", "lr_schedule"),
        {"warmup_epochs": -1, "decay": "cosine"},
        "baseline.lr_schedule: expected null, ",
    ),
    (("baseline", "lr_schedule"), {"warmup_epochs": 1}, "baseline.lr_schedule: expected null, "),
    (("seeds",), [], r"seeds: expected a non-empty list of distinct integers from 0 to 4294967295, got \[\]"),
    (
        ("seeds",),
        [1, 1],
        r"seeds: expected a non-empty list of distinct integers from 0 to 4294967295, got \[1, 1\]",
    ),
    (
        ("seeds",),
        [1, -2],
        r"seeds: expected a non-empty list of distinct integers from 0 to 4294967295, got \[1, -2\]",
    ),
    (("seeds",), 42, r"seeds: expected a non-empty list of distinct integers from 0 to 4294967295, got 42"),
    (
        ("seeds",),
        [True],
        r"seeds: expected a non-empty list of distinct integers from 0 to 4294967295, got \[True\]",
    ),
    (("seeds",), DELETE, "seeds: missing section"),
    (("protocol",), "nosuch", r"protocol: no protocol named 'nosuch' \(known: reproduce, fast\)"),
    (("protocol",), DELETE, "protocol: missing section"),
    (("protocols",), {}, "protocols: expected a mapping of protocol names to overrides"),
    (("protocols", "reproduce"), {"epoch": 3}, "protocols.reproduce.epoch: unknown key"),
    (
        ("protocols", "reproduce"),
        {"epochs": 0},
        "protocols.reproduce.epochs: expected a positive integer, got 0",
    ),
    (
        ("protocols", "fast", "jit_compile"),
        1,
        "protocols.fast.jit_compile: expected true or false, got 1",
    ),  # not chosen
    (
        ("baseline", "threads"),
        0,
        r"baseline.threads: expected null \(TensorFlow's choice\) or a positive integer, got 0",
    ),
    (
        ("baseline", "steps_per_execution"),
        DELETE,
        "baseline.steps_per_execution: missing key, expected a positive integer",
    ),
    (
        ("recipes", "narrow_same_padding", "augment_on_the_fly"),
        {"max_shift_pixels": 14, "horizontal_flip_probability": 0.5},
        r"recipes.narrow_same_padding.augment_on_the_fly: "
        r"expected null or \{max_shift_pixels: integer in \[0, 14\)",
    ),
    (
        ("recipes", "narrow_same_padding", "augment_on_the_fly"),
        {"max_shift_pixels": 2},
        "recipes.narrow_same_padding.augment_on_the_fly: expected null or ",
    ),
    (
        ("recipes", "narrow_same_padding", "augment_on_the_fly", "erasing"),
        {"probability": 0.5, "area": [0.4, 0.02], "aspect_ratio": [0.3, 3.3]},
        "recipes.narrow_same_padding.augment_on_the_fly: expected null or .*erasing: ",
    ),
    (
        ("recipes", "narrow_same_padding", "augment_on_the_fly", "erasing"),
        {"probability": 0.5, "area": [0.02, 0.4]},
        "recipes.narrow_same_padding.augment_on_the_fly: expected null or ",
    ),
    (
        ("recipes", "narrow_same_padding", "augment_on_the_fly", "erasing", "aspect_ratio"),
        [0, 3.3],
        "recipes.narrow_same_padding.augment_on_the_fly: expected null or ",
    ),
    (
        ("recipes", "narrow_same_padding", "augment_on_the_fly", "erasing", "probability"),
        1.5,
        "recipes.narrow_same_padding.augment_on_the_fly: expected null or ",
    ),
    (
        ("recipes", "narrow_same_padding", "augment_on_the_fly", "erasing", "area"),
        [0.02, 1.5],
        "recipes.narrow_same_padding.augment_on_the_fly: expected null or ",
    ),
    (
        ("recipes", "narrow_same_padding", "augment_on_the_fly", "erasing", "value"),
        0,
        "recipes.narrow_same_padding.augment_on_the_fly: expected null or ",
    ),
    (
        ("recipes", "narrow_same_padding", "augment_on_the_fly", "erasing", "aspect_ratio"),
        [0.3, float("inf")],
        "recipes.narrow_same_padding.augment_on_the_fly: "
        "expected null or .*aspect_ratio: \\[min, max\\] in \\(0, 28\\]",
    ),
    (("recipe_seeds",), [42, 42], "recipe_seeds: expected a non-empty list of distinct integers"),
    # The mirror runs over recipe_seeds, so only a recipe's models exist for it.
    (
        ("mirror", "variants"),
        ["baseline"],
        "mirror.variants: expected names of entries of `recipes`, got 'baseline'",
    ),
    # The refusal names the section that set steps_per_execution, wherever the strategy was set.
    (
        ("baseline", "strategy"),
        "mirrored",
        r"baseline.steps_per_execution: expected 1 with strategy 'mirrored', got 16",
    ),
    (
        ("variants", "kernel7"),
        {"kernel_sizes": [7, 3], "strategy": "mirrored", "steps_per_execution": 8},
        r"variants.kernel7.steps_per_execution: expected 1 with strategy 'mirrored', got 8",
    ),
    (
        ("protocols", "reproduce"),
        {"strategy": "mirrored", "steps_per_execution": 4},
        r"protocols.reproduce.steps_per_execution: expected 1 with strategy 'mirrored', got 4",
    ),
    (
        ("protocols", "reproduce"),
        {"augmentation": "hflip_rotate_shift"},
        "protocols.reproduce.augmentation: set by augmented_variants, not by a protocol",
    ),
    # Impossible combinations: a warm-up as long as the training never reaches its peak rate.
    (
        ("recipes", "narrow_same_padding", "epochs"),
        1,
        r"recipes.narrow_same_padding.lr_schedule.warmup_epochs: expected fewer than the "
        r"training's 1 epochs \(epochs set in recipes.narrow_same_padding\), got 1",
    ),
    (
        ("baseline", "lr_schedule"),
        {"warmup_epochs": 30, "decay": "cosine"},
        r"baseline.lr_schedule.warmup_epochs: expected fewer than the training's 15 epochs "
        r"\(epochs set in baseline\)",
    ),
]


@pytest.mark.parametrize(
    "keys, value, message", CASES, ids=[f"{'.'.join(k)}={v!r}"[:60] for k, v, _ in CASES]
)
def test_each_mistake_is_one_error_naming_file_and_key(real, keys, value, message):
    with pytest.raises(ParamsError, match="^params.yaml: " + message) as caught:
        config.Study(change(real, keys, value))
    assert "\n" not in str(caught.value)


def test_unknown_variant_name(real):
    with pytest.raises(
        ParamsError, match=r"^params.yaml: variants: no variant named 'nosuch' \(known: baseline, kernel7"
    ):
        config.Study(real).spec("nosuch")


def test_exponent_without_dot_gets_a_hint(tmp_path, real):
    text = open(PARAMS_PATH).read().replace("learning_rate: 0.001", "learning_rate: 1e-3")
    path = tmp_path / "params.yaml"
    path.write_text(text)
    loaded = config.read(str(path))
    assert loaded["baseline"]["learning_rate"] == "1e-3"  # PyYAML's YAML 1.1 reading
    with pytest.raises(ParamsError) as caught:
        config.load(str(path))
    assert str(caught.value) == (
        f"{path}: baseline.learning_rate: expected a number > 0, got '1e-3' "
        "(a string: write the number with a dot, e.g. 1.0e-3)"
    )
    path.write_text(text.replace("1e-3", "1.0e-3"))
    assert config.load(str(path)).spec("baseline").learning_rate == 0.001


def test_missing_and_invalid_files(tmp_path):
    with pytest.raises(ParamsError, match="absent.yaml: file not found"):
        config.load(str(tmp_path / "absent.yaml"))
    (tmp_path / "bad.yaml").write_text("baseline: [1, 2\n")
    with pytest.raises(ParamsError, match="bad.yaml: not valid YAML") as caught:
        config.load(str(tmp_path / "bad.yaml"))
    assert "\n" not in str(caught.value)


def test_train_with_unknown_variant_fails_fast_without_tensorflow(tmp_path):
    shutil.copy(PARAMS_PATH, tmp_path / "params.yaml")
    script = (
        "import sys\n"
        "from stages import train\n"
        "try:\n"
        "    train.main(['nosuch', '--seed', '42'])\n"
        "except SystemExit as exit:\n"
        "    print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
        "    sys.exit(exit.code)\n"
        "print('no exit')\n"
    )
    environment = {**os.environ, "PYTHONPATH": ROOT}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stdout == "False False\n"
    known = ", ".join(config.load(PARAMS_PATH).variant_names)
    assert result.stderr.splitlines() == [
        f"error: params.yaml: variants: no variant named 'nosuch' (known: {known})"
    ]
