"""End to end: `dvc repro` of the whole pipeline on tiny data in a copy of the project.

The copy gets small IDX files this test writes, their checksums, one epoch and
two folds; the pipeline, the stages and the DVC commands are the real ones.
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

    def tiny(params):
        params["data"]["source_dir"] = str(root / "source")
        params["data"]["sha256"] = checksums
        params["baseline"]["epochs"] = 1
        params["baseline"]["batch_size"] = 32
        params["kfold"]["n_splits"] = 2
        params["kfold"]["folds"] = [0, 1]

    write_params(root / "params.yaml", tiny)
    output = dvc("repro", cwd=root)
    return root, output


def test_repro_runs_every_stage(project):
    root, output = project
    with open(root / "params.yaml") as stream:
        params = yaml.safe_load(stream)
    variants = list(params["variants"])
    augmented = list(params["augmented_variants"])
    expected = (
        ["fetch", "prepare", "evaluate", "kfold_summary", "kfold@0", "kfold@1", "report"]
        + [f"train@{v}" for v in variants]
        + [f"train_augmented@{v}" for v in augmented]
        + [f"augment@{p}" for p in params["augmentations"]]
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
    with open(root / "params.yaml") as stream:
        params = yaml.safe_load(stream)
    for variant in [*params["variants"], *params["augmented_variants"]]:
        train = files[f"metrics/train/{variant}.json"]["data"]
        assert 0 <= train["train_accuracy"] <= 1 and 0 <= train["val_accuracy"] <= 1
        assert train["epochs"] == 1
    evaluate = files["metrics/evaluate.json"]["data"]  # DVC keeps the numbers only
    assert len(json.loads((root / "metrics" / "evaluate.json").read_text())["selected"]) == 2
    assert set(evaluate["models"]) == {*params["variants"], *params["augmented_variants"]}
    study = files["metrics/study.json"]["data"]
    assert 0 <= study["best_test_accuracy_ci_low"] <= study["best_test_accuracy"] <= study["best_test_accuracy_ci_high"]
    assert "## Findings" in (root / "reports" / "study.md").read_text()
    kfold = files["metrics/kfold.json"]["data"]
    assert 0 <= kfold["ensemble_test_accuracy"] <= 1 and kfold["best_fold"] in (0, 1)
    folds = json.loads((root / "metrics" / "kfold.json").read_text())["folds"]  # a list: DVC skips it
    assert [fold["fold"] for fold in folds] == [0, 1]
    for fold in (0, 1):
        assert files[f"metrics/kfold/fold_{fold}.json"]["data"]["val_accuracy"] == folds[fold]["val_accuracy"]


def test_history_and_confusion_files(project):
    root, _ = project
    with open(root / "plots" / "history" / "baseline.csv") as stream:
        lines = stream.read().splitlines()
    assert lines[0] == "epoch,loss,accuracy,val_loss,val_accuracy,learning_rate"
    assert len(lines) == 2
    selected = json.loads((root / "metrics" / "evaluate.json").read_text())["selected"]
    for name in selected:
        confusion = (root / "plots" / "confusion" / f"{name}.csv").read_text().splitlines()
        assert confusion[0] == "actual,predicted"
        assert len(confusion) == 1 + 40  # one row per tiny test image
    with open(root / "params.yaml") as stream:
        params = yaml.safe_load(stream)
    every_model = [*params["variants"], *params["augmented_variants"]]
    assert sorted(os.listdir(root / "plots" / "confusion")) == sorted(f"{n}.csv" for n in every_model)
    assert sorted(os.listdir(root / "plots" / "figures" / "evaluate")) == sorted(
        ["loss_curves.png"] + [f"confusion_{n}.png" for n in selected]
    )


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
    assert ran_stages(dvc("repro", cwd=root)) == ["evaluate", "report", "train@sgd"]


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
    assert (root / "models/train/baseline.keras").is_file()


def test_experiment_with_a_changed_param_and_metrics_diff(project):
    root, _ = project
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-qm", "tiny study"], root)
    output = dvc("exp", "run", "-n", "sigmoid-fast", "-S", "+variants.sigmoid.learning_rate=0.003", cwd=root)
    assert ran_stages(output) == ["evaluate", "report", "train@sigmoid"]
    experiments = json.loads(dvc("exp", "show", "--json", cwd=root))
    names = [rev["name"] for row in experiments for group in row.get("experiments") or [] for rev in group["revs"]]
    assert "sigmoid-fast" in names
    diff = json.loads(dvc("metrics", "diff", "HEAD", "--json", cwd=root))
    assert diff["metrics/train/sigmoid.json"]  # the retrained variant's metrics moved...
    assert "metrics/train/baseline.json" not in diff  # ...and no other variant's
    params_diff = json.loads(dvc("params", "diff", "HEAD", "--json", cwd=root))
    assert params_diff["params.yaml"]["variants.sigmoid.learning_rate"] == {"old": None, "new": 0.003}
