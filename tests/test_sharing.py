"""Sharing trainings through a DVC remote, end to end, in tiny DVC projects of a temporary folder.

Each project is a git repository with one stage shaped like a training: a command
that writes a model (DVC's cache) and a metrics file, and appends a line to a
marker file outside the repository, so a test sees whether the command ran. Its
clones share nothing but the git history and a local-directory remote
(`dvc remote add -d shared <folder>`); each has its own cache.

What the tests establish for DVC 3.67 (docs/sharing.md states each):
- dvc.lock in git, `dvc push` where the stage ran, `dvc pull` (or `dvc repro --pull`) in a
  clone: the outputs are back byte for byte, `dvc status` is clean, nothing runs.
- `--run-cache` moves the run-cache's records, not the outputs they name. A record
  restores in another clone (`dvc repro --pull`, which fetches the record's outputs)
  a configuration that was run and pushed but never committed, if every output it
  names is on the remote; a `cache: false` output never is, so such a stage is
  restored only on the machine that ran it. `dvc pull --run-cache` fetches the
  checked-out dvc.lock's outputs only, so a plain `dvc repro` of another configuration runs.
- `dvc repro` writes no record for a stage with a `cache: false` file under `outs`;
  `dvc commit` of the command run by hand does.
- A stage with any `persist: true` output gets no record at all, by repro or by commit,
  and is never restored from a cache in place of running: only `dvc pull` / `dvc repro
  --pull` of its dvc.lock bring it back. So no output of this project's dvc.yaml is persist.
The last test runs the project's own fetch, prepare and one training on tiny data, shares
it with `python -m study.sharing`, and restores that training in clones with `dvc pull`,
and with `dvc repro --pull` from the run-cache at a commit whose dvc.lock lacks it.
"""

import json
import os
import subprocess
import sys

import pytest
import yaml

from tests import tiny_project

CACHED_MESSAGE = "Stage 'train' is cached - skipping run, checking out outputs"

# The stage's command: a stand-in for a training, deterministic in its params and data.
TRAIN_SCRIPT = """\
import json, os, yaml
lr = yaml.safe_load(open("params.yaml"))["train"]["lr"]
data = open("data/input.txt").read()
with open(os.environ["TRAIN_MARKER"], "a") as marker:
    marker.write(f"lr={lr}\\n")
os.makedirs("models", exist_ok=True)
os.makedirs("metrics", exist_ok=True)
with open("models/model.bin", "wb") as model:
    model.write(f"weights of lr={lr} on {data!r}".encode() * 64)
with open("metrics/train.json", "w") as metrics:
    json.dump({"lr": lr, "val_accuracy": round(1 - lr, 6)}, metrics)
"""

STAGE = {"cmd": "python train.py", "deps": ["train.py", "data/input.txt"], "params": ["train"]}

# The stage shapes under test, each the training stage above with other output settings.
SHAPES = {
    # Every output in DVC's cache: the shape whose run-cache entries restore on another machine.
    "cached": {**STAGE, "outs": ["models/model.bin"], "metrics": ["metrics/train.json"]},
    # The metrics file kept out of DVC's cache (cache: false, committed to git), as a metric.
    "uncached_metric": {
        **STAGE,
        "outs": ["models/model.bin"],
        "metrics": [{"metrics/train.json": {"cache": False}}],
    },
    # The same file as a plain output: this project's trainings (their test predictions).
    "uncached_out": {**STAGE, "outs": ["models/model.bin", {"metrics/train.json": {"cache": False}}]},
    # Every output persist: true, the model cached, the rest not (this project's old shape).
    "persist": {
        **STAGE,
        "outs": [
            {"models/model.bin": {"persist": True}},
            {"metrics/train.json": {"persist": True, "cache": False}},
        ],
    },
}


def run(command, cwd, marker=None):
    return tiny_project.run(command, cwd, **({"TRAIN_MARKER": str(marker)} if marker else {}))


