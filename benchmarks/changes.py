"""Keys of a spec changed from the command line: `--set`, `--what-if` and `--where`, each KEY=VALUE.

A value is read as YAML, as `dvc exp run -S` reads it, and checked as params.yaml's
would be, so that a mistake is refused in one line before any timing starts.
"""

import copy
import dataclasses

from study import config
from study.config import schema
from study.config.checks import check_keys

VARIANT_SECTIONS = ("variants", "augmented_variants")


def key_and_value(assignment):
    """(key, value) of "key=value", the value read as YAML; None without "="."""
    import yaml

    key, separator, value = assignment.partition("=")
    return (key, yaml.safe_load(value)) if separator else None


def check_changes(changes, option):
    """Raises a ParamsError naming `option` and the key when a value of {key: value} is not one
    a spec may hold."""
    check_keys(changes, schema.MODEL_KEYS, option, partial=True)


def study_with(study, name, changes):
    """The Study in which variant `name` sets `changes` over its own keys.

    The Study is built again from the changed mapping, so the changes pass every
    check that params.yaml does, the checks between keys included.
    """
    study.spec(name)  # an unknown variant is refused here, with the names it could have been
    raw = copy.deepcopy(study.raw)
    section = next(section for section in VARIANT_SECTIONS if name in (raw.get(section) or {}))
    raw[section][name] = {**(raw[section][name] or {}), **changes}
    return config.Study(raw, study.path)


def holds(spec, key, value):
    """Whether `spec` (a ModelSpec) already holds `value` (as params.yaml writes it) at `key`.

    The value is converted as the config converts params.yaml (a list to a tuple, a
    schedule to its dataclass), so that [32, 64] matches the tuple (32, 64).
    """
    return schema.model_spec_of({**dataclasses.asdict(spec), key: value}) == spec
