"""python -m stages.seed_summary: the mean and sd over seeds, from hand-made per-seed files.

Each test writes a params.yaml (the project's, with its own `seeds`, `variants` and
`augmented_variants`, and the sections that name variants pointed at them), the
per-seed files the train stages would write (metrics/seeds/<variant>/seed_<seed>.json,
plots/seeds/<variant>/seed_<seed>.csv), runs the stage as a program in that
directory and checks its outputs against NumPy.
"""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import yaml

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HISTORY_COLUMNS = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"]
METRIC_KEYS = [
    "train_accuracy",
    "train_loss",
    "val_accuracy",
    "val_loss",
    "best_val_accuracy",
    "best_epoch",
    "epochs",
    "params",
]
EPOCHS = 3


def write_params(
    root, seeds, variants=("plain", "other"), augmented=("augmented",), recipes=(), recipe_seeds=None
):
    with open(os.path.join(PROJECT, "params.yaml")) as stream:
        values = yaml.safe_load(stream)
    preset = next(iter(values["augmentations"]))
    values.update(
        seeds=list(seeds),
        variants={name: {} for name in variants},
        augmented_variants={name: {"augmentation": preset} for name in augmented},
        recipes={name: {} for name in recipes},
        recipe_seeds=list(recipe_seeds or seeds),
        kfold={**values["kfold"], "variant": variants[0]},
        evaluate={"select_from": [variants[0]], "select_count": 1, "compare_with_baseline": []},
        mirror={"variants": []},
    )
    (root / "params.yaml").write_text(yaml.safe_dump(values, sort_keys=False))
    return [*variants, *augmented, *recipes]


def seed_metrics(name, seed):
    """Per-seed metrics that differ by variant and seed, as train.py writes them."""
    rng = np.random.default_rng([sum(map(ord, name)), seed])
    return {
        "train_accuracy": float(rng.uniform(0.8, 0.95)),
        "train_loss": float(rng.uniform(0.1, 0.5)),
        "val_accuracy": float(rng.uniform(0.8, 0.95)),
        "val_loss": float(rng.uniform(0.2, 0.6)),
        "best_val_accuracy": float(rng.uniform(0.9, 0.96)),
        "best_epoch": int(rng.integers(1, EPOCHS + 1)),
        "epochs": EPOCHS,
        "params": 225_034,
    }


def seed_history(name, seed, epochs=EPOCHS):
    rng = np.random.default_rng([sum(map(ord, name)), seed, 1])
    return [
        [epoch, *map(float, rng.uniform(0.1, 0.9, size=4)), 0.001 / epoch] for epoch in range(1, epochs + 1)
    ]


def write_seed_files(root, name, seed, metrics=None, history=None):
    metrics = seed_metrics(name, seed) if metrics is None else metrics
    history = seed_history(name, seed) if history is None else history
    path = root / "metrics" / "seeds" / name / f"seed_{seed}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(metrics, indent=2) + "\n")
    path = root / "plots" / "seeds" / name / f"seed_{seed}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = "".join(",".join(map(repr, row)) + "\n" for row in history)
    path.write_text(",".join(HISTORY_COLUMNS) + "\n" + rows)
    return metrics, history