def dvc(*arguments, cwd, marker=None):
    return run([sys.executable, "-m", "dvc", *arguments], cwd, marker)


git = tiny_project.git


def runs_of(marker):
    """The runs of the stage's command that wrote to `marker`, as their params."""
    return marker.read_text().split() if marker.exists() else []


def run_cache_entries(folder):
    """The run-cache entries under a cache or a remote folder (its runs/<xx>/<key>/<value> files)."""
    runs = os.path.join(folder, "runs")
    return sorted(os.path.relpath(os.path.join(d, f), runs) for d, _, fs in os.walk(runs) for f in fs)


def set_lr(root, lr):
    (root / "params.yaml").write_text(yaml.safe_dump({"train": {"lr": lr}}))


def outputs(root):
    return {name: (root / name).read_bytes() for name in ("models/model.bin", "metrics/train.json")}


def make_project(tmp_path, shape):
    """A committed git + DVC repository with the stage of `shape` and the remote `shared`; not yet run."""
    root, remote = tmp_path / "a", tmp_path / "remote"
    (root / "data").mkdir(parents=True)
    remote.mkdir()
    (root / "train.py").write_text(TRAIN_SCRIPT)
    (root / "data" / "input.txt").write_text("tiny images\n")
    set_lr(root, 0.1)
    (root / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"train": SHAPES[shape]}}, sort_keys=False))
    tiny_project.commit_as_project(root, remote)
    return root, remote


clone = tiny_project.clone


def train_two_configurations(root, tmp_path, by_hand=False):
    """Runs lr=0.2, pushed but never committed to git, then lr=0.1, pushed and committed.

    Each run is followed by `dvc push --run-cache`, which sends the outputs that the
    workspace's dvc.lock names and every run-cache entry. by_hand: the command runs
    outside DVC and `dvc commit` records it. Returns {lr: the outputs of that run}.
    """
    marker = tmp_path / "runs_a"
    results = {}
    for lr in (0.2, 0.1):
        set_lr(root, lr)
        if by_hand:
            run(["python", "train.py"], root, marker)
            # -f: no question to answer; the outputs are recorded as they are.
            dvc("commit", "-f", "train", cwd=root)
        else:
            assert "Running stage 'train'" in dvc("repro", cwd=root, marker=marker)
        results[lr] = outputs(root)
        dvc("push", "--run-cache", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "trained at lr=0.1", cwd=root)
    assert runs_of(marker) == ["lr=0.2", "lr=0.1"]
    return results


@pytest.mark.slow
def test_pull_restores_the_committed_training_without_running(tmp_path):
    """This project's way: dvc.lock in git, the model on the remote; a clone pulls and runs nothing."""
    root, remote = make_project(tmp_path, "persist")
    trained = train_two_configurations(root, tmp_path)

    b = clone(root, tmp_path, "b")
    assert not (b / "models" / "model.bin").exists()  # git has the metrics, not the model
    assert (b / "metrics" / "train.json").read_bytes() == trained[0.1]["metrics/train.json"]
    dvc("pull", cwd=b)
    assert outputs(b) == trained[0.1]
    assert json.loads(dvc("status", "--json", cwd=b)) == {}
    marker = tmp_path / "runs_b"
    assert "Stage 'train' didn't change, skipping" in dvc("repro", cwd=b, marker=marker)
    assert runs_of(marker) == []

    # dvc repro --pull does the same in one command: it pulls what an unchanged stage lacks.
    c = clone(root, tmp_path, "c")
    marker = tmp_path / "runs_c"
    output = dvc("repro", "--pull", cwd=c, marker=marker)
    assert "Running stage" not in output and runs_of(marker) == []
    assert outputs(c) == trained[0.1]
    assert json.loads(dvc("status", "--json", cwd=c)) == {}


