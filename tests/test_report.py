"""study.analysis and study.report: claims, fidelity, comparisons and the figures the report prints,
on small hand-made studies, checked by hand or against scipy."""

import os
import subprocess
import sys
import types

import numpy as np
import pytest
import yaml
from scipy import stats

from study import config
from study.analysis import accuracy, claims, compare, fidelity, formats, statistics
from study.analysis.kfold import KFOLD_BEST
from study.analysis.results import check_named_models
from study.data.facts import CLASS_NAMES
from study.errors import ParamsError
from study.report import text
from study.training import runs

SEEDS = [1, 2, 3]
PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECT_PARAMS = config.read(os.path.join(PROJECT, "params.yaml"))


def study_of(variants, augmented_variants=None, **sections):
    """A config.Study of the project's params.yaml with these variants (and sections) instead, no
    recipes, the sections that name variants pointed at the first."""
    first = next(iter(variants))
    raw = {
        **PROJECT_PARAMS,
        "variants": variants,
        "augmented_variants": augmented_variants or {},
        "recipes": {},
        **sections,
        "kfold": {**PROJECT_PARAMS["kfold"], "variant": first},
        "evaluate": {"select_from": [first], "select_count": 1, "compare_with_baseline": []},
        "mirror": {"variants": []},
    }
    return config.Study(raw)


def fake_results(correct, per_seed, histories=None, per_class=None, published=None, seeds=None):
    """An object with the attributes of study.analysis.results.StudyResults that the code under test reads.
    `seeds`: {name: its seeds} where they are not the first of SEEDS (None: the k-fold's single model)."""
    labels = np.arange(len(next(iter(correct.values()))[0])) % 10
    answers = {n: np.where(c, labels[None], (labels[None] + 1) % 10) for n, c in correct.items()}
    results = types.SimpleNamespace(
        seeds=SEEDS,
        labels=labels,
        correct={n: np.asarray(c, dtype=bool) for n, c in correct.items()},
        answers=answers,
        histories=histories or {},
        published=published or {},
        evaluate={
            "selected": ["a", "b"],
            "models": {n: {"per_class": p} for n, p in (per_class or {}).items()},
        },
        selected=["a", "b"],
    )
    results.seed_values = lambda name, key: np.array([m[key] for m in per_seed[name]], dtype=float)
    results.test_values = lambda name: results.correct[name].mean(axis=1)
    # The k-fold's models have no seeds; every other model has the first of SEEDS, one per row.
    results.seeds_of = lambda name: (seeds or {}).get(
        name, None if name.startswith("kfold") else tuple(SEEDS[: len(results.correct[name])])
    )
    return results