def run_summary(root):
    environment = {**os.environ, "PYTHONPATH": PROJECT}
    return subprocess.run(
        [sys.executable, "-m", "stages.seed_summary"],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def read_csv(path):
    with open(path, newline="") as stream:
        rows = list(csv.reader(stream))
    return rows[0], np.array(rows[1:], dtype=float)


@pytest.mark.parametrize("seeds", [[1, 2], [42, 43, 44]])
def test_mean_and_sample_sd_over_seeds(tmp_path, seeds):
    names = write_params(tmp_path, seeds)
    written = {name: [write_seed_files(tmp_path, name, seed) for seed in seeds] for name in names}
    result = run_summary(tmp_path)
    assert result.returncode == 0, result.stderr
    summaries = tmp_path / "metrics" / "details" / "train"
    assert sorted(os.listdir(summaries)) == sorted(f"{n}.json" for n in names)
    for name in names:
        summary = json.loads((tmp_path / "metrics" / "details" / "train" / f"{name}.json").read_text())
        assert list(summary) == ["seeds"] + [k for key in METRIC_KEYS for k in (key, f"{key}_sd")]
        assert summary["seeds"] == seeds
        for key in METRIC_KEYS:
            values = np.array([metrics[key] for metrics, _ in written[name]], dtype=float)
            assert summary[key] == pytest.approx(np.mean(values), rel=1e-12)
            assert summary[f"{key}_sd"] == pytest.approx(np.std(values, ddof=1), rel=1e-12, abs=1e-15)
        assert summary["epochs_sd"] == 0.0 and summary["params"] == 225_034
        # The sample sd (n - 1), not the population sd.
        values = [metrics["val_accuracy"] for metrics, _ in written[name]]
        assert summary["val_accuracy_sd"] == pytest.approx(
            np.sqrt(sum((v - np.mean(values)) ** 2 for v in values) / (len(values) - 1)), rel=1e-12
        )
        assert (
            f"validation accuracy {summary['val_accuracy']:.4f} ± {summary['val_accuracy_sd']:.4f} "
            f"over {len(seeds)} seed(s)" in result.stdout
        )


def test_a_recipe_is_summarised_over_its_own_seeds(tmp_path):
    names = write_params(tmp_path, [1, 2, 3], augmented=(), recipes=("recipe",), recipe_seeds=[1, 2])
    for name in names:
        for seed in [1, 2] if name == "recipe" else [1, 2, 3]:
            write_seed_files(tmp_path, name, seed)
    result = run_summary(tmp_path)
    assert result.returncode == 0, result.stderr
    summaries = tmp_path / "metrics" / "details" / "train"
    assert json.loads((summaries / "recipe.json").read_text())["seeds"] == [1, 2]
    assert json.loads((summaries / "plain.json").read_text())["seeds"] == [1, 2, 3]
    assert "recipe: validation accuracy" in result.stdout and "over 2 seed(s)" in result.stdout


def test_history_mean_per_epoch_and_sd_columns(tmp_path):
    seeds = [1, 2, 3]
    names = write_params(tmp_path, seeds)
    histories = {
        name: np.array([write_seed_files(tmp_path, name, seed)[1] for seed in seeds]) for name in names
    }
    result = run_summary(tmp_path)
    assert result.returncode == 0, result.stderr
    for name in names:
        header, rows = read_csv(tmp_path / "plots" / "history" / f"{name}.csv")
        assert header == HISTORY_COLUMNS + ["val_accuracy_sd", "val_loss_sd"]
        per_seed = histories[name]  # (seed, epoch, column)
        assert rows.shape == (EPOCHS, len(header))
        np.testing.assert_array_equal(rows[:, 0], [1, 2, 3])
        np.testing.assert_allclose(rows[:, 1:6], per_seed[:, :, 1:].mean(axis=0), rtol=1e-12)
        # val_accuracy
        np.testing.assert_allclose(rows[:, 6], per_seed[:, :, 4].std(axis=0, ddof=1), rtol=1e-12)
        np.testing.assert_allclose(rows[:, 7], per_seed[:, :, 3].std(axis=0, ddof=1), rtol=1e-12)  # val_loss
    # A hand-checked epoch: three seeds' val_accuracy 0.8, 0.85, 0.9 at epoch 1.
    hand = tmp_path / "hand"
    hand.mkdir()
    write_params(hand, seeds, variants=("plain",), augmented=())
    for seed, accuracy in zip(seeds, (0.8, 0.85, 0.9)):
        write_seed_files(hand, "plain", seed, history=[[1, 0.5, 0.7, 0.4, accuracy, 0.001]])
    assert run_summary(hand).returncode == 0
    header, rows = read_csv(hand / "plots" / "history" / "plain.csv")
    assert rows[0, header.index("val_accuracy")] == pytest.approx(0.85)
    assert rows[0, header.index("val_accuracy_sd")] == pytest.approx(0.05)
    assert rows[0, header.index("val_loss_sd")] == pytest.approx(0.0, abs=1e-12)


def test_one_seed_has_null_sd_and_no_sd_columns(tmp_path):
    names = write_params(tmp_path, [7])
    written = {name: write_seed_files(tmp_path, name, 7) for name in names}
    result = run_summary(tmp_path)
    assert result.returncode == 0, result.stderr
    for name in names:
        text = (tmp_path / "metrics" / "details" / "train" / f"{name}.json").read_text()
        summary = json.loads(text)
        assert '"val_accuracy_sd": null' in text
        metrics, history = written[name]
        for key in METRIC_KEYS:
            assert summary[key] == metrics[key] and summary[f"{key}_sd"] is None
        header, rows = read_csv(tmp_path / "plots" / "history" / f"{name}.csv")
        assert header == HISTORY_COLUMNS
        np.testing.assert_allclose(rows, np.array(history))
        assert (
            f"seed_summary: {name}: validation accuracy {metrics['val_accuracy']:.4f} over 1 seed(s)"
            in result.stdout
        )


def test_only_the_seeds_of_params_yaml_count_and_old_summaries_go(tmp_path):
    names = write_params(tmp_path, [1, 2], variants=("plain",), augmented=())
    written = [write_seed_files(tmp_path, "plain", seed) for seed in (1, 2)]
    write_seed_files(tmp_path, "plain", 3, metrics={**seed_metrics("plain", 3), "val_accuracy": 0.0})
    stale = tmp_path / "metrics" / "details" / "train" / "removed_variant.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}\n")
    result = run_summary(tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "metrics" / "details" / "train" / "plain.json").read_text())
    assert summary["seeds"] == [1, 2]
    assert summary["val_accuracy"] == pytest.approx(np.mean([m["val_accuracy"] for m, _ in written]))
    assert sorted(os.listdir(tmp_path / "metrics" / "details" / "train")) == [f"{n}.json" for n in names]


@pytest.mark.parametrize("missing", ["metrics/seeds/other/seed_2.json", "plots/seeds/augmented/seed_1.csv"])
def test_a_missing_per_seed_file_is_one_error_naming_it(tmp_path, missing):
    names = write_params(tmp_path, [1, 2])
    for name in names:
        for seed in (1, 2):
            write_seed_files(tmp_path, name, seed)
    (tmp_path / "metrics" / "details" / "train").mkdir(parents=True)
    (tmp_path / "metrics" / "details" / "train" / "plain.json").write_text("earlier\n")
    os.remove(tmp_path / missing)
    result = run_summary(tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {missing}: missing (")
    # The earlier result kept.
    assert (tmp_path / "metrics" / "details" / "train" / "plain.json").read_text() == "earlier\n"
    assert not (tmp_path / "plots" / "history").exists()
