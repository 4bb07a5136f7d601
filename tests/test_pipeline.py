"""End to end: `dvc repro` of the whole pipeline on tiny data in a copy of the project.

The copy gets small IDX files this test writes, their checksums, one epoch, two
folds and one seed (then a second seed, part-way through); the pipeline, the
stages and the DVC commands are the real ones. The tests run in order on the one
copy, each from where the last left it.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from tests import tiny_data

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(command, cwd):
    environment = dict(os.environ)
    # The stages run as `python -m stages.<name>`: the Python of this test's venv.
    environment["PATH"] = os.path.dirname(sys.executable) + os.pathsep + environment["PATH"]
    environment.pop("FASHION_MNIST_DIR", None)
    result = subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def dvc(*arguments, cwd):
    return run([sys.executable, "-m", "dvc", *arguments], cwd)


def ran_stages(output):
    return sorted(line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage"))


def write_params(path, update):
    with open(path) as stream:
        params = yaml.safe_load(stream)
    update(params)
    with open(path, "w") as stream:
        yaml.safe_dump(params, stream, sort_keys=False)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A copy of the project that has run `dvc repro` once on tiny data."""
    root = tmp_path_factory.mktemp("project")
    for name in ("stages", "dvc.yaml", "params.yaml", ".gitignore", "reports/seed_numbers.yaml"):
        source = os.path.join(PROJECT, name)
        os.makedirs(os.path.dirname(root / name), exist_ok=True)
        if os.path.isdir(source):
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, root / name)
    run(["git", "init", "-q"], root)
    run(["git", "config", "user.name", "Pipeline Test"], root)
    run(["git", "config", "user.email", "pipeline-test@example.invalid"], root)
    dvc("init", "-q", cwd=root)
    dvc("config", "core.analytics", "false", cwd=root)
    shutil.copytree(os.path.join(PROJECT, ".dvc", "plots"), root / ".dvc" / "plots")
    dvc("config", "plots.html_template", "plots/offline.html", cwd=root)
    checksums = tiny_data.write_dataset(str(root / "source"))
    write_params(root / "params.yaml", lambda p: tiny_data.shrink_params(p, root / "source", checksums, seeds=[1]))
    output = dvc("repro", cwd=root)
    return root, output


def read_params(root):
    with open(root / "params.yaml") as stream:
        return yaml.safe_load(stream)


def read_json(path):
    return json.loads(path.read_text())


def training_stages(params, seeds, variants=None):
    """The names of the train stages of `variants` (default: every one) for `seeds`."""
    names = []
    for section, stage in (("variants", "train"), ("augmented_variants", "train_augmented")):
        names += [f"{stage}@{v}-{s}" for v in params[section] if variants is None or v in variants for s in seeds]
    return names


def models_of(root, variant):
    """The model files of a variant (DVC puts a .gitignore beside them)."""
    return sorted(name for name in os.listdir(root / "models" / "train" / variant) if name.endswith(".keras"))


def every_variant(params):
    return [*params["variants"], *params["augmented_variants"]]


def test_repro_runs_every_stage(project):
    root, output = project
    params = read_params(root)
    expected = (
        ["fetch", "prepare", "seed_summary", "evaluate", "kfold_summary", "kfold@0", "kfold@1", "report"]
        + training_stages(params, [1])
        + [f"augment@{v}" for v in params["augmented_variants"]]
    )
    assert ran_stages(output) == sorted(expected)


def test_every_declared_output_exists(project):
    root, _ = project
    with open(root / "dvc.lock") as stream:
        lock = yaml.safe_load(stream)
    for name, stage in lock["stages"].items():
        for out in stage.get("outs", []):
            assert os.path.exists(root / out["path"]), f"{name}: {out['path']} missing"