def seeded_correct(accuracies, count=2000, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([rng.random(count) < accuracy for accuracy in accuracies])


def test_a_difference_that_holds_across_seeds_is_significant_after_holm():
    results = fake_results(
        {
            "a": seeded_correct([0.93] * 3, seed=1),
            "b": seeded_correct([0.88] * 3, seed=2),
            "c": seeded_correct([0.90, 0.86, 0.91], seed=3),
        },
        per_seed={},
    )
    result = claims.check_all(
        types.SimpleNamespace(
            **{
                **vars(results),
                "published": {
                    "claims": [
                        {
                            "key": "a_beats_b",
                            "kind": "better_on_test",
                            "better": "a",
                            "worse": "b",
                            "text": "A beats B",
                        },
                        {
                            "key": "c_beats_b",
                            "kind": "better_on_test",
                            "better": "c",
                            "worse": "b",
                            "text": "C beats B",
                        },
                        {
                            "key": "b_beats_a",
                            "kind": "better_on_test",
                            "better": "b",
                            "worse": "a",
                            "text": "B beats A",
                        },
                    ]
                },
            }
        )
    )
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
    results = fake_results({KFOLD_BEST: seeded_correct([0.95], seed=1), "b": seeded_correct([0.88] * 3)}, {})
    comparison = compare.compare(results, KFOLD_BEST, "b")
    assert comparison["single_run"] and comparison["low"] is None and comparison["p_value"] is None
    assert claims.tested_verdict({"comparison": comparison}) == "no verdict (one training run)"


def test_models_of_different_seeds_are_compared_unpaired_by_welch():
    """A recipe over three seeds against a published variant over five: no seed pairs, so Welch's t-test
    over the models' test accuracies, as scipy computes it."""
    five, three = seeded_correct([0.90, 0.91, 0.89, 0.90, 0.92], seed=1), seeded_correct([0.93] * 3, seed=2)
    results = fake_results({"b": five, "a": three}, {}, seeds={"b": (1, 2, 3, 4, 5), "a": (1, 2, 3)})
    comparison = compare.compare(results, "a", "b")
    expected = stats.ttest_ind(three.mean(axis=1), five.mean(axis=1), equal_var=False)
    assert comparison["n_seeds"] == [3, 5] and comparison["p_value"] == pytest.approx(expected.pvalue)
    assert comparison["difference"] == pytest.approx(three.mean() - five.mean())
    # The same seeds on both sides: paired, as before.
    paired = fake_results({"b": five[:3], "a": three}, {})
    assert compare.compare(paired, "a", "b")["n_seeds"] == 3


def test_descriptive_claims_against_hand_made_figures():
    even = {"precision": 0.9, "recall": 0.9, "f1": 0.9}
    per_class = {m: {c: even for c in CLASS_NAMES} for m in ("a", "b")}
    per_class["a"]["Shirt"] = {"precision": 0.7, "recall": 0.75, "f1": 0.72}
    per_class["b"]["Shirt"] = {"precision": 0.68, "recall": 0.83, "f1": 0.74}
    per_class["b"]["Bag"] = {"precision": 0.99, "recall": 0.98, "f1": 0.985}
    histories = {
        "a": [{"epoch": 15, "loss": 0.20, "val_loss": 0.25}],
        "b": [{"epoch": 15, "loss": 0.22, "val_loss": 0.23}],
    }
    results = fake_results(
        {"a": seeded_correct([0.9] * 3), "b": seeded_correct([0.9] * 3)}, {}, histories, per_class
    )
    assert claims.class_extreme(
        results, {"models": ["a", "b"], "metric": "precision", "highest": False, "expected": "Shirt"}
    )["holds"]
    assert not claims.class_extreme(
        results, {"models": ["a", "b"], "metric": "f1", "highest": True, "expected": "Bag"}
    )["holds"]  # a has no best Bag
    assert claims.overfits(results, {"model": "a", "expected": True})["holds"]
    assert claims.smaller_gap(results, {"smaller": "b", "larger": "a"})["holds"]  # +0.01 against +0.05
    assert not claims.higher_loss(results, {"higher": "b", "lower": "a"})["holds"]  # 0.23 < 0.25


def test_a_per_class_claim_is_tested_over_seeds_as_scipy_would():
    """A per-class claim holds only where the paired t-test over seeds supports it, Holm-adjusted."""
    from sklearn.metrics import recall_score

    labels = np.arange(1000) % 10
    shirts = np.flatnonzero(labels == 6)

    def answers_with_shirt_recall(recalls):
        rows = []
        for recall in recalls:
            predicted = labels.copy()
            predicted[shirts[: int(round((1 - recall) * len(shirts)))]] = 0
            rows.append(predicted)
        return np.stack(rows)

    answers = {
        "a": answers_with_shirt_recall([0.70, 0.72, 0.71]),
        "b": answers_with_shirt_recall([0.80, 0.83, 0.81]),  # higher on every seed
        "c": answers_with_shirt_recall([0.75, 0.65, 0.78]),  # higher on average only
    }
    results = types.SimpleNamespace(labels=labels, answers=answers)

    def per_seed(model):
        return [recall_score(labels == 6, answers[model][seed] == 6) for seed in range(3)]

    consistent = claims.class_compare(
        results, {"class": "Shirt", "metric": "recall", "higher": "b", "lower": "a"}
    )
    mixed = claims.class_compare(results, {"class": "Shirt", "metric": "recall", "higher": "c", "lower": "a"})
    assert consistent["comparison"]["p_value"] == pytest.approx(
        stats.ttest_rel(per_seed("b"), per_seed("a")).pvalue
    )
    assert mixed["comparison"]["p_value"] == pytest.approx(
        stats.ttest_rel(per_seed("c"), per_seed("a")).pvalue
    )
    assert consistent["difference"] == pytest.approx(np.mean(per_seed("b")) - np.mean(per_seed("a")))
    compare.adjust([consistent["comparison"], mixed["comparison"]])
    assert claims.tested_verdict(consistent) == "holds"
    assert claims.tested_verdict(mixed) == "holds in direction only"
    assert "per seed +0.1000, +0.1100, +0.1000" in consistent["detail"]


def test_confusion_claims_count_the_right_cells():
    labels = np.array([6, 6, 6, 0, 0, 1])
    answers = np.array([0, 0, 2, 6, 0, 1])  # Shirt->T-shirt twice, Shirt->Pullover, T-shirt->Shirt once
    results = types.SimpleNamespace(labels=labels, answers={KFOLD_BEST: answers[None]})
    claim = {"a": "Shirt", "b": "T-shirt/top", "c": "T-shirt/top", "d": "Shirt"}
    assert claims.confusion_more(results, claim) == {
        "holds": True,
        "detail": "Shirt -> T-shirt/top 2, T-shirt/top -> Shirt 1",
    }
    assert claims.most_confused(results, {"expected": "Shirt"})["holds"]


def test_fidelity_distance_in_floored_seed_sds():
    record = fidelity._record("k", 0.9000, [0.9010, 0.9020, 0.9030])  # sd 0.001 -> floored to 0.002
    assert record["sd"] == fidelity.SD_FLOOR and record["ours"] == pytest.approx(0.902)
    assert record["distance_sd"] == pytest.approx(1.0) and record["within_2sd"]
    wide = fidelity._record("k", 0.9000, [0.90, 0.91, 0.92])  # sd 0.01: 1 sd away
    assert wide["sd"] == pytest.approx(0.01) and wide["distance_sd"] == pytest.approx(1.0)
    one_run = fidelity._record("k", 0.9259, 0.9159, proxy_sd=0.004)  # 0.01 / 0.004
    assert one_run["distance_sd"] == pytest.approx(2.5) and not one_run["within_2sd"]
    records = [
        {"key": "table1.x.train", "within_2sd": True},
        {"key": "table5.kfold.val", "within_2sd": False},
        {"key": "table5.carried.val", "within_2sd": True},
    ]
    assert fidelity.count(records) == (2, 2) and fidelity.count(records, table5="kfold") == (1, 2)


def test_fidelity_counts_the_tuned_numbers_apart_from_the_held_out_ones():
    def record(key, within):
        return {"key": key, "within_2sd": within}

    records = [
        *(record(f"table1.v{i}.train", i != 3) for i in range(5)),  # 4 of 5 fitted numbers within
        record("test.baseline", True),
        record("test.batchnorm", False),
        record("table5.kfold.val", False),
        record("table5.kfold.test", True),
        record("table5.carried.val", True),  # the explanation of Table 5: never counted
    ]
    assert fidelity.split_count(records) == {
        "tuned_within_2sd": 4,
        "tuned_total": 5,
        "held_out_within_2sd": 2,
        "held_out_total": 4,
    }


def test_interval_and_p_text():
    assert text.p_text(None) == "—" and text.p_text(0.0004) == "< 0.001" and text.p_text(0.0123) == "0.0123"
    assert text.interval_text({"difference": 0.01, "low": None, "single_run": True}) == "+0.0100 (one run)"
    assert text.interval_text({"difference": 0.01, "low": None}) == "+0.0100 (no spread over seeds)"
    figure = dict(zip(("mean", "sd"), statistics.mean_and_sd([0.9, 0.92])))
    assert text.mean_sd(figure) == f"0.9100 ± {np.std([0.9, 0.92], ddof=1):.4f}"
    assert formats.mean_sd(0.91, None) == text.mean_sd({"mean": 0.91, "sd": None}) == "0.9100"
    assert runs.KFOLD_CARRIED == "kfold_carried"


def test_each_augmented_variant_is_paired_with_its_unaugmented_twin():
    from study.analysis import effects

    # The project's baseline, made small; the pairing reads only which keys differ.
    baseline = {**PROJECT_PARAMS["baseline"], "filters": [8, 16], "dense_units": 16, "epochs": 2}
    shift, shift_only, shift_one = (
        {"max_shift_pixels": pixels, "horizontal_flip_probability": flip}
        for pixels, flip in ((2, 0.5), (2, 0.0), (1, 0.0))
    )
    study = study_of(
        {
            "baseline": {},
            "wide": {"dense_units": 32},
            "shifted": {"augment_on_the_fly": shift},
            "wide_shifted": {"dense_units": 32, "augment_on_the_fly": shift_only},
            "orphan": {"epochs": 3, "augment_on_the_fly": shift_one},
            "smoothed_shifted": {"label_smoothing": 0.1, "augment_on_the_fly": shift},
            "smoothed_longer": {"label_smoothing": 0.1, "epochs": 3},
        },
        {"copied": {"augmentation": "flip"}},
        baseline=baseline,
        protocol="reproduce",
        protocols={"reproduce": {}},
        augmentations={
            "flip": {
                "copies": 1,
                "max_rotation_degrees": 0,
                "max_shift_pixels": 0,
                "vertical_flip_probability": 0.0,
                "horizontal_flip_probability": 0.5,
                "noise_variance": 0.0,
                "seed": 0,
            }
        },
    )
    results = types.SimpleNamespace(specs=study.specs)
    # "orphan" also trains longer: no variant differs from it in augmentation alone.
    # "smoothed_shifted" is also smoothed: its twin in augmentation alone would be smoothed too.
    assert effects.augmentation_pairs(results) == [
        ("shifted", "baseline"),
        ("wide_shifted", "wide"),
        ("copied", "baseline"),
    ]
    # Label smoothing is paired the same way: "smoothed_longer" also trains longer than any one-hot variant.
    assert effects.one_factor_pairs(results, {"label_smoothing": 0.0}) == [("smoothed_shifted", "shifted")]


def test_augmentation_verdicts_read_the_holm_adjusted_comparison():
    from study.analysis import effects

    accuracies = {"aug": 0.93, "plain": 0.90, "aug_bad": 0.86, "close": 0.90}
    results = fake_results(
        {
            name: seeded_correct([value] * 3, seed=seed)
            for seed, (name, value) in enumerate(accuracies.items(), 1)
        },
        per_seed={},
    )
    family = compare.adjust([compare.compare(results, name, "plain") for name in ("aug", "aug_bad", "close")])
    assert [effects.verdict(c) for c in family] == ["helps", "hurts", "no significant difference"]
    assert effects.verdict({"p_holm": None}) == "no verdict"


def test_spec_values_are_written_as_params_yaml_writes_them():
    from study.analysis import effects

    values = (None, True, [64, 128], {"warmup_epochs": 1, "decay": "cosine"}, 0.002)
    assert [text.yaml_text(v) for v in values] == [
        "null",
        "true",
        "[64, 128]",
        "{warmup_epochs: 1, decay: cosine}",
        "0.002",
    ]
    # A spec's value goes back to what params.yaml wrote: mappings for its dataclasses, lists for its tuples,
    # and an optional key that was not set left out.
    spec = study_of({"baseline": {}}).spec("baseline")
    wide = spec.replace(
        filters=(64, 128), lr_schedule=config.WarmupCosine(1), augment_on_the_fly=config.OnTheFly(2, 0.5)
    )
    assert effects.changes(wide, spec) == {
        "filters": [64, 128],
        "lr_schedule": {"warmup_epochs": 1, "decay": "cosine"},
        "augment_on_the_fly": {"max_shift_pixels": 2, "horizontal_flip_probability": 0.5},
    }
    assert [text.yaml_text(v) for v in effects.changes(wide, spec).values()] == [
        "[64, 128]",
        "{warmup_epochs: 1, decay: cosine}",
        "{max_shift_pixels: 2, horizontal_flip_probability: 0.5}",
    ]
    assert effects.changes(spec, spec) == {}


def test_each_mirrored_variant_is_compared_with_itself_without_the_mirror():
    from study.analysis import effects
    from study.analysis.results import mirrored

    correct = {"a": seeded_correct([0.90] * 3, seed=1), "b": seeded_correct([0.90] * 3, seed=2)}
    # The mirror mends 20, 21 and 22 of a's wrong answers on its three seeds (a consistent gain of
    # about one point, which the paired t-test over three seeds can call), and leaves b's as they are.
    mended = correct["a"].copy()
    for seed, row in enumerate(mended):
        row[np.flatnonzero(~row)[: 20 + seed]] = True
    results = fake_results({**correct, mirrored("a"): mended, mirrored("b"): correct["b"]}, per_seed={})
    results.mirrored = ["a", "b"]
    family = effects.mirror_effects(results)
    assert [(c["a"], c["b"]) for c in family] == [("a+mirror", "a"), ("b+mirror", "b")]
    assert family[0]["difference"] == pytest.approx((mended.mean() - correct["a"].mean()))
    assert family[1]["difference"] == 0
    assert [effects.verdict(c) for c in family] == ["helps", "no significant difference"]


def test_each_factor_is_compared_with_its_twin_without_it():
    from study.analysis import effects

    plain = seeded_correct([0.90] * 3, seed=1)
    smoothed = plain | (np.arange(2000) % 20 == 0)[None]  # right on a further twentieth of the images
    results = fake_results(
        {"plain": plain, "smoothed": smoothed, "other": plain, "padded": plain}, per_seed={}
    )
    spec = study_of({"baseline": {}}).spec("baseline").replace(label_smoothing=0.0, padding="valid", epochs=2)
    results.specs = {
        "plain": spec,
        "smoothed": spec.replace(label_smoothing=0.1),
        "other": spec.replace(epochs=3),
        "padded": spec.replace(padding="same"),
    }
    results.per_seed = {name: [{"params": 1000}] for name in results.specs}
    results.per_seed["padded"] = [{"params": 1880}]
    found = effects.factor_effects(results)
    assert list(found) == ["label_smoothing", "padding"]
    assert [(c["a"], c["b"]) for c in found["label_smoothing"]] == [("smoothed", "plain")]
    assert found["label_smoothing"][0]["difference"] == pytest.approx(smoothed.mean() - plain.mean())
    assert effects.verdict(found["label_smoothing"][0]) == "helps"
    assert found["label_smoothing"][0]["p_holm"] == found["label_smoothing"][0]["p_value"]  # a family of one
    assert [(c["a"], c["b"], c["difference"]) for c in found["padding"]] == [("padded", "plain", 0)]
    # What each factor also changes: label smoothing nothing in the model, same padding its size.
    assert (found["label_smoothing"][0]["parameters_ratio"], found["label_smoothing"][0]["flops_ratio"]) == (
        1,
        1,
    )
    assert found["padding"][0]["parameters_ratio"] == 1.88 and found["padding"][0]["flops_ratio"] > 1
    # A factor that no variant switches on has no family, and no table in the report.
    results.specs["padded"] = spec.replace(epochs=4)
    assert list(effects.factor_effects(results)) == ["label_smoothing"]


def test_test_accuracy_and_its_intervals_are_computed_by_the_analysis():
    """study.json's test_accuracy: the seeds' mean and sd, scipy's percentile bootstrap of the seed mean over
    the images, scipy's Wilson interval per seed; the report's cell only writes them."""
    several = seeded_correct([0.9, 0.8, 0.85], count=500, seed=5)
    single = seeded_correct([0.7], count=500, seed=6)
    results = fake_results({"a": several, KFOLD_BEST: single}, per_seed={})
    record = accuracy.accuracy_on_test(results, "a")
    per_seed = several.mean(axis=1)
    assert record["mean"] == pytest.approx(per_seed.mean())
    assert record["sd"] == pytest.approx(per_seed.std(ddof=1))
    expected = stats.bootstrap(
        (several.mean(axis=0),),
        np.mean,
        n_resamples=statistics.BOOTSTRAP_RESAMPLES,
        method="percentile",
        rng=np.random.default_rng(statistics.BOOTSTRAP_SEED),
    )
    assert (record["low"], record["high"]) == pytest.approx(
        (expected.confidence_interval.low, expected.confidence_interval.high), abs=1e-12
    )
    for row, seed, correct in zip(record["per_seed"], SEEDS, several):
        wilson = stats.binomtest(int(correct.sum()), correct.size).proportion_ci(method="wilson")
        assert (row["seed"], row["accuracy"]) == (seed, pytest.approx(correct.mean()))
        assert (row["low"], row["high"]) == pytest.approx((wilson.low, wilson.high))
    one = accuracy.accuracy_on_test(results, KFOLD_BEST)
    assert one["sd"] is None and one["mean"] == pytest.approx(single.mean())
    assert [row["seed"] for row in one["per_seed"]] == [None]
    assert text.test_cell(record) == (
        f"{record['mean']:.4f} ± {record['sd']:.4f} [{record['low']:.4f}, {record['high']:.4f}]"
    )
    assert text.test_cell(one) == f"{one['mean']:.4f} [{one['low']:.4f}, {one['high']:.4f}]"


def run_report(root):
    return subprocess.run(
        [sys.executable, "-m", "stages.report"],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": PROJECT},
        timeout=120,
    )


def test_a_model_the_published_study_names_must_be_a_variant(tmp_path):
    study = study_of({"baseline": {}, "kernel7": {"kernel_sizes": [7, 3]}})
    published = {
        "table1": {"baseline": {}},
        "table2": {},
        "table4": {},
        "claims": [
            {"key": "k", "kind": "better_on_test", "better": "baseline", "worse": "kernel7"},
            {"key": "f", "kind": "better_on_test", "better": KFOLD_BEST, "worse": "baseline"},
        ],
    }
    check_named_models(study, published)
    published["claims"].append(
        {"key": "s", "kind": "overfits", "model": "sigmoid", "expected": False, "text": "t"}
    )
    message = "params.yaml: variants: no variant named 'sigmoid', which reports/published.yaml claim s needs"
    with pytest.raises(ParamsError, match=message):
        check_named_models(study, published)
    # A variant of the recorded search may be named by a claim: that claim is reported, not checked.
    check_named_models(study, published, searched={"sigmoid": {}})
    results = fake_results({"baseline": seeded_correct([0.9] * 3)}, {})
    results.published = {"claims": published["claims"][2:]}
    results.search = {"variants": {"sigmoid": {"test_accuracy": 0.8512, "seeds": [42, 43, 44]}}}
    [checked] = claims.check_all(results)
    assert checked["verdict"] == "not checked" and "comparison" not in checked
    assert checked["detail"].startswith(
        "sigmoid is not trained by the pipeline (reports/search.json: test 0.8512"
    )
    # The stage itself refuses in one line, exit 2, before it reads any result.
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "published.yaml").write_text(yaml.safe_dump(published))
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(study.raw, sort_keys=False))
    refused = run_report(tmp_path)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.splitlines() == [f"error: {message} (known: baseline, kernel7)"]
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({**study.raw, "seeds": "three"}, sort_keys=False))
    refused = run_report(tmp_path)
    assert refused.returncode == 2 and len(refused.stderr.splitlines()) == 1
    assert refused.stderr.startswith("error: params.yaml: seeds: ")


def test_the_kfold_models_are_compared_with_the_baseline_seeds_unpaired():
    """Five fold models against three seeds: different trainings, so Welch's t-test, as scipy gives it."""
    results = fake_results(
        {
            "kfold_folds": seeded_correct([0.905, 0.91, 0.915, 0.908, 0.912], seed=4),
            "b": seeded_correct([0.90, 0.905, 0.902], seed=5),
        },
        {},
    )
    comparison = compare.compare_trainings(results, "kfold_folds", "b")
    a, b = results.test_values("kfold_folds"), results.test_values("b")
    welch = stats.ttest_ind(a, b, equal_var=False)
    assert comparison["p_value"] == pytest.approx(welch.pvalue)
    assert comparison["difference"] == pytest.approx(a.mean() - b.mean())
    interval = welch.confidence_interval(0.95)
    assert (comparison["low"], comparison["high"]) == (
        pytest.approx(interval.low),
        pytest.approx(interval.high),
    )
    assert comparison["n_seeds"] == [5, 3] and not comparison["single_run"]
