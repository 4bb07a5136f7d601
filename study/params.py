"""Read params.yaml and check every key a stage uses, before any long work.

A mistake ends the stage with one line that names the file, the key and what is
expected. Nothing here imports TensorFlow, so the check takes milliseconds.

    python -m study.params          # checks the whole params.yaml
"""

import re
import sys

import yaml

from study.dataset import IDX_FILES, IMAGE_SIZE

PARAMS_FILE = "params.yaml"
# Variant names become stage names (train@NAME) and file names (models/NAME.keras).
NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class ParamsError(Exception):
    """A value in params.yaml that the user must fix; str() is the whole message."""


def fail(error):
    """Ends the program with the one-line message of a user error."""
    print(f"error: {error}", file=sys.stderr)
    sys.exit(2)


# Each check returns True when the value is acceptable; the text says what is expected.
def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def positive_int(value):
    return _is_int(value) and value > 0


def non_negative_int(value):
    return _is_int(value) and value >= 0


def positive_number(value):
    return _is_number(value) and value > 0


def rate(value):
    return _is_number(value) and 0 <= value < 1


def open_unit_interval(value):
    return _is_number(value) and 0 < value < 1


def factor(value):
    return _is_number(value) and 0 < value <= 1


def positive_int_list(value):
    return isinstance(value, list) and len(value) > 0 and all(positive_int(v) for v in value)


def boolean(value):
    return isinstance(value, bool)


def one_of(*choices):
    def check(value):
        return value in choices

    check.choices = choices
    return check


def optional_text(value):
    return value is None or (isinstance(value, str) and value != "")


def url(value):
    return isinstance(value, str) and re.match(r"^https?://[^/\s]+", value) is not None


def sha256_table(value):
    return (
        isinstance(value, dict)
        and set(value) == set(IDX_FILES)
        and all(isinstance(v, str) and re.fullmatch(r"[0-9a-f]{64}", v) for v in value.values())
    )


def lr_schedule(value):
    if value is None:
        return True
    if isinstance(value, dict) and set(value) == {"drop_every_epochs", "factor"}:
        return positive_int(value["drop_every_epochs"]) and factor(value["factor"])
    if isinstance(value, dict) and set(value) == {"warmup_epochs", "decay"}:
        return non_negative_int(value["warmup_epochs"]) and value["decay"] == "cosine"
    return False


def _range(value, low, high):
    """A [min, max] pair with low <= min <= max <= high."""
    return (isinstance(value, list) and len(value) == 2 and all(_is_number(v) for v in value)
            and low <= value[0] <= value[1] <= high)


# Height over width of an erased rectangle: beyond a one-pixel strip the height of
# the image, a larger ratio only draws the same clipped strip.
MAX_ASPECT_RATIO = IMAGE_SIZE


def erasing(value):
    return (isinstance(value, dict) and set(value) == {"probability", "area", "aspect_ratio"}
            and _is_number(value["probability"]) and 0 <= value["probability"] <= 1
            and _range(value["area"], 0, 1) and value["area"][0] > 0
            and _range(value["aspect_ratio"], 0, MAX_ASPECT_RATIO) and value["aspect_ratio"][0] > 0)


def on_the_fly_augmentation(value):
    if value is None:
        return True
    return (isinstance(value, dict)
            and {"max_shift_pixels", "horizontal_flip_probability"} <= set(value)
            and set(value) <= {"max_shift_pixels", "horizontal_flip_probability", "erasing"}
            and non_negative_int(value["max_shift_pixels"]) and value["max_shift_pixels"] < IMAGE_SIZE // 2
            and _is_number(value["horizontal_flip_probability"]) and 0 <= value["horizontal_flip_probability"] <= 1
            and ("erasing" not in value or erasing(value["erasing"])))


MAX_SEED = 2**32 - 1  # NumPy's and Keras's global seeds are 32-bit


def valid_seed(value):
    return non_negative_int(value) and value <= MAX_SEED


