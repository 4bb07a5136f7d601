"""scripts/dask_repro.py on tiny data: two Dask workers train, a shared local remote carries the
trainings, and the coordinator restores them from the run-cache without training.

The coordinator's params.yaml has an uncommitted change, as a user's experiment would: the
workers train with it, and the results are those of plain `dvc repro` of the same workspace
in another clone, byte for byte.
"""

import json
import re
import subprocess
import sys

import pytest
import yaml

from tests import tiny_project

TARGETS = ("train@baseline-1", "train@kernel7-1")
# What a training leaves in git, byte-identical between runs of the same spec and seed.
RESULTS = (
    "metrics/seeds/baseline/seed_1.json",
    "metrics/seeds/kernel7/seed_1.json",
    "predictions/train/baseline/seed_1.npz",
    "predictions/train/kernel7/seed_1.npz",
)


def try_a_kernel_of_five(root):
    """The experiment: kernel7's first conv at 5 x 5, left uncommitted."""
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["variants"]["kernel7"]["kernel_sizes"] = [5, 3]
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


@pytest.mark.slow  # two tiny trainings twice, and a Dask cluster: about a minute
def test_two_dask_workers_train_and_the_coordinator_restores_their_results(tmp_path):
    made = tiny_project.make(tmp_path)
    if made is None:
        pytest.skip("dvc.yaml names files that do not exist (tests/test_layout.py)")
    origin, _ = made
    # The committed study names both trainings in dvc.lock; its clones have none of the models.
    tiny_project.dvc("repro", *TARGETS, cwd=origin)
    tiny_project.git("add", "-A", cwd=origin)
    tiny_project.git("commit", "-qm", "trained", cwd=origin)
    root = tiny_project.clone(origin, tmp_path, "coordinator")
    plain = tiny_project.clone(origin, tmp_path, "plain")
    # The experiment changes kernel7; baseline-1 is the committed training, its model missing.
    for workspace in (root, plain):
        try_a_kernel_of_five(workspace)

    command = [sys.executable, "scripts/dask_repro.py", "--jobs", "2", "--work-dir", str(tmp_path / "work")]
    output = tiny_project.run([*command, *TARGETS], root)

    # Each worker trained one, in its own clone.
    done_on = dict(re.findall(r"dask_repro: (\S+) done on (\S+) in", output))
    assert sorted(done_on) == sorted(TARGETS)
    assert len(set(done_on.values())) == 2, output
    # The coordinator trained nothing: it restored both from the run-cache.
    coordinator = output.split("2/2 trainings done")[1]
    assert "Running stage 'train@" not in coordinator, output
    for target in TARGETS:
        assert f"Stage '{target}' is cached - skipping run, checking out outputs" in coordinator
    assert json.loads(tiny_project.dvc("status", "--json", *TARGETS, cwd=root)) == {}
    kernel = yaml.safe_load((root / "dvc.lock").read_text())["stages"]["train@kernel7-1"]["params"]
    assert kernel["params.yaml"]["variants.kernel7"]["kernel_sizes"] == [5, 3]

    # The same trainings by plain dvc repro, on one machine.
    tiny_project.dvc("repro", *TARGETS, cwd=plain)
    for path in RESULTS:
        assert (root / path).read_bytes() == (plain / path).read_bytes(), path
    # And the committed training's results are those of the first run, byte for byte.
    for path in RESULTS[::2]:
        assert (root / path).read_bytes() == (origin / path).read_bytes(), path


def test_without_a_remote_it_stops_before_any_stage_in_one_line(tmp_path):
    made = tiny_project.make(tmp_path)
    if made is None:
        pytest.skip("dvc.yaml names files that do not exist (tests/test_layout.py)")
    root, _ = made
    tiny_project.dvc("remote", "remove", "shared", cwd=root)
    result = subprocess.run(
        [sys.executable, "scripts/dask_repro.py", "--work-dir", str(tmp_path / "work")],
        cwd=root,
        env=tiny_project.environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("error: no DVC remote to share the trainings through")
    )
    assert not (root / "data" / "raw").exists()