@pytest.mark.slow
def test_run_cache_restores_a_configuration_another_clone_ran(tmp_path):
    root, remote = make_project(tmp_path, "cached")
    trained = train_two_configurations(root, tmp_path)
    assert len(run_cache_entries(root / ".dvc" / "cache")) == 2  # one per configuration that ran
    assert len(run_cache_entries(remote)) == 2

    # dvc pull --run-cache, then dvc repro --pull of the configuration that was never committed.
    c = clone(root, tmp_path, "c")
    dvc("pull", "--run-cache", cwd=c)
    assert outputs(c) == trained[0.1]
    set_lr(c, 0.2)
    marker = tmp_path / "runs_c"
    output = dvc("repro", "--pull", cwd=c, marker=marker)
    assert CACHED_MESSAGE in output and "Running stage" not in output
    assert runs_of(marker) == []
    assert outputs(c) == trained[0.2]
    assert json.loads(dvc("status", "--json", cwd=c)) == {}

    # dvc repro --pull alone fetches the run-cache first.
    d = clone(root, tmp_path, "d")
    set_lr(d, 0.2)
    marker = tmp_path / "runs_d"
    output = dvc("repro", "--pull", cwd=d, marker=marker)
    assert CACHED_MESSAGE in output and runs_of(marker) == []
    assert outputs(d) == trained[0.2]

    # dvc pull --run-cache brings every entry but only the outputs of the checked-out dvc.lock, so a
    # plain dvc repro of another configuration finds its entry, lacks its outputs, and runs it.
    e = clone(root, tmp_path, "e")
    dvc("pull", "--run-cache", cwd=e)
    assert len(run_cache_entries(e / ".dvc" / "cache")) == 2
    set_lr(e, 0.2)
    marker = tmp_path / "runs_e"
    assert "Running stage 'train'" in dvc("repro", cwd=e, marker=marker)
    assert runs_of(marker) == ["lr=0.2"]
    assert outputs(e) == trained[0.2]  # deterministic: the same bytes as A's run
    # The clone's own cache serves a plain dvc repro: back to lr=0.1, restored, not run.
    set_lr(e, 0.1)
    output = dvc("repro", cwd=e, marker=marker)
    assert CACHED_MESSAGE in output and runs_of(marker) == ["lr=0.2"]
    assert outputs(e) == trained[0.1]


@pytest.mark.slow
def test_commit_of_a_hand_run_records_a_run_cache_entry_that_travels(tmp_path):
    root, remote = make_project(tmp_path, "cached")
    trained = train_two_configurations(root, tmp_path, by_hand=True)
    assert len(run_cache_entries(root / ".dvc" / "cache")) == 2
    assert len(run_cache_entries(remote)) == 2

    c = clone(root, tmp_path, "c")
    dvc("pull", "--run-cache", cwd=c)
    assert outputs(c) == trained[0.1]
    set_lr(c, 0.2)
    marker = tmp_path / "runs_c"
    output = dvc("repro", "--pull", cwd=c, marker=marker)
    assert CACHED_MESSAGE in output and runs_of(marker) == []
    assert outputs(c) == trained[0.2]
    assert json.loads(dvc("status", "--json", cwd=c)) == {}


def test_a_cache_false_output_under_outs_gets_an_entry_by_commit_only(tmp_path):
    root, remote = make_project(tmp_path, "uncached_out")
    assert "Running stage 'train'" in dvc("repro", cwd=root, marker=tmp_path / "runs_repro")
    assert run_cache_entries(root / ".dvc" / "cache") == []
    dvc("commit", "-f", "train", cwd=root)
    assert len(run_cache_entries(root / ".dvc" / "cache")) == 1


