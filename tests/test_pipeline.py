"""End to end: `dvc repro` of the whole pipeline on tiny data in a copy of the project.

The copy gets small IDX files this test writes, their checksums, one epoch, two
folds and one seed (then a second seed, part-way through); the pipeline, the
stages and the DVC commands are the real ones. The tests run in order on the one
copy, each from where the last left it; the last clones it, as a user with no DVC
remote would, and runs a one-variant experiment without the models.
"""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import yaml

from study import files
from study.analysis import artifacts
from study.data import paths as data_paths
from study.training import runs
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


pytestmark = pytest.mark.slow  # minutes: the whole pipeline, many times over

COPIED = (
    "stages",
    "study",
    "dvc.yaml",
    "params.yaml",
    ".gitignore",
    "reports/published.yaml",
    "reports/protocol_screen.json",
    "reports/search.json",
)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A copy of the project that has run `dvc repro` once on tiny data."""
    root = tmp_path_factory.mktemp("project")
    for name in COPIED:
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
    shutil.copytree(os.path.join(PROJECT, ".dvc", "plots"), root / ".dvc" / "plots", dirs_exist_ok=True)
    dvc("config", "plots.html_template", "plots/offline.html", cwd=root)
    checksums = tiny_data.write_dataset(str(root / "source"))
    write_params(
        root / "params.yaml", lambda p: tiny_data.shrink_params(p, root / "source", checksums, seeds=[1])
    )
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
    for section, stage in (
        ("variants", "train"),
        ("augmented_variants", "train_augmented"),
        ("recipes", "train_recipe"),
    ):
        names += [
            f"{stage}@{v}-{s}" for v in params[section] if variants is None or v in variants for s in seeds
        ]
    return names


def mirror_stages(params, seeds):
    """The names of the stages mirror@<variant>-<seed> of params.yaml `mirror` for `seeds`."""
    return [f"mirror@{v}-{s}" for v in params["mirror"]["variants"] for s in seeds]


def models_of(root, variant):
    """The model files of a variant (DVC puts a .gitignore beside them)."""
    return sorted(name for name in os.listdir(root / "models" / "train" / variant) if name.endswith(".keras"))


def every_variant(params):
    return [*params["variants"], *params["augmented_variants"], *params["recipes"]]


AFTER_TRAINING = ["evaluate", "report", "seed_summary"]


def test_repro_runs_every_stage(project):
    root, output = project
    params = read_params(root)
    expected = (
        [
            "fetch",
            "prepare",
            "seed_summary",
            "evaluate",
            "kfold_summary",
            "kfold@0",
            "kfold@1",
            "kfold_carried",
            "report",
        ]
        + training_stages(params, [1])
        + mirror_stages(params, [1])
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


def test_metrics_show_has_only_the_headline(project):
    root, _ = project
    shown = json.loads(dvc("metrics", "show", "--json", cwd=root))[""]["data"]
    assert list(shown) == [artifacts.HEADLINE]
    headline = shown[artifacts.HEADLINE]["data"]
    params = read_params(root)
    assert set(headline["test"]) == set(every_variant(params)) == set(headline["val"])
    fidelity = headline["fidelity"]
    assert set(fidelity) == {"tuned_within_2sd", "held_out_within_2sd", "held_out_total"}
    assert 0 <= fidelity["tuned_within_2sd"] <= 10
    assert fidelity["held_out_total"] == 7 and 0 <= fidelity["held_out_within_2sd"] <= 7

    def leaves(value):
        return sum(leaves(v) for v in value.values()) if isinstance(value, dict) else 1

    # dvc metrics show stays readable: per variant its validation, test and test sd (one seed has no
    # sd, a null that dvc leaves out), the k-folds' five, each mirrored model's test and the three
    # fidelity counts, nothing else.
    per_variant = 3 if len(params["seeds"]) > 1 else 2
    variants = len(every_variant(params))
    assert leaves(headline) == per_variant * variants + 5 + len(params["mirror"]["variants"]) + 3
    for variant in every_variant(params):
        summary = read_json(root / artifacts.variant_summary(variant))
        per_seed = read_json(root / runs.seed_run(variant, 1)["metrics"])
        assert summary["seeds"] == [1] and summary["val_accuracy_sd"] is None  # one seed: no sd
        assert per_seed["val_accuracy"] == summary["val_accuracy"] == headline["val"][variant]
        assert summary["epochs"] == 1
    results = read_json(root / artifacts.evaluate_details())
    assert len(results["selected"]) == 2 and results["seeds"] == [1]
    _, y_test = files.load_split(root / data_paths.prepared("test"))
    for name, model in results["models"].items():
        assert (
            model["test_accuracy_per_seed"] == {"1": model["test_accuracy"]}
            and model["test_accuracy_sd"] is None
        )
        # The ensemble of one seed is that seed, read from its float16 probabilities: it parts from the
        # stored float32 argmax only where rounding to float16 tied the top two classes (common on tiny
        # data, whose barely trained models give near-uniform probabilities).
        predicted, probabilities = files.read_predictions(root / runs.seed_run(name, 1)["predictions"])
        ensemble = probabilities.argmax(axis=1)
        assert model["ensemble_test_accuracy"] == np.mean(ensemble == y_test)
        parted = ensemble != predicted
        assert (probabilities[parted, ensemble[parted]] == probabilities[parted, predicted[parted]]).all()
        assert ("per_class" in model) == (name in results["selected"])
        assert headline["test"][name] == model["test_accuracy"]
    report = (root / artifacts.REPORT).read_text()
    for section in ("## Findings", "## Protocol", "## Fidelity", "## Every published claim", "Table 5"):
        assert section in report
    assert "no verdict (one training run)" in report  # one seed: no significance verdicts
    carried = read_json(root / runs.carried_run()["metrics"])
    assert [fold["val_images_trained_on_before"] for fold in carried["folds"]] == [0.0, 1.0]  # two folds


def test_history_curves_and_confusion_files(project):
    root, _ = project
    history = (root / "plots" / "history" / "baseline.csv").read_text()
    lines = history.splitlines()
    assert lines[0] == "epoch,loss,accuracy,val_loss,val_accuracy,learning_rate"  # one seed: no sd columns
    assert len(lines) == 2
    assert (
        history == (root / "plots" / "seeds" / "baseline" / "seed_1.csv").read_text()
    )  # the mean of one seed
    params = read_params(root)
    curves = (root / artifacts.CURVES).read_text().splitlines()
    assert curves[0] == "epoch,variant,loss,accuracy,val_loss,val_accuracy,learning_rate"
    assert [row.split(",")[1] for row in curves[1:]] == every_variant(params)  # one epoch each
    selected = read_json(root / artifacts.evaluate_details())["selected"]
    assert sorted(os.listdir(root / "plots" / "confusion")) == sorted(f"{n}.csv" for n in selected)
    for name in selected:
        confusion = (root / "plots" / "confusion" / f"{name}.csv").read_text().splitlines()
        assert confusion[0] == "actual,predicted" and len(confusion) == 1 + 40  # one row per tiny test image
    assert sorted(os.listdir(root / "plots" / "figures" / "evaluate")) == sorted(
        ["loss_curves.png"] + [f"confusion_{n}.png" for n in selected]
    )
    for name in params["augmented_variants"]:  # the augmented sets and their figures, by variant
        assert (root / "data" / "augmented" / f"{name}.npz").is_file()
        assert (root / "plots" / "figures" / f"augmentation_{name}.png").read_bytes()[:4] == b"\x89PNG"
    for name in every_variant(params):
        assert models_of(root, name) == ["seed_1.keras"]
        predicted, _ = files.read_predictions(root / runs.seed_run(name, 1)["predictions"], 40)
        assert predicted.shape == (40,)


def test_plots_show_renders(project):
    root, _ = project
    rendered = json.loads(dvc("plots", "show", "--json", cwd=root))
    assert not rendered.get("errors"), rendered.get("errors")
    charts = rendered["data"]
    assert charts["plots/history/baseline.csv"][0]["content"]["data"]["values"]
    for title in (
        "Validation accuracy of every variant (mean over seeds)",
        "Learning rate of every variant",
        "plots/kfold/fold_1.csv",
        "plots/kfold_carried.csv",
        "plots/kfold_confusion/ensemble.csv",
    ):
        assert charts[title][0]["content"]["data"]["values"], title
    variants = {
        row["variant"] for row in charts["Learning rate of every variant"][0]["content"]["data"]["values"]
    }
    assert variants == set(
        every_variant(read_params(root))
    )  # every variant on one chart, none listed in dvc.yaml
    assert charts["plots/figures/evaluate/loss_curves.png"][0]["type"] == "image"
    dvc("plots", "show", "-o", "dvc_plots", cwd=root)
    html = (root / "dvc_plots" / "index.html").read_text()
    assert '<script src="http' not in html  # the offline template of .dvc/plots/
    assert "var spec = {};" not in html  # no chart left without data


def test_second_repro_runs_nothing(project):
    root, _ = project
    assert ran_stages(dvc("repro", cwd=root)) == []


def test_changing_one_variant_reruns_only_it_and_what_follows(project):
    root, _ = project
    write_params(root / "params.yaml", lambda p: p["variants"]["sgd"].update(learning_rate=0.02))
    assert ran_stages(dvc("repro", cwd=root)) == ["evaluate", "report", "seed_summary", "train@sgd-1"]


def test_bad_param_is_refused_and_the_last_results_come_back(project):
    """The first stage that reads the bad value refuses it in one line, and DVC runs nothing after
    it. DVC has removed that stage's outputs before its command ran (no output is persist, so that
    the run-cache works: docs/reliability.md); `git checkout` and `dvc checkout` bring them back."""
    root, _ = project
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-qm", "the tiny study"], root)
    kept = (artifacts.variant_summary("baseline"), artifacts.evaluate_details(), artifacts.HEADLINE)
    before = {path: (root / path).read_bytes() for path in kept}
    model = root / "models/train/baseline/seed_1.keras"
    model_bytes = model.read_bytes()
    original = (root / "params.yaml").read_text()
    write_params(root / "params.yaml", lambda p: p["baseline"].update(epochs=0))
    try:
        environment = {
            **os.environ,
            "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
        }
        result = subprocess.run(
            [sys.executable, "-m", "dvc", "repro"], cwd=root, env=environment, capture_output=True, text=True
        )
    finally:
        (root / "params.yaml").write_text(original)
    assert result.returncode != 0
    assert (
        "error: params.yaml: baseline.epochs: expected a positive integer, got 0"
        in result.stderr + result.stdout
    )
    for path, content in before.items():
        assert (root / path).read_bytes() == content
    run(["git", "checkout", "--", "."], root)
    dvc("checkout", cwd=root)
    assert model.read_bytes() == model_bytes
    assert ran_stages(dvc("repro", cwd=root)) == []


def test_a_second_seed_trains_only_the_new_seed_and_gives_an_sd(project):
    root, _ = project
    write_params(root / "params.yaml", lambda p: p.update(seeds=[1, 2], recipe_seeds=[1, 2]))
    params = read_params(root)
    assert ran_stages(dvc("repro", cwd=root)) == sorted(
        AFTER_TRAINING + training_stages(params, [2]) + mirror_stages(params, [2])
    )
    headline = read_json(root / artifacts.HEADLINE)
    for variant in every_variant(params):
        summary = read_json(root / artifacts.variant_summary(variant))
        values = [read_json(root / runs.seed_run(variant, s)["metrics"])["val_accuracy"] for s in (1, 2)]
        assert summary["seeds"] == [1, 2]
        assert (
            summary["val_accuracy"] == pytest.approx((values[0] + values[1]) / 2) == headline["val"][variant]
        )
        assert summary["val_accuracy_sd"] == pytest.approx(abs(values[0] - values[1]) / 2**0.5)
        header = (root / "plots" / "history" / f"{variant}.csv").read_text().splitlines()[0]
        assert header == "epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,val_accuracy_sd,val_loss_sd"
        assert models_of(root, variant) == ["seed_1.keras", "seed_2.keras"]
    assert list(headline["test_mirror"]) == params["mirror"]["variants"]
    for model in read_json(root / artifacts.evaluate_details())["models"].values():
        accuracies = model["test_accuracy_per_seed"]
        assert list(accuracies) == ["1", "2"]
        assert model["test_accuracy"] == pytest.approx((accuracies["1"] + accuracies["2"]) / 2)
        assert model["test_accuracy_sd"] == pytest.approx(abs(accuracies["1"] - accuracies["2"]) / 2**0.5)
    study = read_json(root / artifacts.study_details())
    tested = [
        c["comparison"] for c in study["claims"] if "comparison" in c and not c["comparison"]["single_run"]
    ]
    assert tested and all("p_holm" in c for c in tested)  # two seeds: seed-level tests, Holm-adjusted


def test_changing_an_augmented_variant_reruns_its_seeds_only(project):
    root, _ = project
    write_params(root / "params.yaml", lambda p: p["augmented_variants"]["baseline_aug"].update(epochs=2))
    assert ran_stages(dvc("repro", cwd=root)) == AFTER_TRAINING + [
        "train_augmented@baseline_aug-1",
        "train_augmented@baseline_aug-2",
    ]
    assert read_json(root / artifacts.variant_summary("baseline_aug"))["epochs"] == 2


def test_experiment_with_a_changed_param_and_metrics_diff(project):
    root, _ = project
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-qm", "tiny study"], root)
    output = dvc("exp", "run", "-n", "sigmoid-fast", "-S", "+variants.sigmoid.learning_rate=0.003", cwd=root)
    assert ran_stages(output) == AFTER_TRAINING + ["train@sigmoid-1", "train@sigmoid-2"]
    experiments = json.loads(dvc("exp", "show", "--json", cwd=root))
    names = [
        rev["name"] for row in experiments for group in row.get("experiments") or [] for rev in group["revs"]
    ]
    assert "sigmoid-fast" in names
    diff = json.loads(dvc("metrics", "diff", "HEAD", "--json", cwd=root))[artifacts.HEADLINE]
    assert "val.sigmoid" in diff and "val.baseline" not in diff  # only the retrained variant's figures moved
    params_diff = json.loads(dvc("params", "diff", "HEAD", "--json", cwd=root))
    assert params_diff["params.yaml"]["variants.sigmoid.learning_rate"] == {"old": None, "new": 0.003}


def test_a_fresh_clone_without_models_runs_a_one_variant_experiment(project, tmp_path):
    """No DVC remote: a clone has the committed metrics and predictions but no model. After `dvc repro
    prepare` (seconds), changing one variant retrains only its seeds and regenerates every table."""
    root, _ = project
    run(["git", "clone", "-q", str(root), str(tmp_path / "clone")], tmp_path)
    clone = tmp_path / "clone"
    dvc(
        "config", "--local", "cache.dir", str(tmp_path / "empty_cache"), cwd=clone
    )  # nothing shared with root
    dvc("repro", "prepare", cwd=clone)
    write_params(clone / "params.yaml", lambda p: p["variants"]["kernel7"].update(kernel_sizes=[7, 7]))
    planned = ran_stages(dvc("repro", "--allow-missing", "--dry", cwd=clone))
    trainings = [s for s in planned if s.startswith(("train", "kfold"))]
    assert trainings == ["train@kernel7-1", "train@kernel7-2"]
    before = (clone / artifacts.REPORT).read_text()
    output = dvc("exp", "run", "--allow-missing", "-n", "kernel7-77", cwd=clone)
    assert sorted(s for s in ran_stages(output) if s.startswith(("train", "kfold"))) == trainings
    assert set(AFTER_TRAINING) <= set(ran_stages(output))
    assert (
        clone / artifacts.REPORT
    ).read_text() != before  # the report regenerated with kernel7's new figures
    diff = json.loads(dvc("metrics", "diff", "HEAD", "--json", cwd=clone))[artifacts.HEADLINE]
    assert "test.kernel7" in diff and "test.baseline" not in diff
