"""study.report: claims, fidelity and comparisons on small hand-made studies, checked by hand."""

import types

import numpy as np
import pytest

from study import artifacts
from study import params as study_params
from study.dataset import CLASS_NAMES
from study.report import claims, compare, fidelity, render

SEEDS = [1, 2, 3]


def fake_inputs(correct, per_seed, histories=None, per_class=None, published=None):
    """An object with the attributes of study.report.inputs.Inputs that the code under test reads."""
    labels = np.arange(len(next(iter(correct.values()))[0])) % 10
    answers = {n: np.where(c, labels[None], (labels[None] + 1) % 10) for n, c in correct.items()}
    inputs = types.SimpleNamespace(
        seeds=SEEDS, labels=labels, correct={n: np.asarray(c, dtype=bool) for n, c in correct.items()},
        answers=answers, histories=histories or {}, published=published or {},
        evaluate={"selected": ["a", "b"], "models": {n: {"per_class": p} for n, p in (per_class or {}).items()}},
        selected=["a", "b"],
    )
    inputs.seed_values = lambda name, key: np.array([m[key] for m in per_seed[name]], dtype=float)
    inputs.test_values = lambda name: inputs.correct[name].mean(axis=1)
    return inputs


def seeded_correct(accuracies, count=2000, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([rng.random(count) < accuracy for accuracy in accuracies])


def test_a_difference_that_holds_across_seeds_is_significant_after_holm():
    inputs = fake_inputs({"a": seeded_correct([0.93] * 3, seed=1), "b": seeded_correct([0.88] * 3, seed=2),
                          "c": seeded_correct([0.90, 0.86, 0.91], seed=3)}, per_seed={})
    result = claims.check_all(types.SimpleNamespace(**{**vars(inputs), "published": {"claims": [
        {"key": "a_beats_b", "kind": "better_on_test", "better": "a", "worse": "b", "text": "A beats B"},
        {"key": "c_beats_b", "kind": "better_on_test", "better": "c", "worse": "b", "text": "C beats B"},
        {"key": "b_beats_a", "kind": "better_on_test", "better": "b", "worse": "a", "text": "B beats A"},
    ]}}))
    verdicts = {r["key"]: r["verdict"] for r in result}
    assert verdicts["a_beats_b"] == "holds"
    # C is ahead of B in two seeds and behind in one: the seed level sees the spread.
    assert verdicts["c_beats_b"] == "holds in direction only"
    assert verdicts["b_beats_a"] == "does not hold (the reverse is significant)"
    comparisons = [r["comparison"] for r in result]
    raw = [c["p_value"] for c in comparisons]
    # Holm over the family of three, by hand: sorted p times 3, 2, 1, made monotone.
    order = np.argsort(raw)
    expected, running = [None] * 3, 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (3 - rank) * raw[index]))
        expected[index] = running
    assert [c["p_holm"] for c in comparisons] == pytest.approx(expected)


def test_a_single_training_run_gets_no_verdict():
    inputs = fake_inputs({"kfold_best": seeded_correct([0.95], seed=1), "b": seeded_correct([0.88] * 3)}, {})
    comparison = compare.compare(inputs, "kfold_best", "b")
    assert comparison["single_run"] and comparison["low"] is None and comparison["p_value"] is None
    assert claims.tested_verdict({"comparison": comparison}) == "no verdict (one training run)"


def test_descriptive_claims_against_hand_made_figures():
    per_class = {m: {c: {"precision": 0.9, "recall": 0.9, "f1": 0.9} for c in CLASS_NAMES} for m in ("a", "b")}
    per_class["a"]["Shirt"] = {"precision": 0.7, "recall": 0.75, "f1": 0.72}
    per_class["b"]["Shirt"] = {"precision": 0.68, "recall": 0.83, "f1": 0.74}
    per_class["b"]["Bag"] = {"precision": 0.99, "recall": 0.98, "f1": 0.985}
    histories = {"a": [{"epoch": 15, "loss": 0.20, "val_loss": 0.25}],
                 "b": [{"epoch": 15, "loss": 0.22, "val_loss": 0.23}]}
    inputs = fake_inputs({"a": seeded_correct([0.9] * 3), "b": seeded_correct([0.9] * 3)}, {}, histories, per_class)
    assert claims.class_extreme(inputs, {"models": ["a", "b"], "metric": "precision", "highest": False,
                                         "expected": "Shirt"})["holds"]
    assert not claims.class_extreme(inputs, {"models": ["a", "b"], "metric": "f1", "highest": True,
                                             "expected": "Bag"})["holds"]  # a has no best Bag
    assert claims.class_compare(inputs, {"class": "Shirt", "metric": "recall", "higher": "b", "lower": "a"})["holds"]
    assert claims.overfits(inputs, {"model": "a", "expected": True})["holds"]
    assert claims.smaller_gap(inputs, {"smaller": "b", "larger": "a"})["holds"]  # +0.01 against +0.05
    assert not claims.higher_loss(inputs, {"higher": "b", "lower": "a"})["holds"]  # 0.23 < 0.25