@pytest.mark.slow
@pytest.mark.parametrize("shape,by_hand", [("uncached_metric", False), ("uncached_out", True)])
def test_a_cache_false_output_keeps_its_entry_on_the_machine_that_ran(tmp_path, shape, by_hand):
    """The run-cache keeps a copy of a cache: false output in the local cache, but dvc push sends
    none: the entry travels, its output does not, and another clone runs the command."""
    root, remote = make_project(tmp_path, shape)
    trained = train_two_configurations(root, tmp_path, by_hand=by_hand)
    assert len(run_cache_entries(remote)) == 2

    c = clone(root, tmp_path, "c")
    set_lr(c, 0.2)
    marker = tmp_path / "runs_c"
    output = dvc("repro", "--pull", cwd=c, marker=marker)
    assert CACHED_MESSAGE not in output and "Running stage 'train'" in output
    assert "metrics/train.json" in output  # named among the missing cache files
    assert runs_of(marker) == ["lr=0.2"]
    assert outputs(c) == trained[0.2]

    # On the machine that ran it, the entry restores.
    set_lr(root, 0.2)
    marker = tmp_path / "runs_a"
    output = dvc("repro", cwd=root, marker=marker)
    assert CACHED_MESSAGE in output and runs_of(marker) == ["lr=0.2", "lr=0.1"]
    assert outputs(root) == trained[0.2]


def test_persist_outputs_get_no_run_cache_entry(tmp_path):
    """A persist output: nothing reaches the run-cache, by repro or by commit."""
    root, remote = make_project(tmp_path, "persist")
    assert "Running stage 'train'" in dvc("repro", cwd=root, marker=tmp_path / "runs_a")
    assert run_cache_entries(root / ".dvc" / "cache") == []
    set_lr(root, 0.2)
    run(["python", "train.py"], root, tmp_path / "runs_a")
    dvc("commit", "-f", "train", cwd=root)
    assert run_cache_entries(root / ".dvc" / "cache") == []
    dvc("push", "--run-cache", cwd=root)
    assert run_cache_entries(remote) == []


@pytest.mark.slow
def test_a_persist_stage_is_never_restored_from_a_cache(tmp_path):
    """A clone reruns a configuration that A ran and pushed but did not commit; and dvc repro without
    --pull reruns even the committed one when its model is missing."""
    root, remote = make_project(tmp_path, "persist")
    trained = train_two_configurations(root, tmp_path, by_hand=True)
    assert run_cache_entries(remote) == []

    c = clone(root, tmp_path, "c")
    dvc("pull", "--run-cache", cwd=c)
    set_lr(c, 0.2)
    marker = tmp_path / "runs_c"
    output = dvc("repro", "--pull", cwd=c, marker=marker)
    assert CACHED_MESSAGE not in output and "Running stage 'train'" in output
    assert runs_of(marker) == ["lr=0.2"]
    assert outputs(c) == trained[0.2]

    # The model is in A's cache, but DVC does not check a persist stage's outputs out in place of
    # running it: dvc repro without --pull runs the command.
    (root / "models" / "model.bin").unlink()
    marker = tmp_path / "runs_a"
    assert "Running stage 'train'" in dvc("repro", cwd=root, marker=marker)
    assert runs_of(marker) == ["lr=0.2", "lr=0.1", "lr=0.1"]


# The real pipeline: fetch -> prepare -> train@baseline-1 on tiny data, shared through a remote.