def test_metrics_show_reads_every_metrics_file(project):
    root, _ = project
    metrics = json.loads(dvc("metrics", "show", "--json", cwd=root))
    files = metrics[""]["data"]
    params = read_params(root)
    for variant in every_variant(params):
        train = files[f"metrics/train/{variant}.json"]["data"]
        assert 0 <= train["train_accuracy"] <= 1 and 0 <= train["val_accuracy"] <= 1
        assert train["epochs"] == 1
        per_seed = files[f"metrics/seeds/{variant}/seed_1.json"]["data"]
        assert per_seed["val_accuracy"] == train["val_accuracy"]  # the mean of one seed is its value
        summary = read_json(root / "metrics" / "train" / f"{variant}.json")
        assert summary["seeds"] == [1] and summary["val_accuracy_sd"] is None  # one seed: no sd
    evaluate = files["metrics/evaluate.json"]["data"]  # DVC keeps the numbers only
    results = read_json(root / "metrics" / "evaluate.json")
    assert len(results["selected"]) == 2 and results["seeds"] == [1]
    assert set(evaluate["models"]) == set(every_variant(params))
    for name, model in results["models"].items():
        assert model["test_accuracy_per_seed"] == {"1": model["test_accuracy"]} and model["test_accuracy_sd"] is None
        assert ("per_class" in model) == (name in results["selected"])
    study = files["metrics/study.json"]["data"]
    assert 0 <= study["best_test_accuracy_ci_low"] <= study["best_test_accuracy"] <= study["best_test_accuracy_ci_high"]
    assert "## Findings" in (root / "reports" / "study.md").read_text()
    kfold = files["metrics/kfold.json"]["data"]
    assert 0 <= kfold["ensemble_test_accuracy"] <= 1 and kfold["best_fold"] in (0, 1)
    folds = read_json(root / "metrics" / "kfold.json")["folds"]  # a list: DVC skips it
    assert [fold["fold"] for fold in folds] == [0, 1]
    for fold in (0, 1):
        assert files[f"metrics/kfold/fold_{fold}.json"]["data"]["val_accuracy"] == folds[fold]["val_accuracy"]


def test_history_and_confusion_files(project):
    root, _ = project
    history = (root / "plots" / "history" / "baseline.csv").read_text()
    lines = history.splitlines()
    assert lines[0] == "epoch,loss,accuracy,val_loss,val_accuracy,learning_rate"  # one seed: no sd columns
    assert len(lines) == 2
    assert history == (root / "plots" / "seeds" / "baseline" / "seed_1.csv").read_text()  # the mean of one seed
    selected = read_json(root / "metrics" / "evaluate.json")["selected"]
    params = read_params(root)
    for name in every_variant(params):
        confusion = (root / "plots" / "confusion" / f"{name}.csv").read_text().splitlines()
        assert confusion[0] == "seed,actual,predicted"
        assert len(confusion) == 1 + 40  # one row per tiny test image
        assert {row.split(",")[0] for row in confusion[1:]} == {"1"}
    assert sorted(os.listdir(root / "plots" / "confusion")) == sorted(f"{n}.csv" for n in every_variant(params))
    assert sorted(os.listdir(root / "plots" / "figures" / "evaluate")) == sorted(
        ["loss_curves.png"] + [f"confusion_{n}.png" for n in selected]
    )
    for name in params["augmented_variants"]:  # the augmented sets and their figures, by variant
        assert (root / "data" / "augmented" / f"{name}.npz").is_file()
        assert (root / "plots" / "figures" / f"augmentation_{name}.png").read_bytes()[:4] == b"\x89PNG"
    for name in every_variant(params):
        assert models_of(root, name) == ["seed_1.keras"]


def test_plots_show_renders(project):
    root, _ = project
    rendered = json.loads(dvc("plots", "show", "--json", cwd=root))
    assert not rendered.get("errors"), rendered.get("errors")
    charts = rendered["data"]
    for variant in ("baseline", "sgd", "baseline_aug"):
        assert charts[f"plots/history/{variant}.csv"][0]["content"]["data"]["values"]
        assert charts[f"plots/confusion/{variant}.csv"][0]["content"]["data"]["values"]
    for title in ("Validation accuracy of every variant", "Learning rate, constant and step decay",
                  "plots/kfold/fold_1.csv", "plots/kfold_confusion/ensemble.csv"):
        assert charts[title][0]["content"]["data"]["values"], title
    assert charts["plots/figures/evaluate/loss_curves.png"][0]["type"] == "image"
    dvc("plots", "show", "-o", "dvc_plots", cwd=root)
    html = (root / "dvc_plots" / "index.html").read_text()
    assert '<script src="http' not in html  # the offline template of .dvc/plots/
    assert "var spec = {};" not in html  # no chart left without data


def test_second_repro_runs_nothing(project):
    root, _ = project
    assert ran_stages(dvc("repro", cwd=root)) == []


def test_changing_one_variant_reruns_only_it_and_evaluate(project):
    root, _ = project
    write_params(root / "params.yaml", lambda p: p["variants"]["sgd"].update(learning_rate=0.02))
    assert ran_stages(dvc("repro", cwd=root)) == ["evaluate", "report", "seed_summary", "train@sgd-1"]


def test_bad_param_is_refused_and_keeps_the_last_results(project):
    root, _ = project
    before = {path: (root / path).read_bytes() for path in ("metrics/train/baseline.json", "metrics/evaluate.json")}
    original = (root / "params.yaml").read_text()
    write_params(root / "params.yaml", lambda p: p["baseline"].update(epochs=0))
    try:
        environment = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}
        result = subprocess.run([sys.executable, "-m", "dvc", "repro"], cwd=root, env=environment,
                                capture_output=True, text=True)
    finally:
        (root / "params.yaml").write_text(original)
    assert result.returncode != 0
    assert "error: params.yaml: baseline.epochs: expected a positive integer, got 0" in result.stderr + result.stdout
    for path, content in before.items():
        assert (root / path).read_bytes() == content
    assert (root / "models/train/baseline/seed_1.keras").is_file()


