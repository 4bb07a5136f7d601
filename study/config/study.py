"""params.yaml read once, every section checked against its table, and the cross-checks between
sections (a listed variant exists, a fold is inside n_splits, a warm-up is shorter than its training).
`python -m study.config` checks the whole params.yaml.

A mistake is a ParamsError of one line that names the file, the key and what is
expected. Nothing here imports TensorFlow, so the check takes milliseconds.
"""

import yaml

from study.config import schema
from study.config.checks import (
    MAX_SEED,
    NAME_PATTERN,
    PARAMS_FILE,
    check_keys,
    describe,
    seed_list,
    valid_seed,
)
from study.data.facts import IMAGE_SIZE
from study.errors import ParamsError
from study.geometry import conv_output_size

VARIANT_SECTIONS = ("variants", "augmented_variants", "recipes")


def read(path=PARAMS_FILE):
    """params.yaml as a dict; a missing or unparsable file is a ParamsError."""
    try:
        with open(path) as stream:
            params = yaml.safe_load(stream)
    except FileNotFoundError:
        raise ParamsError(f"{path}: file not found (run from the project root)") from None
    except yaml.YAMLError as error:
        raise ParamsError(f"{path}: not valid YAML: {' '.join(str(error).split())}") from None
    if not isinstance(params, dict):
        raise ParamsError(f"{path}: expected a mapping of sections, got {describe(params)}")
    return params


def load(path=PARAMS_FILE):
    """The Study of params.yaml at `path`, every section checked."""
    return Study(read(path), path)