@pytest.mark.slow  # a real training: about half a minute
def test_a_real_training_is_restored_in_a_clone_without_retraining(tmp_path):
    made = tiny_project.make(tmp_path)
    if made is None:
        pytest.skip("dvc.yaml names files that do not exist (tests/test_layout.py)")
    root, remote = made
    before = tiny_project.git("rev-parse", "HEAD", cwd=root).strip()
    target = "train@baseline-1"
    assert "Running stage 'train@baseline-1'" in tiny_project.dvc("repro", target, cwd=root)
    # The training has a cache: false output under outs (its test predictions): dvc repro
    # wrote no record of it, study.sharing writes one and pushes what it names.
    assert "study.sharing: 3 stage(s) recorded" in tiny_project.run(
        [sys.executable, "-m", "study.sharing"], root
    )
    tiny_project.git("add", "-A", cwd=root)
    tiny_project.git("commit", "-qm", "one tiny training", cwd=root)
    assert len(run_cache_entries(remote)) == 3  # fetch, prepare and the training
    trained = (
        "models/train/baseline/seed_1.keras",
        "metrics/seeds/baseline/seed_1.json",
        "predictions/train/baseline/seed_1.npz",
    )

    # A clone of the commit that names the training pulls it.
    b = tiny_project.clone(root, tmp_path, "b")
    tiny_project.dvc("pull", "--with-deps", target, cwd=b)  # the training and the data it was trained on
    assert all((b / path).read_bytes() == (root / path).read_bytes() for path in trained)
    assert json.loads(tiny_project.dvc("status", "--json", target, cwd=b)) == {}
    assert "Running stage" not in tiny_project.dvc("repro", target, cwd=b)
    # The pulled model classifies an image.
    from PIL import Image

    Image.new("L", (28, 28), color=0).save(b / "dark.png")
    predicted = subprocess.run(
        [sys.executable, "-m", "study.predict", "dark.png", "--json"],
        cwd=b,
        env=tiny_project.environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    answer = json.loads(predicted.stdout)
    assert answer["model"].endswith("seed_1.keras") and len(answer["predictions"]["dark.png"]) == 3
    # A model deleted from the workspace comes back with dvc repro --pull, untrained: it fetches
    # the git-carried outputs' copies too, which DVC wants in the cache before it checks a stage out.
    (b / trained[0]).unlink()
    assert "Running stage" not in tiny_project.dvc("repro", "--pull", target, cwd=b)
    assert all((b / path).read_bytes() == (root / path).read_bytes() for path in trained)

    # A clone of the commit before it, whose dvc.lock names no training, restores the same
    # stages from the run-cache instead of running them.
    c = tiny_project.clone(root, tmp_path, "c", commit=before)
    output = tiny_project.dvc("repro", "--pull", target, cwd=c)
    assert "Running stage" not in output, output
    assert "Stage 'train@baseline-1' is cached - skipping run, checking out outputs" in output
    assert all((c / path).read_bytes() == (root / path).read_bytes() for path in trained)
    assert json.loads(tiny_project.dvc("status", "--json", target, cwd=c)) == {}


def test_sharing_without_a_remote_says_so_in_one_line(tmp_path):
    root, _ = make_project(tmp_path, "cached")
    dvc("repro", cwd=root, marker=tmp_path / "runs_a")
    dvc("remote", "remove", "shared", cwd=root)
    result = subprocess.run(
        [sys.executable, "-m", "study.sharing"],
        cwd=root,
        env=tiny_project.environment(PYTHONPATH=tiny_project.PROJECT),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    # DVC's own message, which names the command to run.
    assert result.stderr.startswith("study.sharing: config file error: no remote specified")
    assert "dvc remote add -d <remote name> <remote url>" in result.stderr


def test_sharing_pushes_only_records_whose_outputs_reach_the_remote(tmp_path):
    """A record of an earlier run whose model was never pushed stays local: on the remote it
    would be the newest record of its stage, the one DVC tries, and other machines would rerun."""
    root, remote = make_project(tmp_path, "uncached_out")
    marker = tmp_path / "runs_a"
    dvc("repro", cwd=root, marker=marker)
    share = [sys.executable, "-m", "study.sharing"]
    tiny_project.run(share, root, PYTHONPATH=tiny_project.PROJECT)
    [fresh] = run_cache_entries(root / ".dvc" / "cache")
    record = root / ".dvc" / "cache" / "runs" / fresh
    stale = record.with_name("0" * 64)
    stale.write_text(
        record.read_text().replace(yaml.safe_load(record.read_text())["outs"][0]["md5"], "f" * 32)
    )
    os.utime(stale, (record.stat().st_mtime + 60,) * 2)
    tiny_project.run(share, root, PYTHONPATH=tiny_project.PROJECT)
    assert run_cache_entries(remote) == [fresh]

    c = clone(root, tmp_path, "c")  # the commit before the run
    output = dvc("repro", "--pull", cwd=c, marker=marker)
    assert CACHED_MESSAGE in output and runs_of(marker) == ["lr=0.1"]
    assert outputs(c) == outputs(root)