def test_confusion_claims_count_the_right_cells():
    labels = np.array([6, 6, 6, 0, 0, 1])
    answers = np.array([0, 0, 2, 6, 0, 1])  # Shirt->T-shirt twice, Shirt->Pullover, T-shirt->Shirt once
    inputs = types.SimpleNamespace(labels=labels, answers={"kfold_best": answers[None]})
    assert claims.confusion_more(inputs, {"a": "Shirt", "b": "T-shirt/top", "c": "T-shirt/top", "d": "Shirt"}) == {
        "holds": True, "detail": "Shirt -> T-shirt/top 2, T-shirt/top -> Shirt 1"}
    assert claims.most_confused(inputs, {"expected": "Shirt"})["holds"]


def test_fidelity_distance_in_floored_seed_sds():
    record = fidelity._record("k", 0.9000, [0.9010, 0.9020, 0.9030])  # sd 0.001 -> floored to 0.002
    assert record["sd"] == fidelity.SD_FLOOR and record["ours"] == pytest.approx(0.902)
    assert record["distance_sd"] == pytest.approx(1.0) and record["within_2sd"]
    wide = fidelity._record("k", 0.9000, [0.90, 0.91, 0.92])  # sd 0.01: 1 sd away
    assert wide["sd"] == pytest.approx(0.01) and wide["distance_sd"] == pytest.approx(1.0)
    one_run = fidelity._record("k", 0.9259, 0.9159, proxy_sd=0.004)  # 0.01 / 0.004
    assert one_run["distance_sd"] == pytest.approx(2.5) and not one_run["within_2sd"]
    records = [{"key": "table1.x.train", "within_2sd": True}, {"key": "table5.kfold.val", "within_2sd": False},
               {"key": "table5.carried.val", "within_2sd": True}]
    assert fidelity.count(records) == (2, 2) and fidelity.count(records, table5="kfold") == (1, 2)


def test_interval_and_p_text():
    assert render.p_text(None) == "—" and render.p_text(0.0004) == "< 0.001" and render.p_text(0.0123) == "0.0123"
    assert render.interval_text({"difference": 0.01, "low": None}) == "+0.0100 (one run)"
    assert render.mean_sd([0.9, 0.92]) == f"0.9100 ± {np.std([0.9, 0.92], ddof=1):.4f}"
    assert artifacts.KFOLD_CARRIED == "kfold_carried"


def test_each_augmented_variant_is_paired_with_its_unaugmented_twin():
    from study.report import beyond

    params = {
        "baseline": {"filters": [8, 16], "kernel_sizes": [3, 3], "pool_size": 2, "padding": "valid", "conv_dropout_rate": 0.25,
                     "dense_units": 16, "dense_dropout_rate": 0.25, "activation": "relu", "batch_norm": False,
                     "batch_norm_kernel": "keras",
                     "optimizer": "adam", "learning_rate": 0.001, "momentum": 0.0, "label_smoothing": 0.0,
                     "lr_schedule": None, "augmentation": None, "augment_on_the_fly": None, "epochs": 2,
                     "batch_size": 32, "precision": "float32", "jit_compile": False, "steps_per_execution": 1,
                     "threads": 1, "strategy": "default"},
        "protocol": "reproduce", "protocols": {"reproduce": {}},
        "variants": {
            "baseline": {},
            "wide": {"dense_units": 32},
            "shifted": {"augment_on_the_fly": {"max_shift_pixels": 2, "horizontal_flip_probability": 0.5}},
            "wide_shifted": {"dense_units": 32,
                             "augment_on_the_fly": {"max_shift_pixels": 2, "horizontal_flip_probability": 0.0}},
            "orphan": {"epochs": 3, "augment_on_the_fly": {"max_shift_pixels": 1, "horizontal_flip_probability": 0.0}},
            "smoothed_shifted": {"label_smoothing": 0.1,
                                 "augment_on_the_fly": {"max_shift_pixels": 2, "horizontal_flip_probability": 0.5}},
            "smoothed_longer": {"label_smoothing": 0.1, "epochs": 3},
        },
        "augmented_variants": {"copied": {"augmentation": "flip"}},
        "augmentations": {"flip": {"copies": 1, "max_rotation_degrees": 0, "max_shift_pixels": 0,
                                   "vertical_flip_probability": 0.0, "horizontal_flip_probability": 0.5,
                                   "noise_variance": 0.0, "seed": 0}},
    }
    names = [*params["variants"], *params["augmented_variants"]]
    inputs = types.SimpleNamespace(specs={name: study_params.model_spec(params, name) for name in names})
    # "orphan" also trains longer: no variant differs from it in augmentation alone.
    # "smoothed_shifted" is also smoothed: its twin in augmentation alone would be smoothed too.
    assert beyond.augmentation_pairs(inputs) == [("shifted", "baseline"), ("wide_shifted", "wide"),
                                                 ("copied", "baseline")]
    # Label smoothing is paired the same way: "smoothed_longer" also trains longer than any one-hot variant.
    assert beyond.one_factor_pairs(inputs, {"label_smoothing": 0.0}) == [("smoothed_shifted", "shifted")]