class Study:
    """Every setting of params.yaml, checked once when built; read through attributes.

    `raw` is the mapping as read, for tools that set a key and build a new Study from it.
    """

    def __init__(self, params, path=PARAMS_FILE):
        self.raw, self.path = params, path
        self.data = schema.build(schema.DataSettings, self._checked("data", schema.DATA_KEYS))
        self.prepare = schema.build(schema.PrepareSettings, self._checked("prepare", schema.PREPARE_KEYS))
        self.seeds = self._seeds("seeds")
        # Recipes have their own seeds: more seeds for the published variants cost little.
        self.recipe_seeds = self._seeds("recipe_seeds") if "recipe_seeds" in params else self.seeds
        self._sections = self._variant_sections()
        self.variant_names = self._names()
        self.augmented_variant_names = tuple(self._sections.get("augmented_variants", {}))
        self.recipe_names = tuple(self._sections.get("recipes", {}))
        self.protocol = self.section("protocol")
        self._protocol_overrides = self._protocol()
        self._baseline = self._baseline_mapping()
        presets = self.section("augmentations") if "augmentations" in params else {}
        if not isinstance(presets, dict):
            raise ParamsError(f"{path}: augmentations: expected a mapping of preset names to settings")
        self.augmentations = {
            name: schema.build(
                schema.AugmentationPreset,
                check_keys(presets[name], schema.AUGMENTATION_KEYS, f"augmentations.{name}", path),
            )
            for name in presets
        }
        self.specs = {name: self._spec(name) for name in self.variant_names}
        self.kfold = self._kfold()
        self.evaluate = self._evaluate()
        self.mirror = self._mirror()

    # Reading sections.
    def section(self, name):
        if name not in self.raw:
            raise ParamsError(f"{self.path}: {name}: missing section")
        return self.raw[name]

    def _checked(self, name, table, partial=False):
        return check_keys(self.section(name), table, name, self.path, partial)

    def _seeds(self, key):
        value = self.section(key)
        if not seed_list(value):
            raise ParamsError(
                f"{self.path}: {key}: expected a non-empty list of distinct integers from 0 to "
                f"{MAX_SEED}, got {describe(value)}"
            )
        return tuple(value)

    def _variant_sections(self):
        """{section name: {variant name: overrides}} of the sections params.yaml has."""
        sections = {}
        for name in VARIANT_SECTIONS:
            if name == "variants" or name in self.raw:
                variants = self.section(name)
                if not isinstance(variants, dict) or (name == "variants" and not variants):
                    raise ParamsError(
                        f"{self.path}: {name}: expected a mapping of variant names to overrides"
                    )
                sections[name] = variants
        return sections

    def _names(self):
        names = []
        for section_name, variants in self._sections.items():
            for name in variants:
                if not isinstance(name, str) or not NAME_PATTERN.match(name):
                    raise ParamsError(
                        f"{self.path}: {section_name}.{name}: a variant name must be a letter "
                        "then letters, digits or _"
                    )
                if name in names:
                    raise ParamsError(
                        f"{self.path}: {section_name}.{name}: a variant of this name already exists"
                    )
                names.append(name)
        return tuple(names)

    def _protocol(self):
        """The keys the chosen `protocol` (an entry of `protocols`) sets over the baseline's."""
        protocols = self.section("protocols")
        if not isinstance(protocols, dict) or not protocols:
            raise ParamsError(f"{self.path}: protocols: expected a mapping of protocol names to overrides")
        if self.protocol not in protocols:
            raise ParamsError(
                f"{self.path}: protocol: no protocol named {self.protocol!r} "
                f"(known: {', '.join(map(str, protocols))})"
            )
        # Every entry is checked, not only the chosen one: a mistake in another shows
        # now, not when someone switches to it.
        for other, overrides in protocols.items():
            check_keys(overrides or {}, schema.MODEL_KEYS, f"protocols.{other}", self.path, partial=True)
            if "augmentation" in (overrides or {}):
                raise ParamsError(
                    f"{self.path}: protocols.{other}.augmentation: set by augmented_variants, "
                    "not by a protocol"
                )
        return protocols[self.protocol] or {}

    def _baseline_mapping(self):
        baseline = self._checked("baseline", schema.MODEL_KEYS)
        if baseline["augmentation"] is not None:
            raise ParamsError(
                f"{self.path}: baseline.augmentation: expected null (augmented_variants set it)"
            )
        return {**baseline, **self._protocol_overrides}

    # Model specs.
    def _spec(self, name):
        section_name = next(s for s, v in self._sections.items() if name in v)
        where = f"{section_name}.{name}"
        overrides = self._sections[section_name][name] or {}
        check_keys(overrides, schema.MODEL_KEYS, where, self.path, partial=True)
        mapping = {**self._baseline, **overrides}
        self._check_shape(
            mapping, where if "kernel_sizes" in overrides or "filters" in overrides else "baseline"
        )
        self._check_combinations(mapping, overrides, where)
        if section_name != "augmented_variants" and mapping["augmentation"] is not None:
            raise ParamsError(
                f"{self.path}: {where}.augmentation: a variant trained on augmented data belongs "
                "under augmented_variants"
            )
        if section_name == "augmented_variants":
            if mapping["augmentation"] is None:
                raise ParamsError(
                    f"{self.path}: {where}.augmentation: missing, expected the name of an entry "
                    "of `augmentations`"
                )
            self.augmentation(mapping["augmentation"])
        return schema.model_spec_of(mapping)

    def _setter(self, key, overrides, where):
        """Where `key` was set: the variant, then the protocol, then the baseline."""
        if key in overrides:
            return where
        return f"protocols.{self.protocol}" if key in self._protocol_overrides else "baseline"

    def _check_shape(self, spec, where):
        if len(spec["kernel_sizes"]) != len(spec["filters"]):
            raise ParamsError(
                f"{self.path}: {where}.kernel_sizes: expected one kernel size per conv layer "
                f"({len(spec['filters'])}, as in filters), got {spec['kernel_sizes']}"
            )
        size = IMAGE_SIZE
        for kernel_size in spec["kernel_sizes"]:
            size = conv_output_size(size, kernel_size, spec["padding"]) // spec["pool_size"]
            if size < 1:
                raise ParamsError(
                    f"{self.path}: {where}.kernel_sizes: {spec['kernel_sizes']} with pool_size "
                    f"{spec['pool_size']} shrinks the {IMAGE_SIZE}x{IMAGE_SIZE} image to nothing"
                )

    def _check_combinations(self, spec, overrides, where):
        if spec["strategy"] != "default" and spec["steps_per_execution"] != 1:
            # Keras's multi-step loop fails under MirroredStrategy with this input
            # pipeline (an InvalidArgumentError, after the model is built).
            raise ParamsError(
                f"{self.path}: {self._setter('steps_per_execution', overrides, where)}"
                f".steps_per_execution: expected 1 with strategy {spec['strategy']!r}, "
                f"got {spec['steps_per_execution']}"
            )
        schedule = spec["lr_schedule"]
        if (
            isinstance(schedule, dict)
            and "warmup_epochs" in schedule
            and schedule["warmup_epochs"] >= spec["epochs"]
        ):
            # A warm-up as long as the training never reaches its peak rate, nor decays from it.
            raise ParamsError(
                f"{self.path}: {self._setter('lr_schedule', overrides, where)}.lr_schedule."
                f"warmup_epochs: expected fewer than the training's {spec['epochs']} epochs "
                f"(epochs set in {self._setter('epochs', overrides, where)}), "
                f"got {schedule['warmup_epochs']}"
            )

    def spec(self, name, seed=None):
        """The full ModelSpec of variant `name`; `seed` (weights, dropout masks, order of batches)
        set in it."""
        if seed is not None and not valid_seed(seed):
            raise ParamsError(f"seed: expected an integer from 0 to {MAX_SEED}, got {describe(seed)}")
        if name not in self.specs:
            raise ParamsError(
                f"{self.path}: variants: no variant named {name!r} (known: {', '.join(self.variant_names)})"
            )
        return self.specs[name].replace(seed=seed)

    def seeds_of(self, name):
        """The seeds variant `name` is trained with: `recipe_seeds` for a recipe, else `seeds`."""
        return self.recipe_seeds if name in self.recipe_names else self.seeds

    def augmentation(self, name):
        """The AugmentationPreset `name` of `augmentations`."""
        if name not in self.augmentations:
            known = ", ".join(self.augmentations) or "none"
            raise ParamsError(f"{self.path}: augmentations: no augmentation named {name!r} (known: {known})")
        return self.augmentations[name]

    def training_images(self, name, train_size):
        """Images variant `name` trains on per epoch: the train split, times 1 + copies for
        an augmented set."""
        augmentation = self.specs[name].augmentation
        return train_size * (1 + (0 if augmentation is None else self.augmentation(augmentation).copies))

    # The other sections.
    def _known(self, key, names):
        for name in names:
            if name not in self.variant_names:
                raise ParamsError(
                    f"{self.path}: {key}: no variant named {name!r} (known: {', '.join(self.variant_names)})"
                )

    def _kfold(self):
        kfold = self._checked("kfold", schema.KFOLD_KEYS)
        for fold in kfold["folds"]:
            if fold >= kfold["n_splits"]:
                raise ParamsError(
                    f"{self.path}: kfold.folds: fold {fold} does not exist with n_splits "
                    f"{kfold['n_splits']} (folds are 0 to {kfold['n_splits'] - 1})"
                )
        if kfold["variant"] not in (self.section("variants") or {}):
            raise ParamsError(
                f"{self.path}: kfold.variant: expected the name of an entry of `variants`, "
                f"got {kfold['variant']!r}"
            )
        self.spec(kfold["variant"], kfold["seed"])
        return schema.build(schema.KFoldSettings, kfold)

    def _evaluate(self):
        evaluate = self._checked("evaluate", schema.EVALUATE_KEYS)
        for key in ("select_from", "compare_with_baseline"):
            self._known(f"evaluate.{key}", evaluate[key])
        if evaluate["select_count"] > len(evaluate["select_from"]):
            raise ParamsError(
                f"{self.path}: evaluate.select_count: expected at most {len(evaluate['select_from'])} "
                f"(the length of select_from), got {evaluate['select_count']}"
            )
        return schema.build(schema.EvaluateSettings, evaluate)

    def _mirror(self):
        mirror = self._checked("mirror", schema.MIRROR_KEYS)
        for name in mirror["variants"]:
            if name not in self.recipe_names:
                # dvc.yaml runs the mirror over recipe_seeds, the seeds a recipe's models have.
                raise ParamsError(
                    f"{self.path}: mirror.variants: expected names of entries of `recipes`, got {name!r}"
                )
        if len(set(mirror["variants"])) != len(mirror["variants"]):
            raise ParamsError(f"{self.path}: mirror.variants: a variant is listed twice")
        return schema.build(schema.MirrorSettings, mirror)
