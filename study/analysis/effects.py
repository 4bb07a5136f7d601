"""Beyond the published study: the strongest model of its family and what it changes, whether
augmentation, label smoothing and same padding help, and the test-time mirror.

Each is read from params.yaml's variants, with nothing to configure:
- the strongest model is the variant with the highest mean validation accuracy
  (the published study's own way of choosing, never the test set);
- each augmented variant is compared with the variant whose spec is the same
  apart from its augmentation (`augmentation`, `augment_on_the_fly`), when one exists;
- each variant with a factor of FACTORS on likewise with the variant the same
  apart from that factor off (`label_smoothing: 0`, `padding: valid`).
The augmentation comparisons are a family of their own, Holm-adjusted together,
apart from the published claims'; so are each factor's and the test-time mirror's (each variant of
params.yaml `mirror`, with the mirror against without).
"""

import dataclasses

from study.analysis.compare import adjust, compare
from study.analysis.cost import training_flops
from study.analysis.results import mirrored

AUGMENTATION_KEYS = ("augmentation", "augment_on_the_fly")

# The other single factors the report tests, each a family of its own: (params key,
# the value that turns it off, what the report calls it, the header of its table).
FACTORS = (
    ("label_smoothing", 0.0, "Label smoothing", "smoothed − one-hot targets"),
    ("padding", "valid", "Same padding", "same − valid padding"),
)


def one_factor_pairs(results, off):
    """[(variant, twin)], in params order: each variant with a factor on, and the variant
    whose spec is the same with the factor off. `off`: {key: the value that turns it off}."""
    specs = results.specs
    plain = {name: spec for name, spec in specs.items() if all(getattr(spec, k) == v for k, v in off.items())}
    pairs = []
    for name, spec in specs.items():
        if name in plain:
            continue
        stripped = spec.replace(**off)
        partner = next((other for other, other_spec in plain.items() if other_spec == stripped), None)
        if partner is not None:
            pairs.append((name, partner))
    return pairs


def augmentation_pairs(results):
    """[(augmented variant, the same variant without augmentation)], in params order."""
    return one_factor_pairs(results, {key: None for key in AUGMENTATION_KEYS})


def augmentation_effects(results):
    """Each augmented variant minus its unaugmented twin on test, seed-level, Holm-adjusted over the pairs."""
    return adjust([compare(results, augmented, plain) for augmented, plain in augmentation_pairs(results)])


def with_cost_ratios(results, comparison):
    """The comparison with what the factor also changes: the parameters and the FLOPs per trained
    image of A over B's (1.0 where the factor changes only the training, not the model)."""
    a, b = comparison["a"], comparison["b"]
    comparison["parameters_ratio"] = results.per_seed[a][0]["params"] / results.per_seed[b][0]["params"]
    comparison["flops_ratio"] = training_flops(results.specs[a]) / training_flops(results.specs[b])
    return comparison


def factor_effects(results):
    """{key of FACTORS: each variant with the factor on minus its twin with it off, seed-level,
    Holm-adjusted over that factor's pairs}, for the factors that have a pair; each with the
    parameters and FLOPs the factor also changes."""
    effects = {}
    for key, off, _, _ in FACTORS:
        pairs = one_factor_pairs(results, {key: off})
        if pairs:
            effects[key] = adjust(
                [with_cost_ratios(results, compare(results, on, plain)) for on, plain in pairs]
            )
    return effects


def mirror_effects(results):
    """Each listed variant's test accuracy with the test-time mirror minus without, seed-level,
    Holm-adjusted."""
    return adjust([compare(results, mirrored(name), name) for name in results.mirrored])


def strongest(validation):
    """The variant with the highest mean validation accuracy, of `validation` ({variant: mean})."""
    return max(validation, key=validation.get)


def verdict(comparison):
    if comparison.get("p_holm") is None:
        return "no verdict"
    if not comparison["significant"]:
        return "no significant difference"
    return "helps" if comparison["difference"] > 0 else "hurts"


def as_params(value):
    """A spec's value as params.yaml writes it: a schedule or augmentation as a mapping (an optional key
    left unset left out), a tuple as a list."""
    if dataclasses.is_dataclass(value):
        return {
            field.name: as_params(getattr(value, field.name))
            for field in dataclasses.fields(value)
            if not (field.default is None and getattr(value, field.name) is None)
        }
    if isinstance(value, (tuple, list)):
        return [as_params(item) for item in value]
    return value


def changes(spec, reference):
    """{key: value as params.yaml writes it} of each key where `spec` differs from `reference`,
    in spec order."""
    return {
        field.name: as_params(getattr(spec, field.name))
        for field in dataclasses.fields(spec)
        if getattr(spec, field.name) != getattr(reference, field.name)
    }