def seed_list(value):
    return isinstance(value, list) and len(value) > 0 and all(valid_seed(v) for v in value) and len(set(value)) == len(value)


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
    "lr_schedule": (lr_schedule, "null, {drop_every_epochs: positive integer, factor: number in (0, 1]} "
                                 "or {warmup_epochs: integer >= 0, decay: cosine}"),
    "augmentation": (optional_text, "null or the name of an entry of `augmentations`"),
    "augment_on_the_fly": (on_the_fly_augmentation, "null or {max_shift_pixels: integer in [0, "
                           f"{IMAGE_SIZE // 2}), horizontal_flip_probability: number in [0, 1]"
                           "[, erasing: {probability: number in [0, 1], area: [min, max] in (0, 1], "
                           f"aspect_ratio: [min, max] in (0, {MAX_ASPECT_RATIO}]}}]}}"),
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
    "max_shift_pixels": (lambda v: non_negative_int(v) and v < IMAGE_SIZE, f"an integer in [0, {IMAGE_SIZE})"),
    "vertical_flip_probability": (lambda v: _is_number(v) and 0 <= v <= 1, "a probability in [0, 1]"),
    "horizontal_flip_probability": (lambda v: _is_number(v) and 0 <= v <= 1, "a probability in [0, 1]"),
    "noise_variance": (lambda v: _is_number(v) and v >= 0, "a number >= 0"),
    "seed": (non_negative_int, "an integer >= 0"),
}
KFOLD_KEYS = {
    "variant": (lambda v: isinstance(v, str), "the name of a variant"),
    "n_splits": (lambda v: _is_int(v) and v >= 2, "an integer >= 2"),
    "folds": (lambda v: isinstance(v, list) and len(v) > 0 and all(non_negative_int(f) for f in v)
              and len(set(v)) == len(v), "a non-empty list of distinct fold indices"),
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


def _describe(value):
    text = repr(value)
    if isinstance(value, str) and re.fullmatch(r"[-+]?\d+(\.\d*)?[eE][-+]?\d+", value):
        # PyYAML reads 1e-3 as a string; YAML 1.1 floats need a dot (1.0e-3).
        text += " (a string: write the number with a dot, e.g. 1.0e-3)"
    return text


def check_keys(section, schema, where, path=PARAMS_FILE, partial=False):
    """Checks one mapping against a schema; raises ParamsError naming the first bad key."""
    if not isinstance(section, dict):
        raise ParamsError(f"{path}: {where}: expected a mapping of keys, got {_describe(section)}")
    for key in section:
        if key not in schema:
            raise ParamsError(f"{path}: {where}.{key}: unknown key (known: {', '.join(schema)})")
    if not partial:
        for key in schema:
            if key not in section:
                raise ParamsError(f"{path}: {where}.{key}: missing key, expected {schema[key][1]}")
    for key, value in section.items():
        check, expected = schema[key]
        if not check(value):
            raise ParamsError(f"{path}: {where}.{key}: expected {expected}, got {_describe(value)}")
    return section


def load(path=PARAMS_FILE):
    """Reads params.yaml as a dict; a missing or unparsable file is a ParamsError."""
    try:
        with open(path) as stream:
            params = yaml.safe_load(stream)
    except FileNotFoundError:
        raise ParamsError(f"{path}: file not found (run from the project root)") from None
    except yaml.YAMLError as error:
        raise ParamsError(f"{path}: not valid YAML: {' '.join(str(error).split())}") from None
    if not isinstance(params, dict):
        raise ParamsError(f"{path}: expected a mapping of sections, got {_describe(params)}")
    return params


def section(params, name, path=PARAMS_FILE):
    if name not in params:
        raise ParamsError(f"{path}: {name}: missing section")
    return params[name]


def data_params(params, path=PARAMS_FILE):
    return check_keys(section(params, "data", path), DATA_KEYS, "data", path)


def prepare_params(params, path=PARAMS_FILE):
    return check_keys(section(params, "prepare", path), PREPARE_KEYS, "prepare", path)


def conv_output_size(size, kernel_size, padding):
    """The height (or width) of a Conv2D's output on a size x size input: a 'valid' kernel
    only visits positions where it fits whole, a 'same' one zero-pads to keep the size."""
    return size if padding == "same" else size - kernel_size + 1


def _check_model_shape(spec, where, path):
    if len(spec["kernel_sizes"]) != len(spec["filters"]):
        raise ParamsError(
            f"{path}: {where}.kernel_sizes: expected one kernel size per conv layer "
            f"({len(spec['filters'])}, as in filters), got {spec['kernel_sizes']}"
        )
    size = IMAGE_SIZE
    for kernel_size in spec["kernel_sizes"]:
        size = conv_output_size(size, kernel_size, spec["padding"]) // spec["pool_size"]
        if size < 1:
            raise ParamsError(
                f"{path}: {where}.kernel_sizes: {spec['kernel_sizes']} with pool_size "
                f"{spec['pool_size']} shrinks the {IMAGE_SIZE}x{IMAGE_SIZE} image to nothing"
            )


VARIANT_SECTIONS = ("variants", "augmented_variants")


def _variant_sections(params, path):
    """{section name: {variant name: overrides}} of the sections params.yaml has."""
    sections = {}
    for name in VARIANT_SECTIONS:
        if name == "variants" or name in params:
            variants = section(params, name, path)
            if not isinstance(variants, dict) or (name == "variants" and not variants):
                raise ParamsError(f"{path}: {name}: expected a mapping of variant names to overrides")
            sections[name] = variants
    return sections


def variant_names(params, path=PARAMS_FILE):
    """Every variant name, of `variants` then of `augmented_variants`."""
    names = []
    for section_name, variants in _variant_sections(params, path).items():
        for name in variants:
            if not isinstance(name, str) or not NAME_PATTERN.match(name):
                raise ParamsError(
                    f"{path}: {section_name}.{name}: a variant name must be a letter then letters, digits or _"
                )
            if name in names:
                raise ParamsError(f"{path}: {section_name}.{name}: a variant of this name already exists")
            names.append(name)
    return names


def seeds(params, path=PARAMS_FILE):
    """The seeds every variant is trained with, once each."""
    value = section(params, "seeds", path)
    if not seed_list(value):
        raise ParamsError(f"{path}: seeds: expected a non-empty list of distinct integers from 0 to {MAX_SEED}, got {_describe(value)}")
    return value


def protocol_overrides(params, path=PARAMS_FILE):
    """The keys the chosen `protocol` (an entry of `protocols`) sets over the baseline's."""
    protocols = section(params, "protocols", path)
    if not isinstance(protocols, dict) or not protocols:
        raise ParamsError(f"{path}: protocols: expected a mapping of protocol names to overrides")
    name = section(params, "protocol", path)
    if name not in protocols:
        raise ParamsError(f"{path}: protocol: no protocol named {name!r} (known: {', '.join(map(str, protocols))})")
    # Every entry is checked, not only the chosen one: a mistake in another shows
    # now, not when someone switches to it.
    for other, overrides in protocols.items():
        check_keys(overrides or {}, MODEL_KEYS, f"protocols.{other}", path, partial=True)
        if "augmentation" in (overrides or {}):
            raise ParamsError(f"{path}: protocols.{other}.augmentation: set by augmented_variants, not by a protocol")
    return protocols[name] or {}


def model_spec(params, name, seed=None, path=PARAMS_FILE):
    """The full spec of variant `name`: the baseline, the protocol's overrides, then the variant's.

    `seed` (weights, dropout masks, order of batches) is added as spec["seed"].
    """
    if seed is not None and not valid_seed(seed):
        raise ParamsError(f"seed: expected an integer from 0 to {MAX_SEED}, got {_describe(seed)}")
    baseline = check_keys(section(params, "baseline", path), MODEL_KEYS, "baseline", path)
    if baseline["augmentation"] is not None:
        raise ParamsError(f"{path}: baseline.augmentation: expected null (augmented_variants set it)")
    protocol = protocol_overrides(params, path)
    baseline = {**baseline, **protocol}
    names = variant_names(params, path)
    if name not in names:
        raise ParamsError(f"{path}: variants: no variant named {name!r} (known: {', '.join(names)})")
    section_name = next(s for s, v in _variant_sections(params, path).items() if name in v)
    where = f"{section_name}.{name}"
    overrides = params[section_name][name] or {}
    check_keys(overrides, MODEL_KEYS, where, path, partial=True)
    spec = {**baseline, **overrides, "seed": seed}
    _check_model_shape(spec, where if "kernel_sizes" in overrides or "filters" in overrides else "baseline", path)
    if spec["strategy"] != "default" and spec["steps_per_execution"] != 1:
        # Keras's multi-step loop fails under MirroredStrategy with this input
        # pipeline (an InvalidArgumentError, after the model is built).
        # Named where it was set: the variant, then the protocol, then the baseline.
        setter = (where if "steps_per_execution" in overrides
                  else f"protocols.{params['protocol']}" if "steps_per_execution" in protocol else "baseline")
        raise ParamsError(f"{path}: {setter}.steps_per_execution: expected 1 with strategy {spec['strategy']!r}, "
                          f"got {spec['steps_per_execution']}")
    if section_name == "variants" and spec["augmentation"] is not None:
        raise ParamsError(f"{path}: {where}.augmentation: a variant trained on augmented data belongs under augmented_variants")
    if section_name == "augmented_variants":
        if spec["augmentation"] is None:
            raise ParamsError(f"{path}: {where}.augmentation: missing, expected the name of an entry of `augmentations`")
        augmentation_params(params, spec["augmentation"], path)
    return spec


def augmentation_params(params, name, path=PARAMS_FILE):
    presets = section(params, "augmentations", path)
    if not isinstance(presets, dict) or name not in presets:
        known = ", ".join(presets) if isinstance(presets, dict) else "none"
        raise ParamsError(f"{path}: augmentations: no augmentation named {name!r} (known: {known})")
    return check_keys(presets[name], AUGMENTATION_KEYS, f"augmentations.{name}", path)


def kfold_params(params, path=PARAMS_FILE):
    kfold = check_keys(section(params, "kfold", path), KFOLD_KEYS, "kfold", path)
    for fold in kfold["folds"]:
        if fold >= kfold["n_splits"]:
            raise ParamsError(
                f"{path}: kfold.folds: fold {fold} does not exist with n_splits {kfold['n_splits']} "
                f"(folds are 0 to {kfold['n_splits'] - 1})"
            )
    if kfold["variant"] not in (section(params, "variants", path) or {}):
        raise ParamsError(
            f"{path}: kfold.variant: expected the name of an entry of `variants`, got {kfold['variant']!r}"
        )
    model_spec(params, kfold["variant"], kfold["seed"], path)
    return kfold


def evaluate_params(params, path=PARAMS_FILE):
    evaluate = check_keys(section(params, "evaluate", path), EVALUATE_KEYS, "evaluate", path)
    names = variant_names(params, path)
    for key in ("select_from", "compare_with_baseline"):
        for name in evaluate[key]:
            if name not in names:
                raise ParamsError(
                    f"{path}: evaluate.{key}: no variant named {name!r} (known: {', '.join(names)})"
                )
    if evaluate["select_count"] > len(evaluate["select_from"]):
        raise ParamsError(
            f"{path}: evaluate.select_count: expected at most {len(evaluate['select_from'])} "
            f"(the length of select_from), got {evaluate['select_count']}"
        )
    return evaluate


def mirror_params(params, path=PARAMS_FILE):
    mirror = check_keys(section(params, "mirror", path), MIRROR_KEYS, "mirror", path)
    names = variant_names(params, path)
    for name in mirror["variants"]:
        if name not in names:
            raise ParamsError(f"{path}: mirror.variants: no variant named {name!r} (known: {', '.join(names)})")
    if len(set(mirror["variants"])) != len(mirror["variants"]):
        raise ParamsError(f"{path}: mirror.variants: a variant is listed twice")
    return mirror


def check_all(params, path=PARAMS_FILE):
    """Checks every section, as each stage would."""
    data_params(params, path)
    prepare_params(params, path)
    seeds(params, path)
    for name in variant_names(params, path):
        model_spec(params, name, path=path)
    for name in section(params, "augmentations", path) or {}:
        augmentation_params(params, name, path)
    kfold_params(params, path)
    evaluate_params(params, path)
    mirror_params(params, path)


def main():
    try:
        check_all(load())
    except ParamsError as error:
        fail(error)
    print(f"{PARAMS_FILE}: ok")


if __name__ == "__main__":
    main()
