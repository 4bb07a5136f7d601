"""What each value of params.yaml may be: one predicate per kind of value, and the check of a
mapping against a table of them. The text beside each predicate says what is expected.
"""

import re

from study.data.facts import IDX_FILES, IMAGE_SIZE
from study.errors import ParamsError

PARAMS_FILE = "params.yaml"
# Variant names become stage names (train@NAME) and file names (models/NAME.keras).
NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


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
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(_is_number(v) for v in value)
        and low <= value[0] <= value[1] <= high
    )


# Height over width of an erased rectangle: beyond a one-pixel strip the height of
# the image, a larger ratio only draws the same clipped strip.
MAX_ASPECT_RATIO = IMAGE_SIZE


def erasing(value):
    return (
        isinstance(value, dict)
        and set(value) == {"probability", "area", "aspect_ratio"}
        and _is_number(value["probability"])
        and 0 <= value["probability"] <= 1
        and _range(value["area"], 0, 1)
        and value["area"][0] > 0
        and _range(value["aspect_ratio"], 0, MAX_ASPECT_RATIO)
        and value["aspect_ratio"][0] > 0
    )


def on_the_fly_augmentation(value):
    if value is None:
        return True
    return (
        isinstance(value, dict)
        and {"max_shift_pixels", "horizontal_flip_probability"} <= set(value)
        and set(value) <= {"max_shift_pixels", "horizontal_flip_probability", "erasing"}
        and non_negative_int(value["max_shift_pixels"])
        and value["max_shift_pixels"] < IMAGE_SIZE // 2
        and _is_number(value["horizontal_flip_probability"])
        and 0 <= value["horizontal_flip_probability"] <= 1
        and ("erasing" not in value or erasing(value["erasing"]))
    )


MAX_SEED = 2**32 - 1  # NumPy's and Keras's global seeds are 32-bit


def valid_seed(value):
    return non_negative_int(value) and value <= MAX_SEED


def seed_list(value):
    return (
        isinstance(value, list)
        and len(value) > 0
        and all(valid_seed(v) for v in value)
        and len(set(value)) == len(value)
    )


def describe(value):
    text = repr(value)
    if isinstance(value, str) and re.fullmatch(r"[-+]?\d+(\.\d*)?[eE][-+]?\d+", value):
        # PyYAML reads 1e-3 as a string; YAML 1.1 floats need a dot (1.0e-3).
        text += " (a string: write the number with a dot, e.g. 1.0e-3)"
    return text


def check_keys(section, schema, where, path=PARAMS_FILE, partial=False):
    """Checks one mapping against a schema; raises ParamsError naming the first bad key."""
    if not isinstance(section, dict):
        raise ParamsError(f"{path}: {where}: expected a mapping of keys, got {describe(section)}")
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
            raise ParamsError(f"{path}: {where}.{key}: expected {expected}, got {describe(value)}")
    return section