def test_augmentation_verdicts_read_the_holm_adjusted_comparison():
    from study.report import beyond

    inputs = fake_inputs({"aug": seeded_correct([0.93] * 3, seed=1), "plain": seeded_correct([0.90] * 3, seed=2),
                          "aug_bad": seeded_correct([0.86] * 3, seed=3), "close": seeded_correct([0.90] * 3, seed=4)},
                         per_seed={})
    effects = compare.adjust([compare.compare(inputs, "aug", "plain"), compare.compare(inputs, "aug_bad", "plain"),
                              compare.compare(inputs, "close", "plain")])
    assert [beyond.verdict(c) for c in effects] == ["helps", "hurts", "no significant difference"]
    assert beyond.verdict({"p_holm": None}) == "no verdict"


def test_spec_values_are_written_as_params_yaml_writes_them():
    assert [render.yaml_text(v) for v in (None, True, [64, 128], {"warmup_epochs": 1, "decay": "cosine"}, 0.002)] == [
        "null", "true", "[64, 128]", "{warmup_epochs: 1, decay: cosine}", "0.002"]


def test_each_mirrored_variant_is_compared_with_itself_without_the_mirror():
    from study.report import beyond
    from study.report.inputs import mirrored

    correct = {"a": seeded_correct([0.90] * 3, seed=1), "b": seeded_correct([0.90] * 3, seed=2)}
    # The mirror mends a's answers on a fixed tenth of the images, and leaves b's as they are.
    mended = correct["a"] | (np.arange(2000) % 10 == 0)[None]
    inputs = fake_inputs({**correct, mirrored("a"): mended, mirrored("b"): correct["b"]}, per_seed={})
    inputs.mirrored = ["a", "b"]
    effects = beyond.mirror_effects(inputs)
    assert [(c["a"], c["b"]) for c in effects] == [("a+mirror", "a"), ("b+mirror", "b")]
    assert effects[0]["difference"] == pytest.approx((mended.mean() - correct["a"].mean()))
    assert effects[1]["difference"] == 0
    assert [beyond.verdict(c) for c in effects] == ["helps", "no significant difference"]


def test_each_factor_is_compared_with_its_twin_without_it():
    from study.report import beyond

    plain = seeded_correct([0.90] * 3, seed=1)
    smoothed = plain | (np.arange(2000) % 20 == 0)[None]  # right on a further twentieth of the images
    inputs = fake_inputs({"plain": plain, "smoothed": smoothed, "other": plain, "padded": plain}, per_seed={})
    spec = {"label_smoothing": 0.0, "padding": "valid", "epochs": 2}
    inputs.specs = {"plain": spec, "smoothed": {**spec, "label_smoothing": 0.1}, "other": {**spec, "epochs": 3},
                    "padded": {**spec, "padding": "same"}}
    effects = beyond.factor_effects(inputs)
    assert list(effects) == ["label_smoothing", "padding"]
    assert [(c["a"], c["b"]) for c in effects["label_smoothing"]] == [("smoothed", "plain")]
    assert effects["label_smoothing"][0]["difference"] == pytest.approx(smoothed.mean() - plain.mean())
    assert beyond.verdict(effects["label_smoothing"][0]) == "helps"
    assert effects["label_smoothing"][0]["p_holm"] == effects["label_smoothing"][0]["p_value"]  # a family of one
    assert [(c["a"], c["b"], c["difference"]) for c in effects["padding"]] == [("padded", "plain", 0)]
    # A factor that no variant switches on has no family, and no table in the report.
    inputs.specs["padded"] = {**spec, "epochs": 4}
    assert list(beyond.factor_effects(inputs)) == ["label_smoothing"]