def test_a_second_seed_trains_only_the_new_seed_and_gives_an_sd(project):
    root, _ = project
    write_params(root / "params.yaml", lambda p: p.update(seeds=[1, 2]))
    params = read_params(root)
    assert ran_stages(dvc("repro", cwd=root)) == sorted(
        ["seed_summary", "evaluate", "report"] + training_stages(params, [2])
    )
    shown = json.loads(dvc("metrics", "show", "--json", cwd=root))[""]["data"]
    for variant in every_variant(params):
        summary = read_json(root / "metrics" / "train" / f"{variant}.json")
        per_seed = [read_json(root / "metrics" / "seeds" / variant / f"seed_{s}.json") for s in (1, 2)]
        assert summary["seeds"] == [1, 2]
        assert isinstance(summary["val_accuracy_sd"], float) and summary["val_accuracy_sd"] >= 0
        values = [m["val_accuracy"] for m in per_seed]
        assert summary["val_accuracy"] == pytest.approx((values[0] + values[1]) / 2)
        assert summary["val_accuracy_sd"] == pytest.approx(abs(values[0] - values[1]) / 2 ** 0.5)
        assert shown[f"metrics/train/{variant}.json"]["data"]["val_accuracy_sd"] == summary["val_accuracy_sd"]
        header = (root / "plots" / "history" / f"{variant}.csv").read_text().splitlines()[0]
        assert header == "epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,val_accuracy_sd,val_loss_sd"
        assert models_of(root, variant) == ["seed_1.keras", "seed_2.keras"]
        confusion = (root / "plots" / "confusion" / f"{variant}.csv").read_text().splitlines()
        assert len(confusion) == 1 + 2 * 40 and [row.split(",")[0] for row in confusion[1::40]] == ["1", "2"]
    results = read_json(root / "metrics" / "evaluate.json")
    assert results["seeds"] == [1, 2]
    for model in results["models"].values():
        accuracies = model["test_accuracy_per_seed"]
        assert list(accuracies) == ["1", "2"]
        assert model["test_accuracy"] == pytest.approx((accuracies["1"] + accuracies["2"]) / 2)
        assert model["test_accuracy_sd"] == pytest.approx(abs(accuracies["1"] - accuracies["2"]) / 2 ** 0.5)


def test_changing_one_variant_reruns_its_seeds_only(project):
    root, _ = project
    write_params(root / "params.yaml", lambda p: p["variants"]["sgd"].update(learning_rate=0.03))
    assert ran_stages(dvc("repro", cwd=root)) == ["evaluate", "report", "seed_summary", "train@sgd-1", "train@sgd-2"]
    write_params(root / "params.yaml", lambda p: p["augmented_variants"]["baseline_aug_hflip"].update(epochs=2))
    assert ran_stages(dvc("repro", cwd=root)) == [
        "evaluate", "report", "seed_summary", "train_augmented@baseline_aug_hflip-1",
        "train_augmented@baseline_aug_hflip-2",
    ]
    assert read_json(root / "metrics" / "train" / "baseline_aug_hflip.json")["epochs"] == 2


def test_experiment_with_a_changed_param_and_metrics_diff(project):
    root, _ = project
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-qm", "tiny study"], root)
    output = dvc("exp", "run", "-n", "sigmoid-fast", "-S", "+variants.sigmoid.learning_rate=0.003", cwd=root)
    assert ran_stages(output) == ["evaluate", "report", "seed_summary", "train@sigmoid-1", "train@sigmoid-2"]
    experiments = json.loads(dvc("exp", "show", "--json", cwd=root))
    names = [rev["name"] for row in experiments for group in row.get("experiments") or [] for rev in group["revs"]]
    assert "sigmoid-fast" in names
    diff = json.loads(dvc("metrics", "diff", "HEAD", "--json", cwd=root))
    assert diff["metrics/train/sigmoid.json"]  # the retrained variant's metrics moved...
    assert diff["metrics/seeds/sigmoid/seed_2.json"]
    assert "metrics/train/baseline.json" not in diff  # ...and no other variant's
    assert "metrics/seeds/baseline/seed_1.json" not in diff
    params_diff = json.loads(dvc("params", "diff", "HEAD", "--json", cwd=root))
    assert params_diff["params.yaml"]["variants.sigmoid.learning_rate"] == {"old": None, "new": 0.003}
