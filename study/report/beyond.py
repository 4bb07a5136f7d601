"""Beyond the published study: the strongest model of its family at its cost, whether
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

from study import artifacts
from study.flops import training_flops
from study.report.compare import adjust, compare
from study.report.inputs import mirrored

AUGMENTATION_KEYS = ("augmentation", "augment_on_the_fly")


def one_factor_pairs(inputs, off):
    """[(variant, twin)], in params order: each variant with a factor on, and the variant
    whose spec is the same with the factor off. `off`: {key: the value that turns it off}."""
    all_specs = inputs.specs
    plain = {name: spec for name, spec in all_specs.items() if all(spec[k] == v for k, v in off.items())}
    pairs = []
    for name, spec in all_specs.items():
        if name in plain:
            continue
        stripped = {**spec, **off}
        partner = next((other for other, other_spec in plain.items() if other_spec == stripped), None)
        if partner is not None:
            pairs.append((name, partner))
    return pairs


def augmentation_pairs(inputs):
    """[(augmented variant, the same variant without augmentation)], in params order."""
    return one_factor_pairs(inputs, {key: None for key in AUGMENTATION_KEYS})


def augmentation_effects(inputs):
    """Each augmented variant minus its unaugmented twin on test, seed-level, Holm-adjusted over the pairs."""
    return adjust([compare(inputs, augmented, plain) for augmented, plain in augmentation_pairs(inputs)])


# The other single factors the report tests, each a family of its own: (params key,
# the value that turns it off, what the report calls it, the header of its table).
FACTORS = (
    ("label_smoothing", 0.0, "Label smoothing", "smoothed − one-hot targets"),
    ("padding", "valid", "Same padding", "same − valid padding"),
)


def factor_effects(inputs):
    """{key of FACTORS: each variant with the factor on minus its twin with it off, seed-level,
    Holm-adjusted over that factor's pairs}, for the factors that have a pair."""
    effects = {}
    for key, off, _, _ in FACTORS:
        pairs = one_factor_pairs(inputs, {key: off})
        if pairs:
            effects[key] = adjust([compare(inputs, on, plain) for on, plain in pairs])
    return effects


def mirror_effects(inputs):
    """Each listed variant's test accuracy with the test-time mirror minus without, seed-level, Holm-adjusted."""
    return adjust([compare(inputs, mirrored(name), name) for name in inputs.mirrored])


def strongest(inputs):
    """The variant with the highest mean validation accuracy."""
    return max(inputs.names, key=lambda name: inputs.seed_values(name, artifacts.VAL_ACCURACY).mean())


def cost(inputs, name):
    """What one training of `name` costs: parameters, MFLOP per trained image, images trained, TFLOP in all.

    Images trained are the epochs times the training set the run read (the train
    split, or the augmented set with its copies).
    """
    spec = inputs.specs[name]
    metrics = inputs.per_seed[name][0]
    images = spec["epochs"] * inputs.training_set_size(name)
    return {
        "params": int(metrics["params"]),
        "mflop_per_image": training_flops(spec) / 1e6,
        "images": images,
        "tflop": training_flops(spec) * images / 1e12,
    }


def verdict(comparison):
    if comparison.get("p_holm") is None:
        return "no verdict"
    if not comparison["significant"]:
        return "no significant difference"
    return "helps" if comparison["difference"] > 0 else "hurts"


def cost_rows(inputs):
    """Every variant, strongest in validation first: its cost beside its accuracy."""
    baseline = cost(inputs, "baseline")
    rows = []
    for name in sorted(inputs.names, key=lambda n: -inputs.seed_values(n, artifacts.VAL_ACCURACY).mean()):
        c = cost(inputs, name)
        rows.append([name, f"{c['params']:,}", f"{c['mflop_per_image']:.1f}", f"{c['images']:,}",
                     f"{c['tflop']:.1f} ({c['tflop'] / baseline['tflop']:.1f}x)",
                     f"{inputs.seed_values(name, artifacts.VAL_ACCURACY).mean():.4f}",
                     f"{inputs.test_values(name).mean():.4f}",
                     f"{inputs.evaluate['models'][name]['ensemble_test_accuracy']:.4f}"])
    return rows
